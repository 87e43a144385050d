"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL.

Opening a database never creates one by accident: ``ensure_schema(engine)`` refuses a
database without tables (for SQLite, a missing file) unless ``create=True`` is passed, which
only ``disclosure db upgrade``, the demo and the tests do. An existing database at an older
revision is upgraded automatically. Upgrades take a lock first (an advisory lock on
PostgreSQL, an exclusive transaction on SQLite) and re-read the revision under it, so several
processes starting at once on an empty database migrate it exactly once.

SQLite files are created by this module with mode 0600 before SQLite opens them (SQLite then
gives its -wal and -shm files the same mode), and connections open them read-write without
``create``, so no other code path creates a database file as a side effect.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, overload
from urllib.parse import quote

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    create_engine,
    event,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from disclosure.errors import ConfigurationError, DatabaseUnavailable
from disclosure.keys import AuditKeys
from disclosure.models.tables import Base

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

#: Seconds a writer waits for another writer's lock before ``DatabaseBusy`` (SQLite's busy
#: timeout; PostgreSQL's ``lock_timeout``).
BUSY_TIMEOUT = 10.0
#: Seconds a process waits for another process's schema upgrade (SQLite).
MIGRATION_BUSY_TIMEOUT = 300.0
#: Connections one process keeps (``POOL_SIZE``) and may add under load (``MAX_OVERFLOW``):
#: 100 writer processes must not take every connection the server has.
POOL_SIZE = 5
MAX_OVERFLOW = 5
#: Seconds a thread waits for a free pooled connection.
POOL_TIMEOUT = 30.0
#: Connection attempts when the server refuses for a passing reason (full, restarting),
#: sleeping ``CONNECT_BACKOFF`` × 1, 2, 4 … seconds in between.
CONNECT_ATTEMPTS = 4
CONNECT_BACKOFF = 0.25
CONNECT_TIMEOUT_SECONDS = 10
#: A pooled PostgreSQL connection idle longer than this is pinged before use (seconds).
PING_AFTER_IDLE_SECONDS = 1.0
#: pg_advisory_xact_lock key held while migrating ("disclosure migrate").
MIGRATION_LOCK_KEY = 0x0D15C0DE

#: Why a PostgreSQL server refused a connection: (text in the error, Chinese reason, transient).
_REFUSALS = (
    ("too many clients", "数据库服务器的连接数已满", True),
    ("too many connections", "数据库的连接数已达上限", True),
    ("remaining connection slots", "数据库服务器的连接数已满", True),
    ("starting up", "数据库服务器正在启动", True),
    ("shutting down", "数据库服务器正在关闭", True),
    ("in recovery mode", "数据库服务器正在恢复", True),
    ("connection refused", "无法连接到数据库服务器（连接被拒绝）", True),
    ("timeout expired", "连接数据库服务器超时", True),
    ("authentication failed", "数据库拒绝了登录（用户名或密码不对）", False),
    ("no pg_hba.conf entry", "数据库服务器不允许从本机登录", False),
    ("does not exist", "数据库或用户不存在", False),
)


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names (absolute), or None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().absolute()


def describe_database(url: str) -> str:
    """The database as a message names it: the SQLite file, or the URL without its password."""
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite 文件 {path}"
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str, *, busy_timeout: float | None = None) -> Engine:
    """An engine with the settings this product relies on.

    Both: a writer waits ``busy_timeout`` seconds (default ``BUSY_TIMEOUT``) for another's
    lock, so two clerks' writes queue instead of failing at once, and then gets
    ``DatabaseBusy`` rather than waiting for ever.

    SQLite: foreign keys on, WAL so readers never block the writer. The file is opened
    read-write, never created (see ``create_sqlite_file``).

    PostgreSQL: a bounded pool per process, a ping before reusing a connection that sat idle
    (``_ping_when_idle``), and connection attempts retried with backoff while the server is
    full or restarting; a refusal becomes ``DatabaseUnavailable``.
    """
    timeout = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    path = sqlite_path(url)
    if path is not None:
        engine = create_engine(url, creator=_sqlite_opener(path, timeout))
        event.listen(engine, "connect", _sqlite_pragmas(timeout))
        return engine
    if url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c lock_timeout={int(timeout * 1000)}",
            "cursor_factory": DescribedOnRead,
        },
    )
    event.listen(engine, "do_connect", _retrying_connect(url))
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use if it sat idle over ``PING_AFTER_IDLE_SECONDS``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip per unit of work,
    a sixth of a state change's time (issue #9). A server restart or an idle timeout shows
    on connections that waited, and those are still pinged; a dead one is replaced before
    use (the pool retries on ``DisconnectionError``). A connection that dies within a second
    of its last use fails its unit of work with ``DatabaseUnavailable``, and SQLAlchemy then
    discards every pooled connection older than the failure, so the next one is fresh.
    """

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("pooled connection failed its ping") from error

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def _sqlite_opener(path: Path, timeout: float) -> Callable[[], sqlite3.Connection]:
    uri = f"file:{quote(str(path))}?mode=rw"

    def connect() -> sqlite3.Connection:
        try:
            return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        except sqlite3.OperationalError:
            raise DatabaseUnavailable(
                f"无法打开数据库文件 {path}（文件不存在或无权读写）：请检查 "
                "DISCLOSURE_DATABASE_URL；新建数据库请运行 disclosure db upgrade（或 make run）"
            ) from None

    return connect


def _sqlite_pragmas(timeout: float) -> Callable[[sqlite3.Connection, Any], None]:
    def pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return pragmas


def _refusal(error: BaseException) -> tuple[str, bool]:
    """(Chinese reason, worth retrying) for a failed PostgreSQL connection attempt."""
    detail = str(error).lower()
    for needle, reason, transient in _REFUSALS:
        if needle in detail:
            return reason, transient
    return "无法连接到数据库服务器", True


def unavailable(url: str, reason: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"{reason}（{describe_database(url)}）：请稍后重试；若一直如此，请检查数据库服务与 "
        "DISCLOSURE_DATABASE_URL"
    )


def _retrying_connect(url: str) -> Callable[..., Any]:
    def connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError as error:
                reason, transient = _refusal(error)
                if not transient or attempt == CONNECT_ATTEMPTS - 1:
                    # A connection error holds no SQL and no parameters: chaining is safe.
                    raise unavailable(url, reason) from error
                time.sleep(CONNECT_BACKOFF * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return connect


def create_sqlite_file(path: Path) -> bool:
    """Create an empty SQLite database file with mode 0600 (and its folder, 0700) whatever
    the umask; SQLite gives the -wal and -shm files the database file's mode. Returns False
    if the file already existed."""
    missing: list[Path] = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)
        except FileExistsError:  # another process made it meanwhile
            pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return True


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def _revision_of(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The schema revision, None for an empty database (or a SQLite file not yet created)."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is not None and not path.exists():
        return None
    with engine.connect() as conn:
        return _revision_of(conn)


def _check_known(revision: str | None, url: str) -> None:
    if revision is None:
        return
    try:
        known = _scripts().get_revision(revision) is not None
    except CommandError:  # alembic's ResolutionError for an id it has no script for
        known = False
    if not known:
        raise ConfigurationError(
            field="DISCLOSURE_DATABASE_URL",
            message=f"数据库（{describe_database(url)}）的结构版本 {revision} 不是本程序所知的"
            "版本：该数据库可能由更新版本的 disclosure 创建，请升级 disclosure 后再使用",
        )


def upgrade(
    engine: Engine, revision: str = "head", *, keys: Callable[[], AuditKeys] | None = None
) -> None:
    """Bring the schema to ``revision`` (idempotent, safe to run from several processes).

    The whole upgrade runs in one transaction that first takes the migration lock —
    ``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN EXCLUSIVE`` on SQLite (whose DDL is
    transactional too) — and reads the revision again under it: a process that waited
    finds the work done. A revision unknown to this code is a ``ConfigurationError``.
    ``keys`` gives the keys that sign the rows a revision seals (0011), asked only if there
    are any; without it the revision reads the environment's.
    """
    url = engine.url.render_as_string(hide_password=False)
    path = sqlite_path(url)
    if path is not None:  # upgrading is the explicit way to create a database
        create_sqlite_file(path)
    config = _alembic_config()
    busy_ms = 0
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Wait for another process's upgrade however long it takes, then restore.
                busy_ms = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(MIGRATION_BUSY_TIMEOUT * 1000)}")
                conn.exec_driver_sql("BEGIN EXCLUSIVE")
            else:
                conn.begin()
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            try:
                current = _revision_of(conn)
                _check_known(current, url)
                target = head_revision() if revision == "head" else revision
                if current != target:
                    config.attributes["connection"] = conn
                    config.attributes["audit_keys"] = keys
                    command.upgrade(config, revision)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
    except CommandError as error:
        raise ConfigurationError(
            field="DISCLOSURE_DATABASE_URL",
            message=f"无法把数据库（{describe_database(url)}）升级到版本 {revision}：{error}",
        ) from None
    except OperationalError as error:
        raise unavailable(url, "升级数据库结构时数据库不可用") from error.orig


def ensure_schema(
    engine: Engine, *, create: bool = False, keys: Callable[[], AuditKeys] | None = None
) -> None:
    """Check the schema at start-up; upgrade an older one automatically.

    Args:
        engine: from ``make_engine``.
        create: create the database (the SQLite file, mode 0600) and its schema if it has
            none. Without it a database with no tables is a ``ConfigurationError`` naming the
            database and saying how to create it: a mistyped path or URL must not silently
            start an empty database.

    Raises:
        ConfigurationError: no schema and not ``create``, or a revision newer than this code.
        DatabaseUnavailable: the database cannot be reached.
    """
    url = engine.url.render_as_string(hide_password=False)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        if not create:
            raise _no_schema(url)
        create_sqlite_file(path)
    try:
        current = current_revision(engine)
    except OperationalError as error:
        raise unavailable(url, "无法读取数据库") from error.orig
    if current == head_revision():
        return
    if current is None and not create:
        raise _no_schema(url)
    _check_known(current, url)
    upgrade(engine, keys=keys)


def _no_schema(url: str) -> ConfigurationError:
    return ConfigurationError(
        field="DISCLOSURE_DATABASE_URL",
        message=f"数据库（{describe_database(url)}）尚未建立（没有数据表）：若地址无误，"
        "请先运行 disclosure db upgrade（或 make run）创建数据库；否则请检查 "
        "DISCLOSURE_DATABASE_URL",
    )


class DescribedOnRead(psycopg.Cursor[Any]):
    """psycopg's cursor, whose ``description`` makes its ``Column`` objects when first read.

    SQLAlchemy asks for the description after every statement, to see whether it returned
    rows, and reads it only the first time it runs a statement (it keeps what it learnt).
    psycopg made a ``Column`` per column each time: a quarter of the client's cost of the
    SELECT that starts a state change (issue #9).
    """

    @property
    def description(self) -> Sequence[psycopg.Column] | None:  # type: ignore[override]
        result = self.pgresult
        if result is None or result.nfields == 0:
            return super().description  # None, or no columns ("SELECT;")
        return _Columns(self, result)


class _Columns(Sequence[psycopg.Column]):
    """The columns of ``result``, made when first read (while it is still the cursor's)."""

    def __init__(self, cursor: DescribedOnRead, result: Any) -> None:
        self._cursor, self._result = cursor, result
        self._columns: list[psycopg.Column] | None = None

    def __len__(self) -> int:
        return int(self._result.nfields)

    @overload
    def __getitem__(self, index: int) -> psycopg.Column: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[psycopg.Column]: ...
    def __getitem__(self, index: int | slice) -> psycopg.Column | Sequence[psycopg.Column]:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                raise RuntimeError("the description of a result the cursor has moved past")
            self._columns = psycopg.Cursor.description.fget(self._cursor)  # type: ignore[attr-defined]
        return self._columns[index]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_Row = TypeVar("_Row", bound=Base)

#: One INSERT per table, without the ``RETURNING id`` SQLAlchemy adds on PostgreSQL (a result
#: to set up per row, for an id the append-only rows' writers never read).
_INSERTS: dict[type[Base], Insert] = {}


def insert_row(connection: Connection, row: Base) -> None:
    """INSERT ``row`` now, with the columns it was given (the others take their defaults),
    outside the session's unit of work: it is not flushed again, and its id is not read back.
    """
    table = type(row)
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = insert(table).inline()
    connection.execute(statement, _row_values(row))


def _row_values(row: Base) -> dict[str, Any]:
    """The columns ``row`` was given, and the scalar default of each it was not (stated, not
    left to SQLAlchemy: a CTE's INSERT would not apply it)."""
    given = vars(row)
    values: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.key in given:
            values[column.key] = given[column.key]
        elif column.default is not None:
            assert column.default.is_scalar, column
            values[column.key] = column.default.arg
    return values


@functools.lru_cache(maxsize=512)
def _inserts_then(
    statement: Update,
    shapes: tuple[tuple[Table, tuple[str, ...]], ...],
    counters: tuple[Table, ...] = (),
) -> tuple[Update, tuple[tuple[str, ...], ...]]:
    """``statement`` with one data-modifying CTE per counter (``c{n}``, see
    ``insert_rows_then_update``) and per row shape (table, columns; ``r{n}``), and the names
    of each one's bound values (``c{n}_<column>``, then ``r{n}_<column>``).

    A counter moves only if the row ``statement`` updates still matches its WHERE (the
    optimistic lock); each row goes in only if that holds and every counter moved: a lost
    race writes nothing, even where the statement commits by itself. The UPDATE's WHERE
    requires each CTE's row (``EXISTS``): PostgreSQL runs a CTE nobody reads after the main
    statement, and the rows must be in first (the archive step makes its case read-only,
    0013).
    """
    target, lock = statement.table, statement.whereclause
    assert lock is not None, "an UPDATE without a WHERE guards nothing"
    still_there = (
        select(literal_column("1")).select_from(target).where(lock).correlate(None)
    ).exists()
    ctes, names = [], []
    for n, table in enumerate(counters):
        columns = tuple(column.key for column in table.columns)
        names.append(tuple(f"c{n}_{column}" for column in columns))
        binds = [bindparam(f"c{n}_{column.key}", type_=column.type) for column in table.columns]
        (count,) = (column for column in table.columns if not column.primary_key)
        moved = pg_insert(table).from_select(columns, select(*binds).where(still_there))
        moved = moved.on_conflict_do_update(
            index_elements=list(table.primary_key.columns),
            set_={count.key: moved.excluded[count.key]},
            where=count == moved.excluded[count.key] - 1,
        )
        ctes.append(moved.returning(literal_column("1")).cte(f"c{n}"))
    counted = [select(literal_column("1")).select_from(cte).exists() for cte in ctes]
    for n, (table, columns) in enumerate(shapes):
        names.append(tuple(f"r{n}_{column}" for column in columns))
        binds = [bindparam(f"r{n}_{column}", type_=table.c[column].type) for column in columns]
        given: Select[Any] = select(*binds).where(still_there, *counted)
        inserted = insert(table).from_select(columns, given)
        ctes.append(inserted.returning(literal_column("1")).cte(f"r{n}"))
    merged = statement.add_cte(*ctes).where(
        *(select(literal_column("1")).select_from(cte).exists() for cte in ctes)
    )
    return merged, tuple(names)


def insert_rows_then_update(
    connection: Connection,
    rows: Sequence[Base],
    statement: Update,
    params: dict[str, Any],
    *,
    counted: Sequence[Base] = (),
) -> int:
    """INSERT ``rows`` (as ``insert_row`` does), then run ``statement`` with ``params``;
    returns the UPDATE's row count.

    On PostgreSQL all of it is one statement (the INSERTs as data-modifying CTEs), one round
    trip instead of one per row (issue #9), and the rows go in only if the UPDATE's row still
    matches its WHERE. SQLite has no data-modifying CTEs: it sends each INSERT, and the
    caller's transaction must undo them when the UPDATE matched nothing.

    ``counted`` (PostgreSQL only): rows of gapless counters (a primary key and one count
    column) read before, each now holding the count it moves to. Each moves from one less
    (or is created, when the reader found none) by compare-and-set in the same statement; if
    another writer moved one first, nothing is written and the UPDATE matches no row.
    """
    postgresql = connection.dialect.name == "postgresql"
    if counted and not postgresql:
        raise ValueError("counters are moved within the write statement on PostgreSQL only")
    if not postgresql or not (rows or counted):
        for row in rows:
            insert_row(connection, row)
        return connection.execute(statement, params).rowcount
    given = [_row_values(row) for row in (*counted, *rows)]
    shapes = tuple(
        (row.__table__, tuple(values))
        for row, values in zip(rows, given[len(counted) :], strict=True)
    )
    counters = tuple(row.__table__ for row in counted)
    merged, names = _inserts_then(statement, shapes, counters)
    bound = dict(params)
    for row_names, values in zip(names, given, strict=True):
        bound.update(zip(row_names, values.values(), strict=True))
    return connection.execute(merged, bound).rowcount


def as_loaded(cls: type[_Row], values: dict[str, Any]) -> _Row:
    """An instance of ``cls`` holding ``values`` as if the ORM had loaded it, in no session.

    Its attributes read as plain values; nothing tracks or flushes it. For a use case that
    reads its rows with one Core statement and writes what it changes itself (``insert_row``
    and its own UPDATE): the ORM's loading was the largest cost of a state change (issue #9).
    ``values`` must hold the primary key. Every other mapped attribute (a column not read, a
    relationship not given later with ``set_committed_value``) is unloaded, as on a detached
    object: reading it raises ``DetachedInstanceError`` instead of answering None.
    """
    instance: _Row = cls.__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    if len(values) < len(cls.__mapper__.attrs):  # something to leave unloaded
        make_transient_to_detached(instance)  # identity from the primary key; the rest expired
    return instance


def new_row(cls: type[_Row], **values: Any) -> _Row:
    """A new row of ``cls`` holding ``values`` in its dict, built without the ORM's attribute
    events (a constructor's per-column bookkeeping cost about 3 % of a state change, issue
    #9). ``insert_row`` and ``insert_rows_then_update`` write what the dict holds, and so
    does a session's flush of a pending row; a value set later is tracked as usual.
    """
    instance: _Row = cls.__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """The statements ``engine`` runs inside the block, as a list that grows: each cursor
    execution's SQL (``before_cursor_execute``) and "COMMIT" for each commit that ends a
    transaction (not one in autocommit)."""
    statements: list[str] = []

    def on_execute(*args: Any) -> None:
        statements.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    def on_commit(conn: Connection) -> None:
        # In autocommit the DBAPI's commit sends nothing: there is no transaction to end.
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            statements.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield statements
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "before_cursor_execute", on_execute)
