"""Databases begun by earlier releases, upgraded by today's code, verify clean (issue #27).

Each database is built by the code of its time — ``git archive`` of the last commit at that
revision, run as a subprocess with that tree first on ``PYTHONPATH`` — using that commit's
own test helpers to register cases and drive them through clock events. Today's code then
opens it (which upgrades it) and ``audit verify`` must find nothing. Tampering with the new
``scheme`` column must still be found. The same holds for the chain head revision 0006 keeps
on the case row: the upgrade fills it in (or the databases above would not verify), every
change moves it, and a head that is not the trail's last event is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import UTC, date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from disclosure.config import Settings
from disclosure.errors import ConflictError
from disclosure.models.db import current_revision, head_revision, make_engine
from disclosure.models.tables import AuditEvent, Case
from disclosure.services import audit, cases
from disclosure.services.audit import SCHEME, append_event, verify_snapshot
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, act, application, as_insider, scratch_database
from tests.integration.test_case_service import FULL_CASE, drive

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
    with scratch_database("disclosure_old") as url:
        yield url


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


def _tamper(app: App, event_id: int, column: str, value: object) -> None:
    as_insider(
        app, f"UPDATE audit_events SET {column} = :v WHERE id = :i", {"v": value, "i": event_id}
    )


def _set_scheme(app: App, event_id: int, scheme: int) -> None:
    _tamper(app, event_id, "scheme", scheme)


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
    act(app, half, "third_party_replied", "alice", on=TODAY, today=TODAY, opinion="agree")
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


def _body(event: AuditEvent) -> dict[str, Any]:
    """What an event's hash covers from scheme 3 on, built here independently of audit.py."""
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)  # SQLite: naive UTC
    return {
        "case_id": event.case_id, "seq": event.seq,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor, "actor_role": event.actor_role, "trigger": event.trigger,
        "from_state": event.from_state, "to_state": event.to_state, "reason": event.reason,
        "payload": json.loads(event.payload), "prev_hash": event.prev_hash,
        "scheme": event.scheme,
    }  # fmt: skip


def _python_json(data: object) -> bytes:
    """The canonical form of schemes 1-3: Python's sorted-key ``json.dumps``."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _append(app: App, case_id: int, payload: dict[str, object]) -> AuditEvent:
    with app.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        case.version += 1
        event = append_event(
            uow.session, case, keys=app.settings.audit_keys, seq=case.version, at=app.now(), actor="alice",
            actor_role="clerk", trigger="review", from_state="registered",
            to_state="registered", reason="", payload=payload,
        )  # fmt: skip
        uow.commit()
    return event


def test_new_events_are_hashed_over_rfc8785_canonical_json(app: App) -> None:
    # Where RFC 8785 and json.dumps(sort_keys=True) differ for the trail's kinds of data:
    # JCS orders keys by UTF-16 code units (U+1F600 is D83D DE00, before U+FB01), Python by
    # code points (U+FB01 first).
    case_id = cases.register(app, application(), "alice", TODAY)
    event = _append(app, case_id, {"\ufb01": "ligature", "\U0001f600": "emoji", "on": TODAY})
    [first, second] = _events(app, case_id)
    assert (first.scheme, second.scheme) == (SCHEME, SCHEME) == (5, 5)
    assert second.payload.endswith('"on":"2026-11-24","\U0001f600":"emoji","\ufb01":"ligature"}')
    body = _body(second)
    assert second.hash == event.hash == hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    assert second.hash != hashlib.sha256(_python_json(body)).hexdigest()
    assert verify_snapshot(app.engine) == (1, [])


@pytest.mark.parametrize(
    "payload",
    [{"ratio": 0.5}, {"big": 2**53}, {"when": {"nested": [float("nan")]}}],
    ids=["float", "int-beyond-2**53", "nan"],
)
def test_a_number_rfc8785_cannot_print_exactly_is_refused_when_written(
    app: App, payload: dict[str, object]
) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with pytest.raises((TypeError, rfc8785.CanonicalizationError)):
        _append(app, case_id, payload)
    assert len(_events(app, case_id)) == 1  # nothing was written
    assert verify_snapshot(app.engine) == (1, [])


def test_a_scheme_4_chain_verifies_and_a_one_byte_change_is_found(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:5])
    events = _events(app, case_id)
    assert {e.scheme for e in events} == {SCHEME}
    assert all(e.hash == hashlib.sha256(rfc8785.dumps(_body(e))).hexdigest() for e in events)
    assert verify_snapshot(app.engine) == (1, [])

    target = events[2]  # request_correction, dated 2026-06-08
    assert '"on":"2026-06-08"' in target.payload
    _tamper(
        app, target.id, "payload", target.payload.replace('"on":"2026-06-08"', '"on":"2026-06-09"')
    )
    assert verify_snapshot(app.engine) == (
        1,
        [audit.ChainBreak(case_id, target.seq, "内容哈希不符：事件在写入后被改动")],
    )


def test_a_chain_of_scheme_3_events_continued_under_scheme_4_verifies(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old_code:
        old_code.setattr(audit, "SCHEME", 3)
        case_id = cases.register(app, application(), "alice", TODAY)
        drive(app, case_id, FULL_CASE[:4])
    drive(app, case_id, FULL_CASE[4:8])
    events = _events(app, case_id)
    assert [e.scheme for e in events] == [3] * 5 + [SCHEME] * 4
    for e in events:  # each event is hashed under its own scheme's canonical form
        canonical = _python_json if e.scheme == 3 else rfc8785.dumps
        assert e.hash == hashlib.sha256(canonical(_body(e))).hexdigest()
    assert verify_snapshot(app.engine) == (1, [])

    _set_scheme(app, events[-1].id, 3)  # a scheme-4 event passed off as scheme 3
    assert verify_snapshot(app.engine)[1] == [
        audit.ChainBreak(case_id, events[-1].seq, "内容哈希不符：事件在写入后被改动")
    ]


@pytest.mark.parametrize("slipped_in", ['"x":1e400,', '"x":9007199254740993,', '"x":'])
def test_a_payload_rfc8785_cannot_read_is_reported_not_raised(app: App, slipped_in: str) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    [event] = _events(app, case_id)
    _tamper(app, event.id, "payload", event.payload.replace("{", "{" + slipped_in, 1))
    assert verify_snapshot(app.engine)[1] == [
        audit.ChainBreak(case_id, 1, "内容哈希不符：事件在写入后被改动")
    ]


# -- the chain head on the case row (revision 0006) ---------------------------------------

_HEAD_PROBLEM = "案件记载的轨迹末条哈希与最后一条事件不符：末尾的事件被删除或案件被改动"


def _delete_event(app: App, case_id: int, seq: int) -> None:
    as_insider(
        app, "DELETE FROM audit_events WHERE case_id = :c AND seq = :s", {"c": case_id, "s": seq}
    )


def _head(app: App, case_id: int) -> str | None:
    with app.uow() as uow:
        return uow.session.scalar(select(Case.audit_head).where(Case.id == case_id))


def test_every_change_moves_the_chain_head_to_its_event(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    assert _head(app, case_id) == _events(app, case_id)[-1].hash
    drive(app, case_id, FULL_CASE[:4])  # a letter, clock events
    events = _events(app, case_id)
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert _head(app, case_id) == events[-1].hash


def test_deleting_the_newest_event_and_rolling_the_case_back_leaves_the_head_behind(
    app: App,
) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:1])  # review: no clock event, no letter
    first, review = _events(app, case_id)
    _delete_event(app, case_id, review.seq)
    with app.uow() as uow:  # the row as the registration left it: version, state, limits
        case = uow.session.get(Case, case_id)
        assert case is not None
        for column, value in json.loads(first.payload)["case"].items():
            is_date = value is not None and column.endswith(("_on", "_due"))
            setattr(case, column, date.fromisoformat(value) if is_date else value)
        case.version = first.seq
        uow.commit()
    assert verify_snapshot(app.engine) == (1, [audit.ChainBreak(case_id, 1, _HEAD_PROBLEM)])


def test_an_edited_chain_head_is_reported(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:2])
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE cases SET audit_head = :h WHERE id = :c"), {"h": "0" * 64, "c": case_id}
        )
    assert verify_snapshot(app.engine) == (1, [audit.ChainBreak(case_id, 3, _HEAD_PROBLEM)])


def test_a_case_without_a_chain_head_is_not_extended(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET audit_head = NULL WHERE id = :c"), {"c": case_id})
    with pytest.raises(ConflictError, match="轨迹缺少第1条事件"):
        act(app, case_id, "review", "alice", on="2026-06-05")
    assert len(_events(app, case_id)) == 1
    assert cases.get_case(app, case_id).version == 1
