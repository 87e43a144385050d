"""``disclosure report`` and the anchored trail at the command line (issue #11)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e import test_cli as base


@pytest.fixture
def cli(tmp_path: Path) -> base.Cli:
    run = base.Cli(f"sqlite:///{tmp_path / 'reports.db'}")
    run.env |= {
        "DISCLOSURE_AUDIT_KEY_FILE": str(tmp_path / "audit.keys"),
        "DISCLOSURE_CHECKPOINT_DIR": str(tmp_path / "anchors"),
    }
    run("db", "upgrade")
    run("user", "add", "alice", "--role", "clerk")
    run("user", "add", "bob", "--role", "supervisor")
    return run


def _replied(cli: base.Cli) -> str:
    case = str(base._register(cli, "2026-11-02"))
    for step in (["review"], ["accept"]):
        cli("case", *step, case, "--as", "alice")
    cli("case", "draft-reply", case, "--as", "alice", "--outcome", "withhold",
        "--reason-code", "process_info", "--detail", "属于过程性信息。")  # fmt: skip
    cli("case", "approve", case, "--as", "bob")
    cli("case", "send", case, "--as", "alice")
    return case


def test_the_annual_report_prints_and_writes_every_format(cli: base.Cli, tmp_path: Path) -> None:
    case = _replied(cli)
    open_case = str(base._register(cli, "2026-11-20"))
    shown = cli("report", "annual", "--year", "2026", "--as", "bob").stdout
    assert "2026年政府信息公开工作年度报告" in shown and "属于四类过程性信息" in shown

    cli("report", "annual", "--year", "2026", "--format", "csv", "--out", str(tmp_path / "r.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    by_key = {row[0]: row for row in rows if row}
    assert by_key["一"][-1] == "2" and by_key["三.(三).6"][-1] == "1" and by_key["四"][-1] == "1"

    cli("report", "annual", "--year", "2026", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx"))
    sheet = load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert any("年度报告" in str(cell.value) for row in sheet.iter_rows() for cell in row)

    cli("report", "annual", "--year", "2026", "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")

    explained = cli(
        "report", "explain", "--year", "2026", "--row", "三.(三).6", "--column", "自然人"
    )
    assert f"案件{case}" in explained.stdout and f"案件{open_case}" not in explained.stdout


def test_assessment_figures_and_chart(cli: base.Cli, tmp_path: Path) -> None:
    _replied(cli)
    shown = cli("report", "performance", "--from", "2026-11", "--to", "2026-11").stdout
    assert "按时答复率" in shown and "2026年11月" in shown
    cli("report", "performance", "--from", "2026-01", "--to", "2026-11", "--format", "png",
        "--out", str(tmp_path / "p.png"))  # fmt: skip
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["report", "annual", "--year", "2026", "--format", "xlsx"], "--out"),
        (["report", "annual", "--year", "2026", "--format", "doc"], "格式"),
        (["report", "annual", "--year", "1999"], "--year"),
        (
            ["report", "explain", "--year", "2026", "--row", "三.(九)", "--column", "自然人"],
            "--row",
        ),
        (["report", "explain", "--year", "2026", "--row", "一", "--column", "<b>"], "--column"),
        (["report", "performance", "--from", "2026-12", "--to", "2026-01"], "--from"),
        (["report", "performance", "--from", "2026-1x", "--to", "2026-01"], "--from"),
    ],
)
def test_bad_report_arguments_are_refused_naming_the_option(
    cli: base.Cli, args: list[str], names: str
) -> None:
    result = cli(*args, expect=2)
    assert names in result.stderr and "Traceback" not in result.stderr


def test_a_checkpoint_anchors_the_trail_and_verify_against_checks_it(
    cli: base.Cli, tmp_path: Path
) -> None:
    _replied(cli)
    made = cli("audit", "checkpoint").stdout
    assert "已生成第1号检查点" in made
    assert "没有案件变动" in cli("audit", "checkpoint").stdout
    anchors = str(tmp_path / "anchors")
    verified = json.loads(cli("audit", "verify", "--against", anchors, "--format", "json").stdout)
    assert verified["intact"] and verified["anchors_compared"] == 1
    (tmp_path / "empty").mkdir()
    refused = cli("audit", "verify", "--against", str(tmp_path / "empty"), expect=2)
    assert "外部检查点目录" in refused.stderr and "--against" in refused.stderr


def test_rotating_the_key_keeps_the_trail_verifiable(cli: base.Cli, tmp_path: Path) -> None:
    case = str(base._register(cli, "2026-11-20"))
    rotated = cli("audit", "rotate-key").stdout
    assert "已加入新密钥" in rotated
    keys = [
        line
        for line in (tmp_path / "audit.keys").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(keys) == 2
    cli("case", "review", case, "--as", "alice")
    assert "核验通过" in cli("audit", "verify").stdout


def test_an_archived_case_exports_and_verifies_offline(cli: base.Cli, tmp_path: Path) -> None:
    case = _replied(cli)
    cli("case", "archive", case, "--as", "alice")
    cli("audit", "checkpoint")
    target = tmp_path / "file.zip"
    cli("archive", "export", case, "--out", str(target), "--as", "bob")
    assert (target.stat().st_mode & 0o077) == 0  # personal data: owner only
    # Offline: another data folder, no database at all.
    offline = cli(
        "archive", "verify", str(target), DISCLOSURE_DATABASE_URL="sqlite:////nowhere/x.db"
    )
    assert "卷宗完整" in offline.stdout and "检查点" in offline.stdout
    signed = cli("archive", "verify", str(target), "--with-key")
    assert "签名与审计密钥相符" in signed.stdout
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    broken = cli("archive", "verify", str(tmp_path / "bad.zip"), expect=1)
    assert "卷宗文件核验未通过" in broken.stderr and "Traceback" not in broken.stderr
    missing = cli("archive", "verify", str(tmp_path / "none.zip"), expect=2)
    assert "卷宗文件" in missing.stderr
    refused = cli("archive", "export", _replied(cli), "--out", str(tmp_path / "x.zip"), expect=2)
    assert "尚未归档" in refused.stderr
    cli("case", "withdraw", case, "--as", "alice", "--reason", "x", expect=2)
    cli("archive", "anonymise", case, "--reason", "保存期限届满", "--as", "alice", expect=2)
    done = cli("archive", "anonymise", case, "--reason", "保存期限届满", "--as", "bob")
    assert "已作匿名处理" in done.stdout
    verified = cli("audit", "verify").stdout
    assert "核验通过" in verified and f"案件{case}的个人信息已于" in verified
    again = tmp_path / "again.zip"
    cli("archive", "export", case, "--out", str(again))
    assert "作匿名处理" in cli("archive", "verify", str(again)).stdout
