"""The ``transitions`` machine built from ``triggers.TRIGGERS``.

``fire()`` is the one entry point: given a case's facts and a command, it returns the
``Step`` to persist (new state, clock event, recomputed limits, changed facts, letters) or
raises a ``DisclosureError`` that names the state, trigger, field and rule. It never mutates
its input.

Each thread keeps its own machine, built once from the table, and its own model, added to
it once and set up afresh for every ``fire`` (building a machine per fire cost a tenth of a
change, adding and removing a model a twentieth). Nothing is shared between threads, so
they fire concurrently without a lock. Every transition gets its trigger's guards as
``conditions`` (a guard raises instead of returning False, so the caller learns *which*
rule stopped it) and its effect as ``after``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

from transitions import EventData, Machine, MachineError

from disclosure.errors import DeadlineError, PermissionDenied, RuleViolation, TransitionNotAllowed
from disclosure.workflow.calendar import WorkingCalendar, cn_date
from disclosure.workflow.case import Actor, CaseFacts, ClockRecord, Command, Step
from disclosure.workflow.deadlines import ClockEvent, ClockKind
from disclosure.workflow.rules import DEFAULT_POLICY, RULES_2019, LocalPolicy, RuleSet
from disclosure.workflow.states import STATE_LABELS, Role, State
from disclosure.workflow.triggers import (
    TRIGGERS,
    TRIGGERS_BY_NAME,
    Firing,
    Guard,
    Trigger,
    check_role,
    trigger_named,
)

__all__ = [
    "Actor",
    "CaseFacts",
    "Command",
    "Step",
    "available_triggers",
    "fire",
    "mermaid",
    "workflow_document",
]


def _chronological(m: Firing) -> None:
    if m.command.on < m.facts.last_date:
        raise RuleViolation(
            "on",
            "chronological",
            f"办理日期{cn_date(m.command.on)}早于上一环节日期{cn_date(m.facts.last_date)}",
        )


def _backdating(m: Firing) -> None:
    """A step dated more than the policy's working days before today needs a supervisor
    and a reason: a late-recorded letter would otherwise carry a date the law had passed."""
    command, limit = m.command, m.policy.backdate_working_days
    if command.today is None or command.on >= command.today:
        return
    try:
        behind = m.cal.working_days_between(command.on, command.today)
    except DeadlineError as exc:
        raise DeadlineError("on", exc.rule, exc.message) from None
    if behind <= limit:
        return
    what = f"办理日期{cn_date(command.on)}早于今天{behind}个工作日（超过{limit}个工作日）"
    if command.actor.role is not Role.SUPERVISOR:
        raise PermissionDenied(
            rule="backdated_needs_supervisor", message=f"{what}，补录须由负责人办理并写明理由"
        )
    if not command.input.backdate_reason.strip():
        raise RuleViolation(
            "backdate_reason", "backdated_needs_reason", f"{what}，补录须写明补录理由"
        )
    m.backdated = True


def _clock_days(kind: ClockKind, m: Firing) -> int | None:
    if kind is ClockKind.EXTEND:
        return cast(int | None, m.value("days"))
    if kind is ClockKind.REQUEST_CORRECTION:
        return m.rules.correction_period_days
    return None


def _record_clock(trigger: Trigger) -> Guard:
    """The last condition: the clock event and the limits it leads to (which may refuse it)."""

    def record(m: Firing) -> None:
        if trigger.clock is not None:
            m.clock_event = ClockEvent(
                trigger.clock,
                m.command.on,
                days=_clock_days(trigger.clock, m),
                until=m.value("until") if trigger.clock is ClockKind.CUSTOM_DUE else None,
            )
        m.limits = m.limits_with(m.clock_event)

    return record


def _condition(guard: Guard) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        guard(cast(Firing, event.model))
        return True

    return condition


def _after(trigger: Trigger) -> Callable[[EventData], None]:
    def after(event: EventData) -> None:
        m = cast(Firing, event.model)
        if trigger.effect is not None:
            m.changes = trigger.effect(m)

    return after


def _transition(trigger: Trigger) -> dict[str, Any]:
    def role(m: Firing) -> None:
        check_role(trigger, m.command)

    guards = (role, _chronological, _backdating, *trigger.guards, _record_clock(trigger))
    return {
        "trigger": trigger.name,
        "source": [s.value for s in trigger.sources],
        "dest": trigger.dest.value if trigger.dest else None,
        "conditions": [_condition(g) for g in guards],
        "after": [_after(trigger)],
    }


#: Built once from the table; every machine gets it (``transitions`` copies what it needs).
_TRANSITIONS = [_transition(t) for t in TRIGGERS]
_STATES = [s.value for s in State]


_PER_THREAD = threading.local()


def _thread_machine() -> Machine:
    """This thread's machine (models come and go; the table never changes)."""
    machine: Machine | None = getattr(_PER_THREAD, "machine", None)
    if machine is None:
        machine = _PER_THREAD.machine = Machine(
            model=None,
            states=_STATES,
            transitions=_TRANSITIONS,
            initial=State.REGISTERED.value,
            auto_transitions=False,
            send_event=True,
        )
    return machine


def _thread_model(
    facts: CaseFacts, command: Command, cal: WorkingCalendar, rules: RuleSet, policy: LocalPolicy
) -> Firing:
    """This thread's model, set up for one fire."""
    model: Firing | None = getattr(_PER_THREAD, "model", None)
    if model is None:
        model = _PER_THREAD.model = Firing()
        _thread_machine().add_model(model, initial=facts.state.value)
    model.begin(facts, command, cal, rules, policy)
    return model


def available_triggers(state: State) -> list[str]:
    """Triggers the workflow accepts in a state, in table order (for menus and help)."""
    accepted = set(_thread_machine().get_triggers(state.value))
    return [t.name for t in TRIGGERS if t.name in accepted]


def fire(
    facts: CaseFacts,
    command: Command,
    cal: WorkingCalendar,
    rules: RuleSet = RULES_2019,
    policy: LocalPolicy = DEFAULT_POLICY,
) -> Step:
    """Apply one trigger to a case.

    Raises:
        TransitionNotAllowed: the state does not accept the trigger.
        RuleViolation: a guard of the law refused it (field and rule named).
    """
    trigger = trigger_named(command.trigger)
    model = _thread_model(facts, command, cal, rules, policy)
    try:
        model.trigger(command.trigger)  # type: ignore[attr-defined]  # added by Machine
    except MachineError:
        raise TransitionNotAllowed(
            facts.state.value,
            command.trigger,
            f"案件当前状态为“{STATE_LABELS[facts.state]}”，不能执行“{trigger.label}”"
            f"（{command.trigger}）；可用操作：{_menu(facts.state)}",
        ) from None
    assert model.limits is not None
    after = State(model.state)
    new_facts = replace(
        facts,
        state=after,
        events=(*facts.events, model.clock_event) if model.clock_event else facts.events,
        last_action_on=command.on,
        **model.changes,
    )
    return Step(
        trigger.name,
        facts.state,
        after,
        new_facts,
        model.limits,
        model.clock_event,
        _details(trigger, model, new_facts),
        clock_record=_clock_record(command) if model.clock_event else None,
        letters=trigger.issued(command.input),
        draft=trigger.draft,
        fee=model.fee,
    )


def _details(trigger: Trigger, m: Firing, facts: CaseFacts) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if facts.outcome:
        details = {"outcome": facts.outcome, "reason_code": facts.outcome_reason}
    if m.backdated:
        details["backdated"] = True
        details["backdate_reason"] = m.command.input.backdate_reason.strip()
    for name in trigger.recorded:
        details[name] = m.value(name)
    return details


def _clock_record(command: Command) -> ClockRecord:
    fields = command.input.letter_fields()
    return ClockRecord(
        note=command.note or "；".join(fields.get("items", ())),
        party=fields.get("party"),
        opinion=fields.get("opinion"),
    )


def _menu(state: State) -> str:
    names = [f"{TRIGGERS_BY_NAME[t].label}（{t}）" for t in available_triggers(state)]
    return "、".join(names) or "无（案件已办结）"


def mermaid() -> str:
    """The state diagram of the table as Mermaid text (kept in docs/workflow.md)."""
    lines = ["stateDiagram-v2", f"    [*] --> {State.REGISTERED.value}"]
    for trigger in TRIGGERS:
        for source in trigger.sources:
            dest = (trigger.dest or source).value
            lines.append(f"    {source.value} --> {dest}: {trigger.label}（{trigger.name}）")
    lines.extend(f"    {s.value}: {s.value} {STATE_LABELS[s]}" for s in State)
    return "\n".join(lines) + "\n"


def workflow_document() -> str:
    """``docs/workflow.md``: the state diagram with how to regenerate it."""
    return (
        "# The case workflow\n\n"
        "Generated from `disclosure/workflow/triggers.py` by "
        "`disclosure.workflow.machine.workflow_document()`;\n"
        "`tests/unit/test_triggers.py` regenerates it and fails if this file is out of date. "
        "Refresh it with\n"
        "`.venv/bin/python -c 'from disclosure.workflow.machine import workflow_document as d; "
        'print(d(), end="")\' > docs/workflow.md`.\n\n'
        f"```mermaid\n{mermaid()}```\n"
    )
