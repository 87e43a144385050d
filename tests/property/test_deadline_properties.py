"""Deadline arithmetic against a deliberately naive day-by-day count (ogi-rules.md §1, §3, §4).

The reference walks the calendar one day at a time: no ordinals, no interval merging. It
trusts only ``is_working_day``, which is itself checked against ``chinese_calendar``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure.calendar_source import load_calendar
from disclosure.errors import DeadlineError
from disclosure.workflow.deadlines import ClockEvent, ClockKind, compute_limits

CAL = load_calendar()
K = ClockKind
FAST = settings(max_examples=200, deadline=None)
ONE_DAY = timedelta(days=1)
REPLY_DAYS = 20

#: (opening event, closing event, window in working days)
PAUSE_KINDS = [
    (K.CONSULT_THIRD_PARTY, K.THIRD_PARTY_REPLIED, 15),
    (K.CONSULT_AGENCY, K.AGENCY_REPLIED, 15),
    (K.ISSUE_FEE_NOTICE, K.FEE_PAID, 20),
]


# --- the naive reference --------------------------------------------------------------------


def naive_add(day: date, n: int) -> date:
    while n > 0:
        day += ONE_DAY
        if CAL.is_working_day(day):
            n -= 1
    return day


def naive_between(start: date, end: date) -> int:
    if end < start:
        return -naive_between(end, start)
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        count += CAL.is_working_day(day)
    return count


def paused(day: date, pauses: tuple[tuple[date, date], ...]) -> bool:
    return any(start < day <= end for start, end in pauses)


def naive_due(origin: date, target: int, pauses: tuple[tuple[date, date], ...]) -> date:
    day, counted = origin, 0
    while counted < target:
        day += ONE_DAY
        if not paused(day, pauses) and CAL.is_working_day(day):
            counted += 1
    return day


def naive_counted(after: date, until: date, pauses: tuple[tuple[date, date], ...]) -> int:
    """Counted working days in (after, until], by walking."""
    count, day = 0, after
    while day < until:
        day += ONE_DAY
        count += not paused(day, pauses) and CAL.is_working_day(day)
    return count


# --- random valid cases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    received: date
    events: tuple[ClockEvent, ...]
    origin: date  # where the 20-day count starts (received, or the corrected application)
    pauses: tuple[tuple[date, date], ...]  # effective (S, E], capped / assumed to window end
    extension: int

    @property
    def last(self) -> date:
        return self.events[-1].on if self.events else self.received

    def due(self) -> date:
        reply = compute_limits(CAL, self.received, self.events).reply
        assert reply is not None
        return reply.due


@st.composite
def cases(draw: st.DrawFn, correction: bool | None = None, extension: bool = True) -> Case:
    received = draw(st.dates(date(2024, 1, 1), date(2026, 10, 31)))
    events: list[ClockEvent] = []
    origin = last = received
    if correction if correction is not None else draw(st.booleans()):
        asked = last + timedelta(days=draw(st.integers(0, 10)))
        corrected = asked + timedelta(days=draw(st.integers(0, 30)))
        events += [
            ClockEvent(K.REQUEST_CORRECTION, asked),
            ClockEvent(K.RECEIVE_CORRECTION, corrected),
        ]
        origin = last = corrected
    pauses: list[tuple[date, date]] = []
    extended = 0
    count = draw(st.integers(0, 3))
    extension_slot = draw(st.none() | st.integers(0, count)) if extension else None
    leave_last_open = draw(st.booleans())
    for i in range(count + 1):
        if extension_slot == i:
            due_now = naive_due(origin, REPLY_DAYS, tuple(pauses))
            if last <= due_now:
                on = last + timedelta(days=draw(st.integers(0, (due_now - last).days)))
                extended = draw(st.integers(1, 20))
                events.append(ClockEvent(K.EXTEND, on, days=extended))
                last = on
        if i == count:
            break
        opens, closes, window = draw(st.sampled_from(PAUSE_KINDS))
        start = last + timedelta(days=draw(st.integers(0, 15)))
        window_end = naive_add(start, window)
        events.append(ClockEvent(opens, start))
        last = start
        if i == count - 1 and leave_last_open:
            pauses.append((start, window_end))  # open: assumed to run to its window end
        else:
            end = start + timedelta(days=draw(st.integers(0, 40)))
            events.append(ClockEvent(closes, end))
            last = end
            pauses.append((start, min(end, window_end)))  # a late answer is capped
    return Case(received, tuple(events), origin, tuple(pauses), extended)


# --- properties -------------------------------------------------------------------------------


@FAST
@given(case=cases())
def test_reply_due_matches_a_naive_day_by_day_count(case: Case) -> None:
    expected = naive_due(case.origin, REPLY_DAYS + case.extension, case.pauses)
    assert case.due() == expected


@FAST
@given(case=cases())
def test_reply_due_is_a_working_day_after_receipt(case: Case) -> None:
    due = case.due()
    assert CAL.is_working_day(due)
    assert due > case.origin >= case.received


@FAST
@given(case=cases())
def test_limits_are_flagged_provisional_exactly_past_the_coverage(case: Case) -> None:
    limits = compute_limits(CAL, case.received, case.events)
    for limit in limits.all():
        assert limit.provisional is (limit.due > CAL.coverage_end)


def open_pause_kinds(events: tuple[ClockEvent, ...]) -> set[ClockKind]:
    kinds = [e.kind for e in events]
    return {opens for opens, closes, _ in PAUSE_KINDS if kinds.count(opens) > kinds.count(closes)}


@FAST
@given(
    case=cases(),
    data=st.data(),
    gap=st.integers(0, 30),
    length=st.none() | st.integers(0, 40),
)
def test_adding_a_pause_never_makes_the_reply_due_earlier(
    case: Case, data: st.DataObject, gap: int, length: int | None
) -> None:
    still_open = open_pause_kinds(case.events)
    opens, closes, _ = data.draw(
        st.sampled_from([k for k in PAUSE_KINDS if k[0] not in still_open])
    )
    start = case.last + timedelta(days=gap)
    extra = [ClockEvent(opens, start)]
    if length is not None:
        extra.append(ClockEvent(closes, start + timedelta(days=length)))
    longer = compute_limits(CAL, case.received, (*case.events, *extra)).reply
    assert longer is not None
    assert longer.due >= case.due()


@FAST
@given(case=cases(correction=True))
def test_correction_restarts_the_count_from_the_corrected_application(case: Case) -> None:
    corrected = case.events[1].on
    restarted = compute_limits(CAL, case.received, case.events).reply
    fresh = compute_limits(CAL, corrected, case.events[2:]).reply
    assert restarted is not None and fresh is not None
    assert restarted.due == fresh.due
    simple = compute_limits(CAL, case.received, case.events[:2]).reply
    assert simple is not None
    assert simple.due == CAL.add_working_days(corrected, REPLY_DAYS)


@FAST
@given(case=cases(extension=False), days=st.integers(1, 20))
def test_extension_adds_exactly_its_days_of_counted_working_days(case: Case, days: int) -> None:
    # Decided the day the clock starts: always within the period, before any pause.
    at = 2 if case.events and case.events[0].kind is K.REQUEST_CORRECTION else 0
    extension = ClockEvent(K.EXTEND, case.origin, days=days)
    extended = (*case.events[:at], extension, *case.events[at:])
    before = case.due()
    reply = compute_limits(CAL, case.received, extended).reply
    assert reply is not None
    assert reply.due > before
    assert naive_counted(before, reply.due, case.pauses) == days
    assert CAL.is_working_day(reply.due)


@FAST
@given(case=cases(extension=False), days=st.integers(1, 20))
def test_extension_is_accepted_on_the_due_date_and_refused_the_day_after(
    case: Case, days: int
) -> None:
    due = case.due()
    if case.last > due:
        return  # the case already moved past its due date: nothing to decide here
    on_time = compute_limits(CAL, case.received, (*case.events, ClockEvent(K.EXTEND, due, days)))
    assert on_time.reply is not None
    late = ClockEvent(K.EXTEND, due + ONE_DAY, days)
    try:
        compute_limits(CAL, case.received, (*case.events, late))
    except DeadlineError as exc:
        assert exc.rule == "extension_after_due"
        assert exc.field == f"events[{len(case.events)}].date"
    else:
        raise AssertionError("an extension decided after the due date was accepted")


@FAST
@given(day=st.dates(date(2000, 1, 1), date(2098, 12, 1)), n=st.integers(0, 60))
def test_add_working_days_matches_a_naive_walk(day: date, n: int) -> None:
    assert CAL.add_working_days(day, n) == naive_add(day, n)


@FAST
@given(start=st.dates(date(2001, 2, 5), date(2098, 12, 1)), delta=st.integers(-400, 400))
def test_working_days_between_matches_a_naive_count(start: date, delta: int) -> None:
    end = start + timedelta(days=delta)
    assert CAL.working_days_between(start, end) == naive_between(start, end)


@FAST
@given(day=st.dates(date(2000, 1, 1), date(2098, 12, 1)), n=st.integers(1, 60))
def test_adding_then_counting_working_days_round_trips(day: date, n: int) -> None:
    later = CAL.add_working_days(day, n)
    assert CAL.is_working_day(later)
    assert CAL.working_days_between(day, later) == n


def test_every_day_from_2004_to_2026_agrees_with_chinese_calendar() -> None:
    day, mismatches = date(2004, 1, 1), []
    while day <= date(2026, 12, 31):
        if CAL.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += ONE_DAY
    assert mismatches == []


def test_unannounced_years_count_weekdays_only() -> None:
    day = date(2027, 1, 1)
    while day <= date(2027, 12, 31):
        assert CAL.is_working_day(day) is (day.weekday() < 5)
        day += ONE_DAY
