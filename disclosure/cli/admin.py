"""Administration commands: database, users, calendar, deadline file, audit, demo."""

from __future__ import annotations

import calendar as month_calendar
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.rich_utils
from rich.table import Table

from disclosure.cli.app import (
    Encoding,
    agency_app,
    app,
    audit_app,
    calendar_app,
    cli_via,
    db_app,
    label_of,
    load_settings,
    open_app,
    today_of,
    user_app,
)
from disclosure.cli.console import err, out, safe
from disclosure.cli.output import ListingFormat, check_listing_format, emit
from disclosure.errors import ConfigurationError, RuleViolation
from disclosure.services.unit_of_work import App
from disclosure.workflow.agency import AGENCY_LABELS
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.states import (
    ROLE_LABELS,
)

# -- db ----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新版本（首次使用时自动执行）。"""
    from disclosure.services.database import upgrade_schema

    schema = upgrade_schema(load_settings())
    out.print(f"数据库：{safe(schema.database)}")
    if schema.before == schema.head:
        out.print(f"数据库结构已是最新版本（{schema.head}）。")
    else:
        out.print(f"数据库结构已从 {schema.before or '空库'} 升级到 {schema.head}。")


@db_app.command("current")
def db_current() -> None:
    """显示数据库结构的当前版本。"""
    from disclosure.services.database import schema_state

    schema = schema_state(load_settings())
    out.print(f"当前版本：{schema.before or '空库'}；最新版本：{schema.head}")


# -- users -------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="用户名（--as 使用）")],
    role: Annotated[
        str, typer.Option(help="clerk 经办人 / supervisor 负责人 / auditor 审计 / admin 系统管理员")
    ],
    display_name: Annotated[str, typer.Option(help="姓名")] = "",
    agency: Annotated[
        list[str] | None,
        typer.Option("--agency", help="所属机关代码（可重复）；只有一个机关时可省略"),
    ] = None,
    county: Annotated[
        bool,
        typer.Option("--county", help="县级用户：可查看全部机关（负责人、审计、管理员）"),
    ] = False,
    password_stdin: PasswordStdin = False,
    email: Annotated[str | None, typer.Option(help="电子邮箱（接收每日待办摘要）")] = None,
) -> None:
    """新增用户，并设置登录密码（终端中提示输入，或用 --password-stdin 从标准输入读取）。"""
    from disclosure.services import cases

    password = read_password(name, password_stdin)
    cases.add_user(
        open_app(), name, role, display_name, agencies=agency, all_agencies=county,
        password=password, email=email,
    )  # fmt: skip
    out.print(f"已新增用户 {safe(name)}（{safe(label_of(ROLE_LABELS, role))}）。")
    if password is None:
        out.print(
            f"未设置密码：该用户不能登录网页；可用 disclosure user password {safe(name)} 设置。"
        )


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="从标准输入读取密码（一行），用于脚本"),
]


def read_password(name: str, from_stdin: bool, *, required: bool = False) -> str | None:
    """The new password: one line of stdin, or typed twice at a terminal (None: no terminal
    and no --password-stdin, so the user gets no password)."""
    import sys

    from disclosure.services.auth import check_password_rules

    if from_stdin:
        try:
            line = sys.stdin.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError):
            raise RuleViolation(
                "password", "unreadable", "无法从标准输入读取密码（须为一行 UTF-8 文本）"
            ) from None
        return check_password_rules(line, name)
    if not sys.stdin.isatty():
        if required:
            raise RuleViolation(
                "password", "required", "请在终端中运行，或用 --password-stdin 提供密码"
            )
        return None
    while True:
        first = typer.prompt("密码（至少10个字符）", hide_input=True)
        try:
            check_password_rules(first, name)
        except RuleViolation as refused:
            err.print(refused.message)
            continue
        if typer.prompt("再次输入密码", hide_input=True) == first:
            return str(first)
        err.print("两次输入的密码不一致，请重新输入")


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="用户名")], password_stdin: PasswordStdin = False
) -> None:
    """设置或重置用户的登录密码（该用户的网页登录随之失效）。"""
    from disclosure.services import auth

    password = read_password(name, password_stdin, required=True)
    assert password is not None
    auth.set_password(open_app(), name, password, by=operator(), channel=auth.Channel.CLI)
    out.print(f"已为 {safe(name)} 设置新密码。")


@user_app.command("email")
def user_email(
    name: Annotated[str, typer.Argument(help="用户名")],
    email: Annotated[str, typer.Option(help="电子邮箱（空字符串表示不再发送摘要）")],
) -> None:
    """设置用户接收每日待办摘要的电子邮箱。"""
    from disclosure.services.digest import set_email

    set_email(open_app(), name, email)
    out.print(
        f"已为 {safe(name)} 设置电子邮箱。" if email.strip() else f"{safe(name)} 不再接收摘要邮件。"
    )


@user_app.command("lock")
def user_lock(name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """锁定用户：不能再登录，已登录的会话立即失效，接口令牌拒绝使用。"""
    from disclosure.services import auth

    auth.lock(open_app(), name, by=operator(), channel=auth.Channel.CLI)
    out.print(f"已锁定 {safe(name)}。")


@user_app.command("unlock")
def user_unlock(name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """解除锁定（包括连续登录失败造成的锁定）。"""
    from disclosure.services import auth

    auth.unlock(open_app(), name, by=operator(), channel=auth.Channel.CLI)
    out.print(f"已解除 {safe(name)} 的锁定。")


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="用户名")],
    label: Annotated[str, typer.Option(help="令牌用途，如“档案系统对接”")],
) -> None:
    """为用户创建接口令牌（只显示这一次；请求头 Authorization: Bearer <令牌>）。"""
    from disclosure.services import auth

    token = auth.create_token(open_app(), name, label, by=operator(), channel=auth.Channel.CLI)
    out.print(f"已为 {safe(name)} 创建接口令牌（只显示这一次，请妥善保存）：")
    print(token)


@user_app.command("revoke-token")
def user_revoke_token(
    name: Annotated[str, typer.Argument(help="用户名")],
    token_id: Annotated[
        int,
        typer.Option("--token", help="令牌编号（见 disclosure user tokens）", min=1, max=2**31 - 1),
    ],
) -> None:
    """撤销接口令牌。"""
    from disclosure.services import auth

    auth.revoke_token(open_app(), name, token_id, by=operator(), channel=auth.Channel.CLI)
    out.print(f"已撤销 {safe(name)} 的令牌 {token_id}。")


@user_app.command("tokens")
def user_tokens(name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """列出用户的接口令牌（不显示令牌本身）。"""
    from disclosure.services import auth

    table = Table("编号", "用途", "创建时间", "最近使用", "状态")
    for token in auth.tokens_of(open_app(), name):
        table.add_row(
            str(token.id), safe(token.label), token.created_at.strftime("%Y-%m-%d %H:%M"),
            token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "—",
            "已撤销" if token.revoked_at else "有效",
        )  # fmt: skip
    out.print(table)


def operator() -> str:
    """Who ran the command on the server, for the sign-in log."""
    return cli_via().os_user or "cli"


@user_app.command("list")
def user_list() -> None:
    """列出用户。"""
    from disclosure.services import cases

    table = Table("用户名", "姓名", "角色")
    for user in cases.list_users(open_app()):
        table.add_row(
            safe(user.name), safe(user.display_name), safe(label_of(ROLE_LABELS, user.role))
        )
    out.print(table)


# -- calendar ----------------------------------------------------------------------------


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Option(help="机关代码：2–20个小写字母、数字或“-”，如 shj")],
    name: Annotated[str, typer.Option(help="机关名称（打印在文书上）")],
    short_name: Annotated[str, typer.Option(help="机关简称")],
    number_prefix: Annotated[str, typer.Option(help="文号前缀，如 罗审依申")],
    address: Annotated[str, typer.Option(help="机关地址")],
    contact: Annotated[str, typer.Option(help="联系人")],
    phone: Annotated[str, typer.Option(help="联系电话")],
    reconsideration_body: Annotated[str, typer.Option(help="行政复议机关")],
    court: Annotated[str, typer.Option(help="管辖法院")],
    fee_payment: Annotated[str, typer.Option(help="缴费方式说明（印在收费通知上）")],
    fee_scale: Annotated[str, typer.Option(help="收费方式：count 按件 / volume 按量")] = "volume",
    template_dir: Annotated[str | None, typer.Option(help="文书模板覆盖目录")] = None,
    retention_years: Annotated[
        int, typer.Option(help="卷宗保存年限：归档后保存多少年", min=1, max=100)
    ] = 10,
) -> None:
    """新增一个机关（部门）：其文书、文号、收费方式和人员各自独立。"""
    from disclosure.services.agencies import add_agency

    data = {
        "code": code, "name": name, "short_name": short_name, "number_prefix": number_prefix,
        "address": address, "contact": contact, "phone": phone,
        "reconsideration_body": reconsideration_body, "court": court,
        "fee_payment": fee_payment, "fee_scale": fee_scale, "template_dir": template_dir,
        "retention_years": retention_years,
    }  # fmt: skip
    added = add_agency(open_app(), {k: v for k, v in data.items() if v is not None})
    out.print(f"已新增机关 {safe(added.profile.name)}（{safe(added.profile.code)}）。")


def _agency_row(view: Any) -> dict[str, Any]:
    p = view.profile
    return {
        "code": p.code, "name": p.name, "short_name": p.short_name,
        "number_prefix": p.number_prefix, "fee_scale": p.fee_scale.value, "cases": view.cases,
        "address": p.address, "contact": p.contact, "phone": p.phone,
        "reconsideration_body": p.reconsideration_body, "court": p.court,
        "fee_payment": p.fee_payment, "template_dir": p.template_dir,
    }  # fmt: skip


@agency_app.command("list")
def agency_list(fmt: ListingFormat = "table") -> None:
    """列出全部机关及其案件数。"""
    from disclosure.services.agencies import list_agencies

    check_listing_format(fmt)
    rows = [_agency_row(view) for view in list_agencies(open_app())]

    def table() -> Table:
        shown = Table("代码", "名称", "简称", "文号前缀", "收费方式", "案件数", title="机关")
        for row in rows:
            shown.add_row(*(safe(row[k]) for k in
                            ("code", "name", "short_name", "number_prefix", "fee_scale", "cases")))  # fmt: skip
        return shown

    columns = ["code", "name", "short_name", "number_prefix", "fee_scale", "cases", "address",
               "contact", "phone", "reconsideration_body", "court", "fee_payment", "template_dir"]  # fmt: skip
    emit(fmt, table=table, data=rows, rows=rows, columns=columns)


@agency_app.command("show")
def agency_show(
    code: Annotated[str, typer.Argument(help="机关代码")], fmt: ListingFormat = "table"
) -> None:
    """显示一个机关的全部信息。"""
    from disclosure.services.agencies import get_agency

    check_listing_format(fmt)
    row = _agency_row(get_agency(open_app(), code))

    def table() -> Table:
        shown = Table("项目", "内容", title=f"机关 {safe(row['name'])}")
        for key, label in AGENCY_LABELS.items():
            shown.add_row(label, safe(row.get(key) or "—"))
        shown.add_row("案件数", str(row["cases"]))
        return shown

    emit(fmt, table=table, data=row, rows=[row], columns=list(row))


@calendar_app.command("show")
def calendar_show(year: Annotated[int, typer.Argument(help="年份，如 2026")]) -> None:
    """按月显示工作日历：节假日（休）、调休上班日（班）及其来源。"""
    cal = load_settings().calendar
    if not 2000 <= year <= 2099:
        raise RuleViolation("year", "range", f"年份须在2000至2099之间，实为{year}")
    special = {s.day: s for s in cal.special_days(year)}
    out.print(f"[bold]{year}年工作日历[/bold]  [red]休[/red]=法定节假日  [blue]班[/blue]=调休上班")
    if year > cal.coverage_year:
        out.print(
            f"[yellow]注意：{year}年节假日尚未公布（日历覆盖至{cal.coverage_year}年），"
            "仅按周末计算，期限为临时结果。[/yellow]"
        )
    for month in range(1, 13):
        grid = Table(title=f"{month}月", show_edge=False, pad_edge=False)
        for head in ("一", "二", "三", "四", "五", "六", "日"):
            grid.add_column(head, justify="right", width=4)
        for week in month_calendar.Calendar().monthdayscalendar(year, month):
            cells = []
            for day_number in week:
                if day_number == 0:
                    cells.append("")
                    continue
                day = date(year, month, day_number)
                weekend, working = day.weekday() >= 5, cal.is_working_day(day)
                if not working and (day in special or not weekend):
                    cells.append(f"[red]{day_number}休[/red]")
                elif working and weekend:
                    cells.append(f"[blue]{day_number}班[/blue]")
                elif not working:
                    cells.append(f"[dim]{day_number}[/dim]")
                else:
                    cells.append(str(day_number))
            grid.add_row(*cells)
        out.print(grid)
    table = Table("日期", "类别", "名称", "来源", title=f"{year}年特殊日期")
    for item in special.values():
        if not item.is_working:
            kind = "[red]节假日[/red]"
        elif item.day.weekday() >= 5:
            kind = "[blue]调休上班[/blue]"
        else:
            kind = "工作日"
        table.add_row(item.day.isoformat(), kind, safe(item.name), safe(item.source))
    out.print(table)


# -- deadlines ---------------------------------------------------------------------------


@app.command("deadline")
def deadline(
    json_file: Annotated[Path, typer.Option("--json", help="期限算例文件（deadlines.json 格式）")],
    encoding: Encoding = None,
) -> None:
    """按工作流所用的同一函数计算答复期限，输出 JSON 列表（忽略输入中的 due）。"""
    from disclosure.input_files import read_json_file
    from disclosure.services.deadline_file import compute_data

    settings = load_settings()
    data = read_json_file(json_file, "--json", encoding=encoding)
    results, problems = compute_data(data, settings.calendar, settings.rules)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    for problem in problems:
        err.print(f"第{problem['index']}项 {safe(problem['field'])}：{safe(problem['message'])}")
    if problems:
        raise typer.Exit(2)


# -- audit -------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    case: Annotated[int | None, typer.Option(help="只核验一个案件", min=1, max=2**31 - 1)] = None,
    agency: Annotated[str | None, typer.Option(help="只核验一个机关的案件（机关代码）")] = None,
    against: Annotated[
        Path | None, typer.Option(help="外部检查点目录：与其中存档的根哈希比对（只读）")
    ] = None,
    fmt: ListingFormat = "table",
) -> None:
    """重新计算哈希链并核对签名，指出第一个被改动或删除的事件；核对文号连续、用户权限与检查点。"""
    from disclosure.services.audit import verify_trail
    from disclosure.services.checkpoints import verify_against

    check_listing_format(fmt)
    service = open_app()
    checked, breaks = verify_trail(service, case, agency)
    compared = None
    if against is not None:
        report = verify_against(service, against)
        compared, breaks = report.compared, breaks + report.breaks
    rows = [{"case_id": b.case_id, "seq": b.seq, "problem": b.problem} for b in breaks]
    if fmt != "table":
        data = {"checked": checked, "intact": not breaks, "breaks": rows}
        if compared is not None:
            data["anchors_compared"] = compared
        emit(fmt, data=data, rows=rows, columns=["case_id", "seq", "problem"])
    elif not breaks:
        anchored = f"，与外部存档的{compared}个检查点一致" if compared is not None else ""
        out.print(f"[green]核验通过[/green]：{checked}件案件的轨迹完整，未发现改动{anchored}。")
        from disclosure.services.anonymise import anonymised_cases

        for done in anonymised_cases(service):
            out.print(
                f"案件{done.case_id}的个人信息已于{done.at:%Y-%m-%d %H:%M}（UTC）"
                f"由{safe(done.by)}作匿名处理：{safe(done.reason)}"
            )
    else:
        for item in breaks:
            err.print(f"[red]{item.where}：{safe(item.problem)}[/red]")
        cases_broken = len({b.case_id for b in breaks if b.case_id is not None})
        err.print(
            f"核验未通过：{cases_broken}/{checked}件案件的轨迹被破坏，共{len(breaks)}处问题。"
        )
    if breaks:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """立即生成检查点：固定自上次以来变动案件的轨迹末条哈希，并写入外部目录。"""
    from disclosure.services.checkpoints import folder_of, take

    service = open_app()
    made = take(service)
    if made is None:
        out.print("自上次检查点以来没有案件变动，未生成新检查点。")
        return
    out.print(
        f"已生成第{made.seq}号检查点：{made.case_count}件案件，根哈希 {made.root}；"
        f"已写入 {safe(str(folder_of(service)))}"
    )


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """在审计密钥文件末尾加一把新密钥：此后的记录用它签名，旧密钥仍用于核验。"""
    from disclosure.keys import rotate_key_file

    settings = load_settings()
    if settings.audit_key.get_secret_value():
        raise ConfigurationError(
            field="DISCLOSURE_AUDIT_KEY",
            message="审计密钥由环境变量 DISCLOSURE_AUDIT_KEY 给出，不能轮换密钥文件；请改用密钥文件",
        )
    key_id = rotate_key_file(settings.audit_key_file)
    out.print(
        f"已加入新密钥 {key_id}（{safe(str(settings.audit_key_file))}）；请把该文件同步到每个节点。"
    )


# -- demo --------------------------------------------------------------------------------


@app.command("demo")
def demo(
    cases_count: Annotated[
        int, typer.Option("--cases", help="演示案件数", min=1, max=100000)
    ] = 200,
) -> None:
    """载入演示数据（约200件，覆盖所有状态）；已载入则不重复。"""
    from rich.progress import Progress

    from disclosure.services.demo import demo_accounts, load_demo

    service = App.open(load_settings(), create=True)
    today = today_of(service.settings)
    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("载入演示案件", total=cases_count)
        created = load_demo(service, today, cases_count, lambda: progress.advance(task))
    if created:
        out.print(f"已载入 {created} 件演示案件（以 {cn_date(today)} 为今天）。")
    else:
        out.print("演示数据已存在，未重复载入。")
    table = Table("用户名", "角色", "密码", title="演示账户（仅存在于演示数据库）")
    for name, role, password in demo_accounts():
        table.add_row(name, label_of(ROLE_LABELS, role), password)
    out.print(table)
