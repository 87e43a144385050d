"""Working days (ogi-rules.md §1, §3): the official calendar and the calendar semantics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from disclosure.calendar_source import load_calendar, package_source
from disclosure.errors import ConfigurationError, DeadlineError
from disclosure.workflow.calendar import WorkingCalendar, cn_date

CAL = load_calendar()
D = date.fromisoformat


# --- the official calendar (chinese-calendar package) ------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-01-04", True),  # Sunday, 元旦调休上班
        ("2026-01-01", False),  # Thursday, 元旦
        *((f"2026-10-0{d}", False) for d in range(1, 8)),  # 国庆节 1–7 Oct
        ("2026-10-08", True),  # Thursday after the holiday
        ("2026-10-10", True),  # Saturday, 国庆节调休上班
        ("2026-09-20", True),  # Sunday, 国庆节调休上班
        ("2026-10-11", False),  # ordinary Sunday
        ("2025-07-05", False),  # ordinary Saturday
        ("2025-07-06", False),  # ordinary Sunday
        ("2025-07-07", True),  # ordinary Monday
        ("2025-06-27", True),  # ordinary Friday
    ],
)
def test_official_calendar_knows_holidays_and_make_up_days(day: str, working: bool) -> None:
    assert CAL.is_working_day(D(day)) is working


def test_twentieth_working_day_after_a_friday_is_four_weeks_later() -> None:
    # ogi-rules §3: received Fri 2025-06-27 → day 1 is Mon 06-30 → day 20 is Fri 07-25.
    assert CAL.add_working_days(D("2025-06-27"), 1) == D("2025-06-30")
    assert CAL.add_working_days(D("2025-06-27"), 20) == D("2025-07-25")


def test_adding_working_days_skips_a_holiday_week_and_counts_a_make_up_saturday() -> None:
    # Wed 2026-09-30 → Thu 10-01 … Wed 10-07 are holidays → 10-08, 10-09, Sat 10-10.
    assert CAL.add_working_days(D("2026-09-30"), 1) == D("2026-10-08")
    assert CAL.add_working_days(D("2026-09-30"), 3) == D("2026-10-10")


def test_adding_zero_working_days_returns_the_start_day() -> None:
    assert CAL.add_working_days(D("2026-10-03"), 0) == D("2026-10-03")


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        ("2025-06-27", "2025-06-27", 0),  # empty interval
        ("2025-06-26", "2025-06-27", 1),  # end counts, start does not
        ("2025-06-27", "2025-06-30", 1),  # Fri → Mon: only Monday
        ("2025-06-28", "2025-06-29", 0),  # a weekend
        ("2025-06-27", "2025-07-25", 20),  # the §3 example
        ("2025-07-25", "2025-06-27", -20),  # reversed: negative
        ("2026-09-30", "2026-10-07", 0),  # the National Day week
        ("2026-09-30", "2026-10-10", 3),  # includes the make-up Saturday
    ],
)
def test_working_days_between_counts_the_half_open_interval(
    start: str, end: str, count: int
) -> None:
    assert CAL.working_days_between(D(start), D(end)) == count


def test_coverage_ends_with_the_last_announced_year() -> None:
    assert CAL.coverage_year == 2026
    assert CAL.is_covered(D("2026-12-31")) is True
    assert CAL.is_covered(D("2027-01-01")) is False


def test_unannounced_year_is_counted_with_weekends_only() -> None:
    # 2027-01-01 is a Friday: an unannounced year knows no 元旦 yet.
    assert CAL.is_working_day(D("2027-01-01")) is True
    assert CAL.is_working_day(D("2027-01-02")) is False


@pytest.mark.parametrize(
    "query",
    [
        lambda: CAL.is_working_day(date(1999, 12, 31)),
        lambda: CAL.is_working_day(date(2100, 1, 1)),
        lambda: CAL.add_working_days(date(2099, 12, 28), 10),
        lambda: CAL.working_days_between(date(1999, 1, 1), date(2025, 1, 1)),
    ],
    ids=["before_span", "after_span", "add_past_span", "between_from_before_span"],
)
def test_a_date_outside_the_calendar_span_raises_deadline_error(
    query: Callable[[], object],
) -> None:
    with pytest.raises(DeadlineError) as exc:
        query()
    assert exc.value.rule == "outside_calendar_span"
    assert exc.value.field == "date"


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(D("2025-06-27"), -1)


def test_special_days_name_the_package_as_their_source() -> None:
    national_day = [s for s in CAL.special_days(2026) if s.day == D("2026-10-01")]
    assert len(national_day) == 1
    assert national_day[0].is_working is False
    assert national_day[0].name == "国庆节"
    assert national_day[0].source == package_source()


def test_cn_date_writes_dates_as_official_letters_do() -> None:
    assert cn_date(D("2026-01-08")) == "2026年1月8日"


# --- a fixture calendar, independent of the package ------------------------------------------

FIXTURE = WorkingCalendar(
    holidays={date(2030, 1, 1): "元旦", date(2030, 1, 2): "假日", date(2030, 1, 12): "周六假日"},
    workdays={date(2030, 1, 5): "调休上班", date(2030, 1, 2): "更正为上班"},
    coverage_end=date(2030, 1, 15),
    sources={date(2030, 1, 1): "测试"},
    span=(date(2029, 12, 25), date(2030, 1, 31)),
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2030, 1, 1), False),  # Tuesday holiday
        (date(2030, 1, 2), True),  # both lists: the make-up working day wins
        (date(2030, 1, 3), True),  # ordinary Thursday
        (date(2030, 1, 5), True),  # Saturday make-up day
        (date(2030, 1, 6), False),  # ordinary Sunday
        (date(2030, 1, 12), False),  # a holiday on a Saturday is still not working
        (date(2029, 12, 25), True),  # first day of the span
        (date(2030, 1, 31), True),  # last day of the span
    ],
)
def test_fixture_calendar_applies_holidays_then_make_up_days(day: date, working: bool) -> None:
    assert FIXTURE.is_working_day(day) is working


def test_fixture_calendar_counts_after_the_start_day() -> None:
    # Mon 2029-12-31 → Tue 01-01 holiday → 01-02, 01-03, 01-04, Sat 01-05, Mon 01-07.
    assert FIXTURE.add_working_days(date(2029, 12, 31), 1) == date(2030, 1, 2)
    assert FIXTURE.add_working_days(date(2029, 12, 31), 4) == date(2030, 1, 5)
    assert FIXTURE.add_working_days(date(2029, 12, 31), 5) == date(2030, 1, 7)
    # Starting on a holiday: the next working day is day 1.
    assert FIXTURE.add_working_days(date(2030, 1, 1), 1) == date(2030, 1, 2)


def test_fixture_calendar_counts_between_half_open() -> None:
    assert FIXTURE.working_days_between(date(2029, 12, 31), date(2030, 1, 7)) == 5
    assert FIXTURE.working_days_between(date(2030, 1, 7), date(2029, 12, 31)) == -5
    assert FIXTURE.working_days_between(date(2030, 1, 6), date(2030, 1, 6)) == 0


def test_fixture_calendar_refuses_to_count_past_its_span() -> None:
    with pytest.raises(DeadlineError) as exc:
        FIXTURE.add_working_days(date(2030, 1, 28), 5)
    assert exc.value.rule == "outside_calendar_span"
    with pytest.raises(DeadlineError):
        FIXTURE.is_working_day(date(2029, 12, 24))


def test_fixture_calendar_coverage_is_its_coverage_end() -> None:
    assert FIXTURE.coverage_year == 2030
    assert FIXTURE.is_covered(date(2030, 1, 15))
    assert not FIXTURE.is_covered(date(2030, 1, 16))


def test_fixture_calendar_lists_special_days_in_date_order_with_sources() -> None:
    assert [(s.day.day, s.is_working, s.source) for s in FIXTURE.special_days(2030)] == [
        (1, False, "测试"),
        (2, True, ""),
        (5, True, ""),
        (12, False, ""),
    ]
    assert FIXTURE.special_days(2031) == []


# --- the local override file ------------------------------------------------------------------

OVERRIDE = """\
coverage_year = 2027

[[add_holiday]]
date = 2026-12-28
note = "本市地方性节日"

[[add_workday]]
date = 2026-12-27
note = "本市调休上班"

[[remove_holiday]]
date = 2026-10-07
note = "更正"

[[remove_workday]]
date = 2026-10-10
note = "更正"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar-override.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_override_file_changes_days_and_says_where_they_came_from(tmp_path: Path) -> None:
    cal = load_calendar(_write(tmp_path, OVERRIDE))

    assert cal.is_working_day(D("2026-12-28")) is False  # Monday made a local holiday
    assert cal.is_working_day(D("2026-12-27")) is True  # Sunday made a working day
    assert cal.is_working_day(D("2026-10-07")) is True  # holiday removed: plain Wednesday
    assert cal.is_working_day(D("2026-10-10")) is False  # make-up day removed: plain Saturday
    assert cal.is_working_day(D("2026-10-06")) is False  # untouched package holiday

    special = {s.day: s for s in cal.special_days(2026)}
    assert special[D("2026-12-28")].source == "本地覆盖文件 calendar-override.toml：本市地方性节日"
    assert special[D("2026-12-28")].name == "本市地方性节日"
    assert special[D("2026-12-27")].source.startswith("本地覆盖文件")
    assert special[D("2026-10-06")].source == package_source()
    # Removed entries stay visible, back on the weekday rule, with the override as source.
    assert special[D("2026-10-07")].is_working is True  # a Wednesday
    assert special[D("2026-10-07")].source.startswith("本地覆盖文件")
    assert special[D("2026-10-10")].is_working is False  # a Saturday
    assert special[D("2026-10-10")].source.startswith("本地覆盖文件")


def test_override_coverage_year_extends_the_announced_calendar(tmp_path: Path) -> None:
    cal = load_calendar(_write(tmp_path, OVERRIDE))
    assert cal.coverage_year == 2027
    assert cal.is_covered(D("2027-12-31"))
    assert not cal.is_covered(D("2028-01-01"))


def test_override_can_turn_a_package_make_up_day_into_a_holiday(tmp_path: Path) -> None:
    text = '[[add_holiday]]\ndate = 2026-10-10\nnote = "本地休息"\n'
    cal = load_calendar(_write(tmp_path, text))
    assert cal.is_working_day(D("2026-10-10")) is False


def test_without_override_the_package_calendar_is_unchanged() -> None:
    assert CAL.is_working_day(D("2026-12-28")) is True
    assert CAL.is_working_day(D("2026-10-10")) is True


@pytest.mark.parametrize(
    "text",
    [
        "[[add_holiday]]\ndate = 2026-12-28\n",
        '[[add_holiday]]\ndate = 2026-12-28\nnote = "  "\n',
        '[[add_workday]]\ndate = "2026-12-27"\nnote = "x"\n',
        '[[remove_holiday]]\nnote = "x"\n',
        '[[add_holiday]]\ndate = 2026-13-01\nnote = "x"\n',
        '[[holidays]]\ndate = 2026-12-28\nnote = "x"\n',
        'add_holiday = [ {date = 2026-12-28, note = "x" ',
        # A single table instead of an array of tables: an easy typo.
        '[add_holiday]\ndate = 2026-12-28\nnote = "x"\n',
        'coverage_year = "下一年"\n',
        # A date-time is not a date: the entry would be silently ignored.
        '[[add_holiday]]\ndate = 2026-12-28T00:00:00\nnote = "x"\n',
    ],
    ids=[
        "missing_note",
        "blank_note",
        "date_as_string",
        "missing_date",
        "impossible_date",
        "unknown_section",
        "bad_toml",
        "table_instead_of_array",
        "coverage_year_not_a_number",
        "datetime_instead_of_date",
    ],
)
def test_malformed_override_raises_configuration_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigurationError) as exc:
        load_calendar(_write(tmp_path, text))
    assert exc.value.field == "DISCLOSURE_CALENDAR_OVERRIDE"
    assert exc.value.rule == "configuration"
    assert "calendar-override.toml" in exc.value.message


def test_missing_override_file_raises_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as exc:
        load_calendar(tmp_path / "absent.toml")
    assert exc.value.field == "DISCLOSURE_CALENDAR_OVERRIDE"
    assert "文件不存在" in exc.value.message
