"""The assessment figures per agency and month of closing (workflow/performance.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure.errors import RuleViolation
from disclosure.workflow.performance import (
    Month,
    PerformanceCase,
    PerformanceReport,
    build_performance,
    months_between,
)
from disclosure.workflow.states import OUTCOMES

D = date.fromisoformat
LABELS = {1: "示例市财政局", 2: "示例市审计局", 3: "示例市民政局"}


def reply(
    case_id: int,
    agency_id: int,
    closed: str,
    days: int,
    *,
    on_time: bool = True,
    outcome: str = "disclose",
    extensions: int = 0,
    corrections: int = 0,
) -> PerformanceCase:
    return PerformanceCase(
        case_id=case_id, agency_id=agency_id, received_on=D("2026-01-02"), closed_on=D(closed),
        replied=True, working_days_taken=days, on_time=on_time, overdue_now=False,
        extensions=extensions, corrections=corrections, outcome=outcome,
    )  # fmt: skip


def open_case(case_id: int, agency_id: int, *, overdue: bool) -> PerformanceCase:
    return PerformanceCase(
        case_id=case_id, agency_id=agency_id, received_on=D("2026-02-02"), closed_on=None,
        replied=False, working_days_taken=None, on_time=None, overdue_now=overdue,
        extensions=1, corrections=1, outcome=None,
    )  # fmt: skip


def withdrawn(case_id: int, agency_id: int, closed: str) -> PerformanceCase:
    return PerformanceCase(
        case_id=case_id, agency_id=agency_id, received_on=D("2026-01-02"), closed_on=D(closed),
        replied=False, working_days_taken=None, on_time=None, overdue_now=False,
        extensions=0, corrections=1, outcome=None,
    )  # fmt: skip


def sample() -> PerformanceReport:
    cases = [
        reply(1, 2, "2026-01-20", 12, extensions=1),
        reply(2, 2, "2026-01-28", 30, on_time=False, outcome="withhold", corrections=1),
        reply(3, 2, "2026-01-29", 9, outcome="withhold"),
        withdrawn(4, 2, "2026-01-15"),
        reply(5, 1, "2026-03-02", 20),
        reply(6, 2, "2026-04-01", 5),  # after the period
        open_case(7, 2, overdue=True),
        open_case(8, 2, overdue=False),
        open_case(9, 1, overdue=True),
    ]
    return build_performance(cases, LABELS, Month(2026, 1), Month(2026, 3))


def test_agencies_are_sorted_by_label_and_all_reported() -> None:
    # by code point: 审 U+5BA1 < 民 U+6C11 < 财 U+8D22
    assert [a.label for a in sample().agencies] == ["示例市审计局", "示例市民政局", "示例市财政局"]


def test_month_figures_of_an_agency() -> None:
    audit = sample().agencies[0]
    january = audit.months[Month(2026, 1)]
    assert (january.closed, january.replies, january.on_time, january.timed) == (4, 3, 2, 3)
    assert january.on_time_share == pytest.approx(2 / 3)
    assert january.average_days == pytest.approx(17.0)
    assert january.longest_days == 30
    assert (january.extensions, january.corrections) == (1, 2)
    assert january.outcomes == {"disclose": 1, "partial": 0, "withhold": 2, "cannot_provide": 0,
                                "not_handled": 0, "other": 0}  # fmt: skip


def test_month_without_replies_has_no_share_and_no_days() -> None:
    february = sample().agencies[0].months[Month(2026, 2)]
    assert (february.closed, february.replies) == (0, 0)
    assert february.on_time_share is None
    assert (february.average_days, february.longest_days) == (None, None)


def test_month_with_only_a_withdrawal_has_no_share() -> None:
    report = build_performance(
        [withdrawn(1, 1, "2026-05-10")], LABELS, Month(2026, 5), Month(2026, 5)
    )
    may = report.agencies[2].months[Month(2026, 5)]
    assert (may.closed, may.replies, may.on_time_share, may.corrections) == (1, 0, None, 1)


def test_overdue_now_is_counted_per_agency_not_per_month() -> None:
    audit, civil, finance = sample().agencies
    assert (audit.overdue_now, finance.overdue_now, civil.overdue_now) == (1, 1, 0)


def test_period_figures_cover_only_months_in_the_range() -> None:
    audit = sample().agencies[0]
    assert list(audit.months) == [Month(2026, 1), Month(2026, 2), Month(2026, 3)]
    assert audit.period.replies == 3  # the April reply is outside


def test_months_run_across_the_new_year_inclusive() -> None:
    assert [str(m) for m in months_between(Month(2025, 11), Month(2026, 2))] == [
        "2025-11", "2025-12", "2026-01", "2026-02",
    ]  # fmt: skip
    assert months_between(Month(2026, 3), Month(2026, 3)) == (Month(2026, 3),)
    assert Month(2026, 3).label == "2026年3月"


def test_from_after_to_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        build_performance([], LABELS, Month(2026, 5), Month(2026, 3))
    assert (caught.value.field, caught.value.rule) == ("from", "from_after_to")
    assert "2026年5月" in caught.value.message and "2026年3月" in caught.value.message


def test_month_thirteen_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        Month(2026, 13)
    assert caught.value.rule == "month_range"


def test_case_of_an_agency_not_listed_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        build_performance([reply(1, 9, "2026-01-20", 3)], LABELS, Month(2026, 1), Month(2026, 1))
    assert caught.value.field == "agency_id" and "案件1" in caught.value.message


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        build_performance(
            [reply(4, 1, "2026-01-20", 3, outcome="approve")],
            LABELS,
            Month(2026, 1),
            Month(2026, 1),
        )
    assert caught.value.rule == "unknown_outcome" and "案件4" in caught.value.message


FIRST, LAST = Month(2026, 1), Month(2026, 6)


@st.composite
def performance_cases(draw: st.DrawFn) -> list[PerformanceCase]:
    cases = []
    for case_id in range(1, draw(st.integers(0, 40)) + 1):
        received = draw(st.dates(date(2025, 10, 1), date(2026, 8, 31)))
        days_open = draw(st.none() | st.integers(0, 120))
        closed = None if days_open is None else received + timedelta(days=days_open)
        replied = closed is not None and draw(st.booleans())
        cases.append(
            PerformanceCase(
                case_id=case_id,
                agency_id=draw(st.sampled_from(sorted(LABELS))),
                received_on=received,
                closed_on=closed,
                replied=replied,
                working_days_taken=draw(st.integers(0, 60)) if replied else None,
                on_time=draw(st.booleans()) if replied else None,
                overdue_now=closed is None and draw(st.booleans()),
                extensions=draw(st.integers(0, 1)),
                corrections=draw(st.integers(0, 1)),
                outcome=draw(st.sampled_from(sorted(OUTCOMES))) if replied else None,
            )
        )
    return cases


@settings(max_examples=200, deadline=None)
@given(cases=performance_cases())
def test_shares_are_fractions_and_replies_add_up(cases: list[PerformanceCase]) -> None:
    report = build_performance(cases, LABELS, FIRST, LAST)
    in_range = [
        c for c in cases if c.replied and c.closed_on and FIRST <= Month.of(c.closed_on) <= LAST
    ]
    months = [figures for agency in report.agencies for figures in agency.months.values()]
    assert sum(figures.replies for figures in months) == len(in_range)
    for figures in months:
        share = figures.on_time_share
        if figures.replies == 0:
            assert share is None
        else:
            assert share is not None and 0 <= share <= 1
        assert sum(figures.outcomes.values()) == figures.replies  # only replies have outcomes here
    for agency in report.agencies:
        assert agency.period.replies == sum(f.replies for f in agency.months.values())
        assert agency.period.on_time == sum(f.on_time for f in agency.months.values())
        assert agency.overdue_now == sum(
            c.overdue_now for c in cases if c.agency_id == agency.agency_id
        )
