"""The legal time limits of a case (ogi-rules.md §3–§4), against the real calendar."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from disclosure.calendar_source import load_calendar
from disclosure.errors import DeadlineError
from disclosure.workflow.deadlines import ClockEvent, ClockKind, compute_limits, reply_due
from disclosure.workflow.rules import RuleSet

CAL = load_calendar()
D = date.fromisoformat
K = ClockKind
EXAMPLES_FILE = Path(__file__).resolve().parents[2].parent / "shared/examples/deadlines.json"
EXAMPLES: list[dict[str, Any]] = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))

RECEIVED = D("2025-06-27")  # a Friday; the §3 example: 20 working days → Fri 2025-07-25


def ev(kind: ClockKind, on: str, days: int | None = None, until: str | None = None) -> ClockEvent:
    return ClockEvent(kind, D(on), days=days, until=D(until) if until else None)


def _events(raw: list[list[Any]]) -> list[ClockEvent]:
    return [ClockEvent(K(item[0]), D(item[1]), *item[2:]) for item in raw]


# --- the shared worked examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    "example",
    EXAMPLES,
    ids=[
        f"{i:02d}-received-{e['received']}-{len(e['events'])}-events"
        for i, e in enumerate(EXAMPLES)
    ],
)
def test_worked_example_has_the_legally_correct_reply_due_date(example: dict[str, Any]) -> None:
    limits = compute_limits(CAL, D(example["received"]), _events(example["events"]))
    assert limits.reply is not None
    assert limits.reply.due == D(example["due"])
    assert limits.reply.provisional is False


def test_worked_examples_are_present() -> None:
    assert len(EXAMPLES) >= 14


def test_explanation_tells_how_the_reply_date_was_obtained() -> None:
    events = [
        ev(K.CONSULT_THIRD_PARTY, "2025-12-01"),
        ev(K.THIRD_PARTY_REPLIED, "2025-12-03"),
        ev(K.EXTEND, "2025-12-04", days=6),
    ]
    reply = compute_limits(CAL, D("2025-11-29"), events).reply
    assert reply is not None
    assert reply.key == "reply"
    assert reply.label == "答复期限"
    assert reply.explanation == (
        "自2025年11月29日起算20个工作日；征求第三方意见暂停2个工作日；延长6个工作日 → 2026年1月8日"
    )


def test_plain_case_is_due_on_the_twentieth_working_day() -> None:
    limits = compute_limits(CAL, RECEIVED, [])
    assert limits.reply is not None
    assert limits.reply.due == D("2025-07-25")
    assert limits.reply.explanation == "自2025年6月27日起算20个工作日 → 2025年7月25日"
    assert limits.paused is False
    assert reply_due(CAL, RECEIVED, []) == limits.reply


# --- provisional dates (§1 coverage) -----------------------------------------------------------


def test_reply_due_in_an_unannounced_year_is_provisional() -> None:
    # Thu 2026-12-10 → 15 working days to 12-31, then Fri 2027-01-01 (weekends only) … 01-07.
    reply = compute_limits(CAL, D("2026-12-10"), []).reply
    assert reply is not None
    assert reply.due == D("2027-01-07")
    assert reply.provisional is True


def test_reply_due_in_an_announced_year_is_final() -> None:
    reply = compute_limits(CAL, D("2026-11-20"), []).reply
    assert reply is not None
    assert reply.due.year == 2026
    assert reply.provisional is False


def test_any_limit_reaching_an_unannounced_year_is_provisional() -> None:
    notice = compute_limits(CAL, D("2026-12-28"), []).correction_notice
    assert notice is not None
    assert notice.due.year == 2027
    assert notice.provisional is True


# --- the other limits --------------------------------------------------------------------------


def test_correction_notice_is_due_seven_working_days_after_receipt() -> None:
    limits = compute_limits(CAL, RECEIVED, [])
    assert limits.correction_notice is not None
    assert limits.correction_notice.due == D("2025-07-08")
    assert limits.correction_notice.due == CAL.add_working_days(RECEIVED, 7)
    assert limits.correction_notice.explanation == (
        "自2025年6月27日收到申请起算7个工作日 → 2025年7月8日"
    )
    assert [limit.key for limit in limits.all()] == ["reply", "correction_notice"]


def test_correction_period_runs_fifteen_working_days_from_the_notice() -> None:
    limits = compute_limits(CAL, RECEIVED, [ev(K.REQUEST_CORRECTION, "2025-06-30")])
    assert limits.correction_period is not None
    assert limits.correction_period.due == D("2025-07-21")
    assert limits.correction_period.due == CAL.add_working_days(D("2025-06-30"), 15)
    assert limits.reply is None  # nothing to count until the corrected request arrives
    assert limits.correction_notice is None


def test_correction_restarts_the_reply_count_from_the_corrected_application() -> None:
    events = [ev(K.REQUEST_CORRECTION, "2025-06-30"), ev(K.RECEIVE_CORRECTION, "2025-07-07")]
    limits = compute_limits(CAL, RECEIVED, events)
    assert limits.reply is not None
    assert limits.reply.due == CAL.add_working_days(D("2025-07-07"), 20) == D("2025-08-04")
    assert limits.reply.explanation.startswith("补正后自2025年7月7日起算20个工作日")
    assert limits.correction_period is None
    assert limits.correction_notice is None


@pytest.mark.parametrize(
    ("opens", "key", "days", "due"),
    [
        (K.CONSULT_THIRD_PARTY, "third_party", 15, "2025-07-21"),
        (K.CONSULT_AGENCY, "agency", 15, "2025-07-21"),
        (K.ISSUE_FEE_NOTICE, "fee", 20, "2025-07-28"),
    ],
)
def test_open_pause_has_its_window_limit(opens: ClockKind, key: str, days: int, due: str) -> None:
    limits = compute_limits(CAL, RECEIVED, [ev(opens, "2025-06-30")])
    window = getattr(limits, key)
    assert window is not None
    assert window.due == D(due) == CAL.add_working_days(D("2025-06-30"), days)
    assert limits.paused is True


@pytest.mark.parametrize(
    ("opens", "closes", "label"),
    [
        (K.CONSULT_THIRD_PARTY, K.THIRD_PARTY_REPLIED, "征求第三方意见"),
        (K.CONSULT_AGENCY, K.AGENCY_REPLIED, "征求其他机关意见"),
    ],
)
def test_open_pause_counts_as_running_to_its_window_end(
    opens: ClockKind, closes: ClockKind, label: str
) -> None:
    # Issued Mon 06-30 (day 1 still counts); window ends 07-21; 19 more days → 08-15.
    open_limits = compute_limits(CAL, RECEIVED, [ev(opens, "2025-06-30")])
    closed_at_end = compute_limits(
        CAL, RECEIVED, [ev(opens, "2025-06-30"), ev(closes, "2025-07-21")]
    )
    assert open_limits.reply is not None and closed_at_end.reply is not None
    assert open_limits.reply.due == closed_at_end.reply.due == D("2025-08-15")
    assert f"{label}暂停中（按期满2025年7月21日计）" in open_limits.reply.explanation
    assert closed_at_end.paused is False


def test_open_fee_notice_counts_as_running_to_the_payment_deadline() -> None:
    limits = compute_limits(CAL, RECEIVED, [ev(K.ISSUE_FEE_NOTICE, "2025-06-30")])
    assert limits.reply is not None
    # Pause (06-30, 07-28]; days 2..20 after it: 07-29 … 08-22.
    assert limits.reply.due == D("2025-08-22")
    assert "缴费暂停中（按期满2025年7月28日计）" in limits.reply.explanation


def test_late_third_party_reply_is_capped_at_the_window_end() -> None:
    late = [ev(K.CONSULT_THIRD_PARTY, "2025-06-30"), ev(K.THIRD_PARTY_REPLIED, "2025-08-01")]
    on_time = [ev(K.CONSULT_THIRD_PARTY, "2025-06-30"), ev(K.THIRD_PARTY_REPLIED, "2025-07-21")]
    late_reply = compute_limits(CAL, RECEIVED, late).reply
    on_time_reply = compute_limits(CAL, RECEIVED, on_time).reply
    assert late_reply is not None and on_time_reply is not None
    assert late_reply.due == on_time_reply.due == D("2025-08-15")
    assert "征求第三方意见暂停15个工作日（超过期限，按期满计）" in late_reply.explanation
    assert "超过期限" not in on_time_reply.explanation


def test_pause_excludes_the_days_after_issue_up_to_the_answer() -> None:
    # Issued Tue 07-01, answered Thu 07-03: 07-02 and 07-03 are not counted.
    events = [ev(K.CONSULT_THIRD_PARTY, "2025-07-01"), ev(K.THIRD_PARTY_REPLIED, "2025-07-03")]
    reply = compute_limits(CAL, RECEIVED, events).reply
    assert reply is not None
    assert reply.due == D("2025-07-29")
    assert "征求第三方意见暂停2个工作日" in reply.explanation


def test_pause_after_the_due_date_does_not_move_it() -> None:
    events = [ev(K.ISSUE_FEE_NOTICE, "2025-07-28"), ev(K.FEE_PAID, "2025-08-05")]
    reply = compute_limits(CAL, RECEIVED, events).reply
    assert reply is not None
    assert reply.due == D("2025-07-25")


def test_pause_issued_on_the_due_date_does_not_move_it() -> None:
    # The issue day still counts: the 20th day was reached before the clock stopped.
    events = [ev(K.CONSULT_AGENCY, "2025-07-25"), ev(K.AGENCY_REPLIED, "2025-08-05")]
    reply = compute_limits(CAL, RECEIVED, events).reply
    assert reply is not None
    assert reply.due == D("2025-07-25")


def test_extension_adds_counted_working_days() -> None:
    reply = compute_limits(CAL, RECEIVED, [ev(K.EXTEND, "2025-07-10", days=5)]).reply
    assert reply is not None
    assert reply.due == D("2025-08-01")
    assert reply.explanation.endswith("；延长5个工作日 → 2025年8月1日")


def test_extension_decided_on_the_due_date_is_accepted() -> None:
    reply = compute_limits(CAL, RECEIVED, [ev(K.EXTEND, "2025-07-25", days=20)]).reply
    assert reply is not None
    assert reply.due == D("2025-08-22")


def test_custom_due_date_under_article_35_replaces_an_earlier_due_date() -> None:
    events = [ev(K.CUSTOM_DUE, "2025-07-01", until="2025-09-30")]
    reply = compute_limits(CAL, RECEIVED, events).reply
    assert reply is not None
    assert reply.due == D("2025-09-30")
    assert "依第三十五条另行确定答复期限（2025年7月1日决定）" in reply.explanation


def test_custom_due_date_earlier_than_the_legal_one_is_ignored() -> None:
    events = [ev(K.CUSTOM_DUE, "2025-07-01", until="2025-07-10")]
    reply = compute_limits(CAL, RECEIVED, events).reply
    assert reply is not None
    assert reply.due == D("2025-07-25")


def test_rule_set_numbers_drive_the_count() -> None:
    reply = compute_limits(CAL, RECEIVED, [], RuleSet(reply_days=15)).reply
    assert reply is not None
    assert reply.due == D("2025-07-18")


# --- event sequences the law does not allow ----------------------------------------------------


@pytest.mark.parametrize(
    ("events", "field", "rule"),
    [
        pytest.param(
            [ev(K.REQUEST_CORRECTION, "2025-06-30"), ev(K.REQUEST_CORRECTION, "2025-07-01")],
            "events[1].kind",
            "correction_once",
            id="correction_twice",
        ),
        pytest.param(
            [
                ev(K.REQUEST_CORRECTION, "2025-06-30"),
                ev(K.RECEIVE_CORRECTION, "2025-07-02"),
                ev(K.REQUEST_CORRECTION, "2025-07-03"),
            ],
            "events[2].kind",
            "correction_once",
            id="correction_again_after_receipt",
        ),
        pytest.param(
            [ev(K.EXTEND, "2025-07-01", days=5), ev(K.EXTEND, "2025-07-02", days=5)],
            "events[1].kind",
            "extension_once",
            id="extension_twice",
        ),
        pytest.param(
            [ev(K.EXTEND, "2025-07-28", days=5)],
            "events[0].date",
            "extension_after_due",
            id="extension_after_due",
        ),
        pytest.param(
            [ev(K.EXTEND, "2025-07-01", days=0)],
            "events[0].days",
            "extension_range",
            id="extension_zero_days",
        ),
        pytest.param(
            [ev(K.EXTEND, "2025-07-01", days=21)],
            "events[0].days",
            "extension_range",
            id="extension_21_days",
        ),
        pytest.param(
            [ev(K.EXTEND, "2025-07-01")],
            "events[0].days",
            "extension_range",
            id="extension_without_days",
        ),
        pytest.param(
            [ev(K.THIRD_PARTY_REPLIED, "2025-07-01")],
            "events[0].kind",
            "no_open_pause",
            id="third_party_reply_without_consult",
        ),
        pytest.param(
            [ev(K.AGENCY_REPLIED, "2025-07-01")],
            "events[0].kind",
            "no_open_pause",
            id="agency_reply_without_consult",
        ),
        pytest.param(
            [ev(K.FEE_PAID, "2025-07-01")],
            "events[0].kind",
            "no_open_pause",
            id="payment_without_fee_notice",
        ),
        pytest.param(
            [ev(K.CONSULT_THIRD_PARTY, "2025-07-01"), ev(K.AGENCY_REPLIED, "2025-07-02")],
            "events[1].kind",
            "no_open_pause",
            id="reply_closes_the_wrong_pause",
        ),
        pytest.param(
            [ev(K.CONSULT_THIRD_PARTY, "2025-07-01"), ev(K.CONSULT_THIRD_PARTY, "2025-07-02")],
            "events[1].kind",
            "pause_already_open",
            id="consult_twice_at_once",
        ),
        pytest.param(
            [ev(K.CONSULT_THIRD_PARTY, "2025-07-03"), ev(K.THIRD_PARTY_REPLIED, "2025-07-01")],
            "events[1].date",
            "chronological",
            id="events_out_of_order",
        ),
        pytest.param(
            [ev(K.CONSULT_THIRD_PARTY, "2025-06-26")],
            "events[0].date",
            "chronological",
            id="event_before_receipt",
        ),
        pytest.param(
            [ev(K.REQUEST_CORRECTION, "2025-06-30"), ev(K.CONSULT_THIRD_PARTY, "2025-07-01")],
            "events[1].kind",
            "awaiting_correction",
            id="consult_while_awaiting_correction",
        ),
        pytest.param(
            [ev(K.REQUEST_CORRECTION, "2025-06-30"), ev(K.EXTEND, "2025-07-01", days=5)],
            "events[1].kind",
            "awaiting_correction",
            id="extend_while_awaiting_correction",
        ),
        pytest.param(
            [ev(K.RECEIVE_CORRECTION, "2025-07-01")],
            "events[0].kind",
            "no_open_correction",
            id="correction_received_unasked",
        ),
        pytest.param(
            [
                ev(K.REQUEST_CORRECTION, "2025-06-30"),
                ev(K.RECEIVE_CORRECTION, "2025-07-01"),
                ev(K.RECEIVE_CORRECTION, "2025-07-02"),
            ],
            "events[2].kind",
            "no_open_correction",
            id="correction_received_twice",
        ),
        pytest.param(
            [
                ev(K.ISSUE_FEE_NOTICE, "2025-06-30"),
                ev(K.FEE_PAID, "2025-07-01"),
                ev(K.REQUEST_CORRECTION, "2025-07-02"),
            ],
            "events[2].kind",
            "correction_before_handling",
            id="correction_after_handling",
        ),
        pytest.param(
            [ev(K.CUSTOM_DUE, "2025-07-01", until="2025-07-01")],
            "events[0].until",
            "custom_due_after_decision",
            id="custom_due_not_after_decision",
        ),
    ],
)
def test_illegal_event_sequence_names_the_event_and_the_rule(
    events: list[ClockEvent], field: str, rule: str
) -> None:
    with pytest.raises(DeadlineError) as exc:
        compute_limits(CAL, RECEIVED, events)
    assert exc.value.field == field
    assert exc.value.rule == rule
    assert exc.value.message  # user-facing Chinese text


def test_extension_after_due_message_names_both_dates() -> None:
    with pytest.raises(DeadlineError) as exc:
        compute_limits(CAL, RECEIVED, [ev(K.EXTEND, "2025-07-28", days=5)])
    assert "2025年7月28日" in exc.value.message
    assert "2025年7月25日" in exc.value.message


def test_extension_during_an_open_pause_is_judged_against_the_assumed_due_date() -> None:
    # Consultation open since 06-30: the due date is 08-15 for now, so 08-01 is in time.
    events = [ev(K.CONSULT_THIRD_PARTY, "2025-06-30"), ev(K.EXTEND, "2025-08-01", days=3)]
    reply = compute_limits(CAL, RECEIVED, events).reply
    assert reply is not None
    assert reply.due == D("2025-08-20")
