"""The annual report (政府信息公开工作年度报告) as a terminal table, CSV, XLSX and PDF.

The XLSX and the PDF follow the official form of 2021 (国办公开办函〔2021〕30号) cell for
cell: section 三 under its three header lines, with 三、本年度办理结果 beside its 22 lines
and (三)–(六) beside their numbered lines (the form prints no line for those subtotals);
section 四 with 行政复议 and the two kinds of 行政诉讼 side by side; section 六's fees.
The CSV and the terminal table list every row of ``ROWS``, subtotals included, with the
key ``report explain`` takes.
"""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

from disclosure.reports.output import (
    Cell,
    Table,
    html_to_pdf,
    spreadsheet_text,
    tables_html,
    workbook_bytes,
)
from disclosure.workflow.annual_report import (
    CHALLENGE_COLUMNS,
    COLUMNS,
    ROWS,
    TOTAL,
    AnnualReport,
    Row,
)
from disclosure.workflow.challenges import (
    CHALLENGE_LABELS,
    LITIGATION_HEADING,
    ChallengeKind,
    challenge_name,
)

#: The form's headings of the sections computed here.
SECTION_HEADINGS = {
    "三": "三、收到和处理政府信息公开申请情况",
    "四": "四、政府信息公开行政复议、行政诉讼情况",
    "六": "六、其他需要报告的事项",
}
#: The form's top-left header block of section 三.
BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
#: The form's label beside the lines 三.(一)…三.(七).
RESULTS_HEADING = "三、本年度办理结果"
FEE_NOTICES_LABEL = "本年发出收费通知（件）"
FEES_COLLECTED_LABEL = "本年实际收取信息处理费（元）"
#: Worksheet names (Excel allows at most 31 characters and no ``[]:*?/\\``).
SHEET_NAMES = ("收到和处理申请情况", "行政复议行政诉讼情况", "其他需要报告的事项")


class TableRow(NamedTuple):
    """One line of the terminal table: the row's key, its label indented by level, and
    its seven figures in the order of ``COLUMNS``."""

    key: str
    label: str
    figures: tuple[int, ...]


def annual_table_rows(report: AnnualReport) -> list[TableRow]:
    """Every row of section 三, subtotals included, for a terminal table."""
    return [
        TableRow(
            row.key,
            "　" * row.key.count(".") + row.label,  # full-width spaces keep CJK columns aligned
            tuple(report.section3[row.key][column] for column in COLUMNS),
        )
        for row in ROWS
    ]


def annual_csv(report: AnnualReport) -> str:
    """The three sections one after another, each under its heading (UTF-8 text; the
    caller adds the BOM Excel needs)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(
        [
            [spreadsheet_text(report.title)],
            [],
            [SECTION_HEADINGS["三"]],
            ["编号", "项目", *COLUMNS],
            *(
                [row.key, row.label, *(report.section3[row.key][c] for c in COLUMNS)]
                for row in ROWS
            ),
            [],
            [SECTION_HEADINGS["四"]],
            ["类别", *CHALLENGE_COLUMNS],
            *(
                [challenge_name(kind), *(report.section4[kind.value][c] for c in CHALLENGE_COLUMNS)]
                for kind in ChallengeKind
            ),
            [],
            [SECTION_HEADINGS["六"]],
            [FEE_NOTICES_LABEL, report.fees.notices],
            [FEES_COLLECTED_LABEL, f"{report.fees.collected:.2f}"],
        ]
    )
    return buffer.getvalue()


def _is_group(row: Row) -> bool:
    """(三)–(六): summed from the numbered rows under them."""
    return bool(row.parts) and all(part.startswith(row.key + ".") for part in row.parts)


def section3_table(report: AnnualReport) -> Table:
    """Section 三 as the form prints it: three label columns and seven figure columns."""
    cells = [
        Cell(0, 0, BALANCE_NOTE, "head", rows=3, columns=3),
        Cell(0, 3, "申请人情况", "head", columns=7),
        Cell(1, 3, COLUMNS[0], "head", rows=2),
        Cell(1, 4, "法人或其他组织", "head", columns=5),
        Cell(1, 9, TOTAL, "head", rows=2),
        *(Cell(2, 4 + i, column, "head") for i, column in enumerate(COLUMNS[1:-1])),
    ]
    results = [row for row in ROWS if row.key.startswith("三.") and not _is_group(row)]
    line = 3
    for row in ROWS:
        if _is_group(row):  # its label beside its numbered lines; the form has no subtotal line
            cells.append(Cell(line, 1, row.label, "label", rows=len(row.parts)))
            continue
        if row is results[0]:
            cells.append(Cell(line, 0, RESULTS_HEADING, "label", rows=len(results)))
        depth = row.key.count(".")  # 一 spans the three label columns, 三.(一) two, 三.(三).1 one
        cells.append(Cell(line, depth, row.label, "label", columns=3 - depth))
        cells.extend(
            Cell(line, 3 + i, report.section3[row.key][column]) for i, column in enumerate(COLUMNS)
        )
        line += 1
    return Table(SECTION_HEADINGS["三"], (6, 12, 56, *(9,) * len(COLUMNS)), tuple(cells))


def section4_table(report: AnnualReport) -> Table:
    """Section 四: 行政复议 (5 columns), then 行政诉讼 split into its two kinds (5 + 5)."""
    width = len(CHALLENGE_COLUMNS)
    cells = [
        Cell(0, 0, CHALLENGE_LABELS[ChallengeKind.RECONSIDERATION], "head", columns=width),
        Cell(0, width, LITIGATION_HEADING, "head", columns=2 * width),
        *(Cell(1, i, column, "head", rows=2) for i, column in enumerate(CHALLENGE_COLUMNS)),
    ]
    for offset, kind in enumerate(ChallengeKind):
        left = offset * width
        if kind is not ChallengeKind.RECONSIDERATION:
            cells.append(Cell(1, left, CHALLENGE_LABELS[kind], "head", columns=width))
            cells.extend(Cell(2, left + i, c, "head") for i, c in enumerate(CHALLENGE_COLUMNS))
        cells.extend(
            Cell(3, left + i, report.section4[kind.value][column])
            for i, column in enumerate(CHALLENGE_COLUMNS)
        )
    return Table(SECTION_HEADINGS["四"], (10,) * (3 * width), tuple(cells))


def fees_table(report: AnnualReport) -> Table:
    """Section 六: the fee notices issued and the fees collected in the year."""
    cells = (
        Cell(0, 0, FEE_NOTICES_LABEL, "head"),
        Cell(0, 1, FEES_COLLECTED_LABEL, "head"),
        Cell(1, 0, report.fees.notices),
        Cell(1, 1, report.fees.collected),
    )
    return Table(SECTION_HEADINGS["六"], (30, 34), cells)


def _tables(report: AnnualReport) -> tuple[Table, Table, Table]:
    return section3_table(report), section4_table(report), fees_table(report)


def annual_xlsx(report: AnnualReport) -> bytes:
    """The report in the official layout, one worksheet per section."""
    return workbook_bytes(report.title, list(zip(SHEET_NAMES, _tables(report), strict=True)))


def annual_pdf(report: AnnualReport) -> bytes:
    """The report in the official layout on A4 landscape pages."""
    return html_to_pdf(tables_html(report.title, _tables(report)))
