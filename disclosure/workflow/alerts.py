"""The alert conditions of ogi-rules §9, as data: which limit, in which states, on which days.

Each condition says when it holds relative to "today": ``ahead`` (the limit falls within the
next N working days), ``today`` (the limit is today) or ``past`` (the limit has passed). The
scanner turns each into a date range on an indexed limit column, so a scan reads only the
cases that alert. Steps that close a case are only *proposed*: a clerk confirms them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from disclosure.workflow.calendar import WorkingCalendar
from disclosure.workflow.limit_columns import LIMIT_COLUMNS_BY_KEY
from disclosure.workflow.states import OPEN_STATES, State

Window = Literal["ahead", "today", "past"]


@dataclass(frozen=True)
class Condition:
    """One alert condition.

    Attributes:
        key: stable identifier stored with the alert.
        label: Chinese name shown to supervisors.
        limit: the stored limit it watches (a key of ``limit_columns.LIMIT_COLUMNS``).
        states: case states in which it applies.
        window: when it holds, relative to today.
        threshold: for ``ahead``, the settings attribute giving N working days.
        include_today: for ``ahead``, whether the limit day itself still counts as ahead.
        proposed_step: the trigger a clerk is invited to fire, if any.
    """

    key: str
    label: str
    limit: str
    states: frozenset[State]
    window: Window
    threshold: str | None = None
    include_today: bool = False
    proposed_step: str | None = None

    @property
    def column(self) -> str:
        """The ``cases`` column it watches."""
        return LIMIT_COLUMNS_BY_KEY[self.limit].column


_REPLYING = OPEN_STATES - {State.CORRECTION_REQUESTED}

CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "correction_notice_approaching", "补正告知期限临近（尚未发出补正告知）",
        "correction_notice", frozenset({State.REGISTERED, State.UNDER_REVIEW}), "ahead",
        threshold="correction_notice_warn_days", include_today=True,
    ),
    Condition(
        "correction_notice_overdue", "补正告知期限已过（未发出补正告知）",
        "correction_notice", frozenset({State.REGISTERED, State.UNDER_REVIEW}), "past",
    ),
    Condition(
        "reply_approaching", "答复期限临近", "reply", _REPLYING, "ahead",
        threshold="approaching_days",
    ),
    Condition("reply_due_today", "今天答复到期", "reply", _REPLYING, "today"),
    Condition("reply_overdue", "已超过答复期限", "reply", _REPLYING, "past"),
    Condition(
        "third_party_window_ended", "第三方征求意见期限已满", "third_party",
        frozenset({State.CONSULTING_THIRD_PARTY}), "past", proposed_step="third_party_no_reply",
    ),
    Condition(
        "agency_window_ended", "其他机关征求意见期限已满（视为同意）", "agency",
        frozenset({State.CONSULTING_AGENCY}), "past", proposed_step="agency_no_reply",
    ),
    Condition(
        "fee_unpaid", "逾期未缴费（拟按其他处理终止）", "fee",
        frozenset({State.AWAITING_FEE}), "past", proposed_step="abandon_fee",
    ),
    Condition(
        "correction_period_over", "补正期限已满未补正（拟按其他处理终止）", "correction_period",
        frozenset({State.CORRECTION_REQUESTED}), "past", proposed_step="abandon_correction",
    ),
)  # fmt: skip
CONDITIONS_BY_KEY = {c.key: c for c in CONDITIONS}

#: The oldest and newest dates a column can hold; bounds for open-ended windows.
_EARLIEST, _LATEST = date(1900, 1, 1), date(9999, 12, 31)


def date_range(
    condition: Condition, cal: WorkingCalendar, today: date, n: int
) -> tuple[date, date]:
    """The closed range of limit dates for which ``condition`` holds today."""
    if condition.window == "today":
        return today, today
    if condition.window == "past":
        return _EARLIEST, today - timedelta(days=1)
    first = today if condition.include_today else today + timedelta(days=1)
    return first, cal.add_working_days(today, n)
