"""The workflow machine (ogi-rules.md §4, §6, §7): transitions, guards and roles."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from disclosure.calendar_source import load_calendar
from disclosure.errors import (
    DeadlineError,
    PermissionDenied,
    RuleViolation,
    TransitionNotAllowed,
)
from disclosure.workflow.deadlines import ClockEvent, ClockKind
from disclosure.workflow.machine import Actor, CaseFacts, Command, available_triggers, fire
from disclosure.workflow.states import (
    OUTCOMES,
    STATE_LABELS,
    SYSTEM_OUTCOMES,
    Role,
    State,
)
from disclosure.workflow.triggers import TRIGGERS, TRIGGERS_BY_NAME
from tests.conftest import REQUIRED_INPUTS, command

CAL = load_calendar()
D = date.fromisoformat
K = ClockKind

ALICE = Actor("alice", Role.CLERK)
BOB = Actor("bob", Role.SUPERVISOR)
DAN = Actor("dan", Role.AUDITOR)

RECEIVED = D("2025-06-27")  # Friday: reply due 2025-07-25, correction notice due 2025-07-08
HANDLING = CaseFacts(State.HANDLING, RECEIVED)
CORRECTED = CaseFacts(
    State.HANDLING,
    RECEIVED,
    (
        ClockEvent(K.REQUEST_CORRECTION, D("2025-06-30")),
        ClockEvent(K.RECEIVE_CORRECTION, D("2025-07-02")),
    ),
)


def cmd(trigger: str, actor: Actor = ALICE, on: str = "2025-07-01", **kwargs: Any) -> Any:
    """A command, or (where its input is refused as it is parsed) a callable that raises why."""
    try:
        return command(trigger, actor, D(on), **kwargs)
    except RuleViolation as exc:
        refused = exc

        def raise_refusal() -> Command:
            raise refused

        return raise_refusal


def test_a_case_goes_through_the_whole_workflow() -> None:
    steps = [
        (cmd("review", on="2025-06-27"), State.UNDER_REVIEW),
        (cmd("request_correction", on="2025-06-30"), State.CORRECTION_REQUESTED),
        (cmd("receive_correction", on="2025-07-02"), State.HANDLING),
        (cmd("consult_third_party", on="2025-07-03"), State.CONSULTING_THIRD_PARTY),
        (cmd("third_party_replied", on="2025-07-08", opinion="agree"), State.HANDLING),
        (cmd("issue_fee", on="2025-07-09", pages=120), State.AWAITING_FEE),
        (cmd("fee_paid", on="2025-07-11"), State.HANDLING),
        (cmd("extend", BOB, on="2025-07-14", days=10, reason="需调取档案"), State.HANDLING),
        (
            cmd("draft_reply", on="2025-07-15", outcome="disclose", reason_code="provided"),
            State.REPLY_DRAFTED,
        ),
        (cmd("approve", BOB, on="2025-07-16"), State.REPLY_APPROVED),
        (cmd("send", on="2025-07-17"), State.REPLIED),
        (cmd("archive", on="2025-07-18"), State.ARCHIVED),
    ]
    facts = CaseFacts(State.REGISTERED, RECEIVED)
    for given, expected in steps:
        step = fire(facts, given, CAL)
        assert (step.trigger, step.before, step.after) == (given.trigger, facts.state, expected)
        assert step.facts.state is expected
        facts = step.facts

    assert [e.kind for e in facts.events] == [
        K.REQUEST_CORRECTION,
        K.RECEIVE_CORRECTION,
        K.CONSULT_THIRD_PARTY,
        K.THIRD_PARTY_REPLIED,
        K.ISSUE_FEE_NOTICE,
        K.FEE_PAID,
        K.EXTEND,
    ]
    assert (facts.drafted_by, facts.outcome, facts.outcome_reason) == (
        "alice",
        "disclose",
        "provided",
    )
    assert step.details == {"outcome": "disclose", "reason_code": "provided"}
    # 30 counted working days after 07-02, skipping 07-04, 07-07, 07-08 (third party)
    # and 07-10, 07-11 (fee): 07-03, 07-09, then 28 more from Mon 07-14 → Wed 08-20.
    assert step.limits.reply is not None
    assert step.limits.reply.due == D("2025-08-20")


def test_a_clock_trigger_records_its_event_and_recomputes_the_limits() -> None:
    step = fire(HANDLING, cmd("consult_agency", on="2025-06-30"), CAL)
    assert step.clock_event == ClockEvent(K.CONSULT_AGENCY, D("2025-06-30"))
    assert step.facts.events == (step.clock_event,)
    assert step.limits.paused is True
    assert step.limits.agency is not None
    assert step.limits.agency.due == D("2025-07-21")
    assert HANDLING.events == ()  # the input is never changed


def test_a_trigger_without_a_clock_records_no_event() -> None:
    step = fire(CaseFacts(State.REGISTERED, RECEIVED), cmd("review"), CAL)
    assert step.clock_event is None
    assert step.facts.events == ()


def test_extension_on_the_due_date_is_accepted() -> None:
    step = fire(HANDLING, cmd("extend", BOB, on="2025-07-25", days=5, reason="理由"), CAL)
    assert step.limits.reply is not None
    assert step.limits.reply.due == D("2025-08-01")


def test_request_correction_on_the_seventh_working_day_is_accepted() -> None:
    facts = CaseFacts(State.UNDER_REVIEW, RECEIVED)
    step = fire(facts, cmd("request_correction", on="2025-07-08"), CAL)
    assert step.after is State.CORRECTION_REQUESTED
    assert step.limits.correction_period is not None
    assert step.limits.correction_period.due == D("2025-07-29")


@pytest.mark.parametrize(
    ("facts", "command", "outcome"),
    [
        (
            CaseFacts(
                State.CORRECTION_REQUESTED,
                RECEIVED,
                (ClockEvent(K.REQUEST_CORRECTION, D("2025-06-30")),),
            ),
            cmd("abandon_correction", on="2025-07-22"),
            ("other", "no_correction"),
        ),
        (
            CaseFacts(
                State.AWAITING_FEE, RECEIVED, (ClockEvent(K.ISSUE_FEE_NOTICE, D("2025-06-30")),)
            ),
            cmd("abandon_fee", on="2025-07-29"),
            ("other", "fee_unpaid"),
        ),
        (HANDLING, cmd("withdraw", reason="申请人书面撤回"), ("other", "other")),
    ],
    ids=["no_correction_after_the_period", "fee_unpaid_after_the_window", "withdrawn"],
)
def test_closing_trigger_sets_its_system_outcome(
    facts: CaseFacts, command: Command, outcome: tuple[str, str]
) -> None:
    step = fire(facts, command, CAL)
    assert (step.facts.outcome, step.facts.outcome_reason) == outcome
    assert step.details == {"outcome": outcome[0], "reason_code": outcome[1]}


def test_return_draft_clears_the_draft() -> None:
    drafted = CaseFacts(
        State.REPLY_DRAFTED,
        RECEIVED,
        drafted_by="alice",
        outcome="disclose",
        outcome_reason="provided",
    )
    step = fire(drafted, cmd("return_draft", BOB), CAL)
    assert step.after is State.HANDLING
    assert (step.facts.drafted_by, step.facts.outcome, step.facts.outcome_reason) == (
        None,
        None,
        None,
    )


def test_set_due_records_a_later_custom_due_date() -> None:
    step = fire(
        HANDLING,
        cmd("set_due", BOB, on="2025-07-01", until=D("2025-09-30"), reason="数量巨大"),
        CAL,
    )
    assert step.clock_event == ClockEvent(K.CUSTOM_DUE, D("2025-07-01"), until=D("2025-09-30"))
    assert step.limits.reply is not None
    assert step.limits.reply.due == D("2025-09-30")


# --- the guards ---------------------------------------------------------------------------------

_EXTENDED = CaseFacts(State.HANDLING, RECEIVED, (ClockEvent(K.EXTEND, D("2025-07-01"), days=5),))
_DRAFTED_BY_BOB = CaseFacts(
    State.REPLY_DRAFTED, RECEIVED, drafted_by="bob", outcome="disclose", outcome_reason="provided"
)
_AWAITING_CORRECTION = CaseFacts(
    State.CORRECTION_REQUESTED, RECEIVED, (ClockEvent(K.REQUEST_CORRECTION, D("2025-06-30")),)
)
_AWAITING_FEE = CaseFacts(
    State.AWAITING_FEE, RECEIVED, (ClockEvent(K.ISSUE_FEE_NOTICE, D("2025-06-30")),)
)
_CONSULTED = CaseFacts(
    State.HANDLING,
    RECEIVED,
    (
        ClockEvent(K.CONSULT_THIRD_PARTY, D("2025-07-01")),
        ClockEvent(K.THIRD_PARTY_REPLIED, D("2025-07-07")),
    ),
)


@pytest.mark.parametrize(
    ("facts", "command", "error", "field", "rule"),
    [
        pytest.param(
            HANDLING,
            cmd("extend", ALICE, days=5, reason="理由"),
            PermissionDenied,
            "actor",
            "role_not_allowed",
            id="clerk_cannot_extend",
        ),
        pytest.param(
            HANDLING,
            cmd("set_due", ALICE, until=D("2025-09-30"), reason="理由"),
            PermissionDenied,
            "actor",
            "role_not_allowed",
            id="clerk_cannot_set_due",
        ),
        pytest.param(
            CaseFacts(
                State.REPLY_DRAFTED,
                RECEIVED,
                drafted_by="carol",
                outcome="disclose",
                outcome_reason="provided",
            ),
            cmd("approve", ALICE),
            PermissionDenied,
            "actor",
            "role_not_allowed",
            id="clerk_cannot_approve",
        ),
        pytest.param(
            _DRAFTED_BY_BOB,
            cmd("approve", BOB),
            PermissionDenied,
            "actor",
            "approver_is_drafter",
            id="approver_is_drafter",
        ),
        pytest.param(
            _DRAFTED_BY_BOB,
            cmd("return_draft", BOB),
            PermissionDenied,
            "actor",
            "approver_is_drafter",
            id="drafter_cannot_return_own",
        ),
        pytest.param(
            _EXTENDED,
            cmd("extend", BOB, on="2025-07-02", days=5, reason="理由"),
            DeadlineError,
            "trigger",
            "extension_once",
            id="extension_twice",
        ),
        pytest.param(
            HANDLING,
            cmd("extend", BOB, on="2025-07-28", days=5, reason="理由"),
            DeadlineError,
            "on",
            "extension_after_due",
            id="extension_after_due_date",
        ),
        pytest.param(
            HANDLING,
            cmd("extend", BOB, days=0, reason="理由"),
            DeadlineError,
            "days",
            "extension_range",
            id="extension_of_zero_days",
        ),
        pytest.param(
            HANDLING,
            cmd("extend", BOB, days=21, reason="理由"),
            DeadlineError,
            "days",
            "extension_range",
            id="extension_of_21_days",
        ),
        pytest.param(
            HANDLING,
            cmd("extend", BOB, days=5, reason="  "),
            RuleViolation,
            "reason",
            "required",
            id="extension_without_reason",
        ),
        pytest.param(
            CaseFacts(State.UNDER_REVIEW, RECEIVED),
            cmd("request_correction", on="2025-07-09"),
            DeadlineError,
            "on",
            "correction_notice_late",
            id="correction_notice_late",
        ),
        pytest.param(
            _AWAITING_CORRECTION,
            cmd("abandon_correction", on="2025-07-21"),
            DeadlineError,
            "on",
            "correction_period_running",
            id="abandon_correction_too_early",
        ),
        pytest.param(
            _AWAITING_FEE,
            cmd("abandon_fee", on="2025-07-28"),
            DeadlineError,
            "on",
            "fee_running",
            id="abandon_fee_too_early",
        ),
        pytest.param(
            HANDLING,
            cmd("draft_reply", outcome="approve_all", reason_code="provided"),
            RuleViolation,
            "outcome",
            "closed_set",
            id="draft_with_unknown_outcome",
        ),
        pytest.param(
            HANDLING,
            cmd("draft_reply", reason_code="provided"),
            RuleViolation,
            "outcome",
            "closed_set",
            id="draft_without_outcome",
        ),
        pytest.param(
            HANDLING,
            cmd("draft_reply", outcome="withhold", reason_code="too_busy"),
            RuleViolation,
            "reason_code",
            "closed_set",
            id="draft_with_unknown_reason",
        ),
        pytest.param(
            HANDLING,
            cmd("draft_reply", outcome="partial", reason_code="not_held"),
            RuleViolation,
            "reason_code",
            "closed_set",
            id="draft_with_reason_of_other_outcome",
        ),
        pytest.param(
            HANDLING,
            cmd("draft_reply", outcome="cannot_provide", reason_code="still_unclear"),
            RuleViolation,
            "reason_code",
            "requires_correction",
            id="still_unclear_uncorrected",
        ),
        pytest.param(
            HANDLING,
            cmd("draft_reply", outcome="other", reason_code="no_correction"),
            RuleViolation,
            "reason_code",
            "system_outcome",
            id="draft_no_correction_by_hand",
        ),
        pytest.param(
            HANDLING,
            cmd("draft_reply", outcome="other", reason_code="fee_unpaid"),
            RuleViolation,
            "reason_code",
            "system_outcome",
            id="draft_fee_unpaid_by_hand",
        ),
        pytest.param(
            _CONSULTED,
            cmd("issue_fee", on="2025-07-04", pages=120),
            RuleViolation,
            "on",
            "chronological",
            id="date_before_the_last_event",
        ),
        pytest.param(
            HANDLING,
            cmd("consult_agency", on="2025-06-26"),
            RuleViolation,
            "on",
            "chronological",
            id="date_before_receipt",
        ),
        pytest.param(
            HANDLING,
            cmd("set_due", BOB, until=D("2025-07-18"), reason="理由"),
            DeadlineError,
            "until",
            "custom_due_not_later",
            id="custom_due_not_later",
        ),
        pytest.param(
            HANDLING,
            cmd("set_due", BOB, until=D("2025-09-21"), reason="理由"),  # a Sunday
            DeadlineError,
            "until",
            "working_day",
            id="agreed_date_on_a_sunday",
        ),
        pytest.param(
            HANDLING,
            cmd("set_due", BOB, until=D("2029-07-02"), reason="理由"),  # four years ahead
            DeadlineError,
            "until",
            "agreed_due_too_far",
            id="agreed_date_years_ahead",
        ),
        pytest.param(
            HANDLING,
            cmd("set_due", BOB, reason="理由"),
            RuleViolation,
            "until",
            "required",
            id="custom_due_without_date",
        ),
    ],
)
def test_guard_refuses_with_field_and_rule(
    facts: CaseFacts, command: Any, error: type[Exception], field: str, rule: str
) -> None:
    with pytest.raises(error) as exc:
        fire(facts, command() if callable(command) else command, CAL)
    assert isinstance(exc.value, RuleViolation)
    assert (exc.value.field, exc.value.rule) == (field, rule)
    assert exc.value.message


def _facts_for(state: State) -> CaseFacts:
    return CaseFacts(state, RECEIVED, drafted_by="carol")


@pytest.mark.parametrize(
    ("trigger", "state"),
    [(spec.name, spec.sources[0]) for spec in TRIGGERS],
    ids=[spec.name for spec in TRIGGERS],
)
def test_auditor_cannot_fire_any_trigger(trigger: str, state: State) -> None:
    with pytest.raises(PermissionDenied) as exc:
        fire(_facts_for(state), cmd(trigger, DAN, **REQUIRED_INPUTS.get(trigger, {})), CAL)
    assert (exc.value.field, exc.value.rule) == ("actor", "role_not_allowed")
    assert "审计监督" in exc.value.message


def test_clerk_may_not_fire_supervisor_triggers() -> None:
    supervisor_only = [s for s in TRIGGERS if Role.CLERK not in s.roles]
    assert {s.name for s in supervisor_only} == {
        "extend",
        "set_due",
        "return_draft",
        "approve",
        "urge",
    }


# --- illegal and unknown triggers ---------------------------------------------------------------


def test_trigger_not_accepted_in_the_state_names_state_and_trigger() -> None:
    with pytest.raises(TransitionNotAllowed) as exc:
        fire(CaseFacts(State.REGISTERED, RECEIVED), cmd("approve", BOB), CAL)
    assert (exc.value.state, exc.value.trigger) == ("registered", "approve")
    assert exc.value.rule == "transition_not_allowed"
    assert "已登记" in exc.value.message
    assert "审核通过答复" in exc.value.message
    assert "开始审查（review）" in exc.value.message  # the menu of what is possible


def test_archived_case_accepts_nothing_and_says_so() -> None:
    with pytest.raises(TransitionNotAllowed) as exc:
        fire(CaseFacts(State.ARCHIVED, RECEIVED, outcome="disclose"), cmd("withdraw"), CAL)
    assert "已归档" in exc.value.message
    assert "无（案件已办结）" in exc.value.message


def test_unknown_trigger_is_refused_with_the_list_of_triggers() -> None:
    with pytest.raises(RuleViolation) as exc:
        fire(HANDLING, cmd("teleport")(), CAL)
    assert (exc.value.field, exc.value.rule) == ("trigger", "unknown_trigger")
    assert "未知的操作" in exc.value.message
    assert "开始审查（review）" in exc.value.message


# --- the closed set of outcomes -----------------------------------------------------------------

_DRAFTABLE = [
    (code, reason)
    for code, outcome in OUTCOMES.items()
    for reason in outcome.reasons
    if (code, reason) not in SYSTEM_OUTCOMES
]


@pytest.mark.parametrize(("code", "reason"), _DRAFTABLE, ids=[f"{c}.{r}" for c, r in _DRAFTABLE])
def test_every_outcome_and_reason_can_be_drafted(code: str, reason: str) -> None:
    step = fire(
        CORRECTED, cmd("draft_reply", on="2025-07-03", outcome=code, reason_code=reason), CAL
    )
    assert step.after is State.REPLY_DRAFTED
    assert (step.facts.outcome, step.facts.outcome_reason, step.facts.drafted_by) == (
        code,
        reason,
        "alice",
    )


def test_the_outcome_table_matches_the_rules() -> None:
    assert list(OUTCOMES) == [
        "disclose",
        "partial",
        "withhold",
        "cannot_provide",
        "not_handled",
        "other",
    ]
    assert len(OUTCOMES["withhold"].reasons) == 8  # §6: one of 8 reasons
    assert SYSTEM_OUTCOMES <= {(c, r) for c, o in OUTCOMES.items() for r in o.reasons}


# --- the menu matches the machine ---------------------------------------------------------------


@pytest.mark.parametrize("state", list(State), ids=[s.value for s in State])
def test_available_triggers_are_exactly_those_fire_accepts(state: State) -> None:
    facts = _facts_for(state)
    accepted = []
    for trigger in TRIGGERS_BY_NAME:
        try:
            fire(facts, cmd(trigger, BOB, **REQUIRED_INPUTS.get(trigger, {})), CAL)
        except TransitionNotAllowed:
            continue
        except RuleViolation:
            pass  # accepted by the state, refused by a guard of the law
        accepted.append(trigger)
    assert accepted == available_triggers(state)


def test_state_labels_cover_every_state() -> None:
    assert set(STATE_LABELS) == set(State)


@pytest.mark.parametrize(
    ("facts", "command", "field", "rule"),
    [
        (HANDLING, cmd("withdraw"), "reason", "required"),
        (
            CaseFacts(
                State.CORRECTION_REQUESTED,
                RECEIVED,
                (ClockEvent(K.REQUEST_CORRECTION, D("2025-06-30"), days=15),),
            ),
            cmd("receive_correction", on="2025-07-22"),
            "reason",
            "correction_period_over",
        ),
        (
            CaseFacts(
                State.AWAITING_FEE, RECEIVED, (ClockEvent(K.ISSUE_FEE_NOTICE, D("2025-06-30")),)
            ),
            cmd("fee_paid", on="2025-07-29"),
            "reason",
            "fee_over",
        ),
        (
            CaseFacts(
                State.CONSULTING_THIRD_PARTY,
                RECEIVED,
                (ClockEvent(K.CONSULT_THIRD_PARTY, D("2025-06-30")),),
            ),
            cmd("third_party_no_reply", on="2025-07-21"),
            "on",
            "third_party_running",
        ),
        (
            HANDLING,
            cmd("set_due", actor=BOB, on="2025-07-28", until=D("2025-09-30"), reason="x"),
            "on",
            "custom_due_after_due",
        ),
        (
            HANDLING,
            cmd("set_due", actor=BOB, until=D("2150-01-01"), reason="x"),
            "until",
            "outside_calendar_span",
        ),
        (
            CaseFacts(
                State.REPLY_DRAFTED,
                RECEIVED,
                (),
                "alice",
                "disclose",
                "provided",
                last_action_on=D("2025-07-10"),
            ),
            cmd("approve", actor=BOB, on="2025-07-09"),
            "on",
            "chronological",
        ),
    ],
    ids=[
        "withdraw_needs_a_reason",
        "late_correction_needs_a_good_reason",
        "late_payment_needs_a_good_reason",
        "no_reply_only_after_the_window",
        "art35_date_not_after_the_due_date",
        "art35_date_inside_the_calendar",
        "no_action_dated_before_the_previous_one",
    ],
)
def test_review_guards(facts: CaseFacts, command: Command, field: str, rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        fire(facts, command, CAL)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_late_correction_with_a_good_reason_restarts_the_clock() -> None:
    facts = CaseFacts(
        State.CORRECTION_REQUESTED,
        RECEIVED,
        (ClockEvent(K.REQUEST_CORRECTION, D("2025-06-30"), days=15),),
    )
    step = fire(
        facts, cmd("receive_correction", on="2025-07-22", reason="申请人住院，有正当理由"), CAL
    )
    assert step.after is State.HANDLING
    assert step.limits.reply is not None and step.limits.reply.due == D("2025-08-19")


def test_a_lapsed_consultation_ends_the_pause_at_the_window_end() -> None:
    facts = CaseFacts(
        State.CONSULTING_THIRD_PARTY,
        RECEIVED,
        (ClockEvent(K.CONSULT_THIRD_PARTY, D("2025-06-30")),),
    )
    lapsed = fire(facts, cmd("third_party_no_reply", on="2025-07-25"), CAL)
    on_time = fire(facts, cmd("third_party_replied", on="2025-07-21", opinion="object"), CAL)
    assert lapsed.after is State.HANDLING
    assert lapsed.limits.reply is not None and on_time.limits.reply is not None
    assert lapsed.limits.reply.due == on_time.limits.reply.due  # both capped at 2025-07-21


def test_the_correction_period_granted_is_fixed_when_the_notice_is_issued() -> None:
    from dataclasses import replace

    from disclosure.workflow.rules import RULES_2019

    under_review = CaseFacts(State.UNDER_REVIEW, RECEIVED)
    step = fire(
        under_review,
        cmd("request_correction", on="2025-06-30"),
        CAL,
        replace(RULES_2019, correction_period_days=10),
    )
    assert step.clock_event is not None and step.clock_event.days == 10
    # A later change of the configured default does not move this case's period.
    later = fire(step.facts, cmd("abandon_correction", on="2025-07-15"), CAL, RULES_2019)
    assert later.after is State.ABANDONED
