"""Where the database lives, opening one that has no schema, racing first starts, a busy
database, a full server, and private files (issues #8, #28, #29, #31, #33)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from disclosure.config import Settings, default_data_dir
from disclosure.errors import ConfigurationError, ConflictError, DatabaseBusy, DatabaseUnavailable
from disclosure.models import db
from disclosure.models.db import current_revision, ensure_schema, head_revision, make_engine
from disclosure.models.tables import Base, User
from disclosure.services import cases
from disclosure.services.unit_of_work import App
from tests.conftest import PG_ADMIN_URL, TODAY, application, scratch_database
from tests.integration.test_case_service import FULL_CASE, drive

REPO = Path(__file__).resolve().parents[2]


def _admin_url(database: str, user: str = "postgres") -> str:
    return str(
        make_url(PG_ADMIN_URL)
        .set(database=database, username=user)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables: a SQLite path not yet created, or a new PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sub' / 'disclosure.db'}"
        return
    with scratch_database("disclosure_empty") as url:
        yield url


# -- where the default database lives (#8) ----------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DISCLOSURE_DATA_DIR": "/srv/ogi", "XDG_DATA_HOME": "/x"}, "/srv/ogi"),
        ({"XDG_DATA_HOME": "/home/w/.data"}, "/home/w/.data/disclosure"),
        ({"XDG_DATA_HOME": "relative/ignored"}, "/home/w/.local/share/disclosure"),
        ({}, "/home/w/.local/share/disclosure"),
    ],
)
def test_the_default_database_lives_in_the_data_folder_whatever_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    for name in ("DISCLOSURE_DATA_DIR", "XDG_DATA_HOME", "DISCLOSURE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/home/w")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert default_data_dir() == Path(expected)
    assert Settings.from_env().database_url == f"sqlite:///{expected}/disclosure.db"


def test_a_relative_sqlite_path_is_made_absolute_at_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    url = Settings.from_env(database_url="sqlite:///rel/x.db").database_url
    assert url == f"sqlite:///{tmp_path}/rel/x.db"


# -- no silent creation (#8) ------------------------------------------------------------


def test_opening_a_database_without_tables_is_refused_and_creates_nothing(
    empty_url: str,
) -> None:
    shown = empty_url
    if empty_url.startswith("postgresql"):  # a password in the URL is never shown
        shown = empty_url.replace("postgres@", "postgres:s3cret@")
    with pytest.raises(ConfigurationError) as caught:
        App.open(Settings.from_env(database_url=shown))
    error = caught.value
    assert error.field == "DISCLOSURE_DATABASE_URL"
    assert "disclosure db upgrade" in error.message and "尚未建立" in error.message
    assert "s3cret" not in error.message
    path = db.sqlite_path(empty_url)
    if path is not None:
        assert str(path) in error.message
        assert not path.exists() and not path.parent.exists()
    else:
        assert str(make_url(empty_url).database) in error.message and "***" in error.message
        engine = make_engine(empty_url)
        assert current_revision(engine) is None  # nothing was created
        engine.dispose()
    created = App.open(Settings.from_env(database_url=empty_url), create=True)
    assert current_revision(created.engine) == head_revision()
    created.close()
    again = App.open(Settings.from_env(database_url=empty_url))  # now it exists
    again.close()


def test_an_older_schema_is_upgraded_without_create(empty_url: str) -> None:
    engine = make_engine(empty_url)
    db.upgrade(engine, "0003")
    engine.dispose()
    app = App.open(Settings.from_env(database_url=empty_url))
    assert current_revision(app.engine) == head_revision()
    app.close()


def test_a_newer_unknown_revision_is_a_clean_chinese_error(empty_url: str) -> None:
    engine = make_engine(empty_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    attempts: list[Callable[[], None]] = [lambda: ensure_schema(engine), lambda: db.upgrade(engine)]
    for attempt in attempts:
        with pytest.raises(ConfigurationError) as caught:
            attempt()
        assert caught.value.field == "DISCLOSURE_DATABASE_URL"
        assert "0099" in caught.value.message and "请升级 disclosure" in caught.value.message
    engine.dispose()


# -- five processes opening an empty database at once (#28) -----------------------------

RACER = """
import sys, time
from pathlib import Path
from disclosure.config import Settings
from disclosure.services.unit_of_work import App
from disclosure.models.db import current_revision
start = Path(sys.argv[2])
while not start.exists():
    time.sleep(0.005)
app = App.open(Settings.from_env(database_url=sys.argv[1]), create=True)
print("ok", current_revision(app.engine))
"""


def test_five_processes_opening_an_empty_database_migrate_it_once(
    empty_url: str, tmp_path: Path
) -> None:
    start = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, empty_url, str(start)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(5)
    ]
    time.sleep(1.5)  # every process imported and is waiting
    start.touch()
    results = [p.communicate(timeout=120) for p in racers]
    assert [p.returncode for p in racers] == [0] * 5, [err for _, err in results]
    assert [out.split() for out, _ in results] == [["ok", head_revision()]] * 5
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


# -- a busy database (#29) --------------------------------------------------------------


def test_a_write_lock_held_past_the_timeout_is_busy_not_a_conflict(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT", 0.3)
    app = App.open(Settings.from_env(database_url=database_url), create=True)
    cases.add_user(app, "alice", "clerk", "王晓梅")
    path = db.sqlite_path(database_url)
    holder: sqlite3.Connection | psycopg.Connection[Any]
    if path is not None:
        holder = sqlite3.connect(path)
        holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
    else:
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        holder = psycopg.connect(dsn)
        holder.execute("LOCK TABLE users, applicants, cases IN EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as caught:
            cases.add_user(app, "carol", "clerk", "陈静")
        assert time.monotonic() - started < 5
        assert caught.value.rule == "database_busy"
        assert caught.value.message == "数据库正忙（另一操作正在写入），请稍后重试"
        with pytest.raises(DatabaseBusy):
            cases.register(app, application(), "alice", TODAY)
    finally:
        holder.rollback()
        holder.close()
    cases.add_user(app, "carol", "clerk", "陈静")  # free again
    with app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 2
    app.close()


# -- a server that refuses connections (#31) --------------------------------------------


@pytest.fixture
def limited_url() -> Iterator[str]:
    """A database whose role may hold only 3 connections.

    The server-wide limit (``SHOW max_connections``) is shared with whoever else uses this
    server; a role's CONNECTION LIMIT gives the same refusal (SQLSTATE 53300, "too many
    connections") without starving them. Superusers ignore the limit, so the role is not one.
    """
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:10]
    role, name = f"disclosure_limited_{suffix}", f"disclosure_limited_{suffix}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 3'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{role}"'))
    yield _admin_url(name, role)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


def test_a_full_server_gives_a_clean_error_and_a_writer_retries_until_released(
    limited_url: str,
) -> None:
    app = App.open(Settings.from_env(database_url=limited_url), create=True)
    cases.add_user(app, "alice", "clerk", "王晓梅")
    app.engine.dispose()  # no pooled connection left: the next write must connect
    dsn = make_url(limited_url).set(drivername="postgresql").render_as_string(False)
    held = [psycopg.connect(dsn) for _ in range(3)]
    with pytest.raises(psycopg.OperationalError, match="too many connections"):
        psycopg.connect(dsn)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            cases.register(app, application(), "alice", TODAY)
        error = caught.value
        assert error.rule == "database_unavailable" and error.field == "DISCLOSURE_DATABASE_URL"
        assert error.message.startswith("数据库的连接数已达上限（")
        assert str(make_url(limited_url).database) in error.message
        assert "张三" not in error.message and "INSERT" not in error.message
        assert not any("a" <= ch <= "z" for ch in error.message.split("（")[0])

        # Released while the writer is retrying: it gets through.
        def release() -> None:
            for connection in held:
                connection.close()

        threading.Timer(0.4, release).start()
        case_id = cases.register(app, application(), "alice", TODAY)
        assert case_id > 0
    finally:
        for connection in held:
            connection.close()
    app.close()


def test_the_pool_is_bounded_per_process(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    assert engine.pool.size() == db.POOL_SIZE  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == db.MAX_OVERFLOW  # type: ignore[attr-defined]
    engine.dispose()


def _backend_pid(app: App) -> int:
    with app.uow() as uow:
        pid: int = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _terminate(pid: int) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()


def test_a_pooled_connection_that_died_while_idle_is_replaced_unseen(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App.open(Settings.from_env(database_url=postgres_url), create=True)
    try:
        first = _backend_pid(app)
        _terminate(first)  # as a server restart or an idle timeout would
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has now waited long enough
        assert _backend_pid(app) not in (first, None)
    finally:
        app.close()


def test_a_connection_that_died_just_after_use_fails_once_then_the_pool_is_fresh(
    postgres_url: str,
) -> None:
    app = App.open(Settings.from_env(database_url=postgres_url), create=True)
    try:
        first = _backend_pid(app)
        _terminate(first)
        with pytest.raises(DatabaseUnavailable, match="连接中断"):
            _backend_pid(app)  # used a moment ago, so not pinged: the failure is named
        assert _backend_pid(app) != first
    finally:
        app.close()


@pytest.mark.parametrize(
    ("driver_text", "reason", "transient"),
    [
        ("connection failed: FATAL:  sorry, too many clients already", "连接数已满", True),
        ("FATAL: remaining connection slots are reserved for superuser", "连接数已满", True),
        ('FATAL:  password authentication failed for user "x"', "用户名或密码不对", False),
        ('FATAL:  database "nope" does not exist', "不存在", False),
    ],
)
def test_refusals_are_named_in_chinese(driver_text: str, reason: str, transient: bool) -> None:
    said, retry = db._refusal(Exception(driver_text))
    assert reason in said and retry is transient


# -- private database files (#33) -------------------------------------------------------


def test_the_sqlite_files_are_private_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCLOSURE_DATA_DIR", str(tmp_path / "data" / "disclosure"))
    monkeypatch.delenv("DISCLOSURE_DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        app = App.open(Settings.from_env(), create=True)
        cases.add_user(app, "alice", "clerk", "王晓梅")
        folder = tmp_path / "data" / "disclosure"
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        app.close()
    finally:
        os.umask(old)
    assert files == {
        "disclosure.db": 0o600,
        "disclosure.db-wal": 0o600,
        "disclosure.db-shm": 0o600,
        "audit.keys": 0o600,  # the trail's key ring, made on first use
    }
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


# -- which integrity errors are conflicts: by SQLSTATE / result code, never message text --------


def _copy_first_row(
    app: App, table: str, case_id: int, replaced: dict[str, str] | None = None
) -> None:
    """INSERT a copy of the case's step 1 in ``table``, some columns replaced by SQL."""
    columns = [c.name for c in Base.metadata.tables[table].columns if c.name != "id"]
    values = ", ".join((replaced or {}).get(c, c) for c in columns)
    with app.uow() as uow:
        uow.session.execute(
            text(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {table}"
                " WHERE case_id = :c AND seq = 1"
            ),
            {"c": case_id},
        )
        uow.commit()


@pytest.mark.parametrize("table", ["audit_events", "clock_events"])
def test_a_duplicate_step_number_is_a_conflict(app: App, table: str) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:2])  # request_correction: clock event 1
    with pytest.raises(ConflictError):
        _copy_first_row(app, table, case_id)


@pytest.mark.parametrize(
    ("table", "replaced"),
    [
        ("audit_events", {"actor": "NULL"}),  # not null, in a sequence table
        ("audit_events", {"seq": "seq + 100", "case_id": "case_id + 100"}),  # foreign key
        ("clock_events", {"kind": "NULL"}),
    ],
    ids=["not-null", "foreign-key", "clock-not-null"],
)
def test_another_integrity_error_in_a_sequence_table_is_not_a_conflict(
    app: App, table: str, replaced: dict[str, str]
) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:2])
    with pytest.raises(IntegrityError) as caught:
        _copy_first_row(app, table, case_id, replaced)
    assert not isinstance(caught.value, ConflictError)


def test_a_duplicate_in_another_table_is_not_a_conflict(app: App) -> None:
    with pytest.raises(IntegrityError), app.uow() as uow:  # users.name is unique
        uow.session.execute(
            text(
                "INSERT INTO users (name, display_name, role, created_at)"
                " SELECT name, display_name, role, created_at FROM users WHERE name = 'alice'"
            )
        )


def test_postgresql_cursors_describe_their_columns_when_read(postgres_url: str) -> None:
    """``db.DescribedOnRead``: what SQLAlchemy reads of a description is psycopg's, made when
    first read; a description read after its cursor moved on is refused, never wrong."""
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            result = conn.exec_driver_sql("SELECT 1 AS one, '二' AS two, now() AS three")
            assert list(result.keys()) == ["one", "two", "three"]  # uncached: reads them all
            assert result.one()[:2] == (1, "二")
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            assert isinstance(cursor, db.DescribedOnRead)
            cursor.execute("SELECT 1 AS a, 2 AS b")
            first = cursor.description
            assert first is not None and len(first) == 2
            cursor.execute("SELECT 3 AS c")
            with pytest.raises(RuntimeError, match="moved past"):
                first[0]
            now = cursor.description
            assert now is not None and [column.name for column in now] == ["c"]
            assert now[0].type_code == psycopg.adapters.types["int4"].oid
            cursor.execute("SET lock_timeout = 1000")
            assert cursor.description is None  # no rows
    finally:
        engine.dispose()
