"""What someone with full database rights but without the audit key can do to the trail,
and how each is caught (issue #11).

Every attack runs as such an insider would: triggers off (``session_replication_role`` on
PostgreSQL, the append-only triggers dropped on SQLite), any row edited, hashes recomputed
where that helps them. The trail is then checked as an auditor would: ``audit verify`` and,
against the checkpoint roots written outside the database, ``audit verify --against``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Connection, select, text

from disclosure.models.tables import AuditEvent, Base
from disclosure.services import cases, checkpoints
from disclosure.services.audit import ChainBreak, event_hash, verify_trail
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, application
from tests.integration.test_case_service import FULL_CASE, drive

#: The victim stops at an approved reply (register + 12 steps); ``send`` is its 14th event.
TO_APPROVED = FULL_CASE[:12]
SEND = FULL_CASE[12]


@dataclass(frozen=True)
class Scene:
    bystander: int
    victim: int


@pytest.fixture
def scene(app: App) -> Scene:
    bystander = cases.register(app, application(name="李四"), "alice", TODAY)
    victim = cases.register(app, application(), "alice", TODAY)
    drive(app, victim, TO_APPROVED)
    drive(app, victim, [SEND])
    assert checkpoints.take(app) is not None
    return Scene(bystander, victim)


def _insider(app: App, work: Callable[[Connection], None]) -> None:
    """Run ``work`` with every trigger out of the way, as a database owner could."""
    with app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            for (name,) in names.all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        work(conn)


def _run(app: App, *statements: str, **params: object) -> None:
    def work(conn: Connection) -> None:
        for statement in statements:
            conn.execute(text(statement), params)

    _insider(app, work)


def _events(conn: Connection, case_id: int) -> list[AuditEvent]:
    rows = conn.execute(
        select(AuditEvent.__table__).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    )
    return [AuditEvent(**row._asdict()) for row in rows]


def _restore_case_from(conn: Connection, case_id: int, seq: int) -> None:
    """Cut the chain back to event ``seq`` and make the case row say what that event says."""
    event = _events(conn, case_id)[seq - 1]
    snapshot = dict(json.loads(event.payload)["case"])
    snapshot.pop("draft_sha256")
    dates = {k for k, v in snapshot.items() if isinstance(v, str) and k.endswith(("_on", "_due"))}
    values = {k: date.fromisoformat(v) if k in dates and v else v for k, v in snapshot.items()}
    sets = ", ".join(f"{column} = :{column}" for column in values)
    conn.execute(
        text("DELETE FROM audit_events WHERE case_id = :c AND seq > :s"), {"c": case_id, "s": seq}
    )
    conn.execute(
        text(
            f"UPDATE cases SET {sets}, version = :s, audit_head = :h, draft_context = NULL WHERE id = :c"
        ),
        {**values, "s": seq, "h": event.hash, "c": case_id},
    )


# -- the attacks -------------------------------------------------------------------------


def edit_a_payload(app: App, s: Scene) -> None:
    _run(app, "UPDATE audit_events SET payload = replace(payload, '2026-06-08', '2026-06-09') "
              "WHERE case_id = :c AND seq = 3", c=s.victim)  # fmt: skip


def delete_a_middle_event(app: App, s: Scene) -> None:
    _run(app, "DELETE FROM audit_events WHERE case_id = :c AND seq = 5", c=s.victim)


def cut_back_and_restore_the_case_row(app: App, s: Scene) -> None:
    def work(conn: Connection) -> None:
        conn.execute(
            text("DELETE FROM letters WHERE case_id = :c AND audit_seq > 12"), {"c": s.victim}
        )
        _restore_case_from(conn, s.victim, 12)

    _insider(app, work)


def remove_the_newest_reply_and_its_number(app: App, s: Scene) -> None:
    def work(conn: Connection) -> None:
        conn.execute(
            text("DELETE FROM letters WHERE case_id = :c AND kind = 'reply'"), {"c": s.victim}
        )
        conn.execute(text("UPDATE letter_counters SET last_no = last_no - 1 WHERE kind = 'reply'"))
        _restore_case_from(conn, s.victim, 13)

    _insider(app, work)


def _case_column(column: str, value: object) -> Callable[[App, Scene], None]:
    def attack(app: App, s: Scene) -> None:
        _run(app, f"UPDATE cases SET {column} = :v WHERE id = :c", v=value, c=s.victim)

    attack.__name__ = f"edit_{column}"
    return attack


def _letter_column(column: str, value: object) -> Callable[[App, Scene], None]:
    def attack(app: App, s: Scene) -> None:
        _run(app, f"UPDATE letters SET {column} = :v WHERE case_id = :c AND kind = 'reply'",
             v=value, c=s.victim)  # fmt: skip

    attack.__name__ = f"edit_letter_{column}"
    return attack


def delete_a_whole_case(app: App, s: Scene) -> None:
    def work(conn: Connection) -> None:
        for table in reversed(Base.metadata.sorted_tables):
            if "case_id" in table.c and table.name != "checkpointed_heads":
                conn.execute(table.delete().where(table.c.case_id == s.bystander))
        conn.execute(text("DELETE FROM cases WHERE id = :c"), {"c": s.bystander})

    _insider(app, work)


def rewrite_a_chain_consistently(app: App, s: Scene) -> None:
    def work(conn: Connection) -> None:
        prev = None
        for event in _events(conn, s.victim):
            if event.seq == 3:
                event.reason = "改写的理由"
            if prev is not None:
                event.prev_hash = prev
            event.hash = event_hash(event)
            conn.execute(
                text(
                    "UPDATE audit_events SET reason = :r, prev_hash = :p, hash = :h WHERE id = :i"
                ),
                {"r": event.reason, "p": event.prev_hash, "h": event.hash, "i": event.id},
            )
            prev = event.hash
        conn.execute(
            text("UPDATE cases SET audit_head = :h WHERE id = :c"), {"h": prev, "c": s.victim}
        )

    _insider(app, work)


def _forge_next_event(conn: Connection, case_id: int, key_id: str | None, mac: str | None) -> None:
    last = _events(conn, case_id)[-1]
    forged = AuditEvent(
        case_id=case_id, seq=last.seq + 1, at=last.at, actor="bob", actor_role="supervisor",
        trigger="urge", from_state=last.to_state, to_state=last.to_state, reason="伪造",
        payload=last.payload, prev_hash=last.hash, scheme=last.scheme, key_id=key_id, mac=mac,
    )  # fmt: skip
    forged.hash = event_hash(forged)
    values = {c.key: getattr(forged, c.key) for c in AuditEvent.__table__.c if c.key != "id"}
    conn.execute(AuditEvent.__table__.insert().values(**values))
    conn.execute(
        text("UPDATE cases SET version = :v, audit_head = :h WHERE id = :c"),
        {"v": forged.seq, "h": forged.hash, "c": case_id},
    )


def append_a_forged_event(app: App, s: Scene) -> None:
    _insider(app, lambda conn: _forge_next_event(conn, s.victim, None, None))


def append_a_forged_event_with_a_copied_signature(app: App, s: Scene) -> None:
    def work(conn: Connection) -> None:
        last = _events(conn, s.victim)[-1]
        _forge_next_event(conn, s.victim, last.key_id, last.mac)

    _insider(app, work)


def sign_with_a_made_up_key(app: App, s: Scene) -> None:
    _run(app, "UPDATE audit_events SET key_id = 'k0000000000' WHERE case_id = :c AND seq = 2",
         c=s.victim)  # fmt: skip


def promote_a_user(app: App, s: Scene) -> None:
    _run(app, "UPDATE users SET role = 'supervisor' WHERE name = 'alice'")


def let_a_user_into_every_agency(app: App, s: Scene) -> None:
    _run(app, "UPDATE users SET all_agencies = :t WHERE name = 'carol'", t=True)


def push_a_counter_back(app: App, s: Scene) -> None:
    _run(app, "UPDATE letter_counters SET last_no = last_no - 1 WHERE kind = 'receipt'")


def delete_every_checkpoint(app: App, s: Scene) -> None:
    _run(app, "DELETE FROM audit_checkpoints", "DELETE FROM checkpointed_heads")


ATTACKS: list[tuple[Callable[[App, Scene], None], str, bool]] = [
    # (attack, what the finding says, caught only against the external roots)
    (edit_a_payload, "内容哈希不符", False),
    (delete_a_middle_event, "第5条事件缺失", False),
    (cut_back_and_restore_the_case_row, "轨迹被截断、改写，或案件被删除", False),
    (remove_the_newest_reply_and_its_number, "轨迹被截断、改写，或案件被删除", False),
    (_case_column("reply_detail", "改过的答复内容"), "（reply_detail）", False),
    (_case_column("registered_by", "carol"), "（registered_by）", False),
    (_case_column("is_demo", True), "（is_demo）", False),
    (_case_column("limits_provisional", True), "（limits_provisional）", False),
    (_letter_column("issued_by", "carol"), "（issued_by）", False),
    (_letter_column("issued_on", date(2026, 8, 1)), "（issued_on）", False),
    (_letter_column("context", "{}"), "（context_sha256）", False),
    (delete_a_whole_case, "文号第1号缺失", False),
    (rewrite_a_chain_consistently, "签名不符", False),
    (append_a_forged_event, "没有签名", False),
    (append_a_forged_event_with_a_copied_signature, "签名不符", False),
    (sign_with_a_made_up_key, "不在本机的密钥中", False),
    (promote_a_user, "用户alice（现为supervisor）的角色或所属机关签名不符", False),
    (let_a_user_into_every_agency, "用户carol（现为clerk）的角色或所属机关签名不符", False),
    (push_a_counter_back, "超出计数器", False),
    (delete_every_checkpoint, "库中没有此检查点", True),
]


def _findings(app: App, against: bool) -> list[ChainBreak]:
    _, breaks = verify_trail(app)
    if against:
        breaks += checkpoints.verify_against(app, app.settings.checkpoint_dir).breaks
    return breaks


def test_an_untouched_trail_verifies_in_the_database_and_against_the_roots(
    app: App, scene: Scene
) -> None:
    assert verify_trail(app) == (2, [])
    report = checkpoints.verify_against(app, app.settings.checkpoint_dir)
    assert (report.compared, report.breaks) == (1, [])


@pytest.mark.parametrize(
    ("attack", "finding", "against"), ATTACKS, ids=[a.__name__ for a, _, _ in ATTACKS]
)
def test_every_insider_attack_is_caught_and_named(
    app: App, scene: Scene, attack: Callable[[App, Scene], None], finding: str, against: bool
) -> None:
    attack(app, scene)
    if against:  # the database alone looks whole: only the roots outside show it
        assert verify_trail(app)[1] == []
    found = [b.problem for b in _findings(app, against)]
    assert any(finding in problem for problem in found), found
