"""What the HTTP API answers, as pydantic models (they make its OpenAPI document).

Keys are stable English names; dates are ISO 8601; identity numbers are masked.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from disclosure.services.auth import Identity
from disclosure.services.cases import CaseSummary, CaseView, Change
from disclosure.services.letters import LetterView
from disclosure.workflow.deadlines import Limit


class ErrorOut(BaseModel):
    error: str = Field(description="稳定的英文规则名，如 required、conflict、role_not_allowed")
    field: str | None = Field(description="出错的字段名（输入模型的字段名）")
    message: str = Field(description="中文说明")


class MeOut(BaseModel):
    name: str
    display_name: str
    role: str
    agencies: list[str]
    all_agencies: bool


class CaseSummaryOut(BaseModel):
    id: int
    state: str
    applicant_name: str
    id_masked: str
    received_on: date
    reply_due: date | None
    provisional: bool
    working_days_left: int | None


class CaseListOut(BaseModel):
    total: int
    cases: list[CaseSummaryOut]
    next_cursor: str | None = Field(description="下一页的 after 参数（无则已是最后一页）")


class LimitOut(BaseModel):
    key: str
    label: str
    due: date
    provisional: bool
    explanation: str


class TrailOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    actor_role: str
    trigger: str
    from_state: str | None
    to_state: str
    reason: str
    payload: dict[str, Any]


class FeeOut(BaseModel):
    amount: Decimal
    scale: str
    issued_on: date
    paid_on: date | None


class LetterOut(BaseModel):
    kind: str
    title: str
    number: str
    issued_on: date
    issued_by: str
    sha256: str


class ContactOut(BaseModel):
    on: date
    method: str
    by: str
    summary: str


class CaseOut(BaseModel):
    id: int
    state: str
    version: int
    applicant_name: str
    applicant_kind: str
    id_masked: str
    description: str
    channel: str
    received_on: date
    outcome: str | None
    reason_code: str | None
    drafted_by: str | None
    approved_by: str | None
    paused: bool
    duplicate_of: int | None
    assignee: str | None = Field(description="承办人（用户名）")
    contacts: list[ContactOut] = Field(description="与申请人的联系记录")
    limits: list[LimitOut]
    fee: FeeOut | None
    trail: list[TrailOut]
    letters: list[LetterOut]
    triggers: list[str] = Field(description="此用户现在可以执行的操作")


class RegisteredOut(BaseModel):
    id: int


class IssuedOut(BaseModel):
    kind: str
    title: str
    number: str


class ChangeOut(BaseModel):
    case_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    letters: list[IssuedOut]


def utc(moment: datetime) -> datetime:
    """An instant with its offset (SQLite hands stored UTC back without one)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def me_out(identity: Identity) -> MeOut:
    return MeOut(
        name=identity.name,
        display_name=identity.display_name,
        role=identity.role.value,
        agencies=list(identity.agencies),
        all_agencies=identity.all_agencies,
    )


def summary_out(summary: CaseSummary) -> CaseSummaryOut:
    return CaseSummaryOut(
        id=summary.id,
        state=summary.state.value,
        applicant_name=summary.applicant_name,
        id_masked=summary.id_masked,
        received_on=summary.received_on,
        reply_due=summary.reply_due,
        provisional=summary.provisional,
        working_days_left=summary.working_days_left,
    )


def letter_out(letter: LetterView) -> LetterOut:
    return LetterOut(
        kind=letter.kind,
        title=letter.title,
        number=letter.number,
        issued_on=letter.issued_on,
        issued_by=letter.issued_by,
        sha256=letter.sha256,
    )


def case_out(view: CaseView, letters: list[LetterView], triggers: list[str]) -> CaseOut:
    fee = view.fee
    return CaseOut(
        id=view.id,
        state=view.state.value,
        version=view.version,
        applicant_name=view.applicant_name,
        applicant_kind=view.applicant_kind,
        id_masked=view.id_masked,
        description=view.description,
        channel=view.channel,
        received_on=view.received_on,
        outcome=view.outcome,
        reason_code=view.outcome_reason,
        drafted_by=view.drafted_by,
        approved_by=view.approved_by,
        paused=view.paused,
        duplicate_of=view.duplicate_of,
        assignee=view.assignee,
        contacts=[
            ContactOut(on=c.on, method=c.method, by=c.by, summary=c.summary) for c in view.contacts
        ],
        limits=[limit_out(x) for x in view.limits],
        fee=None
        if fee is None
        else FeeOut(
            amount=fee.amount, scale=fee.scale, issued_on=fee.issued_on, paid_on=fee.paid_on
        ),
        trail=[
            TrailOut(
                seq=e.seq,
                at=utc(e.at),
                actor=e.actor,
                actor_role=e.actor_role,
                trigger=e.trigger,
                from_state=e.from_state,
                to_state=e.to_state,
                reason=e.reason,
                payload=json.loads(e.payload),
            )
            for e in view.trail
        ],
        letters=[letter_out(x) for x in letters],
        triggers=triggers,
    )


def change_out(change: Change) -> ChangeOut:
    step = change.step
    return ChangeOut(
        case_id=change.case_id,
        trigger=step.trigger,
        from_state=step.before.value,
        to_state=step.after.value,
        version=change.version,
        letters=[IssuedOut(kind=x.kind, title=x.title, number=x.number) for x in change.letters],
    )


class AlertOut(BaseModel):
    case_id: int
    kind: str
    label: str
    limit_date: date
    working_days_left: int
    agency: str
    proposed_step: str | None


class DeadlineIn(BaseModel):
    """A what-if: the received date and the clock events, as ``disclosure deadline`` reads."""

    received: str = Field(description="收到申请日期 YYYY-MM-DD", max_length=40)
    events: list[list[str | int]] = Field(
        default_factory=list,
        max_length=100,
        description='计时事件：[类型, 日期] 或 ["extend", 日期, 天数] 或 ["custom_due", 日期, 另定日期]',
    )


class DeadlineOut(BaseModel):
    limits: list[LimitOut]


class ChainBreakOut(BaseModel):
    #: None: a finding about the whole trail (a 文号 gap, a user, a checkpoint).
    case_id: int | None
    seq: int | None
    problem: str


class VerifyOut(BaseModel):
    checked: int
    intact: bool
    breaks: list[ChainBreakOut]


def limit_out(limit: Limit) -> LimitOut:
    return LimitOut(
        key=limit.key,
        label=limit.label,
        due=limit.due,
        provisional=limit.provisional,
        explanation=limit.explanation,
    )
