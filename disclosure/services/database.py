"""The database's schema, as the command line and the web ask about it."""

from __future__ import annotations

from dataclasses import dataclass

from disclosure.config import Settings
from disclosure.models.db import (
    current_revision,
    describe_database,
    ensure_schema,
    head_revision,
    make_engine,
)


@dataclass(frozen=True)
class SchemaState:
    """Where the schema stands: ``before`` an upgrade (None: empty), ``head`` the newest."""

    database: str
    before: str | None
    head: str


def upgrade_schema(settings: Settings) -> SchemaState:
    """Create or upgrade the schema to the newest revision (under the migration lock)."""
    engine = make_engine(settings.database_url)
    try:
        before = current_revision(engine)
        ensure_schema(engine, create=True, keys=lambda: settings.audit_keys)
        return SchemaState(describe_database(settings.database_url), before, head_revision())
    finally:
        engine.dispose()


def schema_state(settings: Settings) -> SchemaState:
    """The schema's current revision and the newest this code knows."""
    engine = make_engine(settings.database_url)
    try:
        current = current_revision(engine)
        return SchemaState(describe_database(settings.database_url), current, head_revision())
    finally:
        engine.dispose()


def masked_url(settings: Settings) -> str:
    """The database address without its password, for error messages."""
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class DatabaseFailure:
    """A database error, told without the statement or its parameters (personal data)."""

    unreachable: bool
    reason: str


def database_failure(error: BaseException) -> DatabaseFailure | None:
    """What a database error means to a user, or None if ``error`` is not one."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    if not isinstance(error, SQLAlchemyError):
        return None
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return DatabaseFailure(
        isinstance(error, OperationalError), lines[0] if lines else type(cause).__name__
    )
