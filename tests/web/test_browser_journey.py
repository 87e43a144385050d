"""A case from registration to archive in a real browser (Debian's Chromium via Playwright).

A clerk signs in, registers an application, requests a correction, receives it, consults a
third party; a supervisor extends; the clerk drafts the reply; a different supervisor
approves; the clerk sends and archives; an auditor opens the trail and verifies it. Every
page is saved as a screenshot at 1366×768 and 1920×1080 under ``build/screenshots/``.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import PASSWORDS, SCREENS, SHOTS


class Journey:
    """One person's browser tab, saving a screenshot of every page it reaches."""

    def __init__(self, browser: Browser, base: str, folder: Path) -> None:
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
        self.page: Page = self.context.new_page()
        self.base = base
        self.folder = folder
        self.count = 0

    def shot(self, name: str) -> None:
        self.count += 1
        for width, height in SCREENS:
            self.page.set_viewport_size({"width": width, "height": height})
            path = self.folder / f"{self.count:02d}-{name}-{width}x{height}.png"
            self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size({"width": 1366, "height": 768})

    def sign_in(self, name: str) -> None:
        page = self.page
        page.goto(f"{self.base}/login")
        page.fill("#name", name)
        page.fill("#password", PASSWORDS.get(name, f"{name}-secret-2026"))
        page.click("form[action='/login'] button[type=submit]")
        expect(page.locator("header .who")).to_be_visible()

    def sign_out(self) -> None:
        self.page.click("form[action='/logout'] button")
        expect(self.page.locator("#name")).to_be_visible()

    def act(self, trigger: str, **fields: str) -> None:
        """Open the action's form on the case page, fill it in and submit it."""
        page = self.page
        page.click(f"#action-{trigger} summary")
        for name, value in fields.items():
            target = page.locator(f"#{trigger}-{name}")
            if target.evaluate("e => e.tagName") == "SELECT":
                target.select_option(value)
            else:
                target.fill(value)
        page.click(f"#action-{trigger} button[type=submit]")
        expect(page.locator("#trail")).to_be_visible()

    def state_is(self, label: str) -> None:
        expect(self.page.locator("h1 .state")).to_contain_text(label)


def test_a_case_from_registration_to_archive(
    server: str, browser: Browser, database_url: str
) -> None:
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    folder = SHOTS / backend
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()

    clerk = Journey(browser, server, folder)
    clerk.page.goto(f"{server}/")
    clerk.shot("sign-in")
    clerk.sign_in("alice")
    clerk.shot("my-cases")

    page = clerk.page
    page.click("a[href='/cases/new']")
    page.select_option("#f-applicant_kind", "person")
    page.fill("#f-name", "张三")
    page.select_option("#f-id_type", "resident_id")
    page.fill("#f-id_number", "11010519491231002X")
    page.fill("#f-phone", "0591-26831234")
    page.fill("#f-description", "本局2025年度部门预算执行情况审计报告")
    page.select_option("#f-delivery_form", "paper")
    page.select_option("#f-delivery_method", "pickup")
    page.select_option("#f-channel", "in_person")
    page.fill("#f-received_on", "2026-11-20")
    clerk.shot("register")
    page.click("form[action='/cases'] button[type=submit]")
    clerk.state_is("已登记")
    clerk.shot("registered")
    case_url = page.url

    clerk.act("review")
    clerk.act("request_correction", items="请写明所需信息的年度\n请补充联系地址")
    clerk.state_is("补正")
    clerk.shot("correction-requested")
    clerk.act("receive_correction")
    clerk.act("consult_third_party", party="福州闽江建设工程有限公司")
    clerk.state_is("征求第三方意见")
    clerk.shot("consulting")
    clerk.sign_out()

    supervisor = Journey(browser, server, folder)
    supervisor.count = clerk.count
    supervisor.sign_in("bob")
    supervisor.page.goto(case_url)
    supervisor.act("extend", days="15", reason="涉及第三方，需征求意见并调取多年度档案")
    supervisor.shot("extended")
    expect(supervisor.page.locator("#letters-h + table")).to_contain_text("延长答复期限告知书")
    supervisor.context.close()

    clerk.count = supervisor.count
    clerk.sign_in("alice")
    page.goto(case_url)
    clerk.act("third_party_replied", opinion="agree")
    clerk.act(
        "draft_reply", outcome="disclose", reason_code="provided", detail="现提供该报告复印件一份。"
    )
    clerk.state_is("拟答复")
    clerk.shot("drafted")
    clerk.sign_out()

    approver = Journey(browser, server, folder)
    approver.count = clerk.count
    approver.sign_in("frank")
    approver.page.goto(case_url)
    approver.shot("to-approve")
    approver.act("approve")
    approver.state_is("已审核")
    approver.context.close()

    clerk.count = approver.count
    clerk.sign_in("alice")
    page.goto(case_url)
    clerk.act("send")
    clerk.state_is("已答复")
    clerk.act("archive")
    clerk.state_is("已归档")
    clerk.shot("archived")
    clerk.context.close()

    auditor = Journey(browser, server, folder)
    auditor.count = clerk.count
    auditor.sign_in("dan")
    auditor.page.click("header a[href='/audit']")
    auditor.shot("audit")
    auditor.page.goto(case_url)
    expect(auditor.page.locator("#actions-h")).to_have_count(0)  # read-only
    auditor.page.click("#trail button")
    expect(auditor.page.locator("#verify-result")).to_contain_text("轨迹完整")
    auditor.shot("trail-verified")
    auditor.context.close()

    assert len(list(folder.glob("*.png"))) == 2 * auditor.count
