"""Archive commands: export a 卷宗, verify one offline, list files past their retention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from disclosure.cli.app import AsUser, acting_user, app, load_settings, open_app, today_of
from disclosure.cli.console import err, out, safe
from disclosure.errors import RuleViolation
from disclosure.workflow.calendar import cn_date

archive_app = typer.Typer(help="卷宗：导出、离线核验、保存期限", no_args_is_help=True)
app.add_typer(archive_app, name="archive")

#: A 卷宗 larger than this is not read (a case's letters and trail are a few MB).
MAX_FILE_BYTES = 512 * 1024 * 1024


@archive_app.command("export")
def archive_export(
    out_path: Annotated[
        Path, typer.Option("--out", help="输出：一个 .zip 文件，或（批量时）一个文件夹")
    ],
    case: Annotated[
        int | None,
        typer.Argument(help="案件编号；不填则按机关和年度批量导出", min=1, max=2**31 - 1),
    ] = None,
    agency: Annotated[str | None, typer.Option(help="批量：机关代码")] = None,
    year: Annotated[
        int | None, typer.Option(help="批量：归档年度，如 2026", min=2019, max=2100)
    ] = None,
    as_user: AsUser = None,
) -> None:
    """导出已归档案件的卷宗（文书 PDF、办理轨迹、计时事件与清单），可离线核验。"""
    from disclosure.services.archive import archived_cases, export_case, export_many

    service = open_app()
    viewer = acting_user(as_user)
    if case is not None:
        written = export_case(service, case, out_path, viewer=viewer)
        out.print(f"已导出案件{case}的卷宗 → {safe(str(written))}")
        return
    if agency is None and year is None:
        raise RuleViolation("case", "required", "请给出案件编号，或用 --agency / --year 批量导出")
    ids = archived_cases(service, agency=agency, year=year, viewer=viewer)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("导出卷宗", total=len(ids))
        written_all = export_many(
            service, ids, out_path, viewer=viewer, advance=lambda: progress.advance(task)
        )
    out.print(f"已导出{len(written_all)}件卷宗 → {safe(str(out_path))}")


@archive_app.command("verify")
def archive_verify(
    file: Annotated[Path, typer.Argument(help="卷宗文件（.zip）")],
    with_key: Annotated[
        bool, typer.Option("--with-key", help="同时用本机的审计密钥核验每条事件的签名")
    ] = False,
) -> None:
    """离线核验卷宗：逐一重算文件哈希和轨迹哈希链，说明哪些完整、哪些被改动。"""
    from disclosure.services.archive import verify_file

    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RuleViolation("file", "too_large", f"卷宗文件超过{MAX_FILE_BYTES // 2**20} MB")
        data = file.read_bytes()
    except (OSError, ValueError):
        raise RuleViolation(
            "file", "unreadable", f"无法读取卷宗文件“{safe(str(file)[:200])}”：不存在或不是普通文件"
        ) from None
    keys = load_settings().audit_keys if with_key else None
    check = verify_file(data, keys)
    for holds, text in check.lines:
        (out if holds else err).print(
            f"[green]✓[/green] {safe(text)}" if holds else f"[red]✗ {safe(text)}[/red]"
        )
    if check.intact:
        out.print("[green]卷宗完整[/green]：未发现改动。")
    else:
        err.print("卷宗文件核验未通过。")
        raise typer.Exit(1)


@archive_app.command("due-for-disposal")
def archive_due(as_user: AsUser = None) -> None:
    """列出保存期限已满的卷宗（本系统从不删除卷宗，处置须按档案管理规定办理）。"""
    from rich.table import Table

    from disclosure.services.archive import due_for_disposal

    service = open_app()
    today = today_of(service.settings)
    due = due_for_disposal(service, today, viewer=acting_user(as_user))
    if not due:
        out.print(f"截至{cn_date(today)}，没有保存期限已满的卷宗。")
        return
    table = Table("案件", "机关", "归档日期", "保存至", title=f"保存期限已满的卷宗（{len(due)}件）")
    for item in due:
        table.add_row(
            str(item.case_id),
            safe(item.agency),
            cn_date(item.archived_on),
            cn_date(item.retain_until),
        )
    out.print(table)


@archive_app.command("anonymise")
def archive_anonymise(
    case: Annotated[int, typer.Argument(help="案件编号", min=1, max=2**31 - 1)],
    reason: Annotated[str, typer.Option(help="匿名处理的理由：如保存期限届满、依法删除个人信息")],
    as_user: AsUser = None,
) -> None:
    """删除已归档卷宗中申请人的个人信息（姓名、证件号、电话、地址），文书存档一并处理；轨迹仍可核验。"""
    from disclosure.services.anonymise import anonymise

    service = open_app()
    letters = anonymise(
        service, case, actor=acting_user(as_user), reason=reason, on=today_of(service.settings)
    )
    out.print(f"案件{case}的个人信息已作匿名处理，{letters}份文书的存档已一并处理。")
