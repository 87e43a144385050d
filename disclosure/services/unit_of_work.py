"""The application context and the unit of work that owns every transaction."""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from disclosure.config import Settings
from disclosure.errors import (
    ConflictError,
    DatabaseBusy,
    DatabaseUnavailable,
    DisclosureError,
)
from disclosure.models.db import ensure_schema, make_engine, session_factory, unavailable


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """What every use case needs: settings, the database, and a clock for audit timestamps."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    now: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def open(cls, settings: Settings | None = None, *, create: bool = False) -> App:
        """Connect and check the schema, upgrading an older one.

        Args:
            settings: defaults to ``Settings.from_env()``.
            create: create the database and its schema if it has none (``db upgrade``, the
                demo, tests). Without it an empty or missing database is refused.

        Raises:
            ConfigurationError: the database has no schema (and not ``create``), or a schema
                newer than this code.
            DatabaseUnavailable: the database cannot be reached.
        """
        settings = settings or Settings.from_env()
        engine = make_engine(settings.database_url)
        try:
            ensure_schema(engine, create=create, keys=lambda: settings.audit_keys)
        except BaseException:
            engine.dispose()
            raise
        return cls(settings, engine, session_factory(engine))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.settings.database_url)

    def core_uow(self, *, autocommit: bool = False) -> CoreUnitOfWork:
        """A unit of work on a Core connection, without the ORM's session (whose bookkeeping
        was a twelfth of a state change, issue #9): for ``cases.act``, which reads with one
        Core statement and writes its rows itself.

        ``autocommit``: on PostgreSQL each statement commits by itself, for a use case that
        reads in one statement and writes in one with an optimistic lock guarding the gap
        (a change, its letters' 文号 numbers claimed in its write): no BEGIN and COMMIT
        round trips. SQLite keeps its transaction, since it sends a change's rows one
        statement each.
        """
        engine = self.engine
        if autocommit and engine.dialect.name == "postgresql":
            engine = self._autocommit_engine
        return CoreUnitOfWork(engine, self.settings.database_url)

    @functools.cached_property
    def _autocommit_engine(self) -> Engine:
        # Same pool: the option is set on a connection at checkout and undone at checkin.
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        self.engine.dispose()


class _Unit:
    """What both units of work share: roll back unless committed, and say what the
    database refused as the user should read it (``_translate``)."""

    _url: str

    def _end(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end()
        self._raise_translated(exc)  # e.g. an autoflush inside the use case lost the lock

    def commit(self) -> None:
        try:
            self._commit()
        except Exception as error:
            self._rollback()
            self._raise_translated(error)
            raise

    def _raise_translated(self, error: BaseException | None) -> None:
        """Raise ``error`` as the user should read it, if it is a refusal ``_translate``
        knows; otherwise return and let the caller's exception stand."""
        translated = _translate(error, self._url)
        if translated is not None:
            # ``from None``: a driver error's text repeats the statement's parameters.
            raise translated from None


class UnitOfWork(_Unit):
    """``with app.uow() as uow: ...; uow.commit()`` — leaving without commit rolls back."""

    session: Session

    def __init__(self, sessions: sessionmaker[Session], database_url: str = "") -> None:
        self._sessions = sessions
        self._url = database_url

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    def _end(self) -> None:
        # close() rolls back what was not committed without expiring loaded rows, so
        # read-only use cases can hand their results to the caller.
        self.session.close()

    def _commit(self) -> None:
        self.session.commit()

    def _rollback(self) -> None:
        self.session.rollback()


class CoreUnitOfWork(_Unit):
    """``with app.core_uow() as uow: uow.connection.execute(...); uow.commit()``."""

    connection: Connection

    def __init__(self, engine: Engine, database_url: str = "") -> None:
        self._engine = engine
        self._url = database_url

    def __enter__(self) -> CoreUnitOfWork:
        try:
            self.connection = self._engine.connect()
        except Exception as error:  # as a session's first statement would say it
            self._raise_translated(error)
            raise
        return self

    def _end(self) -> None:
        self.connection.close()  # rolls back what was not committed

    def _commit(self) -> None:
        self.connection.commit()

    def _rollback(self) -> None:
        self.connection.rollback()


#: PostgreSQL SQLSTATEs: lock_timeout / statement_timeout hit (busy), and the connection
#: lost or refused (classes 08 and 57P, too_many_connections).
_PG_BUSY = ("55P03", "57014")
_PG_GONE = ("08", "57P", "53300")
_PG_UNIQUE_VIOLATION = "23505"
#: The tables numbering each case's steps with a unique (case_id, seq): a duplicate means
#: another writer appended that step first. Revision 0001 leaves the constraints unnamed,
#: so PostgreSQL names them ``<table>_case_id_seq_key``.
_SEQUENCE_TABLES = frozenset({"audit_events", "clock_events"})
_PG_SEQUENCE_CONSTRAINTS = frozenset(f"{table}_case_id_seq_key" for table in _SEQUENCE_TABLES)
#: SQLite's result codes (``sqlite_errorname``) for a lock another connection holds.
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_INSERT_INTO = re.compile(r'\s*INSERT\s+INTO\s+"?(\w+)', re.IGNORECASE)


def _is_sequence_duplicate(error: IntegrityError) -> bool:
    """Whether ``error`` is a duplicate (case_id, seq) in ``_SEQUENCE_TABLES``.

    Decided by the driver's codes, never by its (English, version-dependent) message:
    PostgreSQL's SQLSTATE and constraint name; SQLite's extended result code, and the
    table of our own INSERT statement, since SQLite names no constraint outside the
    message (the id primary key has a code of its own, ``SQLITE_CONSTRAINT_PRIMARYKEY``).
    """
    orig = error.orig
    if isinstance(orig, sqlite3.Error):
        inserted = _INSERT_INTO.match(error.statement or "")
        # Errors the sqlite3 module raises itself carry no result code.
        return (
            getattr(orig, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_UNIQUE"
            and inserted is not None
            and inserted.group(1) in _SEQUENCE_TABLES
        )
    diag = getattr(orig, "diag", None)  # psycopg
    return (
        getattr(orig, "sqlstate", None) == _PG_UNIQUE_VIOLATION
        and getattr(diag, "constraint_name", None) in _PG_SEQUENCE_CONSTRAINTS
    )


def _translate(error: BaseException | None, url: str) -> DisclosureError | None:
    """The database's refusals, as the user should read them.

    A lost optimistic lock or a concurrent duplicate sequence number means someone else
    changed the case (``ConflictError``). A write lock held past the busy timeout means the
    database is busy — nobody changed this record; retry (``DatabaseBusy``), except SQLite's
    BUSY_SNAPSHOT, where another writer did commit after our read. A lost or refused
    connection is ``DatabaseUnavailable``.
    """
    if isinstance(error, StaleDataError):
        return ConflictError()
    if isinstance(error, IntegrityError) and _is_sequence_duplicate(error):
        return ConflictError()
    if isinstance(error, PoolTimeout):
        return DatabaseUnavailable("本进程的数据库连接都在使用中，等待空闲连接超时：请稍后重试")
    if not isinstance(error, OperationalError | DBAPIError):
        return None
    orig = error.orig
    if isinstance(orig, sqlite3.OperationalError):
        name = getattr(orig, "sqlite_errorname", "")
        if name == "SQLITE_BUSY_SNAPSHOT":
            return ConflictError()
        if name.startswith(_SQLITE_BUSY):  # SQLITE_BUSY, _TIMEOUT, _RECOVERY; SQLITE_LOCKED…
            return DatabaseBusy()
        return None
    state = str(getattr(orig, "sqlstate", "") or "")
    if state in _PG_BUSY:
        return DatabaseBusy()
    if state.startswith(_PG_GONE) or error.connection_invalidated:
        return (
            unavailable(url, "与数据库的连接中断或被拒绝")
            if url
            else DatabaseUnavailable("与数据库的连接中断或被拒绝：请稍后重试")
        )
    return None
