"""The ``transitions`` machine built from ``states.TRANSITIONS``, with the guards of the law.

``fire()`` is the one entry point: given a case's facts and a command, it returns the
``Step`` to persist (new state, clock event, recomputed limits, outcome) or raises a
``DisclosureError`` that names the state, trigger, field and rule. It never mutates its input.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, cast

from transitions import EventData, Machine, MachineError

from disclosure.errors import (
    DeadlineError,
    PermissionDenied,
    RuleViolation,
    TransitionNotAllowed,
)
from disclosure.workflow.calendar import WorkingCalendar, cn_date
from disclosure.workflow.deadlines import ClockEvent, ClockKind, Limits, compute_limits
from disclosure.workflow.rules import DEFAULT_POLICY, RULES_2019, LocalPolicy, RuleSet
from disclosure.workflow.states import (
    OUTCOMES,
    ROLE_LABELS,
    STATE_LABELS,
    SYSTEM_OUTCOMES,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    Role,
    State,
)


@dataclass(frozen=True)
class Actor:
    """Who fires a trigger."""

    name: str
    role: Role


@dataclass(frozen=True)
class CaseFacts:
    """What the workflow needs to know about a case: state and history, nothing else."""

    state: State
    received_on: date
    events: tuple[ClockEvent, ...] = ()
    drafted_by: str | None = None
    outcome: str | None = None
    outcome_reason: str | None = None
    last_action_on: date | None = None

    @property
    def last_date(self) -> date:
        """The latest business date in the history: no action may be dated before it."""
        dates = [self.received_on, *(e.on for e in self.events[-1:])]
        if self.last_action_on is not None:
            dates.append(self.last_action_on)
        return max(dates)

    def has(self, kind: ClockKind) -> bool:
        return any(e.kind is kind for e in self.events)


@dataclass(frozen=True)
class Command:
    """A trigger with its arguments, as a clerk or supervisor gives it."""

    trigger: str
    actor: Actor
    on: date
    days: int | None = None
    until: date | None = None
    outcome: str | None = None
    outcome_reason: str | None = None
    note: str = ""
    #: The agency's today: bounds how far back ``on`` may lie (None: not checked).
    today: date | None = None
    #: A consulted third party's answer (``agree`` / ``object``), Art. 32.
    opinion: str | None = None
    #: Why a step is recorded later than the policy allows (补录理由), apart from ``note``:
    #: a supervisor-only step's own reason must not double as the excuse for its date.
    backdate_reason: str = ""


#: A consulted third party's possible answers (Art. 32).
OPINIONS = {"agree": "同意公开", "object": "不同意公开"}


@dataclass(frozen=True)
class Step:
    """The result of a successful trigger: what to write, in one transaction."""

    trigger: str
    before: State
    after: State
    facts: CaseFacts
    limits: Limits
    clock_event: ClockEvent | None = None
    details: dict[str, Any] = field(default_factory=dict)


class _Model:
    """The object ``transitions`` drives; lives only for the duration of one ``fire``."""

    trigger: Callable[..., bool]  # added by Machine.add_model

    def __init__(
        self,
        facts: CaseFacts,
        command: Command,
        cal: WorkingCalendar,
        rules: RuleSet,
        policy: LocalPolicy,
    ) -> None:
        self.state = facts.state.value
        self.facts = facts
        self.command = command
        self.cal = cal
        self.rules = rules
        self.policy = policy
        self.backdated = False
        self.clock_event: ClockEvent | None = None
        self.limits: Limits | None = None
        self.new_facts = facts


def _violation(field_name: str, rule: str, message: str) -> RuleViolation:
    return RuleViolation(field=field_name, rule=rule, message=message)


def _check_role(m: _Model) -> None:
    spec = TRANSITIONS_BY_TRIGGER[m.command.trigger]
    if m.command.actor.role not in spec.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in sorted(spec.roles))
        raise PermissionDenied(
            rule="role_not_allowed",
            message=f"“{spec.label}”只能由{allowed}办理，"
            f"{m.command.actor.name}的角色是{ROLE_LABELS[m.command.actor.role]}",
        )


def _limits_with(m: _Model, event: ClockEvent | None) -> Limits:
    events = (*m.facts.events, event) if event else m.facts.events
    try:
        return compute_limits(m.cal, m.facts.received_on, events, m.rules)
    except DeadlineError as exc:
        # Only the new event can be wrong: stored history was valid when stored.
        field_name = {"date": "on", "days": "days", "until": "until"}.get(
            (exc.field or "").rsplit(".", 1)[-1], "trigger"
        )
        raise DeadlineError(field=field_name, rule=exc.rule, message=exc.message) from None


def _guard_request_correction(m: _Model) -> None:
    if m.facts.has(ClockKind.REQUEST_CORRECTION):
        raise DeadlineError("trigger", "correction_once", "补正只能要求一次（第三十条）")
    limit = _limits_with(m, None).correction_notice
    if limit is not None and m.command.on > limit.due:
        raise DeadlineError(
            "on",
            "correction_notice_late",
            f"补正告知须在收到申请之日起{m.rules.correction_notice_days}个工作日内发出"
            f"（最迟{cn_date(limit.due)}），{cn_date(m.command.on)}已超期（第三十条）",
        )


def _guard_window_over(key: str, what: str, refused: str) -> Callable[[_Model], None]:
    """The action only makes sense once the window has ended (its last day still counts)."""

    def guard(m: _Model) -> None:
        limit = getattr(_limits_with(m, None), key)
        if limit is not None and m.command.on <= limit.due:
            raise DeadlineError(
                "on", f"{key}_running", f"{what}至{cn_date(limit.due)}届满，届满前{refused}"
            )

    return guard


def _guard_extend(m: _Model) -> None:
    if m.facts.has(ClockKind.EXTEND):
        raise DeadlineError("trigger", "extension_once", "延长答复期限只能一次（第三十三条）")
    if not m.command.note.strip():
        raise _violation("reason", "required", "延长答复期限须写明理由")


def _guard_set_due(m: _Model) -> None:
    if not m.command.note.strip():
        raise _violation("reason", "required", "依第三十五条另行确定答复期限须写明理由")
    if m.command.until is None:
        raise _violation("until", "required", "须给出另行确定的答复期限（日期）")
    until = m.command.until
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
    reply = _limits_with(m, None).reply
    if reply is not None and m.command.on > reply.due:
        raise DeadlineError(
            "on",
            "custom_due_after_due",
            f"决定日{cn_date(m.command.on)}晚于答复期限{cn_date(reply.due)}，"
            "不得在超期后另行确定期限（第三十五条）",
        )
    if reply is not None and m.command.until <= reply.due:
        raise DeadlineError(
            "until",
            "custom_due_not_later",
            f"另行确定的答复期限{cn_date(m.command.until)}须晚于现行期限{cn_date(reply.due)}",
        )


def _guard_fee_once(m: _Model) -> None:
    # Fee Measures: the fee is assessed once per application, on one scale; a second
    # notice would stop the reply clock a second time for the same information.
    if m.facts.has(ClockKind.ISSUE_FEE_NOTICE):
        raise _violation(
            "trigger",
            "fee_notice_once",
            "每件申请只能发出一次收费通知（《政府信息公开信息处理费管理办法》），本案已发出过收费通知",
        )


def _guard_opinion(m: _Model) -> None:
    if m.command.opinion not in OPINIONS:
        options = "、".join(f"{code}（{label}）" for code, label in OPINIONS.items())
        raise _violation("opinion", "one_of", f"第三方意见：须写明 {options}（第三十二条）")


def _guard_late_unless_reason(key: str, what: str, consequence: str) -> Callable[[_Model], None]:
    """Art. 30 / Fee Measures: late without good reason means abandoned, so a late answer
    is recorded only with the good reason written down."""

    def guard(m: _Model) -> None:
        limit = getattr(_limits_with(m, None), key)
        if limit is not None and m.command.on > limit.due and not m.command.note.strip():
            raise DeadlineError(
                "reason",
                f"{key}_over",
                f"{what}已于{cn_date(limit.due)}届满，逾期且无正当理由{consequence}；"
                "如有正当理由，请在“理由”中写明",
            )

    return guard


def _guard_reason_required(m: _Model) -> None:
    if not m.command.note.strip():
        label = TRANSITIONS_BY_TRIGGER[m.command.trigger].label
        raise _violation("reason", "required", f"“{label}”须写明理由或依据")


def _guard_draft_reply(m: _Model) -> None:
    outcome = OUTCOMES.get(m.command.outcome or "")
    if outcome is None:
        raise _violation(
            "outcome",
            "closed_set",
            f"答复类型“{m.command.outcome or ''}”无效，可选：{'、'.join(OUTCOMES)}",
        )
    reason = m.command.outcome_reason or ""
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


def _guard_not_drafter(m: _Model) -> None:
    if m.command.actor.name == m.facts.drafted_by:
        raise PermissionDenied(
            rule="approver_is_drafter",
            message=f"答复由{m.facts.drafted_by}拟写，审核人不得为拟稿人本人",
        )


_GUARDS: dict[str, Callable[[_Model], None]] = {
    "request_correction": _guard_request_correction,
    "abandon_correction": _guard_window_over("correction_period", "补正期限", "不得视为放弃申请"),
    "abandon_fee": _guard_window_over("fee", "缴费期限", "不得视为放弃申请"),
    "extend": _guard_extend,
    "set_due": _guard_set_due,
    "draft_reply": _guard_draft_reply,
    "approve": _guard_not_drafter,
    "return_draft": _guard_not_drafter,
    "receive_correction": _guard_late_unless_reason(
        "correction_period", "补正期限", "视为放弃申请（第三十条）"
    ),
    "fee_paid": _guard_late_unless_reason("fee", "缴费期限", "视为放弃申请（收费办法）"),
    "issue_fee": _guard_fee_once,
    "third_party_replied": _guard_opinion,
    "third_party_no_reply": _guard_window_over(
        "third_party", "第三方答复期限", "不能登记“逾期未答复”"
    ),
    "agency_no_reply": _guard_window_over("agency", "其他机关答复期限", "不能登记“逾期未答复”"),
    "withdraw": _guard_reason_required,
}

_CLOSING_OUTCOMES = {
    "abandon_correction": ("other", "no_correction"),
    "abandon_fee": ("other", "fee_unpaid"),
    "withdraw": ("other", "other"),
}


def _clock_days(kind: ClockKind, command: Command, rules: RuleSet) -> int | None:
    if kind is ClockKind.EXTEND:
        return command.days
    if kind is ClockKind.REQUEST_CORRECTION:
        return rules.correction_period_days
    return None


def _check_backdating(m: _Model) -> None:
    """A step dated more than the policy's working days before today needs a supervisor
    and a reason: a late-recorded letter would otherwise carry a date the law had passed."""
    command, limit = m.command, m.policy.backdate_working_days
    if command.today is None or command.on >= command.today:
        return
    try:
        behind = m.cal.working_days_between(command.on, command.today)
    except DeadlineError as exc:
        raise DeadlineError("on", exc.rule, exc.message) from None
    if behind <= limit:
        return
    what = f"办理日期{cn_date(command.on)}早于今天{behind}个工作日（超过{limit}个工作日）"
    if command.actor.role is not Role.SUPERVISOR:
        raise PermissionDenied(
            rule="backdated_needs_supervisor",
            message=f"{what}，补录须由负责人办理并写明理由",
        )
    if not command.backdate_reason.strip():
        raise _violation("backdate_reason", "backdated_needs_reason", f"{what}，补录须写明补录理由")
    m.backdated = True


def _condition(event: EventData) -> bool:
    """The single condition of every transition: raises instead of returning False,
    so the caller learns *which* rule stopped it."""
    m = cast(_Model, event.model)
    command = m.command
    _check_role(m)
    if command.on < m.facts.last_date:
        raise _violation(
            "on",
            "chronological",
            f"办理日期{cn_date(command.on)}早于上一环节日期{cn_date(m.facts.last_date)}",
        )
    _check_backdating(m)
    guard = _GUARDS.get(command.trigger)
    if guard is not None:
        guard(m)
    spec = TRANSITIONS_BY_TRIGGER[command.trigger]
    if spec.clock is not None:
        m.clock_event = ClockEvent(
            spec.clock,
            command.on,
            days=_clock_days(spec.clock, command, m.rules),
            until=command.until if spec.clock is ClockKind.CUSTOM_DUE else None,
        )
    m.limits = _limits_with(m, m.clock_event)
    return True


def _build_machine() -> Machine:
    return Machine(
        model=None,
        states=[s.value for s in State],
        transitions=[
            {
                "trigger": spec.trigger,
                "source": [s.value for s in spec.sources],
                "dest": spec.dest.value if spec.dest else None,
                "conditions": [_condition],
            }
            for spec in TRANSITIONS
        ],
        initial=State.REGISTERED.value,
        auto_transitions=False,
        send_event=True,
    )


_MACHINE = _build_machine()
_MACHINE_LOCK = threading.Lock()  # add_model/remove_model mutate the shared machine


def available_triggers(state: State) -> list[str]:
    """Triggers the workflow accepts in a state, in table order (for menus and help)."""
    return [spec.trigger for spec in TRANSITIONS if state in spec.sources]


def fire(
    facts: CaseFacts,
    command: Command,
    cal: WorkingCalendar,
    rules: RuleSet = RULES_2019,
    policy: LocalPolicy = DEFAULT_POLICY,
) -> Step:
    """Apply one trigger to a case.

    Raises:
        TransitionNotAllowed: the trigger does not exist or the state does not accept it.
        RuleViolation: a guard of the law refused it (field and rule named).
    """
    spec = TRANSITIONS_BY_TRIGGER.get(command.trigger)
    state_label = STATE_LABELS[facts.state]
    if spec is None:
        raise TransitionNotAllowed(
            facts.state.value,
            command.trigger,
            f"未知的操作“{command.trigger}”，当前状态“{state_label}”可用：{_menu(facts.state)}",
        )
    model = _Model(facts, command, cal, rules, policy)
    with _MACHINE_LOCK:
        _MACHINE.add_model(model, initial=facts.state.value)
        try:
            model.trigger(command.trigger)
        except MachineError:
            raise TransitionNotAllowed(
                facts.state.value,
                command.trigger,
                f"案件当前状态为“{state_label}”，不能执行“{spec.label}”（{command.trigger}）；"
                f"可用操作：{_menu(facts.state)}",
            ) from None
        finally:
            _MACHINE.remove_model(model)
    after = State(model.state)
    assert model.limits is not None
    new_facts = replace(
        facts,
        state=after,
        events=(*facts.events, model.clock_event) if model.clock_event else facts.events,
        last_action_on=command.on,
    )
    details: dict[str, Any] = {}
    if command.trigger == "draft_reply":
        new_facts = replace(
            new_facts,
            drafted_by=command.actor.name,
            outcome=command.outcome,
            outcome_reason=command.outcome_reason,
        )
    elif command.trigger == "return_draft":
        new_facts = replace(new_facts, drafted_by=None, outcome=None, outcome_reason=None)
    elif command.trigger in _CLOSING_OUTCOMES:
        outcome, reason = _CLOSING_OUTCOMES[command.trigger]
        new_facts = replace(new_facts, outcome=outcome, outcome_reason=reason)
    if new_facts.outcome:
        details = {"outcome": new_facts.outcome, "reason_code": new_facts.outcome_reason}
    if model.backdated:
        details["backdated"] = True
        details["backdate_reason"] = command.backdate_reason.strip()
    if command.trigger == "third_party_replied":
        details["opinion"] = command.opinion
    return Step(
        command.trigger, facts.state, after, new_facts, model.limits, model.clock_event, details
    )


def _menu(state: State) -> str:
    names = [f"{TRANSITIONS_BY_TRIGGER[t].label}（{t}）" for t in available_triggers(state)]
    return "、".join(names) or "无（案件已办结）"
