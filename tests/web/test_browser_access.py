"""The workbench without a mouse and without JavaScript, in Debian's Chromium (issue #10):
every form is reached and sent from the keyboard alone, and the pages work with JavaScript
switched off (htmx only enhances). The pages added after the first journey are saved as
screenshots too (``build/screenshots/<backend>/access/``)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from disclosure.services import cases
from disclosure.services.unit_of_work import App
from tests.conftest import application
from tests.web.conftest import PASSWORDS, SCREENS, SHOTS, TODAY

#: The most Tab presses a form may need before its control has focus.
MAX_TABS = 200


def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element ``selector`` names has focus (fails if it never does)."""
    target = page.locator(selector)
    for _ in range(MAX_TABS):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def _shots(page: Page, folder: Path, name: str) -> None:
    for width, height in SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"access-{name}-{width}x{height}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def _folder(database_url: str) -> Path:
    # A folder of its own: the journey test clears and counts the backend's folder.
    folder = (
        SHOTS / ("postgresql" if database_url.startswith("postgresql") else "sqlite") / "access"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _signed_in_without_script(
    browser: Browser, server: str, name: str
) -> tuple[BrowserContext, Page]:
    """A tab with JavaScript off, signed in as ``name`` through the plain form."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1366, "height": 768}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("header .who")).to_be_visible()
    return context, page


def test_a_clerk_works_from_the_keyboard_alone(
    server: str,
    browser: Browser,
    service: App,
) -> None:
    case_id = cases.register(service, application(received_on="2026-11-20"), "alice", TODAY)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{server}/login")
    _tab_to(page, "#name")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS["alice"])
    page.keyboard.press("Enter")
    expect(page.locator("header .who")).to_be_visible()

    page.goto(f"{server}/cases/{case_id}")
    _tab_to(page, "#action-record_contact summary")
    page.keyboard.press("Enter")  # opens the action's form
    _tab_to(page, "#record_contact-contact_method")
    page.keyboard.press("ArrowDown")  # from the empty choice to the first method
    _tab_to(page, "#record_contact-summary")
    page.keyboard.type("电话告知申请人办理进度")
    _tab_to(page, "#action-record_contact button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#contacts")).to_contain_text("电话告知申请人办理进度")

    _tab_to(page, "#action-review summary")
    page.keyboard.press("Enter")
    _tab_to(page, "#action-review button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1 .state")).to_contain_text("审查")
    context.close()
    assert cases.get_case(service, case_id).state == "under_review"


def test_the_pages_work_with_javascript_off(
    server: str,
    browser: Browser,
    service: App,
    database_url: str,
) -> None:
    folder = _folder(database_url)
    case_id = cases.register(service, application(received_on="2026-11-20"), "alice", TODAY)
    supervisor, page = _signed_in_without_script(browser, server, "bob")

    page.goto(f"{server}/cases/{case_id}")
    page.click("#action-urge summary")  # <details> opens without script
    page.fill("#urge-reason", "申请人来电催问，请本周内答复")
    page.click("#action-urge button[type=submit]")
    expect(page.locator("#trail")).to_contain_text("催办")
    page.click("#trail button")  # the verify form is a plain GET without htmx
    expect(page.locator("body")).to_contain_text("轨迹完整")

    page.goto(f"{server}/calculator?received=2026-11-20&kind0=extend&on0=2026-12-01&extra0=10")
    expect(page.locator("body")).to_contain_text("答复期限")
    _shots(page, folder, "calculator")
    page.goto(f"{server}/alerts")
    page.click("form[action='/alerts/feed-token'] button")
    expect(page.locator("input.feed-url")).to_have_value(
        re.compile(r"/alerts/feed\.ics\?token=dcal_")
    )
    _shots(page, folder, "alerts")
    supervisor.close()

    clerk, page = _signed_in_without_script(browser, server, "alice")
    expect(page.locator("header a[href='/notifications'] mark")).to_have_text("1")
    page.click("header a[href='/notifications']")
    expect(page.locator("table.notifications")).to_contain_text("申请人来电催问")
    _shots(page, folder, "notifications")
    page.click("button[name=all]")
    expect(page.locator("main")).to_contain_text("没有需要您处理的事项")
    page.goto(f"{server}/?scope=all&keyword=预算")
    expect(page.locator(f"a[href='/cases/{case_id}']").first).to_be_visible()
    _shots(page, folder, "worklist-filtered")
    page.goto(f"{server}/cases/{case_id}")
    _shots(page, folder, "case")
    clerk.close()
