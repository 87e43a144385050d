"""The tamper-evident trail: every change appends an event hash-chained to the case's previous one.

hash = SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of the event's fields
and the previous event's hash. An event's ``seq`` equals the case version it produced, so
removing the newest event is as visible as changing an old one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure.models.tables import AuditEvent, Case

GENESIS = "0" * 64


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _utc_text(at: datetime) -> str:
    # SQLite returns naive datetimes; every stored time is UTC.
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(event: AuditEvent) -> str:
    body = {
        "case_id": event.case_id,
        "seq": event.seq,
        "at": _utc_text(event.at),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "payload": json.loads(event.payload),
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def append_event(
    session: Session,
    case: Case,
    *,
    seq: int,
    at: datetime,
    actor: str,
    actor_role: str,
    trigger: str,
    from_state: str | None,
    to_state: str,
    reason: str,
    payload: dict[str, Any],
) -> AuditEvent:
    """Append event ``seq`` (= the case version this change produces) to the chain; caller commits."""
    prev_hash = GENESIS
    if seq > 1:
        found = session.scalar(
            select(AuditEvent.hash).where(AuditEvent.case_id == case.id, AuditEvent.seq == seq - 1)
        )
        prev_hash = found or GENESIS
    event = AuditEvent(
        case_id=case.id,
        seq=seq,
        at=at.astimezone(UTC),
        actor=actor,
        actor_role=actor_role,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        payload=canonical_json(payload),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    session.add(event)
    return event


@dataclass(frozen=True)
class ChainBreak:
    """The first event of a case whose chain does not hold, and why."""

    case_id: int
    seq: int
    problem: str


def verify_case(case: Case, events: list[AuditEvent]) -> ChainBreak | None:
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainBreak(case.id, expected_seq, f"第{expected_seq}条事件缺失（序号不连续）")
        if event.prev_hash != prev:
            return ChainBreak(case.id, event.seq, "前序哈希不符：此前的事件被删除或改动")
        if event_hash(event) != event.hash:
            return ChainBreak(case.id, event.seq, "内容哈希不符：事件在写入后被改动")
        prev = event.hash
    if len(events) < case.version:
        return ChainBreak(
            case.id,
            len(events) + 1,
            f"案件版本为{case.version}而轨迹只有{len(events)}条：最新事件被删除",
        )
    if events and events[-1].to_state != case.state:
        return ChainBreak(case.id, events[-1].seq, "案件状态与轨迹最后状态不符：状态被绕过流程修改")
    return None


def verify(session: Session, case_id: int | None = None) -> tuple[int, list[ChainBreak]]:
    """Recompute every chain (or one case's); return how many cases were checked and the breaks."""
    cases = select(Case).order_by(Case.id)
    if case_id is not None:
        cases = cases.where(Case.id == case_id)
    events_q = select(AuditEvent).order_by(AuditEvent.case_id, AuditEvent.seq)
    if case_id is not None:
        events_q = events_q.where(AuditEvent.case_id == case_id)
    by_case: dict[int, list[AuditEvent]] = {}
    for event in session.scalars(events_q):
        by_case.setdefault(event.case_id, []).append(event)
    checked, breaks = 0, []
    for case in session.scalars(cases):
        checked += 1
        problem = verify_case(case, by_case.get(case.id, []))
        if problem is not None:
            breaks.append(problem)
    return checked, breaks
