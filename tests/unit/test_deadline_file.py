"""``disclosure deadline --json``: every malformed item is reported, never raised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disclosure.calendar_source import load_calendar
from disclosure.errors import RuleViolation
from disclosure.services.deadline_file import MAX_ITEMS, compute_data, compute_file
from disclosure.workflow.rules import RULES_2019

CAL = load_calendar()
EXAMPLES_FILE = Path(__file__).resolve().parents[2].parent / "shared/examples/deadlines.json"
GOOD = {"received": "2026-05-25", "events": []}


def problem_of(item: object) -> dict[str, Any]:
    results, problems = compute_data([GOOD, item], CAL, RULES_2019)
    assert results[0] == {"due": "2026-06-23", "provisional": False}  # the rest still computed
    assert len(problems) == 1 and problems[0]["index"] == 1
    assert results[1]["error"] == problems[0] and results[1]["due"] is None
    return problems[0]


def test_the_worked_examples_still_compute_from_text() -> None:
    text = EXAMPLES_FILE.read_text(encoding="utf-8")
    results, problems = compute_file(text, CAL, RULES_2019)
    assert problems == []
    assert [r["due"] for r in results] == [e["due"] for e in json.loads(text)]


def test_compute_data_takes_what_read_json_file_returned() -> None:
    results, problems = compute_data([GOOD], CAL, RULES_2019)
    assert (results, problems) == ([{"due": "2026-06-23", "provisional": False}], [])


def test_full_width_dates_count_like_ascii_ones() -> None:
    results, _ = compute_data([{"received": "２０２６－０５－２５"}], CAL, RULES_2019)
    assert results[0]["due"] == "2026-06-23"


MALFORMED: list[tuple[str, object, str, str]] = [
    # (id, item, field, rule)
    ("item-list", ["2026-05-25"], "item", "json_object"),
    ("item-string", "2026-05-25", "item", "json_object"),
    ("item-null", None, "item", "json_object"),
    ("item-number", 7, "item", "json_object"),
    ("received-missing", {"events": []}, "received", "required"),
    ("received-number", {"received": 20260525}, "received", "type"),
    ("received-list", {"received": ["2026-05-25"]}, "received", "type"),
    ("received-object", {"received": {"$gt": ""}}, "received", "type"),
    ("received-bool", {"received": True}, "received", "type"),
    ("received-bad", {"received": "2026-02-30"}, "received", "date_format"),
    ("received-year-1", {"received": "0001-01-01"}, "date", "outside_calendar_span"),
    ("received-year-9999", {"received": "9999-12-31"}, "date", "outside_calendar_span"),
    ("received-1999", {"received": "1999-12-31"}, "date", "outside_calendar_span"),
    ("events-object", {**GOOD, "events": {"extend": 5}}, "events", "json_list"),
    ("events-string", {**GOOD, "events": "extend"}, "events", "json_list"),
    ("events-null", {**GOOD, "events": None}, "events", "json_list"),
    ("event-string", {**GOOD, "events": ["extend"]}, "events[0]", "event_shape"),
    ("event-object", {**GOOD, "events": [{"kind": "extend"}]}, "events[0]", "event_shape"),
    ("event-short", {**GOOD, "events": [["extend"]]}, "events[0]", "event_shape"),
    ("event-long", {**GOOD, "events": [["extend", "2026-05-26", 5, 6]]}, "events[0]", "event_shape"),
    ("kind-number", {**GOOD, "events": [[1, "2026-05-26"]]}, "events[0][0]", "type"),
    ("kind-list", {**GOOD, "events": [[["extend"], "2026-05-26"]]}, "events[0][0]", "type"),
    ("kind-object", {**GOOD, "events": [[{}, "2026-05-26"]]}, "events[0][0]", "type"),
    ("kind-unknown", {**GOOD, "events": [["pause", "2026-05-26"]]}, "events[0][0]", "one_of"),
    ("event-date-number", {**GOOD, "events": [["extend", 20260526, 5]]}, "events[0][1]", "type"),
    ("days-missing", {**GOOD, "events": [["extend", "2026-05-26"]]}, "events[0][2]", "integer"),
    ("days-string", {**GOOD, "events": [["extend", "2026-05-26", "5"]]}, "events[0][2]", "integer"),
    ("days-bool", {**GOOD, "events": [["extend", "2026-05-26", True]]}, "events[0][2]", "integer"),
    ("days-float", {**GOOD, "events": [["extend", "2026-05-26", 5.0]]}, "events[0][2]", "integer"),
    ("days-huge", {**GOOD, "events": [["extend", "2026-05-26", 10**50]]}, "events[0].days", "extension_range"),
    ("days-negative", {**GOOD, "events": [["extend", "2026-05-26", -5]]}, "events[0].days", "extension_range"),
    ("custom-due-missing", {**GOOD, "events": [["custom_due", "2026-05-26"]]}, "events[0][2]", "required"),
    ("custom-due-number", {**GOOD, "events": [["custom_due", "2026-05-26", 1]]}, "events[0][2]", "type"),
    ("event-9999", {**GOOD, "events": [["consult_agency", "9999-12-31"]]}, "date", "outside_calendar_span"),
    ("too-many-events", {**GOOD, "events": [["fee_paid", "2026-05-26"]] * 101}, "events", "max_events"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("item", "field", "rule"), [row[1:] for row in MALFORMED], ids=[row[0] for row in MALFORMED]
)
def test_each_malformed_item_is_reported_with_its_field_and_rule(
    item: object, field: str, rule: str
) -> None:
    problem = problem_of(item)
    assert (problem["field"], problem["rule"]) == (field, rule)
    assert problem["message"]


def test_a_custom_due_date_far_beyond_the_calendar_is_computed_not_crashed() -> None:
    item = {**GOOD, "events": [["custom_due", "2026-05-26", "9999-12-31"]]}
    results, problems = compute_data([item], CAL, RULES_2019)
    assert problems == [] and results[0] == {"due": "9999-12-31", "provisional": True}


def test_a_file_that_is_not_a_list_is_refused_as_a_whole() -> None:
    with pytest.raises(RuleViolation) as caught:
        compute_data({"received": "2026-05-25"}, CAL, RULES_2019)
    assert (caught.value.field, caught.value.rule) == ("--json", "json_list")


def test_more_than_max_items_is_refused_with_a_clear_message() -> None:
    compute_data([GOOD] * MAX_ITEMS, CAL, RULES_2019)
    with pytest.raises(RuleViolation) as caught:
        compute_data([GOOD] * (MAX_ITEMS + 1), CAL, RULES_2019)
    assert (caught.value.field, caught.value.rule) == ("--json", "max_items")
    assert "10,000" in caught.value.message


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[" * 100_000, "max_depth"),
        ("[" + "9" * 5000 + "]", "json_number"),
        ("[NaN]", "json_number"),
        ('[{"received": "2026-05-25",', "json"),
        ('{"a": 1}', "json_list"),
    ],
    ids=["deep", "huge-int", "nan", "syntax", "object"],
)
def test_compute_file_refuses_bad_json_text(text: str, rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        compute_file(text, CAL, RULES_2019)
    assert (caught.value.field, caught.value.rule) == ("--json", rule)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [
            "2026-05-25",
            "2026-05-26",
            "0001-01-01",
            "9999-12-31",
            "extend",
            "custom_due",
            "request_correction",
            "receive_correction",
            "consult_third_party",
            "third_party_replied",
            "issue_fee_notice",
            "fee_paid",
            "",
        ]
    )
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["received", "events", "due", "x"]), children, max_size=3)
    ),
    max_leaves=12,
)
dates = st.dates().map(lambda d: d.isoformat())
events = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "extend",
                "custom_due",
                "request_correction",
                "receive_correction",
                "consult_agency",
                "agency_replied",
                "issue_fee_notice",
                "fee_paid",
            ]
        ),
        dates,
        st.integers(-(10**20), 10**20) | dates,
    ).map(lambda t: list(t[:2]) if t[0] not in {"extend", "custom_due"} else list(t)),
    max_size=5,
)
items = st.fixed_dictionaries({"received": dates, "events": events})


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(json_values | items, max_size=5))
def test_no_shape_of_data_ever_raises_or_hits_an_internal_error(data: list[object]) -> None:
    results, problems = compute_data(data, CAL, RULES_2019)
    assert len(results) == len(data)
    assert all(p["rule"] != "internal" for p in problems), problems
    json.dumps(results, ensure_ascii=False)  # what the CLI prints
