"""The case pages and the API on the services: registration, actions, letters, the trail."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from starlette.testclient import TestClient

from disclosure.services import cases
from disclosure.services.letters import case_letters
from disclosure.services.unit_of_work import App
from tests.conftest import act, application

HOSTILE = "张三<b>粗</b>{{ 7*7 }}[/red]\u202e"


def _registration(client: TestClient, **overrides: str) -> dict[str, str]:
    form = {k: str(v) for k, v in application(received_on="2026-11-20").items()}
    form.update(csrf_token=client.csrf, **overrides)  # type: ignore[attr-defined]
    return form


def test_registering_through_the_form_opens_the_case(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    client = client_for("alice")
    response = client.post("/cases", data=_registration(client), follow_redirects=False)
    assert response.status_code == 303
    case_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/cases/{case_id}").text
    assert "已登记" in page and "政府信息公开申请登记回执" in page
    view = cases.get_case(service, case_id)
    assert json.loads(view.trail[0].payload)["via"] == {"channel": "web"}
    assert view.trail[0].actor == "alice"


def test_a_refused_field_is_named_next_to_it_and_nothing_typed_is_lost(
    client_for: Callable[[str | None], TestClient],
) -> None:
    client = client_for("alice")
    form = _registration(client, id_number="110105194912310021", description="我要的信息<i>x</i>")
    response = client.post("/cases", data=form)
    assert response.status_code == 400
    error = re.search(r'id="f-id_number-error"[^>]*>([^<]+)<', response.text)
    assert error is not None and "校验" in error.group(1)
    assert 'aria-invalid="true" aria-describedby="f-id_number-error"' in response.text
    assert "我要的信息&lt;i&gt;x&lt;/i&gt;</textarea>" in response.text


def test_hostile_text_is_shown_as_text(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    client = client_for("alice")
    response = client.post(
        "/cases", data=_registration(client, description=HOSTILE), follow_redirects=False
    )
    assert response.status_code in (303, 400)
    if response.status_code == 400:  # the bidi override is refused: the message says so
        assert "description" in response.text or "控制" in response.text
        return
    page = client.get(response.headers["location"]).text
    assert "<b>粗</b>" not in page and "&lt;b&gt;粗&lt;/b&gt;" in page and "{{ 7*7 }}" in page


def test_only_the_actions_this_user_may_take_are_offered(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    act(service, case_id, "review", "alice", "2026-11-20")
    act(service, case_id, "accept", "alice", "2026-11-20")
    clerk = client_for("alice").get(f"/cases/{case_id}").text
    supervisor = client_for("bob").get(f"/cases/{case_id}").text
    auditor = client_for("dan").get(f"/cases/{case_id}").text
    assert 'id="action-draft_reply"' in clerk and 'id="action-extend"' not in clerk
    assert 'id="action-extend"' in supervisor
    assert "可办理的操作" not in auditor


def test_a_stale_form_is_refused_and_keeps_what_was_typed(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    client = client_for("alice")
    act(service, case_id, "review", "carol", "2026-11-20")  # someone else moved first
    response = client.post(
        f"/cases/{case_id}/actions/review",
        data={"csrf_token": client.csrf, "expected_version": "1", "reason": "我写的备注"},  # type: ignore[attr-defined]
    )
    assert response.status_code == 409
    assert "案件已被他人修改" in response.text
    assert "我写的备注</textarea>" in response.text


def test_a_rule_of_the_law_is_shown_next_to_its_field(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    act(service, case_id, "review", "alice", "2026-11-20")
    act(service, case_id, "accept", "alice", "2026-11-20")
    client = client_for("bob")
    response = client.post(
        f"/cases/{case_id}/actions/extend",
        data={"csrf_token": client.csrf, "expected_version": "3", "days": "5"},  # type: ignore[attr-defined]
    )
    assert response.status_code == 400
    assert 'id="extend-reason-error"' in response.text  # an extension needs a reason
    done = client.post(
        f"/cases/{case_id}/actions/extend",
        data={"csrf_token": client.csrf, "expected_version": "3", "days": "5", "reason": "调档"},  # type: ignore[attr-defined]
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert cases.get_case(service, case_id).state.value == "handling"
    assert any(x.kind == "extension" for x in case_letters(service, case_id))


def test_a_business_date_in_the_future_is_refused_on_its_field(
    client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    client = client_for("alice")
    response = client.post(
        f"/cases/{case_id}/actions/review",
        data={"csrf_token": client.csrf, "expected_version": "1", "on": "2027-01-04"},  # type: ignore[attr-defined]
    )
    assert response.status_code == 400
    assert 'id="review-on-error"' in response.text


def test_letters_download_as_pdf_docx_and_a_locked_down_preview(
    client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    client = client_for("dan")
    pdf = client.get(f"/cases/{case_id}/letters/receipt.pdf")
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    docx = client.get(f"/cases/{case_id}/letters/receipt.docx")
    assert docx.content.startswith(b"PK")
    html = client.get(f"/cases/{case_id}/letters/receipt.html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    for kind in ("nonsense", "extension"):  # no such kind; a kind not issued on this case
        assert client.get(f"/cases/{case_id}/letters/{kind}.pdf").status_code == 404


def test_the_api_refuses_bad_bodies_with_the_field_and_rule(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    from disclosure.services import auth

    token = auth.create_token(service, "alice", "api", by="t", channel=auth.Channel.CLI)
    client = client_for(None)
    headers = {"Authorization": f"Bearer {token}"}
    cases_url = f"/api/v1/cases/{case_id}"
    for body, status, field in (
        ({"bogus": 1}, 422, "bogus"),
        ({"reason": "x" * 600}, 400, "reason"),
        ({"reason": 5}, 400, "reason"),
        ([1, 2], 400, "input"),
    ):
        response = client.post(f"{cases_url}/review", headers=headers, json=body)
        assert response.status_code == status, response.text
        assert response.json()["field"] == field
        assert response.json()["message"]
    moved = client.post(
        f"{cases_url}/review", headers=headers, json={}, params={"on": "2026-11-20"}
    )
    assert moved.status_code == 200 and moved.json()["to_state"] == "under_review"
    stale = client.post(
        f"{cases_url}/accept", headers=headers, json={}, params={"expected_version": 1}
    )
    assert stale.status_code == 409 and stale.json()["error"] == "conflict"
    wrong_state = client.post(f"{cases_url}/send", headers=headers, json={})
    assert (
        wrong_state.status_code == 409 and wrong_state.json()["error"] == "transition_not_allowed"
    )
    shown = client.get(cases_url, headers=headers).json()
    assert shown["version"] == 2 and "accept" in shown["triggers"]
    assert json.loads(json.dumps(shown["trail"][1]["payload"]))["via"] == {"channel": "api"}
