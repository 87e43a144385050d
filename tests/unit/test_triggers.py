"""The trigger registry: one declaration per trigger, typed inputs, a machine per fire."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from disclosure.calendar_source import load_calendar
from disclosure.errors import RuleViolation
from disclosure.workflow.case import Actor, CaseFacts, Command
from disclosure.workflow.machine import available_triggers, fire, workflow_document
from disclosure.workflow.states import Role, State
from disclosure.workflow.triggers import (
    LETTER_TYPES,
    TRIGGERS,
    TRIGGERS_BY_NAME,
    command_union,
    parse_input,
)
from tests.conftest import REQUIRED_INPUTS

CAL = load_calendar()
DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"


def test_the_state_diagram_in_the_docs_is_generated_from_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == workflow_document()
    for trigger in TRIGGERS:
        assert f"（{trigger.name}）" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("trigger", TRIGGERS, ids=[t.name for t in TRIGGERS])
def test_every_input_field_has_a_chinese_label(trigger: object) -> None:
    fields = trigger.input.model_fields  # type: ignore[attr-defined]
    for name, info in fields.items():
        if name == "trigger":
            continue
        assert info.title and not info.title.isascii(), (name, info.title)


def test_every_letter_a_trigger_issues_has_a_type_and_a_distinct_number_code() -> None:
    codes = [t.code for t in LETTER_TYPES.values()]
    assert len(codes) == len(set(codes))
    for trigger in TRIGGERS:
        for spec in trigger.letters:
            assert LETTER_TYPES[spec.type.kind] == spec.type


def test_an_input_refuses_a_field_its_trigger_does_not_take_and_names_it() -> None:
    with pytest.raises(RuleViolation) as exc:
        parse_input("review", {"days": 5})
    assert (exc.value.field, exc.value.rule) == ("days", "unknown_field")
    assert "理由或备注（reason）" in exc.value.message


@pytest.mark.parametrize(
    ("trigger", "data", "field", "rule"),
    [
        ("extend", {"days": "五"}, "days", "type"),
        ("extend", {"days": True}, "days", "type"),
        ("extend", {}, "days", "required"),
        ("issue_fee", {"pages": 0}, "pages", "range"),
        ("set_due", {"until": "2026-13-01"}, "until", "date_format"),
        ("request_correction", {"items": "请写明年度"}, "items", "type"),
        ("withdraw", {"reason": ["a"]}, "reason", "type"),
        ("withdraw", {"reason": "x" * 501}, "reason", "max_length"),
        ("consult_agency", {"party": "财政局\u202e"}, "party", "control_character"),
    ],
)
def test_a_bad_input_names_its_field_and_rule(
    trigger: str, data: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(RuleViolation) as exc:
        parse_input(trigger, data)
    assert (exc.value.field, exc.value.rule) == (field, rule)
    assert "--" not in exc.value.message  # no CLI flag in what a web client reads


def test_full_width_numbers_and_dates_count() -> None:
    given = parse_input("set_due", {"until": "２０２６－１２－３０", "reason": "量大"})
    assert given.model_dump()["until"] == date(2026, 12, 30)
    assert parse_input("extend", {"days": "１０"}).model_dump()["days"] == 10


def test_a_json_body_is_parsed_by_its_trigger() -> None:
    adapter = TypeAdapter(command_union())
    given = adapter.validate_python({"trigger": "extend", "days": 5, "reason": "量大"})
    assert type(given).__name__ == "ExtendInput" and given.days == 5


def test_the_menu_comes_from_the_machine_and_matches_the_table() -> None:
    for state in State:
        expected = [t.name for t in TRIGGERS if state in t.sources]
        assert available_triggers(state) == expected


def test_threads_fire_at_once_without_sharing_a_machine() -> None:
    """Each fire builds its own machine: 50 threads at once give exactly the results one
    thread gives, step for step (a shared model list would mix up or lose models)."""
    received = date(2026, 11, 2)
    jobs = []
    for i in range(50):
        on = received + timedelta(days=i % 7)
        trigger = ["review", "extend", "consult_agency", "draft_reply", "issue_fee"][i % 5]
        state = State.REGISTERED if trigger == "review" else State.HANDLING
        fields = {**REQUIRED_INPUTS.get(trigger, {}), "reason": f"第{i}件", "pages": 100}
        model = TRIGGERS_BY_NAME[trigger].input.model_fields
        taken = {k: v for k, v in fields.items() if k in model}
        if trigger == "extend":
            taken["days"] = 1 + i % 20
        actor = Actor("bob" if trigger == "extend" else "alice", Role(
            "supervisor" if trigger == "extend" else "clerk"))  # fmt: skip
        jobs.append((CaseFacts(state, received), Command(parse_input(trigger, taken), actor, on)))
    expected = [fire(facts, command, CAL) for facts, command in jobs]
    results: list[object] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def work(index: int) -> None:
        barrier.wait()
        facts, command = jobs[index]
        for _ in range(3):
            results[index] = fire(facts, command, CAL)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected
