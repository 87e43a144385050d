"""Library swaps without a database: the working calendar is built once per Settings object."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from disclosure import calendar_source
from disclosure.config import Settings

OVERRIDE = '[[add_holiday]]\ndate = 2026-12-30\nnote = "示例"\n'


def test_two_uses_of_one_settings_object_share_one_calendar() -> None:
    settings = Settings.from_env(database_url="sqlite:////tmp/unused.db")
    first = settings.calendar
    calendar_source.build_calendar.cache_clear()  # not the module's cache: the object's
    assert settings.calendar is first


def test_an_override_file_is_read_once_per_content(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(OVERRIDE, encoding="utf-8")
    settings = Settings.from_env(database_url="sqlite:////tmp/unused.db", calendar_override=path)
    first = settings.calendar
    calendar_source.build_calendar.cache_clear()
    assert settings.calendar is first
    assert not first.is_working_day(date(2026, 12, 30))


def test_another_settings_object_with_another_override_gets_its_own_calendar(
    tmp_path: Path,
) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(OVERRIDE, encoding="utf-8")
    plain = Settings.from_env(database_url="sqlite:////tmp/unused.db")
    local = Settings.from_env(database_url="sqlite:////tmp/unused.db", calendar_override=path)
    assert local.calendar is not plain.calendar
    assert plain.calendar.is_working_day(date(2026, 12, 30))
    assert not local.calendar.is_working_day(date(2026, 12, 30))


def test_an_edited_override_file_is_applied_to_the_same_settings_object(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(OVERRIDE, encoding="utf-8")
    settings = Settings.from_env(database_url="sqlite:////tmp/unused.db", calendar_override=path)
    before = settings.calendar
    path.write_text(OVERRIDE.replace("2026-12-30", "2026-12-16"), encoding="utf-8")
    after = settings.calendar
    assert after is not before and settings.calendar is after
    assert after.is_working_day(date(2026, 12, 30)) and not after.is_working_day(date(2026, 12, 16))


def test_a_copy_with_another_override_path_builds_its_own_calendar(tmp_path: Path) -> None:
    one, two = tmp_path / "one.toml", tmp_path / "two.toml"
    one.write_text(OVERRIDE, encoding="utf-8")
    two.write_text(OVERRIDE, encoding="utf-8")  # the same content, named in the sources
    settings = Settings.from_env(database_url="sqlite:////tmp/unused.db", calendar_override=one)
    first = settings.calendar
    copy = settings.model_copy(update={"calendar_override": two})
    assert copy.calendar is not first
    assert settings.calendar is first
