"""预警, 待审批 and 审计: what supervisors and auditors see, and the draft they approve."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from disclosure.services import cases
from disclosure.services.scheduling import run_scan
from disclosure.services.unit_of_work import App
from tests.conftest import act, application, as_insider
from tests.web.conftest import TODAY


def test_alerts_are_counted_by_kind_and_agency_and_in_the_header(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    late = cases.register(service, application(received_on="2026-10-09"), "alice", TODAY)
    act(service, late, "review", "alice", "2026-10-09")
    act(service, late, "accept", "alice", "2026-10-09")
    run_scan(service, TODAY, slot=None, node="test")
    page = client_for("bob").get("/alerts")
    assert page.status_code == 200
    assert f'href="/cases/{late}"' in page.text and "已超过答复期限" in page.text
    assert "示例市审计局" in page.text or "审计局" in page.text  # the agency column
    assert 'class="count"' in page.text  # the header's alert count
    clerk = client_for("carol").get("/alerts")  # carol handles none of it
    assert "已超过答复期限" not in clerk.text


def test_a_supervisor_sees_drafts_to_approve_with_their_preview(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    act(service, case_id, "review", "alice", "2026-11-20")
    act(service, case_id, "accept", "alice", "2026-11-20")
    act(
        service, case_id, "draft_reply", "alice", "2026-11-23",
        outcome="disclose", reason_code="provided", detail="现提供<b>复印件</b>一份。",
    )  # fmt: skip
    supervisor = client_for("bob")
    listing = supervisor.get("/approvals")
    assert f'href="/cases/{case_id}#draft-h"' in listing.text
    draft = supervisor.get(f"/cases/{case_id}/draft.html")
    assert draft.status_code == 200 and "答复" in draft.text
    assert "<b>复印件</b>" not in draft.text  # the clerk's text is escaped in the letter
    assert "frame-ancestors 'self'" in draft.headers["content-security-policy"]
    assert client_for("alice").get("/approvals").status_code == 403
    assert client_for("dan").get(f"/cases/{case_id}/draft.html").status_code == 200


def test_an_auditor_verifies_a_trail_and_sees_tampering(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    act(service, case_id, "withdraw", "alice", "2026-11-20", reason="申请人书面撤回")
    auditor = client_for("dan")
    listing = auditor.get("/audit")
    assert f'href="/cases/{case_id}"' in listing.text
    fragment = auditor.get(f"/audit/cases/{case_id}/verify", headers={"HX-Request": "true"})
    assert "轨迹完整" in fragment.text and "<html" not in fragment.text
    whole = auditor.get("/audit/verify")
    assert "轨迹完整" in whole.text and "<html" in whole.text
    as_insider(  # someone with table rights edits a recorded reason
        service, "UPDATE audit_events SET reason = '改过' WHERE case_id = :c AND seq = 2",
        {"c": case_id},
    )  # fmt: skip
    tampered = auditor.get("/audit/verify")
    assert (
        "轨迹核验未通过" in tampered.text
        and f'案件 <a href="/cases/{case_id}">{case_id}</a>' in tampered.text
    )


def test_the_calculator_shows_every_limit_and_the_month_grid(
    client_for: Callable[[str | None], TestClient],
) -> None:
    client = client_for("alice")
    page = client.get(
        "/calculator",
        params={
            "received": "2026-09-28", "kind0": "consult_third_party", "on0": "2026-10-09",
            "kind1": "third_party_replied", "on1": "2026-10-20",
            "kind2": "extend", "on2": "2026-10-21", "extra2": "10",
        },
    )  # fmt: skip
    assert page.status_code == 200
    # the same function as the engine: the 2026 National Day holidays and 调休 count
    assert "答复期限：2026-11-25" in page.text and "征求第三方意见暂停8个工作日" in page.text
    assert "1<sup>休</sup>" in page.text and "10<sup>班</sup>" in page.text
    refused = client.get(
        "/calculator",
        params={"received": "2026-09-28", "kind0": "extend", "on0": "2026-10-09", "extra0": "30"},
    )
    assert refused.status_code == 400 and "延长期限须为1至20个工作日" in refused.text
    bad_date = client.get("/calculator", params={"received": "2026-13-45"})
    assert bad_date.status_code == 400 and 'id="received-error"' in bad_date.text
