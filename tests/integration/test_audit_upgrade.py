"""Databases begun by earlier releases, upgraded by today's code, verify clean (issue #27).

Each database is built by the code of its time — ``git archive`` of the last commit at that
revision, run as a subprocess with that tree first on ``PYTHONPATH`` — using that commit's
own test helpers to register cases and drive them through clock events. Today's code then
opens it (which upgrades it) and ``audit verify`` must find nothing. Tampering with the new
``scheme`` column must still be found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from disclosure.config import Settings
from disclosure.models.db import current_revision, head_revision, make_engine
from disclosure.models.tables import AuditEvent
from disclosure.services import cases
from disclosure.services.audit import SCHEME, verify_snapshot
from disclosure.services.unit_of_work import App
from tests.conftest import PG_ADMIN_URL, TODAY

REPO = Path(__file__).resolve().parents[2]

#: The last commit whose head revision is each earlier revision.
RELEASES = {
    "0001": "f33fe91",  # clock events recorded as kind/on/days/until (scheme 1)
    "0002": "205d3a3",  # + party and fee (scheme 2)
    "0003": "7da06a0",  # alerts; same audit scheme as 0002
}

BUILD = """
import sys
from tests.conftest import TODAY, application
from tests.integration.test_case_service import FULL_CASE, drive
from disclosure.config import Settings
from disclosure.services import cases
from disclosure.services.unit_of_work import App
from disclosure.models.db import current_revision

app = App.open(Settings.from_env(database_url=sys.argv[1]))
for name, role, shown in [("alice", "clerk", "王晓梅"), ("carol", "clerk", "陈静"),
                          ("bob", "supervisor", "李建国"), ("dan", "auditor", "赵明")]:
    cases.add_user(app, name, role, shown)
done = cases.register(app, application(), "alice", TODAY)
drive(app, done, FULL_CASE)
half = cases.register(app, application(), "alice", TODAY)
drive(app, half, FULL_CASE[:4])  # consulting the third party: continued by today's code
print(current_revision(app.engine), done, half)
"""


@pytest.fixture(scope="module")
def release_trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    trees = {}
    for revision, commit in RELEASES.items():
        target = tmp_path_factory.mktemp(f"release-{revision}")
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        trees[revision] = target
    return trees


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (old code must create it from nothing)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"disclosure_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def build_with_old_code(tree: Path, url: str) -> tuple[str, int, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")}
    env["PYTHONPATH"] = str(tree)
    result = subprocess.run(
        [sys.executable, "-c", BUILD, url],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    revision, done, half = result.stdout.split()[-3:]
    return revision, int(done), int(half)


def _set_scheme(app: App, event_id: int, scheme: int) -> None:
    """Tamper as an attacker with table rights would: lift the append-only trigger."""
    with app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            conn.execute(
                text("UPDATE audit_events SET scheme = :s WHERE id = :i"),
                {"s": scheme, "i": event_id},
            )
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            conn.execute(
                text("UPDATE audit_events SET scheme = :s WHERE id = :i"),
                {"s": scheme, "i": event_id},
            )


def _events(app: App, case_id: int) -> list[AuditEvent]:
    with app.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
            )
        )


def _assert_append_only(app: App) -> None:
    for statement in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
            conn.execute(text(statement))
    with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
        conn.execute(text("UPDATE clock_events SET days = 99"))


@pytest.mark.parametrize("revision", list(RELEASES))
def test_a_database_from_an_earlier_release_verifies_clean_after_the_upgrade(
    release_trees: dict[str, Path], fresh_url: str, revision: str
) -> None:
    built_at, done, half = build_with_old_code(release_trees[revision], fresh_url)
    assert built_at == revision
    app = App.open(Settings.from_env(database_url=fresh_url))  # no create: it exists
    assert current_revision(app.engine) == head_revision()
    assert verify_snapshot(app.engine) == (2, [])
    with_clock = [e for e in _events(app, done) if "clock_event" in json.loads(e.payload)]
    assert len(with_clock) >= 5  # the case did go through clock events
    expected_old = 1 if revision == "0001" else 2
    assert {e.scheme for e in with_clock} == {expected_old}
    _assert_append_only(app)

    # Today's code continues the half-done case: a chain of old and new schemes.
    cases.act(app, half, "third_party_replied", "alice", on=TODAY, today=TODAY, opinion="agree")
    tail = _events(app, half)
    assert tail[-1].scheme == SCHEME and tail[0].scheme == expected_old
    assert "opinion" in json.loads(tail[-1].payload)["clock_event"]
    assert verify_snapshot(app.engine) == (2, [])

    # Editing the scheme column cannot weaken verification.
    _set_scheme(app, tail[-1].id, expected_old)  # new event passed off as old: hash breaks
    _, breaks = verify_snapshot(app.engine, half)
    assert [(b.seq, b.problem) for b in breaks] == [
        (tail[-1].seq, "内容哈希不符：事件在写入后被改动")
    ]
    old_clock = next(e for e in with_clock)
    _set_scheme(app, old_clock.id, 2 if expected_old == 1 else 1)
    _, breaks = verify_snapshot(app.engine, done)
    assert [b.problem for b in breaks] == ["记录方案与事件内容不符：事件的记录方案被改动"]
    app.close()


def test_a_clock_column_the_old_scheme_did_not_record_must_stay_empty(
    release_trees: dict[str, Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _, done, _ = build_with_old_code(release_trees["0001"], url)
    app = App.open(Settings.from_env(database_url=url))
    engine = make_engine(url)
    with engine.begin() as conn:  # a fee slipped into a scheme-1 clock event afterwards
        conn.exec_driver_sql("DROP TRIGGER clock_events_no_update")
        conn.execute(
            text("UPDATE clock_events SET fee_amount = 999 WHERE case_id = :c AND seq = 1"),
            {"c": done},
        )
    engine.dispose()
    _, breaks = verify_snapshot(app.engine, done)
    assert [b.problem for b in breaks] == ["计时事件与轨迹记载不符：期限依据被改动"]
    app.close()
