"""Issue #8 through the command line, as a clerk types it: encodings, full-width numbers,
back-dating, the third party's opinion, agreed dates, fees, repeats, and where files go."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import ID_NUMBER, Cli, _register


@pytest.fixture
def clerk_cli(tmp_path: Path) -> Cli:
    run = Cli(f"sqlite:///{tmp_path / 'cli.db'}")
    run("db", "upgrade")
    run("user", "add", "alice", "--role", "clerk")
    run("user", "add", "bob", "--role", "supervisor")
    return run


APPLICATION = {
    "applicant_kind": "person",
    "name": "李四",
    "id_type": "resident_id",
    "id_number": ID_NUMBER,
    "phone": "13800000000",
    "description": "2025年度部门预算执行审计报告",
    "delivery_form": "paper",
    "delivery_method": "pickup",
    "channel": "in_person",
    "received_on": "2026-11-23",
}


def test_a_gbk_file_is_named_as_such_and_read_with_its_encoding(
    clerk_cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "gbk.json"
    path.write_bytes(json.dumps(APPLICATION, ensure_ascii=False).encode("gbk"))
    refused = clerk_cli("case", "register", "--as", "alice", "--from-file", str(path), expect=2)
    assert "UTF-8" in refused.stderr and "gb18030" in refused.stderr
    accepted = clerk_cli(
        "case", "register", "--as", "alice", "--from-file", str(path), "--encoding", "gb18030"
    )
    assert "李四" in accepted.stdout


def test_a_utf8_file_with_a_bom_is_accepted(clerk_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(APPLICATION, ensure_ascii=False).encode())
    assert (
        "已登记案件"
        in clerk_cli("case", "register", "--as", "alice", "--from-file", str(path)).stdout
    )


def test_full_width_numbers_and_dates_are_what_they_look_like(clerk_cli: Cli) -> None:
    case = _register(clerk_cli, "2026-11-23")
    shown = clerk_cli(
        "case", "show", str(case).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    )
    assert f"案件 {case}" in shown.stdout
    reviewed = clerk_cli("case", "review", "１", "--as", "alice", "--on", "２０２６－１１－２４")
    assert "审查中" in reviewed.stdout


def test_a_negative_case_number_is_named_as_a_bad_number(clerk_cli: Cli) -> None:
    result = clerk_cli("case", "show", "-1", expect=2)
    assert "须为正整数" in result.stderr


def test_a_late_entry_needs_a_supervisor_and_a_backdate_reason(clerk_cli: Cli) -> None:
    case = str(_register(clerk_cli, "2026-11-02"))
    refused = clerk_cli("case", "review", case, "--as", "alice", "--on", "2026-11-03", expect=2)
    assert "负责人" in refused.stderr
    done = clerk_cli(
        "case", "review", case, "--as", "bob", "--on", "2026-11-03",
        "--backdate-reason", "纸质登记簿当日已登记，系统录入延迟",
    )  # fmt: skip
    assert "补录" in done.stdout
    trail = clerk_cli("case", "show", case).stdout
    assert "2026-11-03「补录」" in trail


def test_third_party_opinion_agreed_date_and_fee_through_the_cli(clerk_cli: Cli) -> None:
    case = str(_register(clerk_cli, "2026-11-24"))
    clerk_cli("case", "review", case, "--as", "alice")
    clerk_cli("case", "accept", case, "--as", "alice")
    clerk_cli("case", "consult-third-party", case, "--as", "alice", "--party", "某建设公司")
    missing = clerk_cli("case", "third-party-replied", case, "--as", "alice", expect=2)
    assert "--opinion" in missing.stderr
    clerk_cli("case", "third-party-replied", case, "--as", "alice", "--opinion", "object")
    sunday = clerk_cli(
        "case", "set-due", case, "--as", "bob", "--until", "2027-01-31", "--reason", "数量巨大",
        expect=2,
    )  # fmt: skip
    assert "不是工作日" in sunday.stderr
    agreed = clerk_cli(
        "case", "set-due", case, "--as", "bob", "--until", "2027-01-29", "--reason", "数量巨大",
        "--consent", "申请人于2026年11月24日书面同意",
    )  # fmt: skip
    assert "agreed_due" in agreed.stdout
    fee = clerk_cli("case", "issue-fee", case, "--as", "alice", "--pages", "150")
    assert "人民币1700.00元" in fee.stdout
    shown = clerk_cli("case", "show", case).stdout
    assert "信息处理费：人民币1700.00元" in shown and "尚未缴纳" in shown


def test_a_repeat_application_is_flagged_when_registered(clerk_cli: Cli) -> None:
    first = _register(clerk_cli, "2026-11-20")
    result = clerk_cli(
        "case", "register", "--as", "alice", "--applicant-kind", "person", "--name", "张三",
        "--id-type", "resident_id", "--id-number", ID_NUMBER, "--phone", "13800000000",
        "--description", "2025年度部门预算执行审计报告", "--delivery-form", "paper",
        "--delivery-method", "pickup", "--channel", "in_person", "--received-on", "2026-11-23",
    )  # fmt: skip
    assert f"案件 {first}" in result.stderr and "重复申请" in result.stderr


def test_a_command_on_a_missing_database_names_it_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "none.db"
    run = Cli(f"sqlite:///{path}")
    result = run("letter", "print", "201", "receipt", expect=2)
    assert str(path) in result.stderr and "db upgrade" in result.stderr
    assert not path.exists()


def test_the_default_database_lives_in_the_data_folder_not_the_current_one(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")}
    env |= {"DISCLOSURE_DATA_DIR": str(tmp_path / "data"), "DISCLOSURE_TODAY": "2026-11-24"}
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(
        [sys.executable, "-m", "disclosure", "db", "upgrade"], cwd=work, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    database = tmp_path / "data" / "disclosure.db"
    assert database.exists() and not list(work.iterdir())
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
