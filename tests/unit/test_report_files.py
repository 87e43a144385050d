"""The report files read back: the annual report's XLSX cell by cell against the official
layout, its CSV and PDF, and the assessment's CSV, XLSX and chart."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from matplotlib import image
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from disclosure.reports.annual import (
    annual_csv,
    annual_pdf,
    annual_table_rows,
    annual_xlsx,
    section3_table,
)
from disclosure.reports.output import tables_html
from disclosure.reports.performance import (
    on_time_chart,
    performance_csv,
    performance_xlsx,
)
from disclosure.workflow.annual_report import (
    AnnualReport,
    Challenge,
    FeeRecord,
    ReportCase,
    build_annual_report,
)
from disclosure.workflow.performance import Month, PerformanceCase, build_performance
from tests.unit.test_annual_report import ALL_COLUMNS, FORM_ROWS

D = date.fromisoformat
TITLE = "示例市审计局2026年政府信息公开工作年度报告"
NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
KINDS = ["person"] * 23 + ["commercial"] * 4 + ["research", "legal_services", "other_organisation"]
RESULTS = [("disclose", "provided"), ("partial", "process_info"), ("withhold", "state_secret"),
           ("cannot_provide", "not_held"), ("not_handled", "repeat"), ("other", "fee_unpaid")]  # fmt: skip


def report() -> AnnualReport:
    """30 applications received in 2026 (23 from natural persons) and 2 from 2025, 17
    closed in 2026 across the result rows, with challenges and fees."""
    cases = [
        ReportCase(n, 1, kind, D("2026-02-01"), None, "handling", None, None)
        for n, kind in enumerate(KINDS, start=1)
    ]
    for n in range(1, 18):  # close the first 17, cycling through the results
        outcome, reason = RESULTS[n % len(RESULTS)]
        cases[n - 1] = ReportCase(
            n, 1, KINDS[n - 1], D("2026-02-01"), D("2026-03-02"), "replied", outcome, reason
        )
    cases += [
        ReportCase(101, 1, "public_interest", D("2025-12-10"), None, "handling", None, None),
        ReportCase(102, 1, "person", D("2025-12-11"), D("2026-01-08"), "withdrawn", None, None),
    ]
    challenges = [
        Challenge(3, "reconsideration", D("2026-04-01"), "upheld", D("2026-05-01")),
        Challenge(4, "reconsideration", D("2026-04-02"), None, None),
        Challenge(5, "litigation_direct", D("2026-06-01"), "corrected", D("2026-08-01")),
        Challenge(6, "litigation_after_review", D("2026-07-01"), "other", D("2026-10-01")),
    ]
    fees = [FeeRecord(7, D("2026-03-01"), Decimal("1234.50"), D("2026-03-06"))]
    return build_annual_report(2026, "示例市审计局", cases, fees, challenges)


def cell_value(sheet: Any, ref: str) -> Any:
    return sheet[ref].value


# -- XLSX ---------------------------------------------------------------------------------------

#: Where the form prints each row of section 三: (sheet row, label cell, merged label range).
#: (三)–(六) have no line of their own: their labels span their numbered lines.
PRINTED = {
    "一": (6, "A6", "A6:C6"), "二": (7, "A7", "A7:C7"),
    "三.(一)": (8, "B8", "B8:C8"), "三.(二)": (9, "B9", "B9:C9"),
    **{f"三.(三).{n}": (9 + n, f"C{9 + n}", None) for n in range(1, 9)},
    **{f"三.(四).{n}": (17 + n, f"C{17 + n}", None) for n in range(1, 4)},
    **{f"三.(五).{n}": (20 + n, f"C{20 + n}", None) for n in range(1, 6)},
    **{f"三.(六).{n}": (25 + n, f"C{25 + n}", None) for n in range(1, 4)},
    "三.(七)": (29, "B29", "B29:C29"), "四": (30, "A30", "A30:C30"),
}  # fmt: skip
GROUPS = {"三.(三)": "B10:B17", "三.(四)": "B18:B20", "三.(五)": "B21:B25", "三.(六)": "B26:B28"}
SECTION3_MERGES = {
    "A1:J1", "A2:J2",  # title, heading
    "A3:C5", "D3:J3", "D4:D5", "E4:I4", "J4:J5",  # the three header lines
    "A8:A29",  # 三、本年度办理结果
    *GROUPS.values(),
    *(merged for _, _, merged in PRINTED.values() if merged),
}  # fmt: skip


@pytest.fixture(scope="module")
def workbook() -> Any:
    return load_workbook(io.BytesIO(annual_xlsx(report())))


def test_workbook_has_one_sheet_per_section(workbook: Any) -> None:
    assert workbook.sheetnames == [
        "收到和处理申请情况",
        "行政复议行政诉讼情况",
        "其他需要报告的事项",
    ]
    for sheet in workbook.worksheets:
        assert cell_value(sheet, "A1") == TITLE
        assert sheet.page_setup.orientation == "landscape"


def test_section_three_header_is_the_forms(workbook: Any) -> None:
    sheet = workbook.worksheets[0]
    assert {str(r) for r in sheet.merged_cells.ranges} == SECTION3_MERGES
    expected = {
        "A2": "三、收到和处理政府信息公开申请情况", "A3": NOTE, "D3": "申请人情况",
        "D4": "自然人", "E4": "法人或其他组织", "J4": "总计", "E5": "商业企业", "F5": "科研机构",
        "G5": "社会公益组织", "H5": "法律服务机构", "I5": "其他", "A8": "三、本年度办理结果",
    }  # fmt: skip
    assert {ref: cell_value(sheet, ref) for ref in expected} == expected
    for ref in ("D3", "D4", "E5", "J4"):
        assert sheet[ref].font.b, ref
        assert sheet[ref].alignment.horizontal == "center"


def test_section_three_labels_are_the_forms_words(workbook: Any) -> None:
    sheet = workbook.worksheets[0]
    labels = dict(FORM_ROWS)
    for key, (_, ref, _) in PRINTED.items():
        assert cell_value(sheet, ref) == labels[key], key
    for key, merged in GROUPS.items():
        assert cell_value(sheet, merged.split(":")[0]) == labels[key]


def test_section_three_figures_are_in_their_cells(workbook: Any) -> None:
    sheet = workbook.worksheets[0]
    source = report()
    for key, (line, _, _) in PRINTED.items():
        shown = [sheet.cell(line, column).value for column in range(4, 11)]
        assert shown == [source.section3[key][c] for c in ALL_COLUMNS], key
    assert [sheet.cell(6, column).value for column in range(4, 11)] == [23, 4, 1, 0, 1, 1, 30]
    assert sheet.max_row == 30


def test_section_three_has_borders_and_widths(workbook: Any) -> None:
    sheet = workbook.worksheets[0]
    # the outer edges of merged ranges (A3:C5, B10:B17, A8:A29) and a plain figure
    edges = {"A3": ("left", "top"), "C5": ("right", "bottom"), "B11": ("left", "right"),
             "A29": ("left", "bottom"), "J30": ("left", "right", "top", "bottom")}  # fmt: skip
    for ref, sides in edges.items():
        assert {getattr(sheet[ref].border, side).style for side in sides} == {"thin"}, ref
    assert sheet.column_dimensions["C"].width > sheet.column_dimensions["D"].width > 5
    assert sheet["A6"].font.name == "宋体"


def test_section_four_layout_and_figures(workbook: Any) -> None:
    sheet = workbook.worksheets[1]
    assert {str(r) for r in sheet.merged_cells.ranges} == {
        "A1:O1", "A2:O2", "A3:E3", "F3:O3", "A4:A5", "B4:B5", "C4:C5", "D4:D5", "E4:E5",
        "F4:J4", "K4:O4",
    }  # fmt: skip
    results = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    assert cell_value(sheet, "A2") == "四、政府信息公开行政复议、行政诉讼情况"
    assert [cell_value(sheet, ref) for ref in ("A3", "F3", "F4", "K4")] == [
        "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉",
    ]  # fmt: skip
    assert [sheet.cell(4, c).value for c in range(1, 6)] == results
    assert [sheet.cell(5, c).value for c in range(6, 16)] == results * 2
    assert [sheet.cell(6, c).value for c in range(1, 16)] == [
        1, 0, 0, 1, 2, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1,
    ]  # fmt: skip


def test_fees_sheet(workbook: Any) -> None:
    sheet = workbook.worksheets[2]
    assert cell_value(sheet, "A2") == "六、其他需要报告的事项"
    assert [cell_value(sheet, ref) for ref in ("A3", "B3", "A4")] == [
        "本年发出收费通知（件）", "本年实际收取信息处理费（元）", 1,
    ]  # fmt: skip
    assert Decimal(str(cell_value(sheet, "B4"))) == Decimal("1234.5")
    assert sheet["B4"].number_format == "0.00"


def test_agency_name_like_a_formula_stays_text() -> None:
    source = report()
    hostile = replace(source, agency_label='=HYPERLINK("x")')
    sheet = load_workbook(io.BytesIO(annual_xlsx(hostile))).worksheets[0]
    assert sheet["A1"].data_type == "s"
    assert next(csv.reader(io.StringIO(annual_csv(hostile))))[0].startswith("'=")


# -- CSV and the terminal table -------------------------------------------------------------------


def test_csv_reads_back_as_the_report() -> None:
    source = report()
    lines = list(csv.reader(io.StringIO(annual_csv(source))))
    assert lines[0] == [TITLE]
    start = lines.index(["编号", "项目", *ALL_COLUMNS])
    section3 = lines[start + 1 : start + 1 + len(FORM_ROWS)]
    assert [(key, label) for key, label, *_ in section3] == FORM_ROWS
    for key, _, *figures in section3:
        assert figures == [str(source.section3[key][c]) for c in ALL_COLUMNS]
    assert lines[start + 1 + len(FORM_ROWS)] == []
    assert ["行政复议", "1", "0", "0", "1", "2"] in lines
    assert ["行政诉讼（复议后起诉）", "0", "0", "1", "0", "1"] in lines
    assert ["本年实际收取信息处理费（元）", "1234.50"] in lines


def test_terminal_rows_indent_labels_and_carry_seven_figures() -> None:
    rows = annual_table_rows(report())
    assert [row.key for row in rows] == [key for key, _ in FORM_ROWS]
    assert rows[0].figures == (23, 4, 1, 0, 1, 1, 30)
    assert rows[5].label == "\u3000\u30001.属于国家秘密"


# -- PDF --------------------------------------------------------------------------------------------


def test_pdf_has_the_title_the_labels_and_the_figures() -> None:
    reader = PdfReader(io.BytesIO(annual_pdf(report())))
    assert 1 <= len(reader.pages) <= 2
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert TITLE in text
    for _, label in FORM_ROWS:
        assert label in text, label
    assert "未经复议直接起诉" in text and "1234.50" in text
    assert "一、本年新收政府信息公开申请数量234101130" in text  # 23 4 1 0 1 1 30


def test_pdf_first_page_holds_all_of_section_three() -> None:
    reader = PdfReader(io.BytesIO(annual_pdf(report())))
    first = re.sub(r"\s+", "", reader.pages[0].extract_text())
    assert "四、结转下年度继续办理" in first


def test_html_escapes_the_agency_name() -> None:
    html = tables_html("<b>局</b>", [section3_table(report())])
    assert "&lt;b&gt;局&lt;/b&gt;" in html and "<b>局" not in html


# -- the assessment -----------------------------------------------------------------------------


def assessment() -> Any:
    cases = [
        PerformanceCase(1, 1, D("2026-01-02"), D("2026-01-20"), True, 12, True, False, 0, 0,
                        "disclose"),
        PerformanceCase(2, 2, D("2026-01-02"), D("2026-02-25"), True, 25, False, False, 1, 0,
                        "withhold"),
        PerformanceCase(3, 2, D("2026-02-02"), None, False, None, None, True, 0, 1, None),
    ]  # fmt: skip
    return build_performance(cases, {1: "示例市审计局", 2: "示例市财政局"}, Month(2026, 1),
                             Month(2026, 3))  # fmt: skip


def test_performance_csv_reads_back() -> None:
    lines = list(csv.reader(io.StringIO(performance_csv(assessment()))))
    header = lines[0]
    assert header[:5] == ["机关", "月份", "办结件数", "答复件数", "按时答复率（%）"]
    rows = {(line[0], line[1]): dict(zip(header, line, strict=True)) for line in lines[1:]}
    assert len(rows) == 2 * 4  # three months and 合计 per agency
    january = rows[("示例市审计局", "2026年1月")]
    assert (january["答复件数"], january["按时答复率（%）"], january["予以公开"]) == (
        "1",
        "100.0",
        "1",
    )
    assert rows[("示例市审计局", "2026年2月")]["按时答复率（%）"] == ""
    assert rows[("示例市财政局", "合计")]["当前逾期件数"] == "1"
    assert rows[("示例市财政局", "2026年2月")]["当前逾期件数"] == ""


def test_performance_xlsx_reads_back() -> None:
    sheet = load_workbook(io.BytesIO(performance_xlsx(assessment()))).worksheets[0]
    assert sheet["A1"].value == "依申请公开办理情况统计"
    assert sheet["A2"].value == "统计期间：2026年1月至2026年3月（按答复或办结月份）"
    assert sheet["A3"].value == "机关" and sheet["A3"].font.b
    assert "A4:A7" in {str(r) for r in sheet.merged_cells.ranges}  # the agency beside its lines
    assert [sheet.cell(4, c).value for c in range(1, 6)] == ["示例市审计局", "2026年1月", 1, 1, 100]
    assert sheet["E9"].value == 0 and sheet["E9"].number_format == "0.0"  # 财政局 February


@pytest.mark.parametrize(
    "months", [(Month(2026, 1), Month(2026, 3)), (Month(2025, 1), Month(2026, 12))]
)
def test_chart_is_a_decodable_png(months: tuple[Month, Month]) -> None:
    """Also: matplotlib warns of every glyph its font lacks, and warnings fail the tests, so
    the Chinese title, axis labels, months and legend have found a CJK face."""
    source = assessment()
    chart = on_time_chart(build_performance([], {1: "示例市审计局"}, *months))
    for png in (on_time_chart(source), chart):
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        pixels = image.imread(io.BytesIO(png))
        assert pixels.shape[0] >= 400 and pixels.shape[1] >= 800
        assert Image.open(io.BytesIO(png)).size == (1200, 660)
    assert len(chart) > 10_000
