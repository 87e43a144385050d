"""Issuing letters inside the trigger's transaction, and reading them back for printing.

A letter is rendered once, when issued, from the case as it then stands; the HTML, its
SHA-256 and the context are stored, and every later print (HTML, PDF, DOCX) is made from
that stored HTML — the same text years later, whatever happened to templates or settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from disclosure.config import Settings
from disclosure.errors import NotFound, RuleViolation
from disclosure.letters.kinds import BASES, KINDS, REPLY_TITLES, WITHHOLD_PHRASES, LetterKind
from disclosure.letters.render import render_html
from disclosure.models.tables import Applicant, Case, ClockEventRow, Letter, LetterCounter
from disclosure.workflow.application import (
    CHANNEL_RULES,
    ID_TYPE_LABELS,
    Channel,
    IdType,
    mask_id,
)
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.deadlines import Limit, Limits
from disclosure.workflow.fees import FEE_SCALE_LABELS, Fee
from disclosure.workflow.states import OUTCOMES


@dataclass(frozen=True)
class LetterInput:
    """What a clerk supplies for the letters a trigger issues (CLI options / form fields)."""

    items: Sequence[str] = ()
    party: str | None = None
    public_interest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _number(settings: Settings, kind: LetterKind, year: int, seq_no: int) -> tuple[str, str]:
    prefix = f"{settings.agency_prefix}{KINDS[kind].code}"
    return prefix, f"{prefix}〔{year}〕第{seq_no}号"


def allocate_number(session: Session, prefix: str, year: int, kind: LetterKind) -> int:
    """The next 文号 number, taken in the caller's transaction (a rollback gives it back).

    The counter row's lock is held until commit, so concurrent issuers of one kind queue.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(LetterCounter)
        .values(prefix=prefix, year=year, kind=kind.value, last_no=0)
        .on_conflict_do_nothing()
    )
    seq_no = session.execute(
        update(LetterCounter)
        .where(
            LetterCounter.prefix == prefix,
            LetterCounter.year == year,
            LetterCounter.kind == kind.value,
        )
        .values(last_no=LetterCounter.last_no + 1)
        .returning(LetterCounter.last_no)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(seq_no)


def _present(**values: Any) -> dict[str, Any]:
    """Drop missing values: the strict template then names the field instead of printing blank."""
    return {k: v for k, v in values.items() if v is not None and v != "" and v != []}


def _limit_due(limit: Limit | None) -> str | None:
    return cn_date(limit.due) if limit is not None else None


def base_context(
    settings: Settings, case: Case, applicant: Applicant, limits: Limits
) -> dict[str, Any]:
    reply = limits.reply
    return {
        "agency": _present(
            name=settings.agency_name, address=settings.agency_address,
            contact=settings.agency_contact, phone=settings.agency_phone,
            reconsideration_body=settings.reconsideration_body, court=settings.court,
        ),
        "applicant": _present(
            name=applicant.name, id_masked=mask_id(applicant.id_number),
            id_type=ID_TYPE_LABELS[IdType(applicant.id_type)],
        ),
        "case": _present(
            id=case.id, received_on=cn_date(case.received_on), description=case.description,
            channel_name=CHANNEL_RULES[Channel(case.channel)][0],
            channel_rule=CHANNEL_RULES[Channel(case.channel)][1],
            reply_due=_limit_due(reply), reply_due_note=reply.explanation if reply else None,
            provisional=bool(reply and reply.provisional),
        ),
    }  # fmt: skip


def kind_context(
    kind: LetterKind,
    case: Case,
    limits: Limits,
    before: Limits,
    letter_input: LetterInput,
    note: str,
    fee: Fee | None,
    settings: Settings,
    extension_days: int | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """Title, template and the kind-specific part of the context."""
    info = KINDS[kind]
    if kind is LetterKind.RECEIPT:
        return info.title, info.template, {}
    if kind is LetterKind.CORRECTION:
        period = limits.correction_period
        return info.title, info.template, {"correction": _present(
            points=[i for i in letter_input.items if i.strip()],
            period_due=_limit_due(period),
            period_days=settings.rules.correction_period_days,
        )}  # fmt: skip
    if kind is LetterKind.EXTENSION:
        return info.title, info.template, {"extension": _present(
            old_due=_limit_due(before.reply), new_due=_limit_due(limits.reply), reason=note,
            days=extension_days,
        )}  # fmt: skip
    if kind in (LetterKind.THIRD_PARTY, LetterKind.AGENCY_CONSULT):
        window = limits.third_party if kind is LetterKind.THIRD_PARTY else limits.agency
        return info.title, info.template, {"consultation": _present(
            party=letter_input.party, window_due=_limit_due(window),
            days=settings.rules.consultation_days,
        )}  # fmt: skip
    if kind is LetterKind.THIRD_PARTY_DECISION:
        return info.title, info.template, {"decision": _present(
            party=letter_input.party, public_interest=letter_input.public_interest,
        )}  # fmt: skip
    if kind is LetterKind.FEE:
        assert fee is not None
        return info.title, info.template, {"fee": _present(
            scale=FEE_SCALE_LABELS[fee.scale], basis=fee.basis, lines=list(fee.lines),
            amount=f"{fee.amount:.2f}", pay_due=_limit_due(limits.fee),
            payment=settings.fee_payment,
        )}  # fmt: skip
    outcome = case.outcome or ""
    reason = case.outcome_reason or ""
    basis = BASES[(outcome, reason)]
    if kind is LetterKind.REPLY:
        return REPLY_TITLES[outcome], info.template.format(outcome=outcome), {"reply": _present(
            reason=OUTCOMES[outcome].reasons[reason], article=basis.article, basis=basis.text,
            detail=case.reply_detail, refer_to=case.refer_to,
            phrase=WITHHOLD_PHRASES.get(reason),
        )}  # fmt: skip
    if kind is LetterKind.CLOSING:
        article = basis.article
        if not article.startswith("《"):
            article = f"《中华人民共和国政府信息公开条例》{article}"
        return info.title, info.template, {"closing": _present(
            reason=OUTCOMES[outcome].reasons[reason], article=article, basis=basis.text,
        )}  # fmt: skip
    raise AssertionError(f"no context for letter kind {kind}")


def issue(
    session: Session,
    settings: Settings,
    case: Case,
    kind: LetterKind,
    *,
    limits: Limits,
    before: Limits,
    issued_on: date,
    issued_by: str,
    audit_seq: int,
    at: Any,
    letter_input: LetterInput,
    note: str = "",
    fee: Fee | None = None,
    extension_days: int | None = None,
) -> Letter:
    """Render, number and record one letter in the caller's transaction."""
    title, template, specific = kind_context(
        kind, case, limits, before, letter_input, note, fee, settings, extension_days
    )
    context = base_context(settings, case, case.applicant, limits) | specific
    prefix, _ = _number(settings, kind, issued_on.year, 0)
    seq_no = allocate_number(session, prefix, issued_on.year, kind)
    _, number = _number(settings, kind, issued_on.year, seq_no)
    context["letter"] = {"kind": kind.value, "title": title, "number": number,
                         "issued_on": cn_date(issued_on)}  # fmt: skip
    html = render_html(template, context, settings.template_dir)
    letter = Letter(
        case_id=case.id, kind=kind.value, template=template, prefix=prefix,
        year=issued_on.year, seq_no=seq_no, number=number, issued_on=issued_on, issued_at=at,
        issued_by=issued_by, audit_seq=audit_seq,
        content_sha256=hashlib.sha256(html.encode("utf-8")).hexdigest(),
        context=json.dumps(context, ensure_ascii=False, sort_keys=True), html=html,
    )  # fmt: skip
    session.add(letter)
    return letter


def month_rank(session: Session, case: Case) -> int:
    """This application's rank among the applicant's applications received in its calendar
    month, in the order they were registered."""
    start = case.received_on.replace(day=1)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    same_applicant = select(Applicant.id).where(
        Applicant.id_type == case.applicant.id_type,
        Applicant.id_number == case.applicant.id_number,
    )
    rank = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.applicant_id.in_(same_applicant),
            Case.received_on >= start,
            Case.received_on < end,
            # Registration order, not received date: a late-registered, back-dated
            # application must not change the rank of one already charged.
            Case.id <= case.id,
        )
    )
    return int(rank or 1)


def last_party(case: Case, kind: str) -> str | None:
    rows: list[ClockEventRow] = [e for e in case.clock_events if e.kind == kind and e.party]
    return rows[-1].party if rows else None


# -- reading -----------------------------------------------------------------------------


def list_letters(session: Session, case_id: int) -> list[Letter]:
    if session.get(Case, case_id) is None:
        raise NotFound("case", f"案件{case_id}不存在")
    return list(
        session.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id))
    )


def letters_in_state(session: Session, state: str, kind: str | None = None) -> list[Letter]:
    """Every letter (or every letter of one kind) of the cases now in ``state``."""
    query = (
        select(Letter)
        .join(Case, Case.id == Letter.case_id)
        .where(Case.state == state)
        .order_by(Letter.case_id, Letter.id)
    )
    if kind is not None:
        query = query.where(Letter.kind == kind)
    return list(session.scalars(query))


def find_letter(session: Session, case_id: int, kind: str) -> Letter:
    """The latest letter of a kind (or with that 文号) on a case."""
    letters = list_letters(session, case_id)
    for letter in reversed(letters):
        if kind in (letter.kind, letter.number):
            return letter
    issued = "、".join(f"{x.kind}（{x.number}）" for x in letters) or "无"
    options = "、".join(k.value for k in LetterKind)
    raise RuleViolation(
        "kind", "not_issued",
        f"案件{case_id}没有“{kind}”文书；已发文书：{issued}；文书类别：{options}",
    )  # fmt: skip
