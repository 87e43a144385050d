"""Alembic revisions apply, roll back and re-apply on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from disclosure.models.db import (
    _alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    upgrade,
)
from disclosure.models.tables import Base


def _downgrade_to_base(engine: Engine) -> None:
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")


def test_schema_upgrades_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine, create=True)
    assert current_revision(engine) == head_revision()
    _downgrade_to_base(engine)
    assert current_revision(engine) is None
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(engine)
    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()
    engine.dispose()


#: Differences the revisions keep on purpose, as (operation, table, column). 0005 keeps the
#: server default of 2 on ``audit_events.scheme``: SQLite cannot drop a default without
#: recreating the table, which would drop its append-only triggers; the model declares
#: none, because the code always names the scheme.
INTENDED_DIFFERENCES = {("modify_default", "audit_events", "scheme")}


def _changes(diff: list[Any]) -> list[tuple[Any, ...]]:
    """``compare_metadata`` groups one column's changes in a list: one tuple per change."""
    return [change for entry in diff for change in (entry if isinstance(entry, list) else [entry])]


def _column_key(change: tuple[Any, ...]) -> tuple[str, str, str] | None:
    # ("modify_default", schema, table, column, existing, old, new); other kinds carry objects.
    return (change[0], change[2], change[3]) if change[0].startswith("modify_") else None


def test_migrated_schema_matches_the_orm_tables(database_url: str) -> None:
    """What autogenerate would write for the models against the migrated database: nothing.

    Tables, columns, types, nullability, server defaults, indexes, unique constraints and
    foreign keys (alembic's ``compare_metadata``), on SQLite and PostgreSQL.
    """
    engine = make_engine(database_url)
    ensure_schema(engine, create=True)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        changes = _changes(compare_metadata(context, Base.metadata))
    engine.dispose()
    unexpected = [c for c in changes if _column_key(c) not in INTENDED_DIFFERENCES]
    assert unexpected == []
    # An intended difference that is gone goes from the list too.
    assert {_column_key(c) for c in changes} == INTENDED_DIFFERENCES
