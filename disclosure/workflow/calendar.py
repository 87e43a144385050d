"""Official working days (工作日): Monday–Friday minus public holidays plus 调休 make-up days.

The calendar is data: holidays and make-up working days come in as mappings, so the same
class serves the ``chinese-calendar`` package, a local override file and test fixtures.
Every query is O(1): the constructor precomputes, for each day of its span, the number of
working days up to and including it (the working-day ordinal).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from disclosure.errors import DeadlineError

DEFAULT_SPAN = (date(2000, 1, 1), date(2099, 12, 31))


def cn_date(day: date) -> str:
    """Write a date the way Chinese official letters do: ``2026年11月24日``."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class SpecialDay:
    """A day whose status differs from the weekday rule, and where that came from."""

    day: date
    is_working: bool
    name: str
    source: str


class WorkingCalendar:
    """Answers working-day questions in constant time.

    Args:
        holidays: public holidays that fall on weekdays or weekends, with their names.
        workdays: weekend days declared make-up working days (调休上班), with their names.
        coverage_end: last day whose status is officially announced; later dates are
            counted with weekends only and results reaching them are *provisional*.
        sources: for each special day, where its status came from (for ``calendar show``).
        span: first and last day the ordinals are precomputed for.
    """

    def __init__(
        self,
        holidays: Mapping[date, str],
        workdays: Mapping[date, str],
        coverage_end: date,
        sources: Mapping[date, str] | None = None,
        span: tuple[date, date] = DEFAULT_SPAN,
    ) -> None:
        self.coverage_end = coverage_end
        self._holidays = dict(holidays)
        self._workdays = dict(workdays)
        self._sources = dict(sources or {})
        self._first, self._last = span
        size = (self._last - self._first).days + 1
        # _ordinal[i]: working days in [first, first + i]; _nth[k]: day index of the k-th.
        self._ordinal = array("l", [0]) * size
        self._nth = array("l")
        count = 0
        day = self._first
        for i in range(size):
            if self._is_working_by_rule(day):
                count += 1
                self._nth.append(i)
            self._ordinal[i] = count
            day += timedelta(days=1)

    def _is_working_by_rule(self, day: date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        return day.weekday() < 5

    def _index(self, day: date) -> int:
        if not self._first <= day <= self._last:
            raise DeadlineError(
                field="date",
                rule="outside_calendar_span",
                message=f"日期{cn_date(day)}超出工作日历范围"
                f"（{cn_date(self._first)}至{cn_date(self._last)}）",
            )
        return (day - self._first).days

    @property
    def coverage_year(self) -> int:
        """The last year whose holidays have been announced."""
        return self.coverage_end.year

    def is_covered(self, day: date) -> bool:
        """True if the day's status is officially announced (not provisional)."""
        return day <= self.coverage_end

    def is_working_day(self, day: date) -> bool:
        i = self._index(day)
        return self._ordinal[i] - (self._ordinal[i - 1] if i else 0) == 1

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day *after* ``day`` (the start day itself never counts).

        ``n == 0`` returns ``day`` unchanged.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        if n == 0:
            return day
        k = self._ordinal[self._index(day)] + n
        if k > len(self._nth):
            self._index(self._last + timedelta(days=1))  # raises the span error
        return self._first + timedelta(days=self._nth[k - 1])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (start, end]; negative if end < start."""
        return self._ordinal[self._index(end)] - self._ordinal[self._index(start)]

    def special_days(self, year: int) -> list[SpecialDay]:
        """Holidays, make-up working days and days an override returned to the weekday rule."""
        days = [
            SpecialDay(d, False, name, self._sources.get(d, ""))
            for d, name in self._holidays.items()
            if d.year == year and d not in self._workdays
        ] + [
            SpecialDay(d, True, name, self._sources.get(d, ""))
            for d, name in self._workdays.items()
            if d.year == year
        ]
        days += [
            SpecialDay(d, d.weekday() < 5, "按星期计算（覆盖文件取消了原安排）", source)
            for d, source in self._sources.items()
            if d.year == year and d not in self._holidays and d not in self._workdays
        ]
        return sorted(days, key=lambda s: s.day)
