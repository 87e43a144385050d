"""The 卷宗's readable page: the case summary and its full trail as a PDF table.

Plain data in (built by ``services.archive``), one PDF out; every value is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jinja2 import Environment, select_autoescape

from disclosure.reports.output import html_to_pdf

_ENVIRONMENT = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_TEMPLATE = _ENVIRONMENT.from_string(
    """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
@page { size: A4 landscape; margin: 15mm 12mm;
        @bottom-center { content: "第 " counter(page) " 页，共 " counter(pages) " 页";
                         font-size: 9pt; } }
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 10pt; }
h1 { font-size: 16pt; text-align: center; margin: 0 0 4mm; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #444; padding: 1.2mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; }
dl { display: grid; grid-template-columns: 30mm 1fr; margin: 0; }
dt { font-weight: bold; } dd { margin: 0 0 1mm; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; word-break: break-all; }
</style></head><body>
<h1>{{ title }}</h1>
<h2>案件概要</h2>
<dl>{% for label, value in summary.items() %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}</dl>
<h2>办理轨迹（共 {{ trail|length }} 条，哈希链末条 <span class="hash">{{ head }}</span>）</h2>
<table>
  <thead><tr><th>序号</th><th>时间（UTC）</th><th>办理人</th><th>操作</th><th>状态变化</th>
  <th>答复期限</th><th>理由与记录</th></tr></thead>
  <tbody>
  {% for row in trail %}
    <tr><td>{{ row.seq }}</td><td>{{ row.at }}</td><td>{{ row.actor }}</td><td>{{ row.what }}</td>
    <td>{{ row.states }}</td><td>{{ row.reply_due }}</td><td>{{ row.note }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% if clock %}
<h2>计时事件</h2>
<table>
  <thead><tr><th>序号</th><th>事件</th><th>日期</th><th>天数/日期</th><th>说明</th></tr></thead>
  <tbody>
  {% for row in clock %}
    <tr><td>{{ row.seq }}</td><td>{{ row.kind }}</td><td>{{ row.on }}</td><td>{{ row.extent }}</td>
    <td>{{ row.note }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endif %}
</body></html>
"""
)


def case_file_pdf(
    title: str,
    summary: Mapping[str, str],
    trail: Sequence[Mapping[str, object]],
    clock: Sequence[Mapping[str, object]],
    head: str,
) -> bytes:
    """The summary (label → value), the trail and the clock events as an A4 landscape PDF."""
    html = _TEMPLATE.render(title=title, summary=summary, trail=trail, clock=clock, head=head)
    return html_to_pdf(html)
