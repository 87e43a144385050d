"""Time-limit alerts and the scheduler."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
import typer.rich_utils
from rich.table import Table

from disclosure.cli.app import (
    AgencyCode,
    acting_user,
    alerts_app,
    date_option,
    load_settings,
    open_app,
    scheduler_app,
    today_of,
)
from disclosure.cli.console import aware, days_left, err, out, safe, zone_label
from disclosure.cli.output import ListingFormat, check_listing_format, emit
from disclosure.files import write_private
from disclosure.services.scheduling import SKIPPED_LOCKED, SKIPPED_SLOT_TAKEN
from disclosure.workflow.calendar import cn_date

# -- scheduler and alerts ----------------------------------------------------------------


@scheduler_app.command("run")
def scheduler_run() -> None:
    """在前台运行调度器：按间隔扫描期限并记录每次扫描的数量（Ctrl-C 停止）。"""
    import logging

    from disclosure.scheduler import run_forever

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    run_forever(load_settings())


@scheduler_app.command("scan-once")
def scheduler_scan_once(
    today: Annotated[str | None, typer.Option(help="以该日为今天扫描 YYYY-MM-DD，默认今天")] = None,
) -> None:
    """立即扫描一次（不占用调度间隔），列出会提醒的案件及各类提醒的新增与解除数量。"""
    from disclosure.services.alerts import alerts_holding
    from disclosure.services.scheduling import node_name, run_scan
    from disclosure.workflow.alerts import CONDITIONS

    service = open_app()
    real_today = today_of(service.settings)
    day = date_option(today, "today", real_today)
    dry_run = day != real_today  # replaying another day must not rewrite today's alerts
    outcome = run_scan(service, day, slot=None, node=node_name(), dry_run=dry_run)
    if outcome.counts is None:
        out.print(f"未扫描：{_SKIPPED.get(outcome.skipped or '', safe(outcome.skipped))}")
        return
    holding = alerts_holding(service, day)
    listed = Table("案件", "提醒", "期限", "申请人", "证件号",
                   title=f"{cn_date(day)} 会提醒的案件（{len(holding)}条）")  # fmt: skip
    for row in holding:
        listed.add_row(str(row.case_id), safe(row.condition.label), cn_date(row.limit_date),
                       safe(row.applicant), safe(row.id_masked))  # fmt: skip
    out.print(listed)
    counts = outcome.counts
    table = Table("提醒类别", "新增", title=f"{cn_date(day)} 期限扫描")
    for condition in CONDITIONS:
        table.add_row(condition.label, str(counts.by_condition.get(condition.key, 0)))
    out.print(table)
    out.print(
        f"新增 {counts.raised} 条，解除 {counts.cleared} 条，因日历更新重算 {counts.recomputed} 件。"
    )
    if dry_run:
        out.print(f"（以{cn_date(day)}为今天试算，未保存：当前提醒不变）")


@scheduler_app.command("digest")
def scheduler_digest(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只显示各人的摘要内容，不发送")
    ] = False,
) -> None:
    """立即发送今天的每日待办摘要邮件（每人每天至多一封；调度器每天在设定时刻自动发送）。"""
    from disclosure.services.digest import preview_digests, send_digests

    service = open_app()
    if dry_run:
        texts = preview_digests(service)
        for name, text in texts:
            out.print(f"—— 发给 {safe(name)} ——")
            out.print(safe(text))
        out.print(f"共{len(texts)}人有待办事项（未发送）。")
        return
    run = send_digests(service, today_of(service.settings))
    if run.skipped:
        out.print(safe(run.skipped))
        return
    out.print(f"已发送{len(run.sent)}封；{run.empty}人无待办事项，{run.already}人今天已发送过。")


#: Why ``run_scan`` skipped, in Chinese.
_SKIPPED = {SKIPPED_LOCKED: "另一节点正在扫描", SKIPPED_SLOT_TAKEN: "本扫描间隔已扫描过"}


@alerts_app.callback()
def alerts_list(
    ctx: typer.Context,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="查看人用户名（或环境变量 DISCLOSURE_USER）；按其角色显示"),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(help="视图：负责人默认看全部，可用 clerk 只看经办人视图；经办人只能看自己的"),
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="只看某类提醒（可重复），如 reply_overdue")
    ] = None,
    agency: AgencyCode = None,
    fmt: ListingFormat = "table",
) -> None:
    """列出未解除的期限提醒（申请人已打码）：负责人看全部；经办人看自己办理案件的答复期限
    提醒和待确认的操作。"""
    if ctx.invoked_subcommand is not None:
        return
    from disclosure.services.alerts import alert_list

    check_listing_format(fmt)
    service = open_app()
    today = today_of(service.settings)
    listed = alert_list(
        service, today, user=acting_user(as_user), role=role, kinds=kind, agency=agency
    )
    rows, latest = listed.rows, listed.last_scan
    if fmt != "table":
        data = [
            {"case_id": row.case_id, "condition": row.condition.key, "label": row.condition.label,
             "limit_date": row.limit_date, "working_days_left": row.working_days_left,
             "applicant": row.applicant, "id_masked": row.id_masked, "raised_on": row.raised_on,
             "proposed_step": row.condition.proposed_step}
            for row in rows
        ]  # fmt: skip
        columns = ["case_id", "condition", "label", "limit_date", "working_days_left",
                   "applicant", "id_masked", "raised_on", "proposed_step"]  # fmt: skip
        emit(fmt, data=data, rows=data, columns=columns)
        return
    if latest is None:
        err.print(
            "[yellow]尚未扫描过期限：请运行 disclosure scheduler run（或 scan-once）[/yellow]"
        )
    elif (
        service.now() - aware(latest)
    ).total_seconds() > 2 * service.settings.scan_interval_seconds:
        zone_name = service.settings.agency_timezone
        local = aware(latest).astimezone(ZoneInfo(zone_name))
        err.print(
            f"[yellow]最近一次扫描在 {local:%Y-%m-%d %H:%M}（{zone_label(zone_name)}），"
            "调度器可能已停止[/yellow]"
        )
    table = Table("案件", "提醒", "申请人", "证件号", "期限", "剩余工作日", "建议操作",
                  title=f"期限提醒（{cn_date(today)}，{len(rows)}条）")  # fmt: skip
    for row in rows:
        step = row.condition.proposed_step
        table.add_row(str(row.case_id), safe(row.condition.label), safe(row.applicant),
                      safe(row.id_masked), cn_date(row.limit_date),
                      days_left(row.working_days_left),
                      f"case {step.replace('_', '-')} {row.case_id}（待确认）" if step else "")  # fmt: skip
    out.print(table)


@alerts_app.command("ics")
def alerts_ics(
    out_path: Annotated[Path, typer.Option("--out", help="输出 .ics 文件")] = Path(
        "disclosure.ics"
    ),
    days: Annotated[int, typer.Option(help="包含今后多少天的期限", min=1, max=366)] = 60,
) -> None:
    """导出 iCalendar 日历（负责人订阅即将到期的各项期限）。"""
    from disclosure.services.alerts import calendar_feed

    service = open_app()
    feed = calendar_feed(service, today_of(service.settings), days)
    write_private(out_path, feed)
    out.print(f"已写出 {feed.count(b'BEGIN:VEVENT')} 个期限 → {safe(out_path)}")
