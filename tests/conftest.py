"""Shared fixtures: every database test runs on SQLite *and* PostgreSQL.

PostgreSQL is not optional: if it cannot be reached the run fails with the command that
starts it. Each run gets a fresh PostgreSQL database (dropped at the end); each test starts
from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.exc import OperationalError

from disclosure.config import Settings
from disclosure.models.tables import Agency
from disclosure.services import cases
from disclosure.services.agencies import first_agency
from disclosure.services.cases import Change
from disclosure.services.unit_of_work import App
from disclosure.workflow.machine import Actor, Command
from disclosure.workflow.triggers import parse_input

PG_ADMIN_URL = os.environ.get(
    "DISCLOSURE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2id at its smallest cost for the tests' in-process sign-ins.

    The suite hashes and verifies a few thousand passwords; at the production cost (about
    0.14 s each on the 2-core machine) that alone took minutes. Same algorithm, library
    and code path (``services.auth``), cheaper parameters; the CLI tests run in
    subprocesses and keep the production cost.
    """
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from disclosure.services import auth

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    saved = auth._HASHER, auth._DUMMY_HASH
    auth._HASHER, auth._DUMMY_HASH = cheap, cheap.hash("no such account: timing only")
    yield
    auth._HASHER, auth._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc.orig}). Start it with:\n"
            "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            pytrace=False,
        )
    admin.dispose()
    with scratch_database("disclosure_test") as url:
        yield url


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named ``prefix_<random>``, dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'disclosure.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.cases')")).scalar()
        if exists:
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version'"
                )
            ).scalars()
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            # As migration 0007 leaves it: the installation's first agency.
            conn.execute(insert(Agency).values(**first_agency(Settings.from_env())))
            conn.execute(text("SELECT setval('agencies_id_seq', 1)"))
    engine.dispose()
    return url


class SteppingClock:
    """Audit timestamps that advance one second per call: deterministic, strictly ordered."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def app(database_url: str, tmp_path: Any) -> Iterator[App]:
    # The checkpoint folder is the test's own: checkpoints of other databases never mix in.
    settings = Settings.from_env(database_url=database_url, checkpoint_dir=tmp_path / "anchors")
    service = App.open(settings, create=True)
    service.now = SteppingClock()
    cases.add_user(service, "alice", "clerk", "王晓梅")
    cases.add_user(service, "carol", "clerk", "陈静")
    cases.add_user(service, "bob", "supervisor", "李建国")
    cases.add_user(service, "dan", "auditor", "赵明")
    yield service
    service.close()


def application(**overrides: Any) -> dict[str, Any]:
    """A valid application (Art. 29) with a checksum-valid resident ID."""
    data: dict[str, Any] = {
        "applicant_kind": "person",
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "11010519491231002X",
        "phone": "13800000000",
        "address": "福建省福州市罗源县凤山镇1号",
        "description": "2025年度部门预算执行审计报告",
        "delivery_form": "paper",
        "delivery_method": "pickup",
        "channel": "in_person",
        "received_on": "2026-06-05",
    }
    data.update(overrides)
    return data


#: The inputs a trigger cannot be given without (a valid value for each).
REQUIRED_INPUTS: dict[str, dict[str, Any]] = {
    "extend": {"days": 5},
    "set_due": {"until": "2026-12-30"},
    "third_party_replied": {"opinion": "agree"},
    "draft_reply": {"outcome": "disclose", "reason_code": "provided"},
    "acknowledge_delivery": {"receiver": "张三", "method": "直接送达"},
    "record_contact": {"contact_method": "phone", "summary": "电话告知办理进度"},
    "urge": {"reason": "请尽快办理"},
    "record_challenge": {"kind": "reconsideration", "filed_on": "2025-06-30"},
}


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def command(
    trigger: str, actor: Actor, on: date | str, *, today: date | None = None, **fields: Any
) -> Command:
    """A workflow command: the trigger's input parsed from ``fields`` as any caller would."""
    return Command(parse_input(trigger, fields), actor, _day(on), today)


def act(
    app: App,
    case_id: int,
    trigger: str,
    actor: str | None,
    on: date | str,
    *,
    today: date | str | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> Change:
    """Fire ``trigger`` through the service layer, on the business day itself unless
    ``today`` says otherwise (a step recorded late needs a supervisor and a reason)."""
    day = _day(on)
    return cases.act(
        app,
        case_id,
        parse_input(trigger, fields),
        actor=actor,
        on=day,
        today=_day(today) if today is not None else day,
        expected_version=expected_version,
    )


def as_insider(app: App, statement: str, params: dict[str, object]) -> None:
    """Run an UPDATE or DELETE on audit_events as an attacker with table rights would:
    lift the append-only trigger first."""
    verb = statement.split()[0].lower()
    with app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            conn.execute(text(statement), params)
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_events_no_{verb}")
            conn.execute(text(statement), params)
