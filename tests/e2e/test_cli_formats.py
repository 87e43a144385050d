"""``--format table|json|csv`` on every listing: what scripts and other systems read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.e2e import test_cli as base


@pytest.fixture
def cli(tmp_path: Path) -> base.Cli:
    run = base.Cli(f"sqlite:///{tmp_path / 'formats.db'}")
    run("db", "upgrade")
    run("user", "add", "alice", "--role", "clerk")
    run("user", "add", "bob", "--role", "supervisor")
    return run


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_listings_speak_json_with_english_keys_and_iso_dates(cli: base.Cli) -> None:
    case = str(base._register(cli, "2026-11-23"))
    cli("case", "review", case, "--as", "alice")
    listed = json.loads(cli("case", "list", "--format", "json").stdout)
    assert listed["total"] == 1 and listed["today"] == "2026-11-24"
    row = listed["cases"][0]
    assert row["id"] == int(case) and row["state"] == "under_review"
    assert row["received_on"] == "2026-11-23" and row["reply_due"] == "2026-12-21"
    assert base.ID_NUMBER not in json.dumps(listed) and "*" in row["id_masked"]

    shown = json.loads(cli("case", "show", case, "--format", "json").stdout)
    assert [e["trigger"] for e in shown["trail"]] == ["register", "review"]
    assert shown["limits"][0]["due"] == "2026-12-21"
    assert shown["letters"][0]["kind"] == "receipt" and "accept" in shown["triggers"]

    overview = json.loads(cli("overview", "--format", "json").stdout)
    assert overview["by_state"] == {"under_review": 1} and overview["total"] == 1

    verified = json.loads(cli("audit", "verify", "--format", "json").stdout)
    assert verified == {"checked": 1, "intact": True, "breaks": []}

    letters = _rows(cli("letter", "list", case, "--format", "csv").stdout)
    assert letters[0]["kind"] == "receipt" and letters[0]["issued_on"] == "2026-11-24"

    cli("scheduler", "scan-once")
    alerts = json.loads(cli("alerts", "--as", "bob", "--format", "json").stdout)
    assert isinstance(alerts, list)
    assert all({"case_id", "condition", "limit_date"} <= set(a) for a in alerts)


def test_csv_cells_are_data_never_formulas(cli: base.Cli) -> None:
    case = str(base._register(cli, "2026-11-23"))
    cli("case", "withdraw", case, "--as", "alice", "--reason", '=HYPERLINK("http://x")')
    trail = _rows(cli("case", "show", case, "--format", "csv").stdout)
    assert trail[-1]["reason"] == '\'=HYPERLINK("http://x")'
    listed = _rows(cli("case", "list", "--format", "csv").stdout)
    assert listed[0]["id"] == case and listed[0]["working_days_left"] == ""


def test_an_unknown_format_is_named_and_refused(cli: base.Cli) -> None:
    result = cli("case", "list", "--format", "xml", expect=2)
    assert "输出格式" in result.stderr and "table、json、csv" in result.stderr
    assert "Traceback" not in result.stderr
