"""Every route × every role (and signed out) → the expected status (issue #10).

Pages send a signed-out browser to the sign-in page (303) and refuse a role with 403; the
API answers 401 without a valid token. Writes are refused to auditors and administrators
everywhere, reads of cases to administrators.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from disclosure.services import auth, cases
from disclosure.services.unit_of_work import App
from tests.conftest import application
from tests.web.conftest import TODAY

ROLES = (None, "alice", "bob", "dan", "root")  # signed out, clerk, supervisor, auditor, admin
READ = {None: 303, "alice": 200, "bob": 200, "dan": 200, "root": 403}
WRITE_PAGE = {None: 303, "alice": 303, "bob": 303, "dan": 403, "root": 403}
API_READ = {None: 401, "alice": 200, "bob": 200, "dan": 200, "root": 403}
API_WRITE = {None: 401, "alice": 200, "bob": 200, "dan": 403, "root": 403}

#: (method, path with {case}, body kind, expected status by role)
PAGE_ROUTES: list[tuple[str, str, str, dict[str | None, int]]] = [
    ("GET", "/", "", {None: 303, "alice": 200, "bob": 200, "dan": 200, "root": 303}),
    ("GET", "/cases/new", "", {None: 303, "alice": 200, "bob": 200, "dan": 403, "root": 403}),
    ("POST", "/cases", "form", {None: 303, "alice": 400, "bob": 400, "dan": 403, "root": 403}),
    ("GET", "/cases/{case}", "", READ),
    ("POST", "/cases/{case}/actions/review", "form", WRITE_PAGE),
    ("GET", "/cases/{case}/letters/receipt.html", "", READ),
    ("GET", "/cases/{case}/letters/receipt.pdf", "", READ),
    ("GET", "/cases/{case}/draft.html", "", {**READ, "alice": 404, "bob": 404, "dan": 404}),
    ("GET", "/alerts", "", READ),
    ("GET", "/calculator?received=2026-11-20", "", READ),
    ("GET", "/approvals", "", {None: 303, "alice": 403, "bob": 200, "dan": 403, "root": 403}),
    ("GET", "/audit", "", {None: 303, "alice": 403, "bob": 200, "dan": 200, "root": 403}),
    ("GET", "/audit/verify", "", {None: 303, "alice": 403, "bob": 200, "dan": 200, "root": 403}),
    (
        "GET",
        "/audit/cases/{case}/verify",
        "",
        {None: 303, "alice": 403, "bob": 200, "dan": 200, "root": 403},
    ),
    ("GET", "/notifications", "", READ),
    ("POST", "/notifications/read", "form", WRITE_PAGE),
    (
        "POST",
        "/alerts/feed-token",
        "form",
        {None: 303, "alice": 200, "bob": 200, "dan": 403, "root": 403},
    ),
    ("GET", "/alerts/feed.ics", "", {None: 401, "alice": 401, "bob": 401, "dan": 401, "root": 401}),
    (
        "POST",
        "/cases/{case}/actions/record_contact",
        "form",
        {None: 303, "alice": 400, "bob": 400, "dan": 403, "root": 403},
    ),
    ("POST", "/logout", "form", {None: 303, "alice": 303, "bob": 303, "dan": 303, "root": 303}),
]
API_ROUTES: list[tuple[str, str, str, dict[str | None, int]]] = [
    ("GET", "/api/v1/me", "", {None: 401, "alice": 200, "bob": 200, "dan": 200, "root": 200}),
    ("GET", "/api/v1/cases", "", API_READ),
    (
        "POST",
        "/api/v1/cases",
        "json",
        {None: 401, "alice": 400, "bob": 400, "dan": 403, "root": 403},
    ),
    ("GET", "/api/v1/cases/{case}", "", API_READ),
    ("GET", "/api/v1/cases/{case}/letters", "", API_READ),
    ("GET", "/api/v1/cases/{case}/letters/receipt.docx", "", API_READ),
    ("POST", "/api/v1/cases/{case}/review", "json", API_WRITE),
    (
        "POST",
        "/api/v1/cases/{case}/record_contact",
        "contact",
        {None: 401, "alice": 200, "bob": 200, "dan": 403, "root": 403},
    ),
    ("GET", "/api/v1/alerts", "", API_READ),
    (
        "POST",
        "/api/v1/deadline",
        "deadline",
        {None: 401, "alice": 200, "bob": 200, "dan": 200, "root": 200},
    ),
    (
        "GET",
        "/api/v1/audit/verify",
        "",
        {None: 401, "alice": 403, "bob": 200, "dan": 200, "root": 403},
    ),
]


def _request(client: TestClient, method: str, path: str, body: str, headers: dict[str, str]) -> int:
    kwargs: dict[str, object] = {"headers": headers, "follow_redirects": False}
    if body == "form":
        kwargs["data"] = {"csrf_token": getattr(client, "csrf", ""), "expected_version": "1"}
    elif body == "json":
        kwargs["json"] = {}
    elif body == "contact":
        kwargs["json"] = {"contact_method": "phone", "summary": "电话沟通"}
    elif body == "deadline":
        kwargs["json"] = {"received": "2026-11-20", "events": [["extend", "2026-11-23", 5]]}
    return client.request(method, path, **kwargs).status_code  # type: ignore[arg-type]


@pytest.mark.parametrize("method,path,body,expected", PAGE_ROUTES, ids=lambda v: str(v))
def test_pages(
    service: App, client_for: Callable[[str | None], TestClient],
    method: str, path: str, body: str, expected: dict[str | None, int],
) -> None:  # fmt: skip
    got = {}
    for role in ROLES:
        case_id = cases.register(service, application(received_on="2026-11-20"), "alice", TODAY)
        got[role] = _request(client_for(role), method, path.format(case=case_id), body, {})
    assert got == expected


@pytest.mark.parametrize("method,path,body,expected", API_ROUTES, ids=lambda v: str(v))
def test_api(
    service: App, client_for: Callable[[str | None], TestClient],
    method: str, path: str, body: str, expected: dict[str | None, int],
) -> None:  # fmt: skip
    client = client_for(None)
    got = {}
    for role in ROLES:
        case_id = cases.register(service, application(received_on="2026-11-20"), "alice", TODAY)
        headers = {}
        if role is not None:
            token = auth.create_token(service, role, "matrix", by="test", channel=auth.Channel.CLI)
            headers["Authorization"] = f"Bearer {token}"
        got[role] = _request(client, method, path.format(case=case_id), body, headers)
    assert got == expected


def test_a_clerk_of_another_agency_can_neither_see_nor_act(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    from disclosure.services.agencies import add_agency
    from disclosure.services.demo import DEMO_AGENCIES

    add_agency(service, DEMO_AGENCIES[0])
    code = DEMO_AGENCIES[0]["code"]
    cases.add_user(service, "erin", "clerk", "郑红", agencies=[code], password="erin-secret-2026")
    client = TestClient(client_for(None).app)
    from tests.web.conftest import sign_in

    client.csrf = sign_in(client, "erin", "erin-secret-2026")  # type: ignore[attr-defined]
    assert client.get(f"/cases/{case_id}").status_code == 403
    acted = client.post(
        f"/cases/{case_id}/actions/review",
        data={"csrf_token": client.csrf, "expected_version": "1"},  # type: ignore[attr-defined]
    )
    assert acted.status_code == 403
    assert str(case_id) not in [
        line for line in client.get("/").text.splitlines() if f'href="/cases/{case_id}"' in line
    ]
