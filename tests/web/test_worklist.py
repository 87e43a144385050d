"""我的待办: filters, keyset pages, CSV export and assignment (承办人)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from disclosure.errors import PermissionDenied, RuleViolation
from disclosure.services import cases
from disclosure.services.unit_of_work import App
from disclosure.services.worklist import CaseFilter, assign, worklist
from tests.conftest import act, application
from tests.web.conftest import TODAY


def _register(service: App, clerk: str = "alice", **fields: str) -> int:
    return cases.register(service, application(**fields), clerk, TODAY)


def test_a_clerk_sees_their_own_cases_first_and_may_widen_to_the_agency(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    own = _register(service, "alice", received_on="2026-11-20")
    other = _register(service, "carol", received_on="2026-11-19", name="李四")
    client = client_for("alice")
    mine = client.get("/").text
    assert f'href="/cases/{own}"' in mine and f'href="/cases/{other}"' not in mine
    every = client.get("/", params={"scope": "all"}).text
    assert f'href="/cases/{own}"' in every and f'href="/cases/{other}"' in every


def test_each_filter_narrows_the_list(service: App) -> None:
    first = _register(
        service, received_on="2026-11-02", name="张三", description="2025年预算执行审计报告"
    )
    second = _register(
        service, received_on="2026-11-16", name="福州某公司", applicant_kind="commercial",
        id_type="credit_code", id_number="91350100M000100Y43", channel="online",
        description="招投标文件",
    )  # fmt: skip
    act(service, first, "review", "alice", "2026-11-03")

    def found(**given: str) -> list[int]:
        page = worklist(service, TODAY, CaseFilter.parse(given), viewer="alice")
        return [c.id for c in page.cases]

    assert found() == [first, second]  # nearest reply limit first
    assert found(state="under_review") == [first]
    assert found(received_from="2026-11-10") == [second]
    assert found(received_to="2026-11-10") == [first]
    assert found(due_from="2026-12-10") == [second]
    assert found(applicant="某公司") == [second]
    assert found(keyword="预算") == [first]
    assert found(channel="online") == [second]
    receipt = cases.get_case(service, second).trail[0]
    number = json.loads(receipt.payload)["letters"][0]["number"]
    assert found(number=number.replace("〔", "[").replace("〕", "]")) == [second]
    assert found(keyword="%") == [] and found(keyword="_") == []  # no wildcards
    with pytest.raises(RuleViolation) as refused:
        CaseFilter.parse({"received_from": "2026-11-20", "received_to": "2026-11-01"})
    assert refused.value.field == "received_to"


def test_keyset_pages_cover_every_case_once_in_order(service: App) -> None:
    ids = [_register(service, received_on=f"2026-11-{day:02d}") for day in (2, 3, 3, 4, 5, 6, 9)]
    act(service, ids[0], "withdraw", "alice", "2026-11-02", reason="书面撤回")  # closed: last
    seen, after = [], None
    while True:
        page = worklist(service, TODAY, CaseFilter(), viewer="alice", after=after, limit=2)
        seen += [c.id for c in page.cases]
        assert page.total == len(ids)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == [*ids[1:], ids[0]]
    with pytest.raises(RuleViolation):
        worklist(service, TODAY, CaseFilter(), viewer="alice", after="garbage")


def test_the_export_is_the_filtered_list_as_safe_csv(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    _register(service, received_on="2026-11-20", name='=HYPERLINK("x")')
    _register(service, received_on="2026-11-02")
    response = client_for("alice").get("/cases.csv", params={"received_from": "2026-11-10"})
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff案件编号")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2 and rows[1][2].startswith("'=")


def test_a_supervisor_assigns_many_cases_at_once_each_in_the_trail(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    ids = [_register(service, received_on=f"2026-11-{d}") for d in (18, 19)]
    supervisor = client_for("bob")
    page = supervisor.get("/", params={"scope": "all"}).text
    assert 'name="case_ids"' in page and 'value="carol"' in page
    response = supervisor.post(
        "/cases/assign",
        data={
            "csrf_token": supervisor.csrf,
            "case_ids": [str(i) for i in ids],
            "assignee": "carol",
            "back": "/?scope=all",
        },  # type: ignore[attr-defined]
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].endswith("assigned=2")
    for case_id in ids:
        view = cases.get_case(service, case_id)
        assert view.assignee == "carol"
        last = view.trail[-1]
        assert (last.trigger, last.actor) == ("assign", "bob")
        assert json.loads(last.payload)["previous"] == "alice"
    carol = client_for("carol").get("/").text  # carol's own list now holds them
    assert all(f'href="/cases/{i}"' in carol for i in ids)
    from disclosure.services import audit

    assert audit.verify_trail(service)[1] == []


def test_only_a_supervisor_assigns_and_only_to_staff_of_the_case(
    service: App, client_for: Callable[[str | None], TestClient], case_id: int
) -> None:
    clerk = client_for("alice")
    refused = clerk.post(
        "/cases/assign",
        data={"csrf_token": clerk.csrf, "case_ids": str(case_id), "assignee": "carol"},  # type: ignore[attr-defined]
    )
    assert refused.status_code == 403
    with pytest.raises(PermissionDenied):
        assign(service, [case_id], "carol", actor="alice")
    with pytest.raises(RuleViolation) as auditor:
        assign(service, [case_id], "dan", actor="bob")
    assert auditor.value.field == "assignee"
    with pytest.raises(RuleViolation) as none:
        assign(service, [], "carol", actor="bob")
    assert none.value.field == "case_ids"
    assert cases.get_case(service, case_id).assignee == "alice"  # nothing changed


def test_the_api_lists_with_the_worklist_filters_and_pages(
    service: App, client_for: Callable[[str | None], TestClient]
) -> None:
    from disclosure.services import auth

    ids = [_register(service, received_on=f"2026-11-{day:02d}") for day in (2, 3, 4, 5, 6)]
    other = _register(service, "carol", received_on="2026-11-09", name="福州某公司",
                      applicant_kind="commercial", id_type="credit_code",
                      id_number="91350100M000100Y43")  # fmt: skip
    token = auth.create_token(service, "alice", "t", by="test", channel=auth.Channel.CLI)
    api = client_for(None)
    headers = {"Authorization": f"Bearer {token}"}

    def listed(**params: object) -> dict:  # type: ignore[type-arg]
        response = api.get("/api/v1/cases", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    seen, after = [], None
    while True:
        page = listed(limit=2, **({"after": after} if after else {}))
        assert page["total"] == 6
        seen += [c["id"] for c in page["cases"]]
        if page["next_cursor"] is None:
            break
        after = page["next_cursor"]
    assert seen == [*ids, other]
    assert [c["id"] for c in listed(applicant="某公司")["cases"]] == [other]
    assert [c["id"] for c in listed(mine="true")["cases"]] == ids
    assert [c["id"] for c in listed(overdue="true")["cases"]] == []
    assert listed(due_within=20)["total"] == 6
    bad = api.get("/api/v1/cases", params={"received_from": "2026-13-01"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "received_from"
    both = api.get("/api/v1/cases", params={"overdue": "true", "due_within": 3}, headers=headers)
    assert both.status_code == 400 and both.json()["field"] == "overdue"
    cursor = api.get("/api/v1/cases", params={"after": "garbage"}, headers=headers)
    assert cursor.status_code == 400 and cursor.json()["field"] == "after"
