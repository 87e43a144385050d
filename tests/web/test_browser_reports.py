"""统计报表 and 卷宗 in Debian's Chromium (issue #11): a supervisor follows a number of the
annual report to its cases and sees the on-time chart; an auditor downloads an archived
case's 卷宗 from its page and checks it by uploading it on 审计. Screenshots go to
``build/screenshots/<backend>/reports/``."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from disclosure.services import cases
from disclosure.services.unit_of_work import App
from tests.conftest import act, application
from tests.web.conftest import PASSWORDS, SHOTS, TODAY


def _signed_in(browser: Browser, server: str, name: str) -> Page:
    page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{server}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("header .who")).to_be_visible()
    return page


def test_a_number_leads_to_its_cases_and_a_file_is_checked_by_upload(
    server: str, browser: Browser, service: App, database_url: str, tmp_path: Path
) -> None:
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    folder = SHOTS / backend / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    case_id = cases.register(service, application(received_on="2026-11-20"), "alice", TODAY)
    act(service, case_id, "withdraw", "alice", "2026-11-20", reason="申请人书面撤回")
    act(service, case_id, "archive", "alice", "2026-11-23")

    bob = _signed_in(browser, server, "bob")
    bob.click("header >> text=统计报表")
    expect(bob.locator("h1")).to_contain_text("2026年政府信息公开工作年度报告")
    bob.screenshot(path=str(folder / "annual.png"), full_page=True)
    bob.click("a[aria-label^='三.(六).3 自然人']")  # withdrawn: 其他处理 — 其他
    expect(bob.locator("body")).to_contain_text(f"案件{case_id}")
    bob.click(f"a[href='/cases/{case_id}']")
    expect(bob.locator("h1")).to_contain_text(str(case_id))
    bob.goto(f"{server}/reports/performance?from=2026-11&to=2026-11")
    expect(bob.locator("img[alt*='按时答复率']")).to_be_visible()
    assert bob.evaluate("document.querySelector('img').naturalWidth") > 0  # the chart loaded

    dan = _signed_in(browser, server, "dan")
    dan.goto(f"{server}/cases/{case_id}")
    with dan.expect_download() as downloading:
        dan.click("text=下载卷宗")
    saved = tmp_path / "case.zip"
    downloading.value.save_as(saved)
    dan.click("header >> text=审计")
    dan.set_input_files("#archive-file", str(saved))
    dan.click("form[action='/audit/archive-verify'] button[type=submit]")
    expect(dan.locator("[role=status]")).to_contain_text("卷宗完整，未发现改动")
    dan.screenshot(path=str(folder / "archive-check.png"), full_page=True)
