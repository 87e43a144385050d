"""The figures a county's open-government assessment (政务公开考核) reads, per agency and month.

A month's figures count the cases closed in it (by a reply, a withdrawal or 视为放弃):
replies, the share answered within the limit, working days taken, extensions and
corrections used, and the outcomes. Cases overdue right now are a per-agency figure at the
report date, not a month's. Pure: the caller works out each case's working days and on-time
flag with its calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from disclosure.errors import RuleViolation
from disclosure.workflow.states import OUTCOMES
from disclosure.workflow.text import printable


@dataclass(frozen=True)
class PerformanceCase:
    """What the assessment needs to know of one case.

    Attributes:
        replied: closed by a reply (not withdrawn, not abandoned).
        working_days_taken: working days from receipt to the reply, None if not replied.
        on_time: the reply was sent on or before its limit; None if not replied.
        overdue_now: open and past its limit at the report date.
        extensions: extensions of the reply limit used (Art. 33).
        corrections: correction notices sent (Art. 30).
        outcome: an ``OUTCOMES`` code, None if the case closed without one.
    """

    case_id: int
    agency_id: int
    received_on: date
    closed_on: date | None
    replied: bool
    working_days_taken: int | None
    on_time: bool | None
    overdue_now: bool
    extensions: int
    corrections: int
    outcome: str | None


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; ``str()`` gives ``2026-03``, ``label`` gives ``2026年3月``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise RuleViolation("month", "month_range", f"月份应为1至12，实为{self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def following(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(first: Month, last: Month) -> tuple[Month, ...]:
    """Every month from ``first`` to ``last``, both included.

    Raises:
        RuleViolation: field ``from``, rule ``from_after_to``, when ``first`` is after ``last``.
    """
    if first > last:
        raise RuleViolation(
            "from", "from_after_to", f"起始月份（{first.label}）晚于结束月份（{last.label}）"
        )
    months = [first]
    while months[-1] < last:
        months.append(months[-1].following())
    return tuple(months)


@dataclass(frozen=True)
class Figures:
    """The figures of a group of closed cases (a month's, or a whole period's).

    Attributes:
        closed: cases closed, however.
        replies: cases closed by a reply.
        on_time: replies sent within their limit.
        timed: replies whose on-time flag is known (the share's denominator).
        average_days: mean working days taken by the replies; None without any.
        longest_days: the most working days a reply took; None without any.
        extensions: extensions used by the closed cases.
        corrections: correction notices sent on the closed cases.
        outcomes: ``OUTCOMES`` code → closed cases with that outcome, every code present.
    """

    closed: int
    replies: int
    on_time: int
    timed: int
    average_days: float | None
    longest_days: int | None
    extensions: int
    corrections: int
    outcomes: dict[str, int]

    @property
    def on_time_share(self) -> float | None:
        """Replies on time over replies timed, from 0 to 1; None when there are none."""
        return self.on_time / self.timed if self.timed else None


def figures_of(cases: Sequence[PerformanceCase]) -> Figures:
    """The figures of closed cases.

    Raises:
        RuleViolation: a case whose outcome is not an ``OUTCOMES`` code (named by id).
    """
    replies = [case for case in cases if case.replied]
    timed = [case.on_time for case in replies if case.on_time is not None]
    days = [case.working_days_taken for case in replies if case.working_days_taken is not None]
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for case in cases:
        if case.outcome is None:
            continue
        if case.outcome not in outcomes:
            raise RuleViolation(
                "outcome",
                "unknown_outcome",
                f"案件{case.case_id}的办理结果“{printable(case.outcome)}”无效",
            )
        outcomes[case.outcome] += 1
    return Figures(
        closed=len(cases),
        replies=len(replies),
        on_time=sum(timed),
        timed=len(timed),
        average_days=sum(days) / len(days) if days else None,
        longest_days=max(days, default=None),
        extensions=sum(case.extensions for case in cases),
        corrections=sum(case.corrections for case in cases),
        outcomes=outcomes,
    )


@dataclass(frozen=True)
class AgencyPerformance:
    """One agency's figures: per month of the period, for the whole period, and now.

    Attributes:
        months: every month of the period → its figures (a month without closings has
            zero counts and no share).
        period: the figures of all cases closed in the period.
        overdue_now: its cases overdue at the report date.
    """

    agency_id: int
    label: str
    months: dict[Month, Figures]
    period: Figures
    overdue_now: int


@dataclass(frozen=True)
class PerformanceReport:
    """The figures of every agency, sorted by label, over ``months``."""

    months: tuple[Month, ...]
    agencies: tuple[AgencyPerformance, ...]


def build_performance(
    cases: Iterable[PerformanceCase],
    agency_labels: Mapping[int, str],
    first: Month,
    last: Month,
) -> PerformanceReport:
    """Figures per agency and month of closing, from ``first`` to ``last`` inclusive.

    Args:
        cases: the cases of the agencies (closed in any month, or open).
        agency_labels: agency id → its name; every agency listed is reported, in the
            order of its name, even without cases.
        first: the period's first month.
        last: the period's last month.

    Raises:
        RuleViolation: ``first`` after ``last``; a case of an agency not in
            ``agency_labels``; an unknown outcome.
    """
    months = months_between(first, last)
    by_agency: dict[int, list[PerformanceCase]] = {agency: [] for agency in agency_labels}
    for case in cases:
        if case.agency_id not in by_agency:
            raise RuleViolation(
                "agency_id",
                "unknown_agency",
                f"案件{case.case_id}所属机关（编号{case.agency_id}）不在统计的机关之中",
            )
        by_agency[case.agency_id].append(case)
    agencies = []
    for agency, label in sorted(agency_labels.items(), key=lambda item: (item[1], item[0])):
        closed: dict[Month, list[PerformanceCase]] = {month: [] for month in months}
        for case in by_agency[agency]:
            if case.closed_on is not None and Month.of(case.closed_on) in closed:
                closed[Month.of(case.closed_on)].append(case)
        agencies.append(
            AgencyPerformance(
                agency_id=agency,
                label=label,
                months={month: figures_of(group) for month, group in closed.items()},
                period=figures_of([case for group in closed.values() for case in group]),
                overdue_now=sum(case.overdue_now for case in by_agency[agency]),
            )
        )
    return PerformanceReport(months, tuple(agencies))
