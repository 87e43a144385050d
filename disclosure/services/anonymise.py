"""Erasing an archived file's personal data without breaking its verification (issue #11).

When the law or the retention period requires it, a supervisor of the agency replaces the
applicant's name, ID number, phone, e-mail, address and postal code by a marker — in the
applicant's row, in every letter's stored copy and context, and in the drafted reply's
context — in one transaction that also appends an ``anonymise`` event to the case's trail.
The event records the new fingerprint of the application and each redacted letter's new
hashes, so ``audit verify`` and ``archive verify`` go on passing and name the case as
anonymised, when and by whom. The trail itself never held the data (a fingerprint and a
masked ID only), so nothing in it needs erasing.

The archived case is read-only in the database (0013); the transaction names it in
``archive_unlocks`` first and deletes that row before it commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, insert, select

from disclosure.errors import PermissionDenied, RuleViolation
from disclosure.models.tables import ArchiveUnlock, AuditEvent, Letter
from disclosure.services.agencies import check_agency
from disclosure.services.audit import append_event, application_fingerprint, letter_record
from disclosure.services.cases import acting_user, load_case
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import mask_id
from disclosure.workflow.states import Role, State
from disclosure.workflow.text import clean_text

#: What stands where personal data stood.
MARKER = "〔已匿名〕"
#: The applicant's fields that are erased.
ERASED = ("name", "id_number", "phone", "email", "address", "postal_code")
TRIGGER = "anonymise"


@dataclass(frozen=True)
class Anonymised:
    """A case whose personal data was erased, as verification reports it."""

    case_id: int
    at: datetime
    by: str
    reason: str


def _redact(text: str, secrets_in: list[str]) -> str:
    for secret in secrets_in:
        text = text.replace(secret, MARKER)
    return text


def anonymise(app: App, case_id: int, *, actor: str | None, reason: str, on: date) -> int:
    """Erase the archived case's personal data; returns the number of letters redacted.

    Raises:
        RuleViolation: no reason given, or the case is not archived (``state``), or it was
            anonymised already. PermissionDenied: not a supervisor of the case's agency.
        NotFound: no such case or user.
    """
    why = clean_text(reason, "reason", "匿名处理的理由", 500)
    if not why:
        raise RuleViolation(
            "reason", "required", "请写明匿名处理的理由（如保存期限届满、依法删除）"
        )
    with app.uow() as uow:
        session = uow.session
        user = acting_user(session, actor)
        if user.role != Role.SUPERVISOR.value:
            raise PermissionDenied("role_not_allowed", "只有负责人可以对卷宗作匿名处理")
        case = load_case(session, case_id)
        check_agency(user, case.agency_id, "对其卷宗作匿名处理")
        if case.state != State.ARCHIVED.value:
            raise RuleViolation(
                "state", "not_archived", f"案件{case_id}尚未归档，只有归档的卷宗才能作匿名处理"
            )
        if session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.case_id == case_id, AuditEvent.trigger == TRIGGER
            )
        ):
            raise RuleViolation("case", "already", f"案件{case_id}已作过匿名处理")
        applicant = case.applicant
        originals = [str(getattr(applicant, f) or "") for f in ERASED]
        # The longest first, so that a number inside a longer text goes with it; the masked
        # ID the letters print goes too.
        secrets_in = sorted(
            {s for s in [*originals, mask_id(applicant.id_number)] if len(s) >= 2},
            key=len,
            reverse=True,
        )
        session.execute(insert(ArchiveUnlock).values(case_id=case_id))
        for name in ERASED:
            setattr(applicant, name, MARKER if name in ("name", "id_number") else "")
        letters = list(
            session.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id))
        )
        for letter in letters:
            letter.html = _redact(letter.html, secrets_in)
            if letter.context:
                letter.context = _redact(letter.context, secrets_in)
            letter.content_sha256 = hashlib.sha256(letter.html.encode("utf-8")).hexdigest()
        if case.draft_context is not None:
            case.draft_context = _redact(case.draft_context, secrets_in)
        session.flush()
        seq = case.version + 1
        case.version = seq
        append_event(
            session, case, keys=app.settings.audit_keys, seq=seq, at=app.now(),
            actor=user.name, actor_role=user.role, trigger=TRIGGER,
            from_state=case.state, to_state=case.state, reason=why,
            payload={
                "on": on.isoformat(),
                "erased": list(ERASED),
                "application_sha256": application_fingerprint(case, applicant),
                "letters": [letter_record(letter) for letter in letters],
            },
        )  # fmt: skip
        session.flush()
        session.execute(delete(ArchiveUnlock).where(ArchiveUnlock.case_id == case_id))
        uow.commit()
        return len(letters)


def anonymised_cases(app: App) -> list[Anonymised]:
    """Every anonymised case, with when, by whom and why (what verification reports)."""
    with app.uow() as uow:
        rows = uow.session.execute(
            select(AuditEvent.case_id, AuditEvent.at, AuditEvent.actor, AuditEvent.reason)
            .where(AuditEvent.trigger == TRIGGER)
            .order_by(AuditEvent.case_id)
        )
        return [Anonymised(*row) for row in rows]
