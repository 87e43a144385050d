"""Report commands: the annual report, the assessment figures, and why a case counts where."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from disclosure.cli.app import AsUser, acting_user, app, open_app
from disclosure.cli.console import out, safe
from disclosure.errors import RuleViolation
from disclosure.files import write_private
from disclosure.workflow.challenges import ChallengeKind, challenge_name
from disclosure.workflow.states import OUTCOMES

report_app = typer.Typer(help="统计报表：年度报告、办理情况统计", no_args_is_help=True)
app.add_typer(report_app, name="report")

Year = Annotated[int, typer.Option("--year", help="年度，如 2026", min=2019, max=2100)]
Agency = Annotated[
    str | None, typer.Option(help="只统计一个机关（机关代码）；不填则统计可见的全部机关")
]
Demo = Annotated[bool, typer.Option("--demo", help="包括演示案件（正式报告不应包括）")]
Out = Annotated[
    Path | None, typer.Option("--out", help="输出文件（csv、xlsx、pdf、png 格式须给出）")
]

ANNUAL_FORMATS = ("table", "csv", "xlsx", "pdf")
_OUTCOME_HEADINGS = frozenset(outcome.label for outcome in OUTCOMES.values())
PERFORMANCE_FORMATS = ("table", "csv", "xlsx", "png")


def _check_format(fmt: str, allowed: tuple[str, ...], out_path: Path | None) -> None:
    if fmt not in allowed:
        raise RuleViolation(
            "format", "one_of", f"格式“{safe(fmt[:20])}”无效，可选：{'、'.join(allowed)}"
        )
    if fmt != "table" and out_path is None:
        raise RuleViolation("out", "required", f"{fmt} 格式须用 --out 指定输出文件")


def _write(out_path: Path, data: bytes, what: str) -> None:
    # Counts of cases, no personal data; still private, like every file the product writes.
    write_private(out_path, data)
    out.print(f"已写出{what} → {safe(str(out_path))}（{len(data):,} 字节）")


@report_app.command("annual")
def report_annual(
    year: Year,
    agency: Agency = None,
    fmt: Annotated[str, typer.Option("--format", help="格式：table / csv / xlsx / pdf")] = "table",
    out_path: Out = None,
    demo: Demo = False,
    as_user: AsUser = None,
) -> None:
    """政府信息公开工作年度报告（2021年格式）第三、四部分及收费情况；数字不平衡时拒绝输出。"""
    from disclosure.services.reports import annual_file, annual_report, annual_rows

    _check_format(fmt, ANNUAL_FORMATS, out_path)
    report = annual_report(
        open_app(), year, agency=agency, viewer=acting_user(as_user), include_demo=demo
    )
    if fmt != "table":
        assert out_path is not None
        _write(out_path, annual_file(report, fmt), f"{report.title}（{fmt}）")  # type: ignore[arg-type]
        return
    table = Table("项", "情形", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构",
                  "其他", "总计", title=report.title)  # fmt: skip
    for row in annual_rows(report):
        table.add_row(row.key, safe(row.label), *(str(n) for n in row.figures))
    out.print(table)
    fees = report.fees
    out.print(f"收费：本年发出收费通知{fees.notices}件，实际收取信息处理费{fees.collected}元。")
    challenges = Table("类别", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计",
                       title="行政复议、行政诉讼情况")  # fmt: skip
    for kind, counts in report.section4.items():
        challenges.add_row(challenge_name(ChallengeKind(kind)), *(str(n) for n in counts.values()))
    out.print(challenges)


@report_app.command("performance")
def report_performance(
    first: Annotated[str, typer.Option("--from", help="起始月份，如 2026-01")],
    last: Annotated[str, typer.Option("--to", help="结束月份，如 2026-12")],
    agency: Agency = None,
    fmt: Annotated[
        str, typer.Option("--format", help="格式：table / csv / xlsx / png（按时答复率图）")
    ] = "table",
    out_path: Out = None,
    demo: Demo = False,
    as_user: AsUser = None,
) -> None:
    """各机关按月的办理情况：按时答复率、平均和最长用时、延期、补正、答复类型、当前逾期。"""
    from disclosure.services.reports import (
        parse_month,
        performance,
        performance_file,
        performance_rows,
    )

    _check_format(fmt, PERFORMANCE_FORMATS, out_path)
    report = performance(
        open_app(), parse_month(first, "from"), parse_month(last, "to"), agency=agency,
        viewer=acting_user(as_user), include_demo=demo,
    )  # fmt: skip
    if fmt != "table":
        assert out_path is not None
        _write(out_path, performance_file(report, fmt), f"办理情况统计（{fmt}）")  # type: ignore[arg-type]
        return
    [headings, *rows] = performance_rows(report)
    # The outcome mix does not fit a terminal; it is in the csv and xlsx.
    shown = [i for i, heading in enumerate(headings) if heading not in _OUTCOME_HEADINGS]
    table = Table(*(headings[i] for i in shown), title="依申请公开办理情况统计")
    for row in rows:
        table.add_row(*(safe(row[i]) for i in shown))
    out.print(table)
    out.print("各类答复的件数见 --format csv 或 xlsx。")


@report_app.command("explain")
def report_explain(
    year: Year,
    row: Annotated[str, typer.Option("--row", help="报告第三部分的项，如 三.(三).4")],
    column: Annotated[
        str, typer.Option("--column", help="申请人类别列，如 商业企业、自然人、总计")
    ],
    agency: Agency = None,
    demo: Demo = False,
    as_user: AsUser = None,
) -> None:
    """列出年度报告某一格计入的案件，并说明每件为何计入。"""
    from disclosure.services.reports import explain

    found = explain(
        open_app(), year, row, column, agency=agency, viewer=acting_user(as_user),
        include_demo=demo,
    )  # fmt: skip
    if not found:
        out.print(f"{year}年度报告“{safe(row)}”×“{safe(column)}”为0，没有计入的案件。")
        return
    out.print(f"{year}年度报告“{safe(row)}”×“{safe(column)}”共{len(found)}件：")
    for item in found:
        out.print(f"  {safe(item.text)}")
