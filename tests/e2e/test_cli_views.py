"""What the CLI shows (issue #8): the trail, paging, state names, alerts by user, scan lists,
help width and error lines. Subprocesses on a real database, as in ``test_cli``."""

from __future__ import annotations

import re
from datetime import UTC, date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from disclosure.config import Settings
from disclosure.models.tables import AuditEvent
from disclosure.services.unit_of_work import App
from tests.conftest import act
from tests.e2e import test_cli as base


@pytest.fixture
def cli(tmp_path: Path) -> base.Cli:
    run = base.Cli(f"sqlite:///{tmp_path / 'views.db'}")
    run("db", "upgrade")
    for name, role, display in (
        ("alice", "clerk", "王晓梅"),
        ("carol", "clerk", "陈静"),
        ("bob", "supervisor", "李建国"),
    ):
        run("user", "add", name, "--role", role, "--display-name", display)
    return run


def test_the_trail_shows_local_time_business_date_chinese_step_and_who(cli: base.Cli) -> None:
    case = str(base._register(cli, "2026-11-23"))
    cli("case", "review", case, "--as", "alice", "--on", "2026-11-24")
    # A supervisor records a step weeks late, with a reason: the trail marks it 补录.
    cli("case", "accept", case, "--as", "bob", "--on", "2026-11-24")
    app = App.open(Settings.from_env(database_url=cli.env["DISCLOSURE_DATABASE_URL"]))
    act(app, int(case), "extend", "bob", on=date(2026, 11, 24), today=date(2026, 12, 22),
              days=5, reason="档案在外地", backdate_reason="纸质审批单补录")  # fmt: skip
    shown = cli("case", "show", case, DISCLOSURE_TODAY="2026-12-22").stdout
    assert "记录时间（北京时间）" in shown and "办理日期" in shown and "UTC" not in shown
    with app.uow() as uow:
        first = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        assert first is not None
        at = first.at if first.at.tzinfo else first.at.replace(tzinfo=UTC)
    app.close()
    local = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    row = next(line for line in shown.splitlines() if line.startswith("│ 1 "))
    assert local in row and "2026-11-23" in row  # recorded (local) and received, side by side
    assert "登记申请" in row and "王晓梅（alice）" in row
    for label in ("开始审查", "受理办理", "批准延长答复期限", "李建国（bob）"):
        assert label in shown
    extended = next(line for line in shown.splitlines() if "批准延长答复期限" in line)
    assert "2026-11-24「补录」" in extended
    assert "「补录」" not in next(line for line in shown.splitlines() if "开始审查" in line)
    for trigger in ("register", "review", "accept", "extend"):
        assert f" {trigger} " not in shown


def test_the_trail_follows_the_agency_time_zone(cli: base.Cli) -> None:
    case = str(base._register(cli, "2026-11-23"))
    shown = cli("case", "show", case, DISCLOSURE_AGENCY_TIMEZONE="Asia/Urumqi").stdout
    assert "记录时间（Asia/Urumqi）" in shown


def test_case_list_says_how_many_and_how_to_page(cli: base.Cli) -> None:
    ids = [base._register(cli, "2026-11-23") for _ in range(5)]
    first = cli("case", "list", "--limit", "2").stdout
    assert "共 5 件，显示第 1–2 件；下一页：disclosure case list --limit 2 --page 2" in first
    third = cli("case", "list", "--limit", "2", "--page", "3").stdout
    assert "共 5 件，显示第 5–5 件。" in third and "下一页" not in third
    assert f"│ {ids[-1]} " in third and f"│ {ids[0]} " not in third
    beyond = cli("case", "list", "--limit", "2", "--page", "9").stdout
    assert "第 9 页没有案件（共 3 页）" in beyond
    filtered = cli("case", "list", "--state", "已登记", "--limit", "4").stdout
    assert "下一页：disclosure case list --state registered --limit 4 --page 2" in filtered
    assert "共 5 件" in cli("case", "list").stdout and "下一页" not in cli("case", "list").stdout


def test_state_options_take_codes_or_chinese_labels(cli: base.Cli, tmp_path: Path) -> None:
    case = base._register(cli, "2026-11-23")
    assert f"│ {case} " in cli("case", "list", "--state", "已登记").stdout
    assert f"│ {case} " in cli("case", "list", "--state", "registered").stdout
    assert f"│ {case} " not in cli("case", "list", "--state", "办理中").stdout
    batch = cli("letter", "batch", "--state", "已登记", "--out", str(tmp_path / "out"))
    assert "已导出 1/1 份文书" in batch.stdout
    bad = cli("letter", "batch", "--state", "已办结", "--out", str(tmp_path), expect=2).stderr
    assert "状态“已办结”无效" in bad and "办理中" in bad
    assert "办理中" in cli("case", "list", "--help").stdout
    assert "办理中" in cli("letter", "batch", "--help").stdout


def test_a_clerk_sees_the_overdue_replies_of_the_cases_they_handle(cli: base.Cli) -> None:
    mine = base._register(cli, "2026-09-01")  # registered by alice, long overdue
    cli("scheduler", "scan-once")
    own = cli("alerts", "--as", "alice").stdout
    assert f"│ {mine} " in own and "已超过答复期限" in own
    assert f"│ {mine} " not in cli("alerts", "--as", "carol").stdout  # not carol's case
    assert "已超过答复期限" in cli("alerts", "--as", "bob").stdout  # a supervisor sees all
    assert "已超过答复期限" in cli("alerts", DISCLOSURE_USER="alice").stdout
    # The role comes from the user's record: a clerk cannot claim the supervisor's view.
    claimed = cli("alerts", "--as", "alice", "--role", "supervisor", expect=2).stderr
    assert "经办人只能查看经办人视图" in claimed
    narrowed = cli("alerts", "--as", "bob", "--role", "clerk").stdout
    assert f"│ {mine} " not in narrowed  # bob handles no case
    assert "--as" in cli("alerts", expect=2).stderr
    assert "“zoe”不是本系统的用户" in cli("alerts", "--as", "zoe", expect=2).stderr


def test_scan_once_lists_the_cases_that_alert_in_a_dry_run_and_a_real_scan(
    cli: base.Cli,
) -> None:
    case = base._register(cli, "2026-09-01")
    dry = cli("scheduler", "scan-once", "--today", "2026-09-29").stdout
    assert "试算，未保存" in dry
    row = next(
        line for line in dry.splitlines() if line.startswith(f"│ {case} ") and "答复" in line
    )
    assert "今天答复到期" in row and "2026年9月29日" in row and "张*" in row
    assert base.ID_NUMBER not in dry and "张三" not in dry
    real = cli("scheduler", "scan-once").stdout
    row = next(line for line in real.splitlines() if "已超过答复期限" in line)
    assert row.startswith(f"│ {case} ") and "2026年9月29日" in row and "张*" in row
    assert "会提醒的案件（2条）" in real  # and the lapsed correction notice


def test_help_uses_the_width_it_has_and_cuts_nothing(cli: base.Cli) -> None:
    wide = cli("case", "register", "--help", COLUMNS="200").stdout
    line = next(x for x in wide.splitlines() if "--delivery-method" in x)
    assert "获取方式：pickup 自取 / post 邮寄 / email / online" in line
    assert "…" not in wide
    channel = next(x for x in wide.splitlines() if "--channel" in x)
    assert "in_person=当面" in channel
    # Piped without COLUMNS: a wide default, not Rich's 80 columns.
    env = {k: v for k, v in cli.env.items() if k != "COLUMNS"}
    piped = base.Cli(env["DISCLOSURE_DATABASE_URL"])
    piped.env = env
    text = piped("case", "register", "--help").stdout
    assert max(len(x) for x in text.splitlines()) > 100 and "…" not in text
    line = next(x for x in text.splitlines() if "--delivery-method" in x)
    assert "获取方式：pickup 自取 / post 邮寄 / email / online" in line


@pytest.mark.parametrize(
    ("args", "shown", "hidden"),
    [
        (("case", "review", "1", "--as", "alice", "--on", "2026-13-01"), "错误（--on）：办理日期：", "on"),
        (("case", "set-due", "1", "--as", "bob", "--until", "x"), "另行确定的答复期限", "until"),
        (("scheduler", "scan-once", "--today", "x"), "扫描日期", "today"),
        (("case", "list", "--state", "x"), "状态“x”无效", "state"),
        (("case", "review", "999", "--as", "alice"), "案件999不存在", "case"),
        (("case", "review", "1"), "--as", "actor"),
        (("user", "add", "eve", "--role", "boss"), "角色“boss”无效", "role"),
        (("letter", "print", "1", "receipt", "--format", "odt"), "格式“odt”无效", "format"),
        (("case", "register", "--as", "alice", "--from-file", "/nonexistent.json"),
         "文件不存在", "--from-file"),
    ],
)  # fmt: skip
def test_error_lines_name_fields_in_chinese(
    cli: base.Cli, args: tuple[str, ...], shown: str, hidden: str
) -> None:
    base._register(cli, "2026-11-23")
    stderr = cli(*args, expect=2).stderr
    assert shown in stderr
    assert f"（{hidden}）" not in stderr and f"{hidden}：" not in stderr
    assert not re.search(r"No such|Invalid|Missing|Error", stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("case", "extend", "1", "--as", "bob"), "缺少必填参数 --days"),
        (("case", "show"), "缺少必填参数 案件编号"),
        (("case", "show", "abc"), "参数 案件编号 的值无效：须为整数"),
        (("case", "list", "--limit", "0"), "参数 --limit 的值无效：须不小于1"),
        (("case", "list", "--limit"), "选项 --limit 缺少取值"),
        (("case", "list", "--overdue=3"), "选项 --overdue 不接受值"),
        (("case", "extend", "1", "--as", "bob", "--dayz", "3"), "没有选项 --dayz"),
        (("case", "list", "x", "y"), "多余的参数：x y"),
        (("case", "nosuch"), "没有命令“nosuch”"),
    ],
)
def test_usage_errors_are_chinese_and_name_what_was_typed(
    cli: base.Cli, args: tuple[str, ...], message: str
) -> None:
    stderr = cli(*args, expect=2).stderr
    assert message in stderr
    assert not re.search(r"[A-Z][a-z]+ [a-z]+", stderr.split("（运行")[0]), stderr
