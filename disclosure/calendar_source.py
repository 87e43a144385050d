"""Builds the official calendar from the ``chinese-calendar`` package and a local override file.

Override file (TOML), every entry with a note saying why::

    [[add_holiday]]
    date = 2026-12-28
    note = "本市地方性节日"

    [[remove_holiday]]    # also: add_workday, remove_workday
    date = 2026-10-08
    note = "更正"

The coverage (last announced year) is the last year the package has holidays for, or the
``coverage_year`` key of the override file when a region publishes its own calendar first.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import tomllib
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from chinese_calendar import constants

from disclosure.errors import ConfigurationError
from disclosure.workflow.calendar import WorkingCalendar

_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
_SECTIONS = ("add_holiday", "remove_holiday", "add_workday", "remove_workday")


def package_source() -> str:
    return f"chinese-calendar {importlib.metadata.version('chinese-calendar')}"


def _override_error(path: Path, detail: str) -> ConfigurationError:
    return ConfigurationError(
        field="DISCLOSURE_CALENDAR_OVERRIDE", message=f"日历覆盖文件 {path} 有误：{detail}"
    )


def _override_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _override_error(path, "文件不存在") from None
    except OSError as exc:
        raise _override_error(path, f"无法读取（{exc.strerror}）") from None


def _parse_override(path: Path, content: bytes) -> dict[str, Any]:
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise _override_error(path, "文件须为 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as exc:
        raise _override_error(path, f"TOML 格式错误（{exc}）") from None
    unknown = set(data) - set(_SECTIONS) - {"coverage_year"}
    if unknown:
        raise _override_error(path, f"未知的节 {sorted(unknown)}，可用：{list(_SECTIONS)}")
    year = data.get("coverage_year", 2000)
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2099:
        raise _override_error(path, f"coverage_year 须为2000至2099之间的整数年份，实为 {year!r}")
    for section in _SECTIONS:
        entries = data.get(section, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise _override_error(path, f"{section} 须写成表数组 [[{section}]]")
        for i, entry in enumerate(entries):
            day = entry.get("date")
            # A TOML date-time is a datetime, which is also a date: refuse it explicitly.
            if not isinstance(day, date) or isinstance(day, datetime):
                raise _override_error(path, f"{section}[{i}].date 必须是日期（如 2026-12-28）")
            if not str(entry.get("note", "")).strip():
                raise _override_error(path, f"{section}[{i}].note 必须写明理由")
    return data


def calendar_fingerprint(override: Path | None = None) -> tuple[str, str]:
    """A hash of everything the calendar is built from, and a line saying what that is.

    When it changes (a package upgrade with next year's holidays, an edited override file),
    stored limits must be recomputed.
    """
    cal = load_calendar(override)
    parts = [package_source(), str(cal.coverage_year)]
    description = f"{package_source()}，节假日覆盖至{cal.coverage_year}年"
    if override is not None:
        parts.append(_override_bytes(override).hex())
        description += f"，本地覆盖文件 {override.name}"
    return hashlib.sha256("|".join(parts).encode()).hexdigest(), description


def load_calendar(override: Path | None = None) -> WorkingCalendar:
    """The calendar the whole product uses.

    The override file is read on every call and the calendar is cached by its content, so an
    edited file takes effect in a long-running process (building one takes ~30 ms).
    """
    return build_calendar(override, read_override(override))


def read_override(override: Path | None) -> bytes | None:
    """The override file's content (None without a file), what ``build_calendar`` takes.

    Raises:
        ConfigurationError: the file is missing or unreadable.
    """
    return _override_bytes(override) if override is not None else None


@lru_cache(maxsize=8)
def build_calendar(override: Path | None, content: bytes | None) -> WorkingCalendar:
    """The calendar from the package's holidays and ``content``, the override file's bytes.

    Cached by path and content: the same content always gives the same calendar object.

    Raises:
        ConfigurationError: the override content is not a valid override file.
    """
    source = package_source()
    holidays = {d: _CHINESE_NAMES.get(n, n) for d, n in constants.holidays.items()}
    workdays = {d: f"{_CHINESE_NAMES.get(n, n)}调休上班" for d, n in constants.workdays.items()}
    sources = dict.fromkeys([*holidays, *workdays], source)
    coverage_year = max(constants.holidays).year
    if override is not None and content is not None:
        data = _parse_override(override, content)
        origin = f"本地覆盖文件 {override.name}"
        for entry in data.get("add_holiday", []):
            holidays[entry["date"]] = entry["note"]
            workdays.pop(entry["date"], None)
            sources[entry["date"]] = f"{origin}：{entry['note']}"
        for entry in data.get("add_workday", []):
            workdays[entry["date"]] = entry["note"]
            holidays.pop(entry["date"], None)
            sources[entry["date"]] = f"{origin}：{entry['note']}"
        for section, table in (("remove_holiday", holidays), ("remove_workday", workdays)):
            for entry in data.get(section, []):
                table.pop(entry["date"], None)
                sources[entry["date"]] = f"{origin}：{entry['note']}"
        coverage_year = int(data.get("coverage_year", coverage_year))
    return WorkingCalendar(holidays, workdays, date(coverage_year, 12, 31), sources)
