"""Letter commands: list, print, batch export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import typer.rich_utils
from rich.table import Table

from disclosure.cli.app import (
    STATE_HELP,
    CaseId,
    Format,
    letter_app,
    open_app,
)
from disclosure.cli.console import err, out, safe
from disclosure.cli.errors import first_line, os_reason
from disclosure.cli.output import ListingFormat, check_listing_format, emit
from disclosure.files import write_private
from disclosure.services.letters import (
    case_letters,
    check_format,
    letter_of,
    letters_to_export,
    printed,
)


@letter_app.command("list")
def letter_list(case_id: CaseId, fmt: ListingFormat = "table") -> None:
    """列出案件已发出的文书。"""
    check_listing_format(fmt)
    letters = case_letters(open_app(), case_id)
    rows = [
        {"case_id": x.case_id, "kind": x.kind, "title": x.title, "number": x.number,
         "issued_on": x.issued_on, "issued_by": x.issued_by, "sha256": x.sha256}
        for x in letters
    ]  # fmt: skip

    def table() -> Table:
        shown = Table(
            "类别", "文号", "发文日期", "发文人", "内容哈希", title=f"案件{case_id}的文书"
        )
        for x in letters:
            shown.add_row(safe(f"{x.title}（{x.kind}）"), safe(x.number), x.issued_on.isoformat(),
                          safe(x.issued_by), safe(x.sha256[:16]))  # fmt: skip
        return shown

    emit(fmt, table=table, data=rows, rows=rows, columns=list(rows[0]) if rows else _COLUMNS)


_COLUMNS = ["case_id", "kind", "title", "number", "issued_on", "issued_by", "sha256"]


@letter_app.command("print")
def letter_print(
    case_id: CaseId,
    kind: Annotated[str, typer.Argument(help="文书类别（如 receipt、reply）或文号")],
    fmt: Format = "pdf",
    out_path: Annotated[Path | None, typer.Option("--out", help="输出文件，默认当前目录")] = None,
) -> None:
    """按发文时的内容重新打印一份文书。"""
    check_format(fmt)
    letter = letter_of(open_app(), case_id, kind)
    path = out_path or Path(f"案件{case_id}_{letter.number}.{fmt}")
    if path.is_dir():
        path = path / f"案件{case_id}_{letter.number}.{fmt}"
    write_private(path, printed(letter, fmt))
    out.print(f"已输出 {safe(letter.number)} → {safe(path)}")


@letter_app.command("batch")
def letter_batch(
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录")],
    state: Annotated[str, typer.Option(help=f"案件状态，代码或中文均可：{STATE_HELP}")],
    kind: Annotated[str | None, typer.Option(help="只导出一类文书，如 reply")] = None,
    fmt: Format = "pdf",
) -> None:
    """批量导出某一状态案件的文书（带进度条；失败逐件列出；中断不留半截文件）。"""
    from rich.progress import Progress

    check_format(fmt)
    letters = letters_to_export(open_app(), state, kind)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    done, failures = 0, []
    try:
        with Progress(console=err) as progress:
            task = progress.add_task("导出文书", total=len(letters))
            for letter in letters:
                try:
                    path = out_dir / f"案件{letter.case_id}_{letter.number}.{fmt}"
                    write_private(path, printed(letter, fmt))
                    done += 1
                except Exception as exc:  # one bad letter must not stop the batch
                    failures.append((letter.number, _failure_reason(exc)))
                progress.advance(task)
    except KeyboardInterrupt:
        err.print(f"已中断：完成{done}份，未完成的文书没有留下文件。")
        raise typer.Exit(130) from None
    out.print(f"已导出 {done}/{len(letters)} 份文书到 {safe(out_dir)}")
    for number, problem in failures:
        err.print(f"[red]失败[/red] {safe(number)}：{safe(problem)}")
    if failures:
        raise typer.Exit(1)


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return os_reason(exc)
    return f"无法生成该格式的文书（{first_line(exc)}）"
