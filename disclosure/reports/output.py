"""A report table described once, as positioned cells, and written to XLSX or to PDF.

Each cell has its place, its span and its kind (header, row label or figure), so the
workbook and the PDF of a report carry the same merges and the same words.

XLSX: openpyxl, one worksheet per table under the report's title; 宋体, bold headers, thin
borders, A4 landscape fitted to the page width. PDF: an HTML page from a Jinja2 template
(autoescaped: the agency's name is typed by an administrator), printed by WeasyPrint in
Noto Serif CJK SC, the face the letters use (see ``disclosure.letters.output``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from jinja2 import Environment, StrictUndefined
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

CellKind = Literal["head", "label", "figure"]

#: The East Asian face of every workbook cell; an office's Excel or WPS has it.
SHEET_FONT = "宋体"
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
#: Worksheet rows above a table: the report's title, then the table's heading.
TABLE_TOP_ROW = 3

# WeasyPrint logs every unsupported CSS property at WARNING; our stylesheet is fixed.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Cell:
    """One cell of a table: 0-based place, value, kind and span."""

    row: int
    column: int
    value: str | int | float | Decimal | None
    kind: CellKind = "figure"
    rows: int = 1
    columns: int = 1

    @property
    def text(self) -> str:
        """The value as printed: yuan with two decimals, shares and averages with one."""
        if self.value is None:
            return ""
        if isinstance(self.value, Decimal):
            return f"{self.value:.2f}"
        if isinstance(self.value, float):
            return f"{self.value:.1f}"
        return str(self.value)

    @property
    def centred(self) -> bool:
        """Headers and figures are centred; a row label only when it spans several rows
        (as the form prints 三、本年度办理结果 beside its block)."""
        return self.kind != "label" or self.rows > 1


@dataclass(frozen=True)
class Table:
    """A table under its heading; ``widths`` in Excel's character units (the PDF keeps
    their proportions)."""

    heading: str
    widths: tuple[float, ...]
    cells: tuple[Cell, ...]

    def rows(self) -> list[list[Cell]]:
        """The cells line by line, left to right: what ``<tr>`` and spanning ``<td>`` need."""
        lines: list[list[Cell]] = [[] for _ in range(max(c.row + c.rows for c in self.cells))]
        for cell in sorted(self.cells, key=lambda c: (c.row, c.column)):
            lines[cell.row].append(cell)
        return lines


def spreadsheet_text(text: str) -> str:
    """``text`` for a CSV cell that a spreadsheet will not run as a formula (agency names
    are typed by an administrator)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _put(sheet: Any, row: int, column: int, value: str | int | float | Decimal | None) -> Any:
    target = sheet.cell(row, column, value)
    if isinstance(value, str):
        target.data_type = "s"  # openpyxl would store a text starting with = as a formula
    return target


def _write_sheet(workbook: Workbook, name: str, title: str, table: Table) -> None:
    sheet = workbook.create_sheet(name)
    width = len(table.widths)
    for row, text, size, centred in ((1, title, 16, True), (2, table.heading, 12, False)):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        target = _put(sheet, row, 1, text)
        target.font = Font(name=SHEET_FONT, size=size, bold=True)
        target.alignment = Alignment(horizontal="center" if centred else "left", vertical="center")
    sheet.row_dimensions[1].height = 30
    for cell in table.cells:
        top, left = TABLE_TOP_ROW + cell.row, 1 + cell.column
        bottom, right = top + cell.rows - 1, left + cell.columns - 1
        if (bottom, right) != (top, left):
            sheet.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
        target = _put(sheet, top, left, cell.value)
        target.font = Font(name=SHEET_FONT, size=11, bold=cell.kind == "head")
        target.alignment = Alignment(
            horizontal="center" if cell.centred else "left", vertical="center", wrap_text=True
        )
        if isinstance(cell.value, Decimal):
            target.number_format = "0.00"
        elif isinstance(cell.value, float):
            target.number_format = "0.0"
        # A merged range shows the borders of every cell it covers, not the first one's.
        for row in range(top, bottom + 1):
            for column in range(left, right + 1):
                sheet.cell(row, column).border = _BORDER
    for column, column_width in enumerate(table.widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = column_width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def workbook_bytes(title: str, sheets: Sequence[tuple[str, Table]]) -> bytes:
    """An XLSX file with one worksheet per (sheet name, table), each under ``title``."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, table in sheets:
        _write_sheet(workbook, name, title, table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_DOCUMENT = Environment(autoescape=True, undefined=StrictUndefined).from_string(
    """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
/* Section 三 (28 lines) fits one landscape page under the title. */
@page { size: A4 landscape; margin: 10mm 12mm; }
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 8.5pt;
       line-height: 1.25; }
h1 { font-size: 15pt; text-align: center; margin: 0 0 2mm; }
h2 { font-size: 10.5pt; margin: 2mm 0 1mm; break-after: avoid; }
table { border-collapse: collapse; width: 100%; }
tr { break-inside: avoid; }
td { border: 0.6pt solid #000; padding: 0.3mm 1mm; text-align: center;
     vertical-align: middle; }
td.head { font-weight: bold; }
td.left { text-align: left; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% for table in tables %}
<h2>{{ table.heading }}</h2>
<table>
<colgroup>
{% for width in table.widths %}
<col style="width: {{ '%.2f' % (100 * width / (table.widths | sum)) }}%">
{% endfor %}
</colgroup>
{% for line in table.rows() %}
<tr>
{% for cell in line %}
<td class="{{ cell.kind }}{% if not cell.centred %} left{% endif %}" rowspan="{{ cell.rows }}"
    colspan="{{ cell.columns }}">{{ cell.text }}</td>
{% endfor %}
</tr>
{% endfor %}
</table>
{% endfor %}
</body>
</html>
"""
)


def tables_html(title: str, tables: Sequence[Table]) -> str:
    """A landscape A4 page with ``title`` and the tables, spans as in the workbook."""
    return _DOCUMENT.render(title=title, tables=tables)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango takes ~0.3 s

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
