"""The ``disclosure`` command as a clerk runs it: a subprocess, real database, Chinese output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from disclosure.workflow.states import STATE_LABELS, State

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "deadlines.json"
ID_NUMBER = "11010519491231002X"


class Cli:
    def __init__(self, database_url: str) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")},
            "DISCLOSURE_DATABASE_URL": database_url,
            "DISCLOSURE_TODAY": "2026-11-24",
            "COLUMNS": "200",
        }

    def __call__(self, *args: str, expect: int = 0, **env: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "disclosure", *args],
            capture_output=True,
            text=True,
            env={**self.env, **env},
            timeout=120,
        )
        assert result.returncode == expect, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
        return result


@pytest.fixture
def cli(database_url: str) -> Cli:
    run = Cli(database_url)
    run("db", "upgrade")  # only `db upgrade` (and `demo`) may create the schema
    return run


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    run = Cli(f"sqlite:///{tmp_path / 'cli.db'}")
    run("db", "upgrade")
    return run


def _register(cli: Cli, received: str = "2026-06-05") -> int:
    result = cli(
        "case",
        "register",
        "--as",
        "alice",
        "--applicant-kind",
        "person",
        "--name",
        "张三",
        "--id-type",
        "resident_id",
        "--id-number",
        ID_NUMBER,
        "--phone",
        "13800000000",
        "--description",
        "2025年度部门预算执行审计报告",
        "--delivery-form",
        "paper",
        "--delivery-method",
        "pickup",
        "--channel",
        "in_person",
        "--received-on",
        received,
    )
    assert "已登记案件" in result.stdout and ID_NUMBER not in result.stdout
    return int(result.stdout.split("已登记案件")[1].split("，")[0].strip())


def test_a_case_runs_from_registration_to_archive_through_the_cli(cli: Cli) -> None:
    cli("db", "upgrade")
    assert "已是最新版本" in cli("db", "upgrade").stdout
    for name, role in (("alice", "clerk"), ("carol", "clerk"), ("bob", "supervisor")):
        cli("user", "add", name, "--role", role)
    case = str(_register(cli))
    steps = [
        ("review", "alice", "2026-06-05", ()),
        (
            "request-correction",
            "alice",
            "2026-06-08",
            ("--item", "请写明年度", "--item", "请写明项目"),
        ),
        ("receive-correction", "alice", "2026-06-17", ()),
        ("consult-third-party", "alice", "2026-06-18", ("--party", "福州闽江建设工程有限公司")),
        ("third-party-replied", "alice", "2026-06-18", ("--opinion", "agree")),
        ("consult-agency", "carol", "2026-06-18", ("--party", "示例市财政局")),
        ("agency-replied", "carol", "2026-06-18", ()),
        ("issue-fee", "alice", "2026-06-25", ("--pages", "120")),
        ("fee-paid", "alice", "2026-07-15", ()),
    ]
    # Each step is recorded on its own day (a back-dated step needs a supervisor and a reason).
    for command, actor, on, extra in steps:
        cli("case", command, case, "--as", actor, "--on", on, *extra, DISCLOSURE_TODAY=on)
    extended = cli(
        "case",
        "extend",
        case,
        "--days",
        "8",
        "--as",
        "bob",
        "--on",
        "2026-07-16",
        "--reason",
        "涉及多年度档案",
        DISCLOSURE_TODAY="2026-07-16",
    )
    assert "→ 2026年8月17日" in extended.stdout
    cli(
        "case",
        "draft-reply",
        case,
        "--outcome",
        "disclose",
        "--reason-code",
        "provided",
        "--detail",
        "现将所申请信息随本答复书一并提供。",
        "--as",
        "alice",
        "--on",
        "2026-08-10",
        DISCLOSURE_TODAY="2026-08-10",
    )
    refused = cli("case", "approve", case, "--as", "alice", "--on", "2026-08-10", expect=2,
                  DISCLOSURE_TODAY="2026-08-10")  # fmt: skip
    assert "只能由负责人办理" in refused.stderr
    for command, actor, on in (
        ("approve", "bob", "2026-08-11"),
        ("send", "alice", "2026-08-12"),
        ("archive", "carol", "2026-08-20"),
    ):
        cli("case", command, case, "--as", actor, "--on", on, DISCLOSURE_TODAY=on)

    shown = cli("case", "show", case).stdout
    assert STATE_LABELS[State.ARCHIVED] in shown
    assert "补正后自2026年6月17日起算20个工作日" in shown and "缴费暂停14个工作日" in shown
    assert "110105********002X" in shown and ID_NUMBER not in shown
    # The trail names each step in Chinese, never by its trigger.
    for label in ("登记申请", "要求补正", "收到缴费", "批准延长答复期限", "归档"):
        assert label in shown
    for trigger in ("register", "request_correction", "fee_paid"):
        assert trigger not in shown
    assert "核验通过" in cli("audit", "verify").stdout
    assert "核验通过" in cli("audit", "verify", "--case", case).stdout
    assert case in cli("case", "list", "--state", "archived").stdout


def test_list_filters_overdue_and_due_soon(sqlite_cli: Cli) -> None:
    sqlite_cli("user", "add", "alice", "--role", "clerk")
    overdue = _register(sqlite_cli, "2026-09-01")
    soon = _register(sqlite_cli, "2026-10-30")
    listed = sqlite_cli("case", "list", "--overdue").stdout
    assert f"│ {overdue} " in listed and f"│ {soon} " not in listed and "超期" in listed
    listed = sqlite_cli("case", "list", "--due-within", "5").stdout
    assert f"│ {soon} " in listed and f"│ {overdue} " not in listed


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            (
                "case",
                "register",
                "--as",
                "alice",
                "--applicant-kind",
                "person",
                "--name",
                "张三",
                "--id-type",
                "resident_id",
                "--id-number",
                "110105194912310021",
                "--phone",
                "1380000",
                "--description",
                "x",
                "--delivery-form",
                "paper",
                "--delivery-method",
                "pickup",
                "--channel",
                "in_person",
                "--received-on",
                "2026-06-05",
            ),
            {},
            "身份证明号码",
        ),
        (
            ("case", "register", "--as", "alice", "--from-file", "/nonexistent.json"),
            {},
            "无法读取文件",
        ),
        (("case", "review", "1", "--as", "alice", "--on", "2026-13-01"), {}, "不是有效日期"),
        (("case", "review", "999", "--as", "alice"), {}, "案件999不存在"),
        (("case", "review", "1"), {}, "--as"),
        (("case", "list", "--state", "nonsense"), {}, "状态“nonsense”无效"),
        (("case", "extend", "1", "--as", "bob"), {}, "缺少必填参数 --days"),
        (("calendar", "show", "1999"), {}, "年份须在2000至2099之间"),
        (("overview",), {"DISCLOSURE_APPROACHING_DAYS": "x"}, "DISCLOSURE_APPROACHING_DAYS"),
        (("overview",), {"DISCLOSURE_DATABASE_URL": "mysql://x"}, "DISCLOSURE_DATABASE_URL"),
        (("overview",), {"DISCLOSURE_DATABASE_URL": "postgresql://h:notaport/x"}, "地址格式无效"),
        (("calendar", "show", "2026"), {"DISCLOSURE_CALENDAR_OVERRIDE": "/tmp"}, "日历覆盖文件"),
        (("case", "show", "99999999999999999999"), {}, "须不大于2147483647"),
        (("case", "list", "--limit", "-1"), {}, "须不小于1"),
        (("case", "show", "abc"), {}, "须为整数"),
        (("case", "extend", "1", "--as", "bob", "--bogus"), {}, "没有选项 --bogus"),
        (("user", "add", "bad name", "--role", "clerk"), {}, "用户名须为"),
        (("user", "add", "eve", "--role", "boss"), {}, "角色“boss”无效"),
    ],
)
def test_bad_input_gets_a_chinese_message_and_exit_code_2(
    sqlite_cli: Cli, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    sqlite_cli("user", "add", "alice", "--role", "clerk")
    result = sqlite_cli(*args, expect=2, **env)
    assert message in result.stderr


def test_deadline_json_reproduces_every_worked_example(sqlite_cli: Cli) -> None:
    examples = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    result = json.loads(sqlite_cli("deadline", "--json", str(EXAMPLES)).stdout)
    assert [r["due"] for r in result] == [e["due"] for e in examples]
    assert all(r["provisional"] is False for r in result)


def test_deadline_json_reports_a_malformed_item_and_computes_the_rest(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    items = [
        {"received": "2026-05-25", "events": [], "due": "ignored"},
        {"received": "2026-05-25", "events": [["extend", "2026-05-26"]]},
        {"received": "2026-02-30", "events": []},
        {"received": "2026-12-20", "events": []},
    ]
    path = tmp_path / "in.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    result = sqlite_cli("deadline", "--json", str(path), expect=2)
    out = json.loads(result.stdout)
    assert out[0] == {"due": "2026-06-23", "provisional": False}
    assert out[1]["error"]["field"] == "events[0][2]" and out[1]["due"] is None
    assert out[2]["error"]["field"] == "received"
    assert out[3]["provisional"] is True and out[3]["due"].startswith("2027-01")
    assert "第1项 events[0][2]" in result.stderr and "第2项 received" in result.stderr


def test_calendar_show_marks_holidays_make_up_days_and_sources(sqlite_cli: Cli) -> None:
    shown = sqlite_cli("calendar", "show", "2026").stdout
    assert "4班" in shown and "1休" in shown and "国庆节调休上班" in shown
    assert "chinese-calendar" in shown
    assert "尚未公布" in sqlite_cli("calendar", "show", "2027").stdout


def test_demo_loads_every_state_once(sqlite_cli: Cli) -> None:
    assert "已载入 200 件" in sqlite_cli("demo").stdout
    assert "未重复载入" in sqlite_cli("demo").stdout
    board = sqlite_cli("overview").stdout
    assert "共200件" in board
    for state in State:
        assert STATE_LABELS[state] in board, state
    assert "已超过答复期限" in board and "临近答复期限" in board


def test_register_from_a_json_file_with_an_option_overriding_it(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    sqlite_cli("user", "add", "alice", "--role", "clerk")
    path = tmp_path / "application.json"
    path.write_text(
        json.dumps(
            {
                "applicant_kind": "commercial",
                "name": "福州闽江建设工程有限公司",
                "id_type": "credit_code",
                "id_number": "91350123MA2Y8K1W3U",
                "email": "office@example.cn",
                "description": "城关棚户区改造项目审计报告",
                "delivery_form": "electronic",
                "delivery_method": "email",
                "channel": "online",
                "received_on": "2026-11-21",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = sqlite_cli(
        "case", "register", "--as", "alice", "--from-file", str(path), "--received-on", "2026-11-23"
    )
    assert "福州闽江建设工程有限公司" in result.stdout
    assert "2026年12月21日" in result.stdout  # 20 working days after Monday 2026-11-23
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": ', encoding="utf-8")
    assert (
        "不是有效的 JSON"
        in sqlite_cli("case", "register", "--as", "alice", "--from-file", str(bad), expect=2).stderr
    )
    path.write_text(json.dumps({"nickname": "x"}), encoding="utf-8")
    assert (
        "未知字段"
        in sqlite_cli(
            "case", "register", "--as", "alice", "--from-file", str(path), expect=2
        ).stderr
    )


def test_letters_are_listed_printed_and_exported_in_batch(sqlite_cli: Cli, tmp_path: Path) -> None:
    sqlite_cli("user", "add", "alice", "--role", "clerk")
    first = _register(sqlite_cli, "2026-11-02")
    _register(sqlite_cli, "2026-11-03")
    listed = sqlite_cli("letter", "list", str(first)).stdout
    assert "示审依申登〔2026〕1号" in listed and "receipt" in listed
    for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK"), ("html", b"<!DOCTYPE html>")):
        out = tmp_path / f"receipt.{fmt}"
        sqlite_cli("letter", "print", str(first), "receipt", "--format", fmt, "--out", str(out))
        assert out.read_bytes().startswith(magic)
    by_number = tmp_path / "by-number.html"
    sqlite_cli("letter", "print", str(first), "示审依申登〔2026〕1号", "--format", "html",
               "--out", str(by_number))  # fmt: skip
    assert by_number.read_bytes() == (tmp_path / "receipt.html").read_bytes()
    batch = tmp_path / "batch"
    result = sqlite_cli("letter", "batch", "--state", "registered", "--out", str(batch))
    assert "已导出 2/2 份文书" in result.stdout
    assert sorted(p.suffix for p in batch.iterdir()) == [".pdf", ".pdf"]
    bad = sqlite_cli("letter", "print", str(first), "reply", expect=2)
    assert "没有“reply”文书" in bad.stderr and "receipt" in bad.stderr
    assert "格式“odt”无效" in sqlite_cli("letter", "print", str(first), "receipt", "--format", "odt",
                                         expect=2).stderr  # fmt: skip
    assert "状态“x”无效" in sqlite_cli("letter", "batch", "--state", "x", "--out", str(batch),
                                       expect=2).stderr  # fmt: skip


def test_scan_once_then_alerts_and_the_calendar_feed(sqlite_cli: Cli, tmp_path: Path) -> None:
    sqlite_cli("user", "add", "alice", "--role", "clerk")
    sqlite_cli("user", "add", "bob", "--role", "supervisor")
    overdue = _register(sqlite_cli, "2026-09-01")
    scanned = sqlite_cli("scheduler", "scan-once").stdout
    assert "已超过答复期限" in scanned and "新增 2 条" in scanned  # and the correction notice
    assert "新增 0 条" in sqlite_cli("scheduler", "scan-once").stdout
    listed = sqlite_cli("alerts", "--as", "bob").stdout
    assert f"│ {overdue} " in listed and "张*" in listed and ID_NUMBER not in listed
    assert "提醒类别“nope”无效" in sqlite_cli("alerts", "--as", "bob", "--kind", "nope",
                                            expect=2).stderr  # fmt: skip
    replayed = sqlite_cli("scheduler", "scan-once", "--today", "2026-08-01").stdout
    assert "试算，未保存" in replayed and "解除 2 条" in replayed
    assert f"│ {overdue} " in sqlite_cli("alerts", "--as", "bob").stdout  # replay changed nothing
    missing_dir = sqlite_cli("alerts", "ics", "--out", str(tmp_path / "no" / "x.ics"), expect=2)
    assert "输出文件夹" in missing_dir.stderr and "不存在" in missing_dir.stderr
    assert (
        "文书类别“nope”无效"
        in sqlite_cli(
            "letter",
            "batch",
            "--state",
            "registered",
            "--kind",
            "nope",
            "--out",
            str(tmp_path),
            expect=2,
        ).stderr
    )
    assert "视图“boss”无效" in sqlite_cli("alerts", "--as", "bob", "--role", "boss",
                                        expect=2).stderr  # fmt: skip
    feed = tmp_path / "limits.ics"
    sqlite_cli("alerts", "ics", "--out", str(feed))
    assert feed.read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")
    replay = sqlite_cli("scheduler", "scan-once", "--today", "2026-13-40", expect=2)
    assert "不是有效日期" in replay.stderr


def test_an_interrupted_write_leaves_no_partial_file(tmp_path: Path) -> None:
    from disclosure.files import write_private

    target = tmp_path / "letter.pdf"
    with pytest.raises(TypeError):  # the write fails after the .part file was opened
        write_private(target, "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    write_private(target, b"%PDF-1.7")
    assert [p.name for p in tmp_path.iterdir()] == ["letter.pdf"]


def test_contacts_urges_and_the_digest_from_the_cli(sqlite_cli: Cli) -> None:
    for name, role in (("alice", "clerk"), ("bob", "supervisor")):
        sqlite_cli("user", "add", name, "--role", role)
    case_id = _register(sqlite_cli, "2026-11-20")
    sqlite_cli("case", "record-contact", str(case_id), "--as", "alice", "--on", "2026-11-23",
               "--contact-method", "phone", "--summary", "电话告知受理情况")  # fmt: skip
    refused = sqlite_cli("case", "record-contact", str(case_id), "--as", "alice",
                         "--contact-method", "fax", "--summary", "传真", expect=2)  # fmt: skip
    assert "--contact-method" in refused.stderr and "联系方式" in refused.stderr
    sqlite_cli("case", "urge", str(case_id), "--as", "bob", "--reason", "请尽快答复")
    shown = sqlite_cli("case", "show", str(case_id), "--format", "json").stdout
    assert [step["trigger"] for step in json.loads(shown)["trail"]][-2:] == [
        "record_contact", "urge",
    ]  # fmt: skip
    bad = sqlite_cli("user", "email", "alice", "--email", "wang at example", expect=2)
    assert "电子邮箱" in bad.stderr
    assert "用户名" in sqlite_cli("user", "email", "nobody", "--email", "a@b.cn", expect=2).stderr
    sqlite_cli("user", "email", "alice", "--email", "wang@example.gov.cn")
    preview = sqlite_cli("scheduler", "digest", "--dry-run").stdout
    assert "发给 alice" in preview and "请尽快答复" in preview and "共1人" in preview
    off = sqlite_cli("scheduler", "digest").stdout
    assert "未配置发信服务器" in off
