"""Agencies as data: two departments on one platform, each with its own cases, numbering and
staff; the county sees them all. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from disclosure.errors import NotFound, PermissionDenied, RuleViolation
from disclosure.services import agencies, cases
from disclosure.services.audit import verify_trail
from disclosure.services.letters import case_letters
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, act, application

FINANCE = {
    "code": "finance", "name": "示例市财政局", "short_name": "市财政局",
    "number_prefix": "示财依申", "address": "示例市人民路8号", "contact": "郑红",
    "phone": "0591-87654321", "reconsideration_body": "示例市人民政府",
    "court": "示例市人民法院", "fee_scale": "count", "fee_payment": "到一楼窗口缴纳",
}  # fmt: skip


@pytest.fixture
def county(app: App) -> App:
    """The fixture's agency (audit: alice, carol, bob) plus finance (erin, frank) and a
    county supervisor (zhou)."""
    agencies.add_agency(app, FINANCE)
    cases.add_user(app, "erin", "clerk", "郑红", agencies=["finance"])
    cases.add_user(app, "frank", "supervisor", "吴刚", agencies=["finance"])
    cases.add_user(app, "zhou", "supervisor", "周建华", all_agencies=True)
    return app


def _received(app: App, clerk: str, agency: str) -> int:
    return cases.register(app, application(received_on="2026-11-02"), clerk, TODAY, agency=agency)


def test_a_clerk_of_one_agency_cannot_see_or_act_on_anothers_cases(county: App) -> None:
    audit_case = _received(county, "alice", "audit")
    finance_case = _received(county, "erin", "finance")
    with pytest.raises(PermissionDenied) as refused:
        act(county, audit_case, "review", "erin", "2026-11-02")
    assert refused.value.rule == "agency_not_allowed"
    with pytest.raises(PermissionDenied):
        cases.get_case(county, audit_case, viewer="erin")
    with pytest.raises(PermissionDenied):
        cases.register(county, application(), "erin", TODAY, agency="audit")
    with pytest.raises(PermissionDenied):
        cases.list_cases(county, TODAY, viewer="erin", agency="audit")
    assert cases.get_case(county, audit_case).version == 1  # nothing was written
    assert [c.id for c in cases.list_cases(county, TODAY, viewer="erin")] == [finance_case]
    assert [c.id for c in cases.list_cases(county, TODAY, viewer="alice")] == [audit_case]
    # The county's supervisor sees both and may act for either.
    assert {c.id for c in cases.list_cases(county, TODAY, viewer="zhou")} == {
        audit_case,
        finance_case,
    }
    act(county, finance_case, "review", "erin", "2026-11-02")
    act(county, finance_case, "accept", "zhou", "2026-11-03")
    assert cases.get_case(county, finance_case, viewer="frank").state == "handling"


def test_letter_numbers_are_gapless_per_agency_with_its_own_prefix(county: App) -> None:
    numbers: dict[str, list[str]] = {"audit": [], "finance": []}
    for clerk, agency in [("alice", "audit"), ("erin", "finance")] * 3:
        case_id = _received(county, clerk, agency)
        numbers[agency] += [x.number for x in case_letters(county, case_id)]
    assert [re.sub(r"\D+", " ", n).split()[-1] for n in numbers["audit"]] == ["1", "2", "3"]
    assert [re.sub(r"\D+", " ", n).split()[-1] for n in numbers["finance"]] == ["1", "2", "3"]
    assert all(n.startswith("示审依申登〔2026〕") for n in numbers["audit"])
    assert all(n.startswith("示财依申登〔2026〕") for n in numbers["finance"])
    letter = case_letters(county, _received(county, "erin", "finance"))[0]
    assert "示例市财政局" in letter.html and "示例市审计局" not in letter.html


def test_the_overview_covers_one_agency_or_the_county(county: App) -> None:
    for clerk, agency in [("alice", "audit"), ("alice", "audit"), ("erin", "finance")]:
        _received(county, clerk, agency)
    assert county_total(county, viewer="bob") == (2, ["示例市审计局"])
    assert county_total(county, viewer="frank") == (1, ["示例市财政局"])
    assert county_total(county, viewer="zhou") == (3, ["示例市审计局", "示例市财政局"])
    assert county_total(county, viewer="zhou", agency="finance") == (1, ["示例市财政局"])
    checked, breaks = verify_trail(county, agency="finance")
    assert (checked, breaks) == (1, [])


def county_total(app: App, **scope: str) -> tuple[int, list[str]]:
    view = cases.overview(app, TODAY, **scope)
    return view.total, view.agencies


def test_each_agency_charges_on_its_own_scale(county: App) -> None:
    # Finance charges by count: a person's first application in a month is free, so a fee
    # notice is refused there, while the audit office (by volume) charges for 120 pages.
    finance_case = _received(county, "erin", "finance")
    act(county, finance_case, "review", "erin", "2026-11-02")
    act(county, finance_case, "accept", "erin", "2026-11-03")
    with pytest.raises(RuleViolation) as refused:
        act(county, finance_case, "issue_fee", "erin", "2026-11-04", pages=120)
    assert (refused.value.field, refused.value.rule) == ("month_rank", "no_fee_due")
    audit_case = _received(county, "alice", "audit")
    act(county, audit_case, "review", "alice", "2026-11-02")
    act(county, audit_case, "accept", "alice", "2026-11-03")
    change = act(county, audit_case, "issue_fee", "alice", "2026-11-04", pages=120)
    assert change.fee is not None and change.fee.amount > 0


def test_registration_names_the_agency_when_the_clerk_has_several(county: App) -> None:
    cases.add_user(county, "gina", "clerk", "林涛", agencies=["audit", "finance"])
    with pytest.raises(RuleViolation) as refused:
        cases.register(county, application(), "gina", TODAY)
    assert (refused.value.field, refused.value.rule) == ("agency", "required")
    assert "finance" in refused.value.message
    case_id = cases.register(county, application(), "gina", TODAY, agency="finance")
    assert case_letters(county, case_id)[0].number.startswith("示财依申")


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"code": "Finance"}, "code", "format"),
        ({"code": "audit"}, "code", "unique"),
        ({"number_prefix": "示审依申"}, "number_prefix", "unique"),
        ({"name": ""}, "name", "required"),
        ({"name": "财政局\u202e"}, "name", "control_character"),
        ({"fee_scale": "free"}, "fee_scale", "one_of"),
        ({"colour": "red"}, "colour", "unknown_field"),
    ],
)
def test_a_bad_agency_is_refused_by_field(
    county: App, change: dict[str, str], field: str, rule: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        agencies.add_agency(
            county, {**FINANCE, "code": "tax", "number_prefix": "示税依申", **change}
        )
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_an_unknown_agency_is_named(county: App) -> None:
    with pytest.raises(NotFound) as missing:
        cases.list_cases(county, TODAY, agency="nowhere")
    assert "audit" in missing.value.message and "finance" in missing.value.message


def test_the_county_names_the_agency_it_registers_for(county: App) -> None:
    with pytest.raises(RuleViolation) as refused:
        cases.register(county, application(), "zhou", TODAY)
    assert (refused.value.field, refused.value.rule) == ("agency", "required")
    case_id = cases.register(county, application(), "zhou", TODAY, agency="finance")
    assert cases.get_case(county, case_id, viewer="frank").id == case_id
    with pytest.raises(PermissionDenied):
        cases.get_case(county, case_id, viewer="bob")
