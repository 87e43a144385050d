"""The legal time limits of a case, from its received date and its clock events.

Counting (ogi-rules.md §3–4): the day an event happens is not counted (民法典 Art. 201), so
"N working days from D" ends on the N-th working day after D. A pause (third-party or
agency consultation, Art. 32/34; fee notice, Fee Measures) issued on S and answered on E
removes the working days in (S, E]. A correction (Art. 30) restarts the 20-day count from
the day the corrected application is received. One extension (Art. 33) adds 1–20 counted
working days and must be decided on or before the due date it extends. Art. 35 lets the
agency set a later date for an unreasonable volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from disclosure.errors import DeadlineError
from disclosure.workflow.calendar import WorkingCalendar, cn_date
from disclosure.workflow.rules import RULES_2019, RuleSet


class ClockKind(StrEnum):
    REQUEST_CORRECTION = "request_correction"
    RECEIVE_CORRECTION = "receive_correction"
    CONSULT_THIRD_PARTY = "consult_third_party"
    THIRD_PARTY_REPLIED = "third_party_replied"
    CONSULT_AGENCY = "consult_agency"
    AGENCY_REPLIED = "agency_replied"
    ISSUE_FEE_NOTICE = "issue_fee_notice"
    FEE_PAID = "fee_paid"
    EXTEND = "extend"
    CUSTOM_DUE = "custom_due"


@dataclass(frozen=True)
class ClockEvent:
    """Something that moves a time limit.

    Attributes:
        kind: what happened.
        on: the business date it happened (letter issued, answer received …).
        days: working days of an extension (``EXTEND``), or of the correction period
            granted (``REQUEST_CORRECTION``; None means the rule set's default).
        until: the date set under Art. 35 (``CUSTOM_DUE`` only).
    """

    kind: ClockKind
    on: date
    days: int | None = None
    until: date | None = None


@dataclass(frozen=True)
class _PauseSpec:
    label: str
    opens: ClockKind
    closes: ClockKind
    window: str  # RuleSet attribute bounding the pause


_PAUSES = (
    _PauseSpec(
        "征求第三方意见",
        ClockKind.CONSULT_THIRD_PARTY,
        ClockKind.THIRD_PARTY_REPLIED,
        "consultation_days",
    ),
    _PauseSpec(
        "征求其他机关意见",
        ClockKind.CONSULT_AGENCY,
        ClockKind.AGENCY_REPLIED,
        "consultation_days",
    ),
    _PauseSpec("缴费", ClockKind.ISSUE_FEE_NOTICE, ClockKind.FEE_PAID, "fee_payment_days"),
)
_OPENS = {p.opens: p for p in _PAUSES}
_CLOSES = {p.closes: p for p in _PAUSES}


@dataclass(frozen=True)
class Limit:
    """One legal time limit, ready to show a clerk.

    Attributes:
        key: stable identifier (``reply``, ``correction_notice`` …).
        label: Chinese name of the limit.
        due: last day to act (inclusive).
        provisional: the date lies past the announced calendar; it may still move.
        explanation: how the date was obtained, in Chinese.
    """

    key: str
    label: str
    due: date
    provisional: bool
    explanation: str


@dataclass(frozen=True)
class Limits:
    """Every limit that applies to a case at this point of its history."""

    reply: Limit | None
    correction_notice: Limit | None
    correction_period: Limit | None
    third_party: Limit | None
    agency: Limit | None
    fee: Limit | None
    paused: bool

    def all(self) -> list[Limit]:
        limits = (
            self.reply,
            self.correction_notice,
            self.correction_period,
            self.third_party,
            self.agency,
            self.fee,
        )
        return [limit for limit in limits if limit is not None]


@dataclass(frozen=True)
class _Pause:
    label: str
    start: date
    end: date
    is_open: bool
    capped: bool


def _event_error(index: int, field: str, rule: str, message: str) -> DeadlineError:
    return DeadlineError(field=f"events[{index}].{field}", rule=rule, message=message)


def _window_limit(
    cal: WorkingCalendar, key: str, label: str, start: date, days: int, what: str
) -> Limit:
    due = cal.add_working_days(start, days)
    return Limit(
        key,
        label,
        due,
        not cal.is_covered(due),
        f"自{cn_date(start)}{what}起算{days}个工作日 → {cn_date(due)}",
    )


def _due_with_pauses(
    cal: WorkingCalendar, origin: date, target: int, pauses: Sequence[_Pause]
) -> date:
    """The day on which counted working days after ``origin`` reach ``target``."""
    cursor, needed = origin, target
    for start, end in _merged(origin, pauses):
        counted = cal.working_days_between(cursor, start)
        if counted >= needed:
            break
        needed -= counted
        cursor = end
    return cal.add_working_days(cursor, needed)


def _merged(origin: date, pauses: Sequence[_Pause]) -> list[tuple[date, date]]:
    """Union of the (S, E] intervals, clipped to start no earlier than ``origin``."""
    spans = sorted((max(p.start, origin), p.end) for p in pauses if p.end > origin)
    merged: list[tuple[date, date]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def compute_limits(
    cal: WorkingCalendar,
    received: date,
    events: Sequence[ClockEvent],
    rules: RuleSet = RULES_2019,
) -> Limits:
    """Every legal limit of a case, as its clock events stand.

    Args:
        cal: the official working-day calendar.
        received: the day the application counts as received (Art. 31).
        events: clock events in the order they happened (dates never decrease).
        rules: the numbers of the law.

    Raises:
        DeadlineError: an event sequence the law does not allow, naming ``events[i].field``.
    """
    origin, origin_text = received, f"自{cn_date(received)}起算"
    correction_requested: date | None = None
    correction_days = rules.correction_period_days
    correction_received = False
    open_pauses: dict[ClockKind, date] = {}
    pauses: list[_Pause] = []
    extension: ClockEvent | None = None
    custom: ClockEvent | None = None
    last_on = received

    for i, event in enumerate(events):
        if event.on < last_on:
            raise _event_error(
                i,
                "date",
                "chronological",
                f"第{i + 1}个事件日期{cn_date(event.on)}早于前一事件或收到日期{cn_date(last_on)}",
            )
        last_on = event.on
        kind = event.kind
        if kind is ClockKind.REQUEST_CORRECTION:
            if correction_requested is not None:
                raise _event_error(i, "kind", "correction_once", "补正只能要求一次（第三十条）")
            if pauses or open_pauses or extension:
                raise _event_error(
                    i,
                    "kind",
                    "correction_before_handling",
                    "补正须在办理（征求意见、收费、延期）之前提出",
                )
            correction_requested = event.on
            # The period given is fixed when the notice is issued (a later change of the
            # configured default must not move it).
            correction_days = event.days or rules.correction_period_days
        elif kind is ClockKind.RECEIVE_CORRECTION:
            if correction_requested is None or correction_received:
                raise _event_error(
                    i, "kind", "no_open_correction", "没有待补正的申请，不能登记收到补正"
                )
            correction_received = True
            origin, origin_text = event.on, f"补正后自{cn_date(event.on)}起算"
        elif correction_requested is not None and not correction_received:
            raise _event_error(i, "kind", "awaiting_correction", "申请人补正前，期限不进行其他计算")
        elif kind in _OPENS:
            if kind in open_pauses:
                raise _event_error(
                    i, "kind", "pause_already_open", f"{_OPENS[kind].label}已在进行中"
                )
            open_pauses[kind] = event.on
        elif kind in _CLOSES:
            spec = _CLOSES[kind]
            if spec.opens not in open_pauses:
                raise _event_error(
                    i, "kind", "no_open_pause", f"没有进行中的{spec.label}，不能登记其结束"
                )
            start = open_pauses.pop(spec.opens)
            window_end = cal.add_working_days(start, getattr(rules, spec.window))
            pauses.append(
                _Pause(spec.label, start, min(event.on, window_end), False, event.on > window_end)
            )
        elif kind is ClockKind.EXTEND:
            if extension is not None:
                raise _event_error(
                    i, "kind", "extension_once", "延长答复期限只能一次（第三十三条）"
                )
            if event.days is None or not 1 <= event.days <= rules.max_extension_days:
                raise _event_error(
                    i,
                    "days",
                    "extension_range",
                    f"延长期限须为1至{rules.max_extension_days}个工作日，实为{event.days}",
                )
            due_before = _due_with_pauses(
                cal,
                origin,
                rules.reply_days,
                [*pauses, *_assumed_pauses(cal, open_pauses, rules)],
            )
            if event.on > due_before:
                raise _event_error(
                    i,
                    "date",
                    "extension_after_due",
                    f"延期决定日{cn_date(event.on)}晚于答复期限{cn_date(due_before)}，不得延期",
                )
            extension = event
        elif kind is ClockKind.CUSTOM_DUE:
            if event.until is None or event.until <= event.on:
                raise _event_error(
                    i, "until", "custom_due_after_decision", "第三十五条确定的答复期限须晚于决定日"
                )
            custom = event

    assumed = _assumed_pauses(cal, open_pauses, rules)
    all_pauses = [*pauses, *assumed]
    rule_limits = _rule_limits(
        cal,
        received,
        correction_requested,
        correction_days,
        correction_received,
        open_pauses,
        rules,
    )

    reply: Limit | None = None
    if correction_requested is None or correction_received:
        target = rules.reply_days + (extension.days or 0 if extension is not None else 0)
        due = _due_with_pauses(cal, origin, target, all_pauses)
        parts = [f"{origin_text}{rules.reply_days}个工作日"]
        for pause in all_pauses:
            days = cal.working_days_between(max(pause.start, origin), min(pause.end, due))
            if pause.is_open:
                parts.append(f"{pause.label}暂停中（按期满{cn_date(pause.end)}计）")
            elif days > 0:
                note = "（超过期限，按期满计）" if pause.capped else ""
                parts.append(f"{pause.label}暂停{days}个工作日{note}")
        if extension is not None:
            parts.append(f"延长{extension.days}个工作日")
        if custom is not None and custom.until is not None and custom.until > due:
            due = custom.until
            parts.append(f"依第三十五条另行确定答复期限（{cn_date(custom.on)}决定）")
        reply = Limit(
            "reply",
            "答复期限",
            due,
            not cal.is_covered(due),
            "；".join(parts) + f" → {cn_date(due)}",
        )
    return Limits(reply=reply, paused=bool(open_pauses), **rule_limits)


def _assumed_pauses(
    cal: WorkingCalendar, open_pauses: dict[ClockKind, date], rules: RuleSet
) -> list[_Pause]:
    """An open pause lasts at most until its window ends: count it that long for now."""
    return [
        _Pause(
            _OPENS[kind].label,
            start,
            cal.add_working_days(start, getattr(rules, _OPENS[kind].window)),
            True,
            False,
        )
        for kind, start in open_pauses.items()
    ]


def _rule_limits(
    cal: WorkingCalendar,
    received: date,
    correction_requested: date | None,
    correction_days: int,
    correction_received: bool,
    open_pauses: dict[ClockKind, date],
    rules: RuleSet,
) -> dict[str, Limit | None]:
    def window(kind: ClockKind, key: str, label: str, what: str) -> Limit | None:
        start = open_pauses.get(kind)
        days = getattr(rules, _OPENS[kind].window)
        return None if start is None else _window_limit(cal, key, label, start, days, what)

    notice = None
    if correction_requested is None:
        notice = _window_limit(
            cal,
            "correction_notice",
            "补正告知期限",
            received,
            rules.correction_notice_days,
            "收到申请",
        )
    period = None
    if correction_requested is not None and not correction_received:
        period = _window_limit(
            cal,
            "correction_period",
            "补正期限",
            correction_requested,
            correction_days,
            "发出补正告知",
        )
    return {
        "correction_notice": notice,
        "correction_period": period,
        "third_party": window(
            ClockKind.CONSULT_THIRD_PARTY, "third_party", "第三方答复期限", "发出征求意见书"
        ),
        "agency": window(ClockKind.CONSULT_AGENCY, "agency", "其他机关答复期限", "发出征求意见函"),
        "fee": window(ClockKind.ISSUE_FEE_NOTICE, "fee", "缴费期限", "发出收费通知"),
    }


def reply_due(
    cal: WorkingCalendar,
    received: date,
    events: Sequence[ClockEvent],
    rules: RuleSet = RULES_2019,
) -> Limit | None:
    """The reply time limit alone (None while a correction is awaited)."""
    return compute_limits(cal, received, events, rules).reply
