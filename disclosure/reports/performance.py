"""The assessment figures per agency and month as CSV, XLSX and a chart of on-time replies.

The chart is drawn with matplotlib's object API (``Figure``, no pyplot: no global state,
safe in the web server's threads) and a CJK face found by ``matplotlib.font_manager``, so
the Chinese title, axes and legend do not print as boxes.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from functools import lru_cache

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import PercentFormatter

from disclosure.reports.output import Cell, Table, spreadsheet_text, workbook_bytes
from disclosure.workflow.performance import AgencyPerformance, Figures, PerformanceReport
from disclosure.workflow.states import OUTCOMES

logger = logging.getLogger(__name__)

TITLE = "依申请公开办理情况统计"
CHART_TITLE = "各机关按月按时答复率"
PERIOD_LABEL = "合计"
HEADINGS: tuple[str, ...] = (
    "机关",
    "月份",
    "办结件数",
    "答复件数",
    "按时答复率（%）",
    "平均用时（工作日）",
    "最长用时（工作日）",
    "延期次数",
    "补正次数",
    *(outcome.label for outcome in OUTCOMES.values()),
    "当前逾期件数",
)
#: Tried in order; Debian's fonts-noto-cjk has the first two.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei")


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


Value = int | float | None


def _figure_values(figures: Figures, overdue_now: int | None = None) -> list[Value]:
    """The figures in the order of ``HEADINGS`` from 办结件数 on."""
    return [
        figures.closed,
        figures.replies,
        _percent(figures.on_time_share),
        figures.average_days,
        figures.longest_days,
        figures.extensions,
        figures.corrections,
        *(figures.outcomes[code] for code in OUTCOMES),
        overdue_now,
    ]


def _agency_lines(agency: AgencyPerformance) -> list[tuple[str, list[Value]]]:
    """(month label, figures): one line per month, then the period's line, which alone
    carries the cases overdue now (they belong to the report date, not to a month)."""
    lines = [(month.label, _figure_values(figures)) for month, figures in agency.months.items()]
    lines.append((PERIOD_LABEL, _figure_values(agency.period, agency.overdue_now)))
    return lines


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def performance_csv(report: PerformanceReport) -> str:
    """One line per agency and month, and a 合计 line per agency with its overdue cases
    (UTF-8 text; the caller adds the BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADINGS)
    for agency in report.agencies:
        for month, values in _agency_lines(agency):
            writer.writerow([spreadsheet_text(agency.label), month, *map(_csv_value, values)])
    return buffer.getvalue()


def performance_table_rows(report: PerformanceReport) -> list[list[str]]:
    """The CSV's lines as text for a terminal table: the headings first, nothing escaped
    (the terminal escapes markup itself)."""
    rows = [list(HEADINGS)]
    for agency in report.agencies:
        for month, values in _agency_lines(agency):
            rows.append([agency.label, month, *map(_csv_value, values)])
    return rows


def performance_table(report: PerformanceReport) -> Table:
    """The figures under one header line, each agency's name beside its lines."""
    cells = [Cell(0, i, heading, "head") for i, heading in enumerate(HEADINGS)]
    line = 1
    for agency in report.agencies:
        lines = _agency_lines(agency)
        cells.append(Cell(line, 0, agency.label, "label", rows=len(lines)))
        for month, values in lines:
            cells.append(Cell(line, 1, month, "label"))
            cells.extend(Cell(line, 2 + i, value) for i, value in enumerate(values))
            line += 1
    period = f"统计期间：{report.months[0].label}至{report.months[-1].label}（按答复或办结月份）"
    widths = (24, 12, *(10,) * (len(HEADINGS) - 2))
    return Table(period, widths, tuple(cells))


def performance_xlsx(report: PerformanceReport) -> bytes:
    """The figures on one worksheet under the title and the period."""
    return workbook_bytes(TITLE, [("按月统计", performance_table(report))])


@lru_cache(maxsize=1)
def _cjk_font_file() -> str | None:
    for family in CJK_FAMILIES:
        try:
            path: str = font_manager.findfont(
                FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return path
    logger.warning("no CJK font among %s: the chart's Chinese text will not render", CJK_FAMILIES)
    return None


def _font(size: float) -> FontProperties:
    return FontProperties(fname=_cjk_font_file(), size=size)


def on_time_chart(report: PerformanceReport) -> bytes:
    """PNG: each agency's share of replies on time per month, as a line from 0 to 100 %.

    A month without replies leaves a gap in its agency's line.
    """
    figure = Figure(figsize=(10, 5.5), dpi=120, layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(report.months)))
    for agency in report.agencies:
        shares = [_percent(agency.months[month].on_time_share) for month in report.months]
        axes.plot(
            positions,
            [math.nan if share is None else share for share in shares],
            marker="o",
            clip_on=False,
            label=agency.label,
        )
    axes.set_title(CHART_TITLE, fontproperties=_font(14))
    axes.set_xlabel("答复月份", fontproperties=_font(11))
    axes.set_ylabel("按时答复率", fontproperties=_font(11))
    axes.set_xticks(positions, [month.label for month in report.months], fontproperties=_font(9))
    axes.tick_params(axis="x", labelrotation=45 if len(positions) > 6 else 0)
    axes.set_xlim(-0.5, len(positions) - 0.5)
    axes.set_ylim(0, 100)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=100))
    axes.grid(alpha=0.3)
    if report.agencies:  # a legend without lines only warns
        axes.legend(prop=_font(9), loc="upper left", bbox_to_anchor=(1.01, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
