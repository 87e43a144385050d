"""Random trigger sequences against ``fire()`` (ogi-rules.md §4, §6, §7).

Any trigger of the table, any of four users, valid or invalid arguments, dates moving on by
0–10 days (sometimes backwards): whatever happens, the case stays consistent.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from disclosure.calendar_source import load_calendar
from disclosure.errors import DisclosureError, PermissionDenied, RuleViolation, TransitionNotAllowed
from disclosure.workflow.deadlines import ClockKind
from disclosure.workflow.machine import Actor, CaseFacts, Command, Step, available_triggers, fire
from disclosure.workflow.states import CLOSED_STATES, OUTCOMES, Role, State
from disclosure.workflow.triggers import TRIGGERS_BY_NAME, parse_input

CAL = load_calendar()
ACTORS = [
    Actor("alice", Role.CLERK),
    Actor("carol", Role.CLERK),
    Actor("bob", Role.SUPERVISOR),
    Actor("dan", Role.AUDITOR),
]
TRIGGERS = list(TRIGGERS_BY_NAME)
WITH_OUTCOME = frozenset(
    {
        State.REPLY_DRAFTED,
        State.REPLY_APPROVED,
        State.REPLIED,
        State.WITHDRAWN,
        State.ABANDONED,
        State.ARCHIVED,
    }
)
#: What a closed case still accepts: the delivery receipt of a reply, and archiving.
AFTER_CLOSING = frozenset({"acknowledge_delivery", "archive"})
PAUSE_OPENERS = frozenset({"consult_third_party", "consult_agency", "issue_fee"})
PAUSE_CLOSERS = frozenset({"third_party_replied", "agency_replied", "fee_paid"})
ALL_REASONS = sorted({reason for o in OUTCOMES.values() for reason in o.reasons})

outcomes = st.sampled_from([*OUTCOMES, "bogus"]) | st.none()
reasons = st.sampled_from([*ALL_REASONS, "bogus"]) | st.none()
notes = st.sampled_from(["", "  ", "案情复杂"])


class CaseMachine(RuleBasedStateMachine):
    facts: CaseFacts
    today: date

    @initialize(received=st.dates(date(2024, 1, 1), date(2026, 10, 31)))
    def register(self, received: date) -> None:
        self.facts = CaseFacts(State.REGISTERED, received)
        self.today = received
        self.due: date | None = None  # reply due after the last successful step
        self.due_before_pause: date | None = None
        self.approved_by: str | None = None

    # --- rules -----------------------------------------------------------------------------

    @rule(
        trigger=st.sampled_from([*TRIGGERS, "teleport"]),
        actor=st.sampled_from(ACTORS),
        shift=st.integers(-3, 10),
        days=st.none() | st.integers(-1, 25),
        until_in=st.none() | st.integers(-5, 120),
        outcome=outcomes,
        reason=reasons,
        note=notes,
    )
    def fire_anything(
        self,
        trigger: str,
        actor: Actor,
        shift: int,
        days: int | None,
        until_in: int | None,
        outcome: str | None,
        reason: str | None,
        note: str,
    ) -> None:
        on = self.today + timedelta(days=shift)
        until = None if until_in is None else on + timedelta(days=until_in)
        self._given(
            trigger, actor, on,
            days=days, until=until, outcome=outcome, reason_code=reason, reason=note,
        )  # fmt: skip

    @precondition(lambda self: bool(available_triggers(self.facts.state)))
    @rule(data=st.data(), shift=st.integers(0, 10), days=st.integers(1, 20))
    def fire_a_plausible_trigger(self, data: st.DataObject, shift: int, days: int) -> None:
        # Withdrawal is open from every state; leave it to fire_anything so cases get far.
        menu = [t for t in available_triggers(self.facts.state) if t != "withdraw"]
        trigger = data.draw(st.sampled_from(menu or ["withdraw"]))
        # Clerk work by clerks, so that the supervisor is free to approve their drafts.
        roles = TRIGGERS_BY_NAME[trigger].roles - {Role.SUPERVISOR} or {Role.SUPERVISOR}
        actor = data.draw(st.sampled_from([a for a in ACTORS if a.role in roles]))
        outcome = data.draw(st.sampled_from(list(OUTCOMES)))
        reason = data.draw(st.sampled_from(list(OUTCOMES[outcome].reasons)))
        on = self.today + timedelta(days=shift)
        until = on + timedelta(days=data.draw(st.integers(30, 120)))
        opinion = data.draw(st.sampled_from(["agree", "object"]))
        self._given(
            trigger, actor, on, days=days, until=until, outcome=outcome, reason_code=reason,
            reason="理由", opinion=opinion, pages=120, receiver="张三", method="直接送达",
        )  # fmt: skip

    def _given(self, trigger: str, actor: Actor, on: date, **given: object) -> None:
        """Fire ``trigger`` with those of ``given`` it takes; an input refused as it is
        parsed must name its field and rule, and changes nothing."""
        spec = TRIGGERS_BY_NAME.get(trigger)
        taken = spec.input.model_fields if spec is not None else {}
        fields = {k: v for k, v in given.items() if v is not None and k in taken}
        try:
            command = Command(parse_input(trigger, fields), actor, on)
        except RuleViolation as exc:
            assert exc.field and exc.rule, exc
            assert spec is None or exc.field in taken, exc
            return
        self._apply(command)

    def _apply(self, command: Command) -> None:
        before = self.facts
        snapshot = CaseFacts(**vars(before))
        try:
            step = fire(before, command, CAL)
        except DisclosureError as exc:
            assert self.facts is before and before == snapshot  # nothing changed
            self._check_refusal(before, command, exc)
            return
        self._check_step(before, command, step)
        self.facts = step.facts
        self.today = max(self.today, command.on)

    # --- what a refusal and a step must look like ------------------------------------------

    def _check_refusal(self, before: CaseFacts, command: Command, exc: DisclosureError) -> None:
        spec = TRIGGERS_BY_NAME[command.trigger]
        if before.state not in spec.sources:
            assert isinstance(exc, TransitionNotAllowed)
            assert (exc.state, exc.trigger) == (before.state.value, command.trigger)
        elif command.actor.role not in spec.roles:
            assert isinstance(exc, PermissionDenied)
            assert exc.rule == "role_not_allowed"
        else:
            assert exc.rule and exc.field, exc  # a guard names its field and rule

    def _check_step(self, before: CaseFacts, command: Command, step: Step) -> None:
        spec = TRIGGERS_BY_NAME[command.trigger]
        assert before.state in spec.sources
        assert command.actor.role in spec.roles
        assert step.before is before.state
        assert step.after is step.facts.state
        assert step.after is (spec.dest or before.state)
        if before.state in CLOSED_STATES:
            assert command.trigger in AFTER_CLOSING
        if command.trigger == "approve":
            assert command.actor.name != before.drafted_by
            self.approved_by = command.actor.name
        if command.trigger == "return_draft":
            self.approved_by = None

        due = step.limits.reply.due if step.limits.reply is not None else None
        if command.trigger in PAUSE_OPENERS:
            self.due_before_pause = self.due
        if due is not None and self.due is not None and command.trigger != "receive_correction":
            if command.trigger in PAUSE_CLOSERS:
                # An open pause is counted to its window end; an early answer gives days
                # back, but never more than the pause took.
                assert self.due_before_pause is not None
                assert due >= self.due_before_pause
            else:
                assert due >= self.due
            if command.trigger == "extend" and not before.has(ClockKind.CUSTOM_DUE):
                assert due > self.due  # (an Art. 35 date later than due + N absorbs it)
        self.due = due

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def state_is_a_workflow_state(self) -> None:
        assert isinstance(self.facts.state, State)

    @invariant()
    def correction_and_extension_happen_at_most_once(self) -> None:
        kinds = [e.kind for e in self.facts.events]
        assert kinds.count(ClockKind.REQUEST_CORRECTION) <= 1
        assert kinds.count(ClockKind.EXTEND) <= 1

    @invariant()
    def events_never_go_back_in_time(self) -> None:
        dates = [self.facts.received_on, *(e.on for e in self.facts.events)]
        assert dates == sorted(dates)

    @invariant()
    def outcome_is_set_exactly_when_the_case_has_one(self) -> None:
        has_outcome = self.facts.outcome is not None
        assert has_outcome is (self.facts.state in WITH_OUTCOME)
        assert (self.facts.outcome_reason is not None) is has_outcome
        if has_outcome:
            assert self.facts.outcome in OUTCOMES
            assert self.facts.outcome_reason in OUTCOMES[self.facts.outcome].reasons

    @invariant()
    def approved_reply_was_not_approved_by_its_drafter(self) -> None:
        if self.approved_by is not None:
            assert self.approved_by != self.facts.drafted_by

    @invariant()
    def closed_case_accepts_only_archive(self) -> None:
        """A closed case is archived; until then a contact, a reconsideration or a lawsuit may
        be recorded and, once replied, the applicant's 送达回证 may still come in."""
        state = self.facts.state
        if state not in CLOSED_STATES:
            return
        expected = (
            [] if state is State.ARCHIVED else ["archive", "record_challenge", "record_contact"]
        )
        if state is State.REPLIED:
            expected = ["acknowledge_delivery", "archive", "record_challenge", "record_contact"]
        assert sorted(available_triggers(state)) == expected
        for trigger in TRIGGERS:
            if trigger in expected:
                continue
            fields = {"reason": "理由", "days": 5, "until": self.today, "opinion": "agree",
                      "outcome": "disclose", "reason_code": "provided",
                      "receiver": "张三", "method": "直接送达", "contact_method": "phone",
                      "summary": "电话沟通", "kind": "reconsideration",
                      "filed_on": self.today}  # fmt: skip
            taken = TRIGGERS_BY_NAME[trigger].input.model_fields
            given = {k: v for k, v in fields.items() if k in taken}
            command = Command(parse_input(trigger, given), ACTORS[2], self.today)
            try:
                fire(self.facts, command, CAL)
            except TransitionNotAllowed:
                continue
            raise AssertionError(f"closed case ({state}) accepted {trigger}")


def test_random_trigger_sequences_keep_the_case_consistent() -> None:
    run_state_machine_as_test(
        CaseMachine,
        settings=settings(max_examples=150, stateful_step_count=30, deadline=None),
    )
