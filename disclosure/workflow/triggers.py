"""Every trigger of the workflow, each declared once: read one ``Trigger(...)`` and you know
where it may fire, who may fire it, what it takes, which rules stop it, which clock event it
records, what it changes on the case and which letters it issues.

``machine.py`` turns the table into ``transitions`` configuration; the services persist what
a step says; the CLI and the web build their forms from the input models. Adding a trigger
is one entry here (and a template, if it issues a letter of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from disclosure.errors import DeadlineError, PermissionDenied, RuleViolation
from disclosure.workflow.calendar import WorkingCalendar, cn_date
from disclosure.workflow.case import CaseFacts, Command
from disclosure.workflow.challenges import CHALLENGE_RESULTS, ChallengeKind, challenge_name
from disclosure.workflow.deadlines import ClockEvent, ClockKind, Limits, compute_limits
from disclosure.workflow.fees import Fee, FeeScale, compute_fee
from disclosure.workflow.inputs import (
    TriggerInput,
    date_field,
    input_model,
    integer_field,
    items_field,
    text_field,
    validate,
)
from disclosure.workflow.letters import KINDS, LetterKind, LetterType
from disclosure.workflow.rules import LocalPolicy, RuleSet
from disclosure.workflow.states import (
    OPEN_STATES,
    OUTCOMES,
    ROLE_LABELS,
    SYSTEM_OUTCOMES,
    Role,
    State,
)

OUTCOMES_HELP = "答复类型：" + " / ".join(f"{o.code}={o.label}" for o in OUTCOMES.values())

#: A consulted third party's possible answers (Art. 32).
OPINIONS = {"agree": "同意公开", "object": "不同意公开"}

#: How staff reached the applicant (the seed: 主动与申请人联系沟通).
CONTACT_METHODS = {"phone": "电话", "visit": "当面", "letter": "信函", "email": "电子邮件"}
_CHALLENGE_KINDS = {kind.value: challenge_name(kind) for kind in ChallengeKind}


class Firing:
    """One trigger being fired: what the guards read and what the effects build.

    ``transitions`` drives it as its model. Each thread keeps one, set up afresh by
    ``begin`` for every ``fire``; it is never shared between threads.
    """

    state: str
    facts: CaseFacts
    command: Command
    cal: WorkingCalendar
    rules: RuleSet
    policy: LocalPolicy
    backdated: bool
    clock_event: ClockEvent | None
    limits: Limits | None
    fee: Fee | None
    changes: dict[str, Any]

    def begin(
        self,
        facts: CaseFacts,
        command: Command,
        cal: WorkingCalendar,
        rules: RuleSet,
        policy: LocalPolicy,
    ) -> None:
        """Forget the last fire and set up this one (the machine reads ``state``)."""
        self.state = facts.state.value
        self.facts = facts
        self.command = command
        self.cal = cal
        self.rules = rules
        self.policy = policy
        self.backdated = False
        self.clock_event = None
        self.limits = None
        self.fee = None
        self.changes = {}

    def value(self, name: str) -> Any:
        """A field of the trigger's input (None where the trigger takes no such field)."""
        return getattr(self.command.input, name, None)

    def limits_with(self, event: ClockEvent | None) -> Limits:
        events = (*self.facts.events, event) if event else self.facts.events
        try:
            return compute_limits(self.cal, self.facts.received_on, events, self.rules)
        except DeadlineError as exc:
            # Only the new event can be wrong: stored history was valid when stored.
            field_name = {"date": "on", "days": "days", "until": "until"}.get(
                (exc.field or "").rsplit(".", 1)[-1], "trigger"
            )
            raise DeadlineError(field=field_name, rule=exc.rule, message=exc.message) from None


Guard = Callable[[Firing], None]
Effect = Callable[[Firing], dict[str, Any]]


@dataclass(frozen=True)
class LetterSpec:
    """A letter a trigger issues; with ``when``, only if that input field is filled in."""

    type: LetterType
    when: str | None = None


@dataclass(frozen=True)
class Trigger:
    """One trigger, declared once.

    Attributes:
        name: the trigger name (also the CLI command, with ``-`` for ``_``).
        label: Chinese name of the action.
        sources: states it may fire from.
        dest: state it leads to; None keeps the state (an internal transition).
        roles: who may fire it.
        clock: the clock event it records, if any.
        fields: what it takes besides a reason, as pydantic fields with Chinese titles.
        guards: the rules that may refuse it, in order.
        effect: what it changes on the case besides state and clock (pure).
        letters: the letters it issues in its own transaction.
        draft: a letter rendered now and kept for approval, without a 文号.
        recorded: input fields written to the audit trail as given.
        needs: facts the service must supply beyond the case row (``month_rank``).
        notifies: who is told of it in the app (``"assignee"``: the case's 承办人).
    """

    name: str
    label: str
    sources: tuple[State, ...]
    dest: State | None
    roles: frozenset[Role]
    clock: ClockKind | None = None
    fields: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    guards: tuple[Guard, ...] = ()
    effect: Effect | None = None
    letters: tuple[LetterSpec, ...] = ()
    draft: LetterType | None = None
    recorded: tuple[str, ...] = ()
    needs: frozenset[str] = frozenset()
    notifies: str | None = None

    @property
    def input(self) -> type[TriggerInput]:
        return _INPUT_MODELS[self.name]

    def issued(self, given: TriggerInput) -> tuple[LetterType, ...]:
        """The letters it issues for ``given`` (one with ``when`` only if that field is
        filled in)."""
        fields = given.model_dump() if any(spec.when for spec in self.letters) else {}
        return tuple(
            spec.type for spec in self.letters if spec.when is None or fields.get(spec.when)
        )

    @property
    def prints(self) -> bool:
        """Whether it may render a letter (issue one, or draft the reply)."""
        return bool(self.letters) or self.draft is not None


# -- guards ------------------------------------------------------------------------------


def _violation(field_name: str, rule: str, message: str) -> RuleViolation:
    return RuleViolation(field=field_name, rule=rule, message=message)


def _correction_in_time(m: Firing) -> None:
    if m.facts.has(ClockKind.REQUEST_CORRECTION):
        raise DeadlineError("trigger", "correction_once", "补正只能要求一次（第三十条）")
    limit = m.limits_with(None).correction_notice
    if limit is not None and m.command.on > limit.due:
        raise DeadlineError(
            "on",
            "correction_notice_late",
            f"补正告知须在收到申请之日起{m.rules.correction_notice_days}个工作日内发出"
            f"（最迟{cn_date(limit.due)}），{cn_date(m.command.on)}已超期（第三十条）",
        )


def _window_over(key: str, what: str, refused: str) -> Guard:
    """The action only makes sense once the window has ended (its last day still counts)."""

    def guard(m: Firing) -> None:
        limit = getattr(m.limits_with(None), key)
        if limit is not None and m.command.on <= limit.due:
            raise DeadlineError(
                "on", f"{key}_running", f"{what}至{cn_date(limit.due)}届满，届满前{refused}"
            )

    return guard


def _late_unless_reason(key: str, what: str, consequence: str) -> Guard:
    """Art. 30 / Fee Measures: late without good reason means abandoned, so a late answer
    is recorded only with the good reason written down."""

    def guard(m: Firing) -> None:
        limit = getattr(m.limits_with(None), key)
        if limit is not None and m.command.on > limit.due and not m.command.note.strip():
            raise DeadlineError(
                "reason",
                f"{key}_over",
                f"{what}已于{cn_date(limit.due)}届满，逾期且无正当理由{consequence}；"
                "如有正当理由，请在“理由”中写明",
            )

    return guard


def _reason_required(what: str) -> Guard:
    def guard(m: Firing) -> None:
        if not m.command.note.strip():
            raise _violation("reason", "required", what)

    return guard


def _extension_once(m: Firing) -> None:
    if m.facts.has(ClockKind.EXTEND):
        raise DeadlineError("trigger", "extension_once", "延长答复期限只能一次（第三十三条）")


def _agreed_date(m: Firing) -> None:
    until = m.value("until")
    try:
        is_working = m.cal.is_working_day(until)
    except DeadlineError as exc:
        raise DeadlineError("until", exc.rule, exc.message) from None
    if not is_working:
        raise DeadlineError(
            "until",
            "working_day",
            f"另行确定的答复期限{cn_date(until)}不是工作日，请选定一个工作日",
        )
    latest = m.command.on + timedelta(days=m.policy.agreed_due_max_days)
    if until > latest:
        raise DeadlineError(
            "until",
            "agreed_due_too_far",
            f"另行确定的答复期限{cn_date(until)}超出合理范围："
            f"最迟为决定日起{m.policy.agreed_due_max_days}日内（{cn_date(latest)}）",
        )
    reply = m.limits_with(None).reply
    if reply is not None and m.command.on > reply.due:
        raise DeadlineError(
            "on",
            "custom_due_after_due",
            f"决定日{cn_date(m.command.on)}晚于答复期限{cn_date(reply.due)}，"
            "不得在超期后另行确定期限（第三十五条）",
        )
    if reply is not None and until <= reply.due:
        raise DeadlineError(
            "until",
            "custom_due_not_later",
            f"另行确定的答复期限{cn_date(until)}须晚于现行期限{cn_date(reply.due)}",
        )


def _fee_once(m: Firing) -> None:
    # Fee Measures: the fee is assessed once per application, on one scale; a second
    # notice would stop the reply clock a second time for the same information.
    if m.facts.has(ClockKind.ISSUE_FEE_NOTICE):
        raise _violation(
            "trigger",
            "fee_notice_once",
            "每件申请只能发出一次收费通知（《政府信息公开信息处理费管理办法》），本案已发出过收费通知",
        )


def _fee_due(m: Firing) -> None:
    scale = m.policy.fee_scale
    if scale is FeeScale.BY_COUNT:
        fee, field_name = compute_fee(scale, m.facts.month_rank or 1), "month_rank"
    elif m.value("pages") is None:
        raise _violation("pages", "required", "本机关按量计收信息处理费，须给出所需信息的页数")
    else:
        fee, field_name = compute_fee(scale, m.value("pages")), "pages"
    if fee.amount == 0:
        # Art. 42: information is provided free unless the volume or frequency is excessive;
        # a zero fee would only stop the reply clock.
        raise _violation(
            field_name,
            "no_fee_due",
            f"{fee.basis}计算应缴0元，未超过合理范围，不得发出收费通知（第四十二条）",
        )
    m.fee = fee


def _challenge_dates(m: Firing) -> None:
    """Filed no later than the day it is recorded; a result comes with its decision date,
    which is not before the filing."""
    filed, result, decided = m.value("filed_on"), m.value("result"), m.value("decided_on")
    if filed > m.command.on:
        raise _violation(
            "filed_on", "not_after_on",
            f"提起日期{cn_date(filed)}晚于登记日期{cn_date(m.command.on)}",
        )  # fmt: skip
    if (result is None) != (decided is None):
        raise _violation(
            "decided_on", "with_result", "结果与审结日期须同时填写（尚未审结则都不填）"
        )
    if decided is not None and not filed <= decided <= m.command.on:
        raise _violation(
            "decided_on", "between",
            f"审结日期{cn_date(decided)}须在提起日期{cn_date(filed)}与登记日期之间",
        )  # fmt: skip


def _optional_one_of(field_name: str, choices: Mapping[str, str], what: str) -> Guard:
    one_of = _one_of(field_name, choices, what)

    def guard(m: Firing) -> None:
        if m.value(field_name) is not None:
            one_of(m)

    return guard


def _one_of(field_name: str, choices: Mapping[str, str], what: str) -> Guard:
    def guard(m: Firing) -> None:
        if m.value(field_name) not in choices:
            options = "、".join(f"{code}（{label}）" for code, label in choices.items())
            raise _violation(field_name, "one_of", f"{what}：须写明 {options}")

    return guard


def _outcome_valid(m: Firing) -> None:
    outcome = OUTCOMES.get(m.value("outcome") or "")
    if outcome is None:
        raise _violation(
            "outcome",
            "closed_set",
            f"答复类型“{m.value('outcome') or ''}”无效，可选：{'、'.join(OUTCOMES)}",
        )
    reason = m.value("reason_code") or ""
    if reason not in outcome.reasons:
        raise _violation(
            "reason_code",
            "closed_set",
            f"{outcome.label}的理由代码“{reason}”无效，可选：{'、'.join(outcome.reasons)}",
        )
    if (outcome.code, reason) in SYSTEM_OUTCOMES:
        raise _violation(
            "reason_code",
            "system_outcome",
            f"“{outcome.reasons[reason]}”须通过“视为放弃”操作办结，不能直接拟写答复",
        )
    if reason == "still_unclear" and not m.facts.has(ClockKind.RECEIVE_CORRECTION):
        raise _violation(
            "reason_code",
            "requires_correction",
            "“补正后申请内容仍不明确”只适用于已经补正的申请（第三十条）",
        )


def _not_drafter(m: Firing) -> None:
    if m.command.actor.name == m.facts.drafted_by:
        raise PermissionDenied(
            rule="approver_is_drafter",
            message=f"答复由{m.facts.drafted_by}拟写，审核人不得为拟稿人本人",
        )


def _public_interest_over_objection(m: Firing) -> None:
    """Art. 32: the public-interest decision letter only overrides a written objection."""
    if not m.value("public_interest"):
        return
    if m.facts.outcome not in ("disclose", "partial") or m.facts.third_party_opinion != "object":
        raise _violation(
            "public_interest",
            "no_objection_to_override",
            "只有第三方书面表示不同意公开、且答复为予以公开或部分公开时，"
            "才能因公共利益决定公开并告知第三方（第三十二条）",
        )


def check_role(trigger: Trigger, command: Command) -> None:
    if command.actor.role not in trigger.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in sorted(trigger.roles))
        raise PermissionDenied(
            rule="role_not_allowed",
            message=f"“{trigger.label}”只能由{allowed}办理，"
            f"{command.actor.name}的角色是{ROLE_LABELS[command.actor.role]}",
        )


# -- effects -----------------------------------------------------------------------------


def _record_draft(m: Firing) -> dict[str, Any]:
    return {
        "drafted_by": m.command.actor.name,
        "outcome": m.value("outcome"),
        "outcome_reason": m.value("reason_code"),
        "reply_detail": m.value("detail"),
        "refer_to": m.value("refer_to"),
    }


def _clear_draft(m: Firing) -> dict[str, Any]:
    return dict.fromkeys(
        ("drafted_by", "outcome", "outcome_reason", "approved_by", "reply_detail", "refer_to")
    )


def _record_approval(m: Firing) -> dict[str, Any]:
    return {"approved_by": m.command.actor.name}


def _closes_as(outcome: str, reason: str) -> Effect:
    def effect(m: Firing) -> dict[str, Any]:
        return {"outcome": outcome, "outcome_reason": reason}

    return effect


# -- the table ---------------------------------------------------------------------------

S = State
_CLERKS = frozenset({Role.CLERK, Role.SUPERVISOR})
_SUPERVISORS = frozenset({Role.SUPERVISOR})
_HANDLING_OR_PAUSED = (S.HANDLING, S.CONSULTING_THIRD_PARTY, S.CONSULTING_AGENCY, S.AWAITING_FEE)
_PARTY = {"party": text_field("第三方或机关名称", 100, help="第三方或被征求意见的机关名称")}
_CLOSING = (LetterSpec(KINDS[LetterKind.CLOSING]),)

TRIGGERS: tuple[Trigger, ...] = (
    Trigger("review", "开始审查", (S.REGISTERED,), S.UNDER_REVIEW, _CLERKS),
    Trigger("accept", "受理办理", (S.UNDER_REVIEW,), S.HANDLING, _CLERKS),
    Trigger(
        "request_correction", "要求补正", (S.UNDER_REVIEW,), S.CORRECTION_REQUESTED, _CLERKS,
        clock=ClockKind.REQUEST_CORRECTION, fields={"items": items_field("补正事项", help="需要补正的事项")},
        guards=(_correction_in_time,), letters=(LetterSpec(KINDS[LetterKind.CORRECTION]),),
    ),
    Trigger(
        "receive_correction", "收到补正", (S.CORRECTION_REQUESTED,), S.HANDLING, _CLERKS,
        clock=ClockKind.RECEIVE_CORRECTION,
        guards=(_late_unless_reason("correction_period", "补正期限", "视为放弃申请（第三十条）"),),
    ),
    Trigger(
        "abandon_correction", "逾期不补正，视为放弃", (S.CORRECTION_REQUESTED,), S.ABANDONED,
        _CLERKS, guards=(_window_over("correction_period", "补正期限", "不得视为放弃申请"),),
        effect=_closes_as("other", "no_correction"), letters=_CLOSING,
    ),
    Trigger(
        "consult_third_party", "征求第三方意见", (S.HANDLING,), S.CONSULTING_THIRD_PARTY,
        _CLERKS, clock=ClockKind.CONSULT_THIRD_PARTY, fields=_PARTY,
        letters=(LetterSpec(KINDS[LetterKind.THIRD_PARTY]),),
    ),
    Trigger(
        "third_party_replied", "收到第三方意见", (S.CONSULTING_THIRD_PARTY,), S.HANDLING,
        _CLERKS, clock=ClockKind.THIRD_PARTY_REPLIED,
        fields={
            "opinion": text_field(
                "第三方意见", 20, help="第三方意见：agree 同意公开 / object 不同意公开",
                choices=OPINIONS,
            )
        }, guards=(_one_of("opinion", OPINIONS, "第三方意见（第三十二条）"),),
        recorded=("opinion",),
    ),
    Trigger(
        "third_party_no_reply", "第三方逾期未答复，恢复计时", (S.CONSULTING_THIRD_PARTY,),
        S.HANDLING, _CLERKS, clock=ClockKind.THIRD_PARTY_REPLIED,
        guards=(_window_over("third_party", "第三方答复期限", "不能登记“逾期未答复”"),),
    ),
    Trigger(
        "consult_agency", "征求其他机关意见", (S.HANDLING,), S.CONSULTING_AGENCY, _CLERKS,
        clock=ClockKind.CONSULT_AGENCY, fields=_PARTY,
        letters=(LetterSpec(KINDS[LetterKind.AGENCY_CONSULT]),),
    ),
    Trigger(
        "agency_replied", "收到其他机关意见", (S.CONSULTING_AGENCY,), S.HANDLING, _CLERKS,
        clock=ClockKind.AGENCY_REPLIED,
    ),
    Trigger(
        "agency_no_reply", "其他机关逾期未答复（视为同意），恢复计时", (S.CONSULTING_AGENCY,),
        S.HANDLING, _CLERKS, clock=ClockKind.AGENCY_REPLIED,
        guards=(_window_over("agency", "其他机关答复期限", "不能登记“逾期未答复”"),),
    ),
    Trigger(
        "issue_fee", "发出收费通知", (S.HANDLING,), S.AWAITING_FEE, _CLERKS,
        clock=ClockKind.ISSUE_FEE_NOTICE, fields={"pages": integer_field("所需信息页数", 1, 1_000_000, help="所需信息页数（按量计收时必填）")},
        guards=(_fee_once, _fee_due), letters=(LetterSpec(KINDS[LetterKind.FEE]),),
        needs=frozenset({"month_rank"}),
    ),
    Trigger(
        "fee_paid", "收到缴费", (S.AWAITING_FEE,), S.HANDLING, _CLERKS, clock=ClockKind.FEE_PAID,
        guards=(_late_unless_reason("fee", "缴费期限", "视为放弃申请（收费办法）"),),
    ),
    Trigger(
        "abandon_fee", "逾期未缴费，视为放弃", (S.AWAITING_FEE,), S.ABANDONED, _CLERKS,
        guards=(_window_over("fee", "缴费期限", "不得视为放弃申请"),),
        effect=_closes_as("other", "fee_unpaid"), letters=_CLOSING,
    ),
    Trigger(
        "extend", "批准延长答复期限", _HANDLING_OR_PAUSED, None, _SUPERVISORS,
        clock=ClockKind.EXTEND, fields={"days": integer_field(
                "延长的工作日数", 0, 1000, help="延长的工作日数（至多20个工作日）", required=True
            )},
        guards=(_extension_once, _reason_required("延长答复期限须写明理由")),
        letters=(LetterSpec(KINDS[LetterKind.EXTENSION]),),
    ),
    Trigger(
        "set_due", "另行确定答复期限（第三十五条）", _HANDLING_OR_PAUSED, None, _SUPERVISORS,
        clock=ClockKind.CUSTOM_DUE,
        fields={
            "until": date_field(
                "另行确定的答复期限", help="另行确定的答复期限 YYYY-MM-DD（须为工作日）", required=True
            ),
            "consent": text_field(
                "申请人书面同意情况", 200,
                help="申请人书面同意情况，如“申请人于2026年11月20日书面同意”（写入告知书）",
            ),
        },
        guards=(_reason_required("依第三十五条另行确定答复期限须写明理由"), _agreed_date),
        letters=(LetterSpec(KINDS[LetterKind.AGREED_DUE]),),
    ),
    Trigger(
        "draft_reply", "拟写答复", (S.UNDER_REVIEW, S.HANDLING), S.REPLY_DRAFTED, _CLERKS,
        fields={
            "outcome": text_field(
                "答复类型", 40, help=OUTCOMES_HELP,
                choices={o.code: o.label for o in OUTCOMES.values()},
            ),
            "reason_code": text_field(
                "理由代码", 40, help="理由代码（见 disclosure outcomes）"
            ),
            "detail": text_field(
                "答复内容", 2000, multiline=True,
                help="答复正文：提供的信息或获取方式、不予公开的说明等",
            ),
            "refer_to": text_field("负责公开的机关或渠道", 100, help="负责公开的机关或应当前往的渠道"),
        },
        guards=(_outcome_valid,), effect=_record_draft, draft=KINDS[LetterKind.REPLY],
    ),
    # A supervisor may take back an approval until the reply is sent.
    Trigger(
        "return_draft", "退回答复", (S.REPLY_DRAFTED, S.REPLY_APPROVED), S.HANDLING,
        _SUPERVISORS, guards=(_not_drafter,), effect=_clear_draft,
    ),
    Trigger(
        "approve", "审核通过答复", (S.REPLY_DRAFTED,), S.REPLY_APPROVED, _SUPERVISORS,
        guards=(_not_drafter,), effect=_record_approval,
    ),
    Trigger(
        "send", "送达答复", (S.REPLY_APPROVED,), S.REPLIED, _CLERKS,
        fields={
            "public_interest": text_field(
                "公共利益理由", 500, multiline=True,
                help="第三方不同意但因公共利益决定公开的理由（另发决定公开告知书）",
            )
        },
        guards=(_public_interest_over_objection,),
        letters=(
            LetterSpec(KINDS[LetterKind.REPLY]),
            LetterSpec(KINDS[LetterKind.THIRD_PARTY_DECISION], when="public_interest"),
        ),
    ),
    Trigger(
        "withdraw", "申请人撤回申请", tuple(sorted(OPEN_STATES)), S.WITHDRAWN, _CLERKS,
        guards=(_reason_required("“申请人撤回申请”须写明理由或依据"),),
        effect=_closes_as("other", "other"),
    ),
    # 送达回证: the applicant (or a person for it) signed for the reply; the file keeps the proof.
    Trigger(
        "acknowledge_delivery", "登记送达回证", (S.REPLIED,), None, _CLERKS,
        fields={
            "receiver": text_field("签收人", 60, help="签收人姓名（申请人或其代收人）", required=True),
            "method": text_field("送达方式", 40, help="送达方式，如“直接送达”“邮寄送达”", required=True),
        },
        letters=(LetterSpec(LetterType("delivery_receipt", "送达回证", "回", "delivery_receipt.html.j2")),),
        recorded=("receiver", "method"),
    ),
    Trigger("archive", "归档", (S.REPLIED, S.WITHDRAWN, S.ABANDONED), S.ARCHIVED, _CLERKS),
    # 主动与申请人联系沟通 (the seed): each contact is kept on the case, dated and signed.
    Trigger(
        "record_contact", "登记联系记录", tuple(s for s in State if s is not S.ARCHIVED), None,
        _CLERKS,
        fields={
            "contact_method": text_field(
                "联系方式", 20, help="联系方式：phone 电话 / visit 当面 / letter 信函 / email 电子邮件",
                choices=CONTACT_METHODS, required=True,
            ),
            "summary": text_field(
                "联系摘要", 500, multiline=True, help="沟通了什么、申请人的意见", required=True
            ),
        },
        guards=(_one_of("contact_method", CONTACT_METHODS, "联系方式"),),
        recorded=("contact_method", "summary"),
    ),
    # 行政复议、行政诉讼 about a case (annual report section 四): filed, and later decided;
    # recording the same kind again records where it stands now. An archived file is
    # closed for good, so a case is archived once the remedy periods have passed.
    Trigger(
        "record_challenge", "登记复议诉讼", (S.REPLIED, S.WITHDRAWN, S.ABANDONED), None, _CLERKS,
        fields={
            "kind": text_field(
                "复议诉讼类别", 30, choices=_CHALLENGE_KINDS, required=True,
                help="复议诉讼类别：reconsideration 行政复议 / litigation_direct 未经复议直接起诉"
                " / litigation_after_review 复议后起诉",
            ),
            "filed_on": date_field("提起日期", help="申请复议或起诉的日期", required=True),
            "result": text_field(
                "审结结果", 20, choices=CHALLENGE_RESULTS,
                help="审结结果：upheld 维持 / corrected 纠正 / other 其他结果；尚未审结则不填",
            ),
            "decided_on": date_field("审结日期", help="复议决定或判决的日期；尚未审结则不填"),
        },
        guards=(
            _one_of("kind", _CHALLENGE_KINDS, "复议诉讼类别"),
            _optional_one_of("result", CHALLENGE_RESULTS, "审结结果"),
            _challenge_dates,
        ),
        # Kept in the trail only: the annual report reads them from there (hash-chained and
        # signed, so a challenge cannot be edited away unnoticed).
        recorded=("kind", "filed_on", "result", "decided_on"),
    ),
    # 催办: a supervisor presses the responsible clerk, who finds it among what needs them.
    Trigger(
        "urge", "催办", tuple(sorted(OPEN_STATES)), None, _SUPERVISORS,
        guards=(_reason_required("催办须写明催办事项"),), notifies="assignee",
    ),
)  # fmt: skip
del S

TRIGGERS_BY_NAME: dict[str, Trigger] = {t.name: t for t in TRIGGERS}
_INPUT_MODELS: dict[str, type[TriggerInput]] = {
    t.name: input_model(t.name, t.fields) for t in TRIGGERS
}

#: Every letter type: the core kinds and any a trigger declares of its own.
LETTER_TYPES: dict[str, LetterType] = KINDS | {
    spec.type.kind: spec.type for t in TRIGGERS for spec in t.letters
}


def trigger_named(name: str) -> Trigger:
    """The trigger called ``name``.

    Raises:
        RuleViolation: field ``trigger``, rule ``unknown_trigger``, listing every trigger.
    """
    trigger = TRIGGERS_BY_NAME.get(name)
    if trigger is None:
        options = "、".join(f"{t.label}（{t.name}）" for t in TRIGGERS)
        raise RuleViolation("trigger", "unknown_trigger", f"未知的操作“{name}”，可选：{options}")
    return trigger


def parse_input(name: str, data: Mapping[str, Any]) -> TriggerInput:
    """The input of trigger ``name`` from loose fields (a form, a JSON body, CLI options).

    Raises:
        RuleViolation: the field and the rule of the first thing wrong, in Chinese.
    """
    return validate(trigger_named(name).input, data)


def command_union() -> Any:
    """Every trigger's input model as one type, told apart by ``trigger`` (for HTTP bodies)."""
    from typing import Annotated, Union

    from pydantic import Field

    models = tuple(_INPUT_MODELS.values())
    return Annotated[Union[models], Field(discriminator="trigger")]  # noqa: UP007
