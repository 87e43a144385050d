"""统计报表 on the web: the annual report with its drill-down, its files, and the figures
with their chart (issue #11)."""

from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import load_workbook
from starlette.testclient import TestClient

from disclosure.services.unit_of_work import App
from tests.conftest import act


def _replied(service: App, case_id: int) -> None:
    act(service, case_id, "review", "alice", "2026-11-20")
    act(service, case_id, "accept", "alice", "2026-11-20")
    act(service, case_id, "draft_reply", "alice", "2026-11-23", outcome="withhold",
        reason_code="process_info", detail="属于过程性信息。")  # fmt: skip
    act(service, case_id, "approve", "bob", "2026-11-23")
    act(service, case_id, "send", "alice", "2026-11-24")


def test_every_number_leads_to_the_cases_it_counts(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    _replied(service, case_id)
    bob = client_for("bob")
    page = bob.get("/reports?year=2026")
    assert page.status_code == 200 and "2026年政府信息公开工作年度报告" in page.text
    link = "/reports/cases?year=2026&amp;row=%E4%B8%89.%28%E4%B8%89%29.6&amp;column=%E8%87%AA%E7%84%B6%E4%BA%BA"
    assert link in page.text
    cases_page = bob.get(link.replace("&amp;", "&"))
    assert cases_page.status_code == 200
    assert f'href="/cases/{case_id}"' in cases_page.text and "属于四类过程性信息" in cases_page.text


def test_the_report_files_download_with_their_chinese_names(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    _replied(service, case_id)
    dan = client_for("dan")
    xlsx = dan.get("/reports/annual.xlsx?year=2026")
    assert xlsx.status_code == 200 and "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert any("年度报告" in str(c.value) for row in sheet.iter_rows() for c in row)
    assert dan.get("/reports/annual.pdf?year=2026").content.startswith(b"%PDF-")
    refused = dan.get("/reports/annual.doc?year=2026")
    assert refused.status_code == 400 and "格式" in refused.text


def test_the_figures_page_shows_the_chart(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    _replied(service, case_id)
    bob = client_for("bob")
    page = bob.get("/reports/performance?from=2026-11&to=2026-11")
    assert page.status_code == 200 and "2026年11月" in page.text
    assert '<img src="/reports/performance.png?from=2026-11&amp;to=2026-11"' in page.text
    chart = bob.get("/reports/performance.png?from=2026-11&to=2026-11")
    assert chart.headers["content-type"] == "image/png" and chart.content.startswith(b"\x89PNG")
    bad = bob.get("/reports/performance?from=2026-13&to=2026-11")
    assert bad.status_code == 400 and "月份" in bad.text


def test_clerks_get_no_reports_and_a_bad_year_is_a_clear_error(
    client_for: Callable[[str | None], TestClient],
) -> None:
    assert client_for("alice").get("/reports").status_code == 403
    bad = client_for("bob").get("/reports?year=1999")
    assert bad.status_code == 422 and "year" in bad.text
