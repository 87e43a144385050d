"""Guards added after a new clerk drove the product (issue #8): each fails on the old machine."""

from __future__ import annotations

from datetime import date

import pytest

from disclosure.calendar_source import load_calendar
from disclosure.errors import PermissionDenied, RuleViolation, TransitionNotAllowed
from disclosure.workflow.deadlines import ClockEvent
from disclosure.workflow.deadlines import ClockKind as K
from disclosure.workflow.machine import Actor, CaseFacts, available_triggers, fire
from disclosure.workflow.rules import RULES_2019, LocalPolicy
from disclosure.workflow.states import Role, State, parse_state
from tests.conftest import command

CAL = load_calendar(None)
D = date.fromisoformat
RECEIVED = D("2026-10-12")
ALICE = Actor("alice", Role.CLERK)
BOB = Actor("bob", Role.SUPERVISOR)
HANDLING = CaseFacts(State.HANDLING, RECEIVED)
TODAY = D("2026-11-24")  # a Tuesday


def test_a_clerk_may_date_a_step_up_to_three_working_days_back() -> None:
    # 2026-11-19 (Thursday) is 3 working days before Tuesday 2026-11-24.
    step = fire(HANDLING, command("consult_agency", ALICE, D("2026-11-19"), today=TODAY), CAL)
    assert step.after is State.CONSULTING_AGENCY
    assert "backdated" not in step.details


def test_a_clerk_may_not_date_a_step_further_back() -> None:
    with pytest.raises(PermissionDenied) as exc:
        fire(HANDLING, command("consult_agency", ALICE, D("2026-11-18"), today=TODAY), CAL)
    assert exc.value.rule == "backdated_needs_supervisor"
    assert "4个工作日" in exc.value.message


def test_a_supervisor_backdating_further_must_give_a_separate_reason() -> None:
    # An extension's own reason must not double as the excuse for its date.
    given = command("extend", BOB, D("2026-11-02"), days=5, reason="档案调阅", today=TODAY)
    with pytest.raises(RuleViolation) as exc:
        fire(HANDLING, given, CAL)
    assert (exc.value.field, exc.value.rule) == ("backdate_reason", "backdated_needs_reason")
    step = fire(
        HANDLING,
        command(
            "extend",
            BOB,
            D("2026-11-02"),
            days=5,
            reason="档案调阅",
            today=TODAY,
            backdate_reason="纸质审批单已于当日签发，系统录入延迟",
        ),  # fmt: skip
        CAL,
    )
    assert step.details["backdated"] is True
    assert "系统录入延迟" in step.details["backdate_reason"]


def test_the_backdating_bound_is_local_policy() -> None:
    strict = LocalPolicy(backdate_working_days=0)
    with pytest.raises(PermissionDenied):
        fire(
            HANDLING,
            command("consult_agency", ALICE, D("2026-11-23"), today=TODAY),
            CAL,
            RULES_2019,
            strict,
        )


def test_a_second_fee_notice_is_refused_even_after_payment() -> None:
    paid = CaseFacts(
        State.HANDLING,
        RECEIVED,
        (
            ClockEvent(K.ISSUE_FEE_NOTICE, D("2026-10-20")),
            ClockEvent(K.FEE_PAID, D("2026-10-26")),
        ),
    )
    with pytest.raises(RuleViolation) as exc:
        fire(paid, command("issue_fee", ALICE, D("2026-10-27"), pages=120), CAL)
    assert exc.value.rule == "fee_notice_once"


@pytest.mark.parametrize(
    ("until", "rule"),
    [
        ("2026-11-29", "working_day"),  # a Sunday
        ("2030-11-04", "agreed_due_too_far"),  # four years ahead
        ("2026-11-06", "custom_due_not_later"),  # before the legal due date
    ],
)
def test_an_agreed_due_date_must_be_a_later_working_day_within_a_year(
    until: str, rule: str
) -> None:
    given = command("set_due", BOB, D("2026-10-20"), until=D(until), reason="申请数量巨大")
    with pytest.raises(RuleViolation) as exc:
        fire(HANDLING, given, CAL)
    assert (exc.value.field, exc.value.rule) == ("until", rule)


def test_an_agreed_due_date_within_the_bound_is_recorded() -> None:
    given = command("set_due", BOB, D("2026-10-20"), until=D("2027-01-29"), reason="申请数量巨大")
    step = fire(HANDLING, given, CAL)
    assert step.limits.reply is not None and step.limits.reply.due == D("2027-01-29")


def test_a_third_partys_answer_records_whether_it_agreed() -> None:
    consulting = CaseFacts(
        State.CONSULTING_THIRD_PARTY,
        RECEIVED,
        (ClockEvent(K.CONSULT_THIRD_PARTY, D("2026-10-14")),),
    )
    with pytest.raises(RuleViolation) as exc:
        fire(consulting, command("third_party_replied", ALICE, D("2026-10-20")), CAL)
    assert (exc.value.field, exc.value.rule) == ("opinion", "one_of")
    step = fire(
        consulting, command("third_party_replied", ALICE, D("2026-10-20"), opinion="object"), CAL
    )
    assert step.details["opinion"] == "object"


def test_a_supervisor_can_take_back_an_approval_until_the_reply_is_sent() -> None:
    approved = CaseFacts(
        State.REPLY_APPROVED,
        RECEIVED,
        drafted_by="alice",
        outcome="disclose",
        outcome_reason="provided",
    )
    assert "return_draft" in available_triggers(State.REPLY_APPROVED)
    step = fire(approved, command("return_draft", BOB, D("2026-10-20")), CAL)
    assert step.after is State.HANDLING
    assert step.facts.outcome is None and step.facts.drafted_by is None
    replied = CaseFacts(State.REPLIED, RECEIVED, drafted_by="alice", outcome="disclose")
    with pytest.raises(TransitionNotAllowed):
        fire(replied, command("return_draft", BOB, D("2026-10-20")), CAL)


@pytest.mark.parametrize("text", ["handling", "办理中", " 办理中 "])
def test_a_state_is_given_by_its_code_or_its_chinese_label(text: str) -> None:
    assert parse_state(text) is State.HANDLING


def test_an_unknown_state_lists_both_spellings() -> None:
    with pytest.raises(RuleViolation) as exc:
        parse_state("[/]")
    assert exc.value.field == "state"
    assert "办理中（handling）" in exc.value.message
