"""联系记录, 催办, 待办提醒, the calendar feed and the daily e-mail digest (issue #10)."""

from __future__ import annotations

import email
import json
import socket
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from starlette.testclient import TestClient

from disclosure.errors import MailUnavailable, PermissionDenied, RuleViolation
from disclosure.services import auth, cases, notifications
from disclosure.services.digest import send_digests, set_email
from disclosure.services.unit_of_work import App
from disclosure.services.worklist import assign
from tests.conftest import act, application
from tests.web.conftest import TODAY


def _action(client: TestClient, case_id: int, trigger: str, **fields: str) -> object:
    version = cases.get_case(client.service, case_id).version  # type: ignore[attr-defined]
    data = {"csrf_token": client.csrf, "expected_version": str(version), "on": "2026-11-24"}  # type: ignore[attr-defined]
    data.update(fields)
    return client.post(f"/cases/{case_id}/actions/{trigger}", data=data, follow_redirects=False)


@pytest.fixture
def web(
    service: App, client_for: Callable[[str | None], TestClient]
) -> Callable[[str], TestClient]:
    def make(name: str) -> TestClient:
        client = client_for(name)
        client.service = service  # type: ignore[attr-defined]
        return client

    return make


def test_a_contact_is_recorded_shown_counted_and_in_the_trail(
    service: App, web: Callable[[str], TestClient], case_id: int
) -> None:
    alice = web("alice")
    summary = "电话告知补正要求<b>加粗</b>{{ 7*7 }}"
    response = _action(alice, case_id, "record_contact", contact_method="phone", summary=summary)
    assert response.status_code == 303  # type: ignore[attr-defined]
    _action(alice, case_id, "record_contact", contact_method="visit", summary="申请人来访查询进度")
    page = alice.get(f"/cases/{case_id}").text
    assert "联系记录 <small>（2次）</small>" in page
    assert "电话告知补正要求&lt;b&gt;加粗&lt;/b&gt;{{ 7*7 }}" in page and "<b>加粗</b>" not in page
    view = cases.get_case(service, case_id)
    assert [(c.method_label, c.by) for c in view.contacts] == [("电话", "alice"), ("当面", "alice")]
    recorded = json.loads(view.trail[-2].payload)
    assert view.trail[-2].trigger == "record_contact"
    assert (recorded["contact_method"], recorded["summary"]) == ("phone", summary)
    assert view.state == "registered" and view.version == 3  # no state change, two events
    token = auth.create_token(service, "alice", "t", by="test", channel=auth.Channel.CLI)
    shown = alice.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert [c["method"] for c in shown.json()["contacts"]] == ["phone", "visit"]


def test_a_contact_needs_a_known_method_and_a_summary(
    service: App, web: Callable[[str], TestClient], case_id: int
) -> None:
    alice = web("alice")
    wrong = _action(alice, case_id, "record_contact", contact_method="pigeon", summary="飞鸽传书")
    assert wrong.status_code == 400  # type: ignore[attr-defined]
    assert "联系方式：须写明 phone（电话）" in wrong.text  # type: ignore[attr-defined]
    assert "飞鸽传书" in wrong.text  # what was typed comes back  # type: ignore[attr-defined]
    blank = _action(alice, case_id, "record_contact", contact_method="phone", summary="  ")
    assert blank.status_code == 400 and "须填写联系摘要" in blank.text  # type: ignore[attr-defined]
    assert cases.get_case(service, case_id).contacts == ()


def test_an_urge_reaches_the_responsible_clerk_until_read(
    service: App, web: Callable[[str], TestClient], case_id: int
) -> None:
    assert cases.get_case(service, case_id).assignee == "alice"  # who registered it
    bob = web("bob")
    assert _action(bob, case_id, "urge", reason="申请人来电催问，请本周内答复").status_code == 303  # type: ignore[attr-defined]
    alice = web("alice")
    home = alice.get("/").text
    assert 'aria-label="1项待办提醒"' in home
    page = alice.get("/notifications").text
    assert "催办" in page and "申请人来电催问，请本周内答复" in page and "bob" in page
    [item] = notifications.inbox(service, "alice")
    assert (item.kind, item.case_id) == ("urge", case_id)
    trail = cases.get_case(service, case_id).trail
    assert trail[-1].trigger == "urge" and trail[-1].actor == "bob"
    carol = web("carol")
    carol.post("/notifications/read", data={"csrf_token": carol.csrf, "ids": str(item.id)})  # type: ignore[attr-defined]
    assert len(notifications.inbox(service, "alice")) == 1  # another user's id is passed over
    alice.post("/notifications/read", data={"csrf_token": alice.csrf, "ids": str(item.id)})  # type: ignore[attr-defined]
    assert notifications.inbox(service, "alice") == []


def test_only_a_supervisor_urges_and_only_an_assigned_case(service: App, case_id: int) -> None:
    with pytest.raises(PermissionDenied):
        act(service, case_id, "urge", "alice", "2026-11-24", reason="快")
    unassigned = cases.register(service, application(received_on="2026-11-20"), "bob", TODAY)
    with pytest.raises(RuleViolation) as refused:
        act(service, unassigned, "urge", "bob", "2026-11-24", reason="快")
    assert (refused.value.field, refused.value.rule) == ("assignee", "not_assigned")
    with pytest.raises(RuleViolation) as blank:
        act(service, case_id, "urge", "bob", "2026-11-24")
    assert blank.value.field == "reason"


def test_assignment_and_drafts_to_approve_need_their_people(service: App, case_id: int) -> None:
    assign(service, [case_id], "carol", actor="bob", reason="陈静熟悉该领域")
    [assigned] = notifications.inbox(service, "carol")
    assert assigned.kind == "assigned" and "陈静熟悉该领域" in assigned.message
    act(service, case_id, "review", "carol", "2026-11-23")
    act(service, case_id, "draft_reply", "carol", "2026-11-24",
        outcome="disclose", reason_code="provided", detail="见附件")  # fmt: skip
    kinds = [(i.kind, i.case_id) for i in notifications.inbox(service, "bob")]
    assert ("approval", case_id) in kinds
    assert notifications.inbox(service, "dan") == []  # an auditor is asked for nothing


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    """A real SMTP server on a free local port; the messages it received."""
    received: list[Message] = []

    class Keep(MessageHandler):
        def handle_message(self, message: Message) -> None:
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(email.message.Message), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def test_the_daily_digest_goes_once_a_day_to_whoever_has_something_to_do(
    service: App, case_id: int, smtp_server: tuple[int, list[Message]]
) -> None:
    port, received = smtp_server
    assert send_digests(service, TODAY).skipped  # off by default: no mail server configured
    service.settings = service.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none"}
    )
    set_email(service, "alice", "wang@example.gov.cn")
    set_email(service, "carol", "chen@example.gov.cn")  # nothing to do: no e-mail
    act(service, case_id, "urge", "bob", "2026-11-24", reason="请本周内答复")
    run = send_digests(service, TODAY)
    assert (run.sent, run.empty) == (["alice"], 1)
    [message] = received
    assert message["To"].endswith("<wang@example.gov.cn>")
    assert "待办摘要" in str(make_header(decode_header(message["Subject"])))
    body = _body(message)
    assert "【催办】1项" in body and f"案件{case_id}：请本周内答复" in body
    assert service.settings.public_url in body
    again = send_digests(service, TODAY)
    assert (again.sent, again.already) == ([], 1) and len(received) == 1


def test_a_digest_not_sent_is_not_marked_sent(service: App, case_id: int) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    service.settings = service.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": closed_port, "smtp_tls": "none"}
    )
    set_email(service, "alice", "wang@example.gov.cn")
    act(service, case_id, "urge", "bob", "2026-11-24", reason="请本周内答复")
    with pytest.raises(MailUnavailable) as refused:
        send_digests(service, TODAY)
    assert "无法连接发信服务器" in refused.value.message
    # Nothing was claimed: with the server back, today's digest still goes.
    received: list[Message] = []

    class Keep(MessageHandler):
        def handle_message(self, message: Message) -> None:
            received.append(message)

    controller = Controller(Keep(email.message.Message), hostname="127.0.0.1", port=closed_port)
    controller.start()
    try:
        assert send_digests(service, TODAY).sent == ["alice"]
    finally:
        controller.stop()
    assert len(received) == 1


def test_an_address_must_be_plain(service: App) -> None:
    for bad in ("wang", "a b@example.com", "x@y", "<a@b.cn>", "a@b.cn\r\nBcc: c@d.cn"):
        with pytest.raises(RuleViolation) as refused:
            set_email(service, "alice", bad)
        assert refused.value.field == "email"


def test_the_calendar_feed_opens_with_its_own_token_only(
    service: App, web: Callable[[str], TestClient], case_id: int
) -> None:
    bob = web("bob")
    page = bob.post("/alerts/feed-token", data={"csrf_token": bob.csrf}).text  # type: ignore[attr-defined]
    url = page.split('class="feed-url"')[0].rsplit('value="', 1)[1].split('"', 1)[0]
    token = url.split("token=", 1)[1]
    anonymous = TestClient(bob.app)
    feed = anonymous.get("/alerts/feed.ics", params={"token": token})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert f"案件{case_id}" in feed.text and "BEGIN:VCALENDAR" in feed.text
    assert anonymous.get("/alerts/feed.ics").status_code == 401
    as_bearer = anonymous.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401  # the feed token opens nothing else
    api_token = auth.create_token(service, "bob", "t", by="test", channel=auth.Channel.CLI)
    assert anonymous.get("/alerts/feed.ics", params={"token": api_token}).status_code == 401
    bob.post("/alerts/feed-token", data={"csrf_token": bob.csrf})  # type: ignore[attr-defined]
    assert anonymous.get("/alerts/feed.ics", params={"token": token}).status_code == 401
