"""Configuration errors speak Chinese: no English text from pydantic reaches the user (#22)."""

from __future__ import annotations

import re

import pytest

from disclosure.config import Settings
from disclosure.errors import ConfigurationError


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"approaching_days": "x"}, "DISCLOSURE_APPROACHING_DAYS", "须为整数（收到“x”）"),
        ({"approaching_days": "99"}, "DISCLOSURE_APPROACHING_DAYS", "须不大于 20（收到“99”）"),
        ({"approaching_days": "0"}, "DISCLOSURE_APPROACHING_DAYS", "须不小于 1（收到“0”）"),
        ({"agency_name": "局"}, "DISCLOSURE_AGENCY_NAME", "至少须有 2 个字符"),
        ({"agency_name": "局" * 61}, "DISCLOSURE_AGENCY_NAME", "至多 60 个字符（现有 61 个）"),
        ({"number_with_di": "perhaps"}, "DISCLOSURE_NUMBER_WITH_DI", "须为 true 或 false"),
        ({"today": "2026-13-01"}, "DISCLOSURE_TODAY", "须为有效日期，格式 YYYY-MM-DD"),
        ({"today": "2026-01-01T10:00"}, "DISCLOSURE_TODAY", "须为有效日期"),
        ({"fee_scale": "free"}, "DISCLOSURE_FEE_SCALE", "须为以下之一：'count'、'volume'"),
        ({"scan_interval_seconds": 1.5}, "DISCLOSURE_SCAN_INTERVAL_SECONDS", "须为整数"),
        ({"database_url": "mysql://x"}, "DISCLOSURE_DATABASE_URL", "只支持 sqlite:///"),
    ],
)
def test_setting_errors_are_in_chinese(
    overrides: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(**overrides)
    assert caught.value.field == field
    assert message in caught.value.message
    text = caught.value.message.split("无效：", 1)[1]
    for quoted in re.findall(r"“[^”]*”|'[^']*'|sqlite:///|postgresql\+psycopg://|YYYY-MM-DD", text):
        text = text.replace(quoted, "")
    for allowed in ("true", "false", "yes", "no", "on", "off"):
        text = text.replace(allowed, "")
    assert not re.search(r"[A-Za-z]{3,}", text), caught.value.message  # no English left


def test_a_database_url_with_a_password_is_never_echoed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(database_url="postgresql://u:s3cret@h:notaport/x")
    assert "s3cret" not in caught.value.message
