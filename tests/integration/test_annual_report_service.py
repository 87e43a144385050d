"""A year of cases through the real workflow, and its annual report against an independent
count made here from the raw trail (issue #11)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from itertools import cycle
from typing import Any

import pytest
from sqlalchemy import select

from disclosure.errors import PermissionDenied, RuleViolation
from disclosure.models.tables import AuditEvent, ClockEventRow
from disclosure.services import cases, reports
from disclosure.services.unit_of_work import App
from disclosure.workflow.annual_report import check_annual_report
from disclosure.workflow.performance import Month
from disclosure.workflow.states import OUTCOMES, SYSTEM_OUTCOMES
from tests.conftest import act, application

YEAR = 2026
D = date.fromisoformat
#: Written from the 2021 form, independently of the code under test.
COLUMN = {"person": "自然人", "commercial": "商业企业", "research": "科研机构",
          "public_interest": "社会公益组织", "legal_services": "法律服务机构",
          "other_organisation": "其他"}  # fmt: skip
ROW = {
    ("disclose", "provided"): "三.(一)", ("disclose", "published"): "三.(一)",
    **{("partial", r): "三.(二)" for r in OUTCOMES["partial"].reasons},
    ("withhold", "state_secret"): "三.(三).1", ("withhold", "law_prohibited"): "三.(三).2",
    ("withhold", "three_safety_stability"): "三.(三).3",
    ("withhold", "third_party_rights"): "三.(三).4",
    ("withhold", "internal_affairs"): "三.(三).5", ("withhold", "process_info"): "三.(三).6",
    ("withhold", "enforcement_file"): "三.(三).7",
    ("withhold", "administrative_query"): "三.(三).8",
    ("cannot_provide", "not_held"): "三.(四).1", ("cannot_provide", "needs_creation"): "三.(四).2",
    ("cannot_provide", "still_unclear"): "三.(四).3",
    ("not_handled", "petition"): "三.(五).1", ("not_handled", "repeat"): "三.(五).2",
    ("not_handled", "publication"): "三.(五).3", ("not_handled", "mass_requests"): "三.(五).4",
    ("not_handled", "confirm_or_reissue"): "三.(五).5",
    ("other", "no_correction"): "三.(六).1", ("other", "fee_unpaid"): "三.(六).2",
    ("other", "other"): "三.(六).3",
}  # fmt: skip
WITHDRAWN = "三.(六).3"
SUBTOTALS = {
    "三.(三)": "三.(三).",
    "三.(四)": "三.(四).",
    "三.(五)": "三.(五).",
    "三.(六)": "三.(六).",
}
DETAIL = "详见答复内容。"
#: The states a case closes into (later steps on a closed case do not close it again).
CLOSING = ("replied", "withdrawn", "abandoned")
KINDS = cycle(COLUMN)


def _register(app: App, received: str) -> int:
    kind = next(KINDS)
    fields: dict[str, Any] = {"applicant_kind": kind, "received_on": received}
    if kind != "person":
        fields |= {"name": "福州闽江建设工程有限公司", "id_type": "credit_code",
                   "id_number": "91350123MA2Y8K1W3U"}  # fmt: skip
    return cases.register(app, application(**fields), "alice", D(received))


def _on(day: date) -> dict[str, date]:
    return {"on": day, "today": day}


def _reply(app: App, received: str, outcome: str, reason: str, replied: date) -> int:
    case_id = _register(app, received)
    start = D(received)
    act(app, case_id, "review", "alice", **_on(start))
    if reason == "still_unclear":  # only after a correction that did not clarify
        act(app, case_id, "request_correction", "alice", items=["请写明年度"], **_on(start))
        act(app, case_id, "receive_correction", "alice", **_on(start + timedelta(1)))
    else:
        act(app, case_id, "accept", "alice", **_on(start))
    extra = (
        {"refer_to": "示例市财政局"} if reason in ("not_held", "petition", "publication") else {}
    )
    day = replied - timedelta(2)
    act(app, case_id, "draft_reply", "alice", outcome=outcome, reason_code=reason,
        detail=DETAIL, **extra, **_on(day))  # fmt: skip
    act(app, case_id, "approve", "bob", **_on(day + timedelta(1)))
    act(app, case_id, "send", "alice", **_on(replied))
    return case_id


def _year_of_cases(app: App) -> dict[str, int]:
    """Every outcome and reason, every applicant kind, the year boundaries both ways,
    fees and challenges; returns the cases the test looks at again by name."""
    named: dict[str, int] = {}
    draftable = [(o.code, r) for o in OUTCOMES.values() for r in o.reasons
                 if (o.code, r) not in SYSTEM_OUTCOMES]  # fmt: skip
    for index, (outcome, reason) in enumerate(draftable):
        received = date(YEAR, 3, 2) + timedelta(7 * index)
        named[f"{outcome}.{reason}"] = _reply(
            app, received.isoformat(), outcome, reason, received + timedelta(12)
        )
    # Abandoned: no correction in time, and a fee notice not paid.
    case_id = named["no_correction"] = _register(app, "2026-09-01")
    act(app, case_id, "review", "alice", **_on(D("2026-09-01")))
    act(app, case_id, "request_correction", "alice", items=["请写明年度"], **_on(D("2026-09-02")))
    act(app, case_id, "abandon_correction", "alice", **_on(D("2026-10-20")))
    case_id = named["fee_unpaid"] = _register(app, "2026-09-03")
    act(app, case_id, "review", "alice", **_on(D("2026-09-03")))
    act(app, case_id, "accept", "alice", **_on(D("2026-09-03")))
    act(app, case_id, "issue_fee", "alice", pages=300, **_on(D("2026-09-04")))
    act(app, case_id, "abandon_fee", "alice", **_on(D("2026-10-30")))
    # A fee paid within the year, then a reply.
    case_id = named["fee_paid"] = _register(app, "2026-10-09")
    act(app, case_id, "review", "alice", **_on(D("2026-10-09")))
    act(app, case_id, "accept", "alice", **_on(D("2026-10-09")))
    act(app, case_id, "issue_fee", "alice", pages=250, **_on(D("2026-10-12")))
    act(app, case_id, "fee_paid", "alice", **_on(D("2026-10-16")))
    # Withdrawn by the applicant.
    case_id = named["withdrawn"] = _register(app, "2026-11-02")
    act(app, case_id, "withdraw", "alice", reason="申请人书面撤回", **_on(D("2026-11-03")))
    # Across the boundaries: from 2025 (closed in 2026, or still open), out of 2025
    # entirely, into 2027 (replied then, or open), and received in 2027.
    named["from_2025_replied"] = _reply(app, "2025-12-15", "disclose", "provided", D("2026-01-12"))
    named["from_2025_open"] = _register(app, "2025-12-22")
    named["closed_in_2025"] = _reply(app, "2025-11-03", "withhold", "state_secret", D("2025-11-20"))
    named["into_2027_replied"] = _reply(
        app, "2026-12-21", "partial", "process_info", D("2027-01-11")
    )
    named["into_2027_open"] = _register(app, "2026-12-28")
    named["received_2027"] = _register(app, "2027-01-05")
    # Challenges: decided in the year, pending, a correction of the record, and one filed
    # the year before (not counted).
    replied = named["withhold.third_party_rights"]
    act(app, replied, "record_challenge", "alice", kind="reconsideration", filed_on="2026-06-01",
        **_on(D("2026-11-10")))  # fmt: skip
    act(app, replied, "record_challenge", "alice", kind="reconsideration", filed_on="2026-06-01",
        result="corrected", decided_on="2026-08-03", **_on(D("2026-11-11")))  # fmt: skip
    act(app, named["cannot_provide.not_held"], "record_challenge", "bob",
        kind="litigation_direct", filed_on="2026-10-09", **_on(D("2026-11-12")))  # fmt: skip
    act(app, named["closed_in_2025"], "record_challenge", "alice",
        kind="litigation_after_review", filed_on="2025-12-20", result="upheld",
        decided_on="2026-03-02", **_on(D("2026-03-03")))  # fmt: skip
    return named


def _independent_count(app: App, year: int) -> dict[str, Counter[str]]:
    """Section 三 from the raw trail: registrations and closing events only."""
    received: dict[int, tuple[str, date]] = {}
    closed: dict[int, tuple[date, str | None, str | None, str]] = {}
    with app.uow() as uow:
        for event in uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            payload = json.loads(event.payload)
            if event.trigger == "register":
                received[event.case_id] = (payload["applicant_kind"], D(payload["received_on"]))
            elif event.to_state in CLOSING and event.from_state not in CLOSING:
                closed[event.case_id] = (
                    D(payload["on"]), payload.get("outcome"), payload.get("reason_code"),
                    event.to_state,
                )  # fmt: skip
    start, end = date(year, 1, 1), date(year, 12, 31)
    table: dict[str, Counter[str]] = {}
    for case_id, (kind, on) in received.items():
        column = COLUMN[kind]
        closing = closed.get(case_id)
        closed_on = closing[0] if closing else None
        if start <= on <= end:
            table.setdefault("一", Counter())[column] += 1
        if on < start and (closed_on is None or closed_on >= start):
            table.setdefault("二", Counter())[column] += 1
        if closing and start <= closing[0] <= end and on <= end:
            _, outcome, reason, state = closing
            row = WITHDRAWN if state == "withdrawn" else ROW[(outcome or "", reason or "")]
            table.setdefault(row, Counter())[column] += 1
        if on <= end and (closed_on is None or closed_on > end):
            table.setdefault("四", Counter())[column] += 1
    for subtotal, prefix in SUBTOTALS.items():
        table[subtotal] = sum((c for key, c in table.items() if key.startswith(prefix)), Counter())
    results = ("三.(一)", "三.(二)", *SUBTOTALS)
    table["三.(七)"] = sum((table.get(key, Counter()) for key in results), Counter())
    for counts in table.values():
        counts["总计"] = sum(n for column, n in counts.items() if column != "总计")
    return table


@pytest.fixture
def year(app: App) -> dict[str, int]:
    return _year_of_cases(app)


def test_the_annual_report_equals_a_count_from_the_raw_trail(
    app: App, year: dict[str, int]
) -> None:
    report = reports.annual_report(app, YEAR)
    assert check_annual_report(report) == []
    expected = _independent_count(app, YEAR)
    for row, columns in report.section3.items():
        for column, count in columns.items():
            assert count == expected.get(row, Counter())[column], (row, column)
    assert report.section3["一"]["总计"] == 33 and report.section3["二"]["总计"] == 2
    # Open at the year's end: from 2025, into 2027 (both), and the fee paid but not replied.
    assert report.section3["四"]["总计"] == 4
    # Every reason has its case, and nothing else was counted in the reason rows.
    assert all(report.section3[row]["总计"] >= 1 for row in set(ROW.values()))


def test_section_4_and_the_fees_come_from_the_recorded_challenges_and_clock(
    app: App, year: dict[str, int]
) -> None:
    report = reports.annual_report(app, YEAR)
    assert report.section4["reconsideration"] == {
        "结果维持": 0, "结果纠正": 1, "其他结果": 0, "尚未审结": 0, "总计": 1
    }  # fmt: skip
    assert report.section4["litigation_direct"]["尚未审结"] == 1
    assert report.section4["litigation_after_review"]["总计"] == 0  # filed in 2025
    with app.uow() as uow:
        amounts = {
            row.case_id: row.fee_amount
            for row in uow.session.scalars(
                select(ClockEventRow).where(ClockEventRow.kind == "issue_fee_notice")
            )
        }
    assert report.fees.notices == 2
    assert report.fees.collected == amounts[year["fee_paid"]] > Decimal(0)


def test_explain_lists_exactly_the_cases_of_a_cell(app: App, year: dict[str, int]) -> None:
    case_id = year["withhold.third_party_rights"]
    report = reports.annual_report(app, YEAR)
    column = COLUMN[_kind_of(app, case_id)]
    found = reports.explain(app, YEAR, "三.（三）.4", column)
    assert [item.case_id for item in found] == [case_id]
    assert "保护第三方合法权益" in found[0].text
    assert [item.case_id for item in reports.explain(app, YEAR, "三.(三).4", "总计")] == [case_id]
    assert report.section3["三.(三).4"]["总计"] == 1


def _kind_of(app: App, case_id: int) -> str:
    with app.uow() as uow:
        return cases.load_case(uow.session, case_id).applicant.kind


def test_the_files_carry_the_same_numbers(app: App, year: dict[str, int]) -> None:
    report = reports.annual_report(app, YEAR)
    text = reports.annual_file(report, "csv").decode("utf-8-sig")
    lines = text.splitlines()
    received = next(line for line in lines if line.startswith("一,"))
    assert received.endswith(",33")  # 一、本年新收 … 总计
    assert reports.annual_file(report, "pdf").startswith(b"%PDF-")
    assert reports.annual_file(report, "xlsx")[:2] == b"PK"


def test_assessment_figures_per_agency_and_month(app: App, year: dict[str, int]) -> None:
    figures = reports.performance(app, Month(YEAR, 1), Month(YEAR, 12))
    [agency] = figures.agencies
    replies = sum(m.replies for m in agency.months.values())
    # Every reply sent in 2026: the 27 drafted outcomes and the one from 2025 (the reply of
    # 2025 and the one of 2027 are outside); two abandonments and a withdrawal close
    # without a reply.
    assert replies == agency.period.replies == 28
    assert agency.period.closed == 31
    assert agency.period.on_time == replies  # every reply came within 12 days
    assert agency.months[Month(YEAR, 1)].replies == 1
    assert agency.period.extensions == 0 and agency.period.corrections == 2
    png = reports.performance_file(figures, "png")
    assert png.startswith(b"\x89PNG")


def test_report_arguments_are_checked(app: App) -> None:
    with pytest.raises(RuleViolation) as bad_year:
        reports.annual_report(app, 1999)
    assert bad_year.value.field == "year"
    with pytest.raises(RuleViolation) as bad_row:
        reports.explain(app, YEAR, "三.(九)", "自然人")
    assert bad_row.value.field == "row"
    with pytest.raises(RuleViolation) as bad_month:
        reports.parse_month("2026-13", "to")
    assert bad_month.value.field == "to"
    with pytest.raises(RuleViolation) as reversed_months:
        reports.performance(app, Month(YEAR, 5), Month(YEAR, 1))
    assert reversed_months.value.field == "from"


def test_a_clerk_sees_only_their_agencys_report(app: App) -> None:
    from disclosure.services.agencies import add_agency
    from tests.integration.test_agencies import FINANCE

    add_agency(app, FINANCE)
    cases.add_user(app, "frank", "clerk", "周强", agencies=["finance"])
    with pytest.raises(PermissionDenied):
        reports.annual_report(app, YEAR, agency="audit", viewer="frank")
