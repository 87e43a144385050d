"""The time-limit scanner on SQLite and PostgreSQL, on cases built through the real workflow."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from disclosure.config import Settings
from disclosure.models.tables import Alert, AuditEvent, Case, SchedulerRun
from disclosure.services import cases
from disclosure.services.alerts import ics_feed, open_alerts
from disclosure.services.audit import verify_snapshot
from disclosure.services.scheduling import run_scan
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, act, application

D = date.fromisoformat


def scan(app: App, today: date) -> None:
    outcome = run_scan(app, today, slot=None, node="test")
    assert outcome.counts is not None


def open_conditions(app: App, case_id: int) -> dict[str, date]:
    with app.uow() as uow:
        rows = uow.session.scalars(
            select(Alert).where(Alert.case_id == case_id, Alert.cleared_at.is_(None))
        )
        return {alert.condition: alert.limit_date for alert in rows}


def naive_working_days_left(app: App, today: date, due: date) -> int:
    """Working days in (today, due], walked one day at a time."""
    cal, n, day = app.settings.calendar, 0, today
    while day < due:
        day += timedelta(days=1)
        n += cal.is_working_day(day)
    return n


def test_reply_alerts_rise_on_the_right_day_across_national_day_and_its_make_up_day(
    app: App,
) -> None:
    # Received Monday 2026-09-07: the 20th working day is Saturday 2026-10-10, a 调休 working day,
    # so the five-day "approaching" window spans the National Day holiday (10-01 … 10-07).
    case_id = cases.register(app, application(received_on="2026-09-07"), "alice", TODAY)
    due = D("2026-10-10")
    assert cases.get_case(app, case_id).limits[0].due == due
    day = D("2026-09-25")
    while day <= D("2026-10-14"):
        scan(app, day)
        left = naive_working_days_left(app, day, due)
        expected = set()
        if day < due and left <= app.settings.approaching_days:
            expected.add("reply_approaching")
        if day == due:
            expected.add("reply_due_today")
        if day > due:
            expected.add("reply_overdue")
        got = {k for k in open_conditions(app, case_id) if k.startswith("reply")}
        assert got == expected, day
        day += timedelta(days=1)
    # (09-28, 10-10] holds five working days — 09-29, 09-30, 10-08, 10-09 and the make-up
    # Saturday 10-10 — so "approaching" starts on 09-28, a fortnight before by the calendar.
    with app.uow() as uow:
        raised = {a.condition: a.raised_on for a in uow.session.scalars(select(Alert))}
    assert raised["reply_approaching"] == D("2026-09-28")
    assert raised["reply_due_today"] == D("2026-10-10")
    assert raised["reply_overdue"] == D("2026-10-11")


def test_an_alert_is_raised_once_however_often_the_scan_runs(app: App) -> None:
    case_id = cases.register(app, application(received_on="2026-09-07"), "alice", TODAY)
    for _ in range(3):
        scan(app, D("2026-10-20"))
    with app.uow() as uow:
        count = uow.session.scalar(
            select(func.count()).select_from(Alert).where(Alert.case_id == case_id)
        )
        runs = uow.session.scalars(select(SchedulerRun).order_by(SchedulerRun.id)).all()
    assert count == 2  # reply_overdue and correction_notice_overdue (nothing was ever sent)
    assert [r.raised for r in runs] == [2, 0, 0]


def test_alerts_clear_when_the_case_moves_on_or_the_limit_moves(app: App) -> None:
    case_id = cases.register(app, application(received_on="2026-11-02"), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-11-02")
    act(app, case_id, "accept", "alice", "2026-11-03")
    scan(app, D("2026-11-24"))  # due 2026-11-30: approaching
    assert open_conditions(app, case_id) == {"reply_approaching": D("2026-11-30")}
    act(app, case_id, "extend", "bob", "2026-11-24", days=10, reason="需调档")
    scan(app, D("2026-11-24"))  # the limit moved: the old alert clears, nothing new is near
    assert open_conditions(app, case_id) == {}
    scan(app, D("2026-12-08"))
    assert open_conditions(app, case_id) == {"reply_approaching": D("2026-12-14")}
    act(app, case_id, "draft_reply", "alice", "2026-11-24", outcome="disclose",
        reason_code="provided", detail="见附件。")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-11-24")
    act(app, case_id, "send", "alice", "2026-11-24")
    scan(app, D("2026-12-08"))
    assert open_conditions(app, case_id) == {}


@pytest.mark.parametrize(
    ("setup", "condition", "proposed", "confirm"),
    [
        ("correction", "correction_period_over", "abandon_correction", "abandon_correction"),
        ("fee", "fee_unpaid", "abandon_fee", "abandon_fee"),
        ("third_party", "third_party_window_ended", "third_party_no_reply", "third_party_no_reply"),
        ("agency", "agency_window_ended", "agency_no_reply", "agency_no_reply"),
    ],
)
def test_ended_windows_propose_the_legal_next_step_and_never_take_it(
    app: App, setup: str, condition: str, proposed: str, confirm: str
) -> None:
    case_id = cases.register(app, application(received_on="2026-10-08"), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-10-08")
    if setup == "correction":
        act(
            app,
            case_id,
            "request_correction",
            "alice",
            "2026-10-09",
            items=["x"],
        )
    else:
        act(app, case_id, "accept", "alice", "2026-10-09")
        if setup == "fee":
            act(app, case_id, "issue_fee", "alice", "2026-10-12", pages=40)
        else:
            trigger = "consult_third_party" if setup == "third_party" else "consult_agency"
            act(
                app,
                case_id,
                trigger,
                "alice",
                "2026-10-12",
                party="某公司",
            )
    state = cases.get_case(app, case_id).state
    with app.uow() as uow:
        limit = {
            "correction": "correction_period_due", "fee": "fee_due",
            "third_party": "third_party_due", "agency": "agency_due",
        }[setup]  # fmt: skip
        due = getattr(uow.session.get(Case, case_id), limit)
    scan(app, due)
    assert condition not in open_conditions(
        app, case_id
    )  # the last day still belongs to the window
    scan(app, due + timedelta(days=1))
    assert open_conditions(app, case_id)[condition] == due
    with app.uow() as uow:
        alert = uow.session.scalar(select(Alert).where(Alert.condition == condition))
        assert alert is not None and alert.proposed_step == proposed
    assert cases.get_case(app, case_id).state is state  # proposed, not taken
    act(app, case_id, confirm, "alice", "2026-11-24")
    scan(app, D("2026-11-24"))
    assert condition not in open_conditions(app, case_id)


def test_correction_notice_alert_warns_two_working_days_ahead(app: App) -> None:
    case_id = cases.register(app, application(received_on="2026-11-02"), "alice", TODAY)
    limit = D("2026-11-11")  # seven working days after Monday 2026-11-02
    scan(app, D("2026-11-06"))
    assert "correction_notice_approaching" not in open_conditions(app, case_id)
    scan(app, D("2026-11-09"))  # two working days left
    assert open_conditions(app, case_id)["correction_notice_approaching"] == limit
    act(app, case_id, "review", "alice", "2026-11-09")
    act(
        app,
        case_id,
        "request_correction",
        "alice",
        "2026-11-10",
        items=["x"],
    )
    scan(app, D("2026-11-10"))
    assert "correction_notice_approaching" not in open_conditions(app, case_id)


def test_the_first_scan_after_downtime_catches_up_with_correct_dates(app: App) -> None:
    ids = [
        cases.register(app, application(received_on=received), "alice", TODAY)
        for received in ("2026-10-12", "2026-10-13", "2026-10-14", "2026-10-23")
    ]
    # Nothing ran over the week-end and the days before; Monday's first scan sees all of it.
    scan(app, D("2026-11-16"))
    dues = {case_id: cases.get_case(app, case_id).limits[0].due for case_id in ids}
    for case_id, due in dues.items():
        expected = (
            "reply_overdue"
            if due < D("2026-11-16")
            else ("reply_due_today" if due == D("2026-11-16") else "reply_approaching")
        )
        assert open_conditions(app, case_id) == {
            expected: due,
            "correction_notice_overdue": cases.get_case(app, case_id).limits[1].due,
        }


def test_alerts_survive_a_restart_and_are_not_raised_twice(app: App) -> None:
    cases.register(app, application(received_on="2026-09-07"), "alice", TODAY)
    scan(app, D("2026-11-24"))
    app.close()
    again = App.open(app.settings)
    scan(again, D("2026-11-24"))
    with again.uow() as uow:
        rows = uow.session.scalars(select(Alert)).all()
        assert sorted(r.condition for r in rows) == ["correction_notice_overdue", "reply_overdue"]
    again.close()


def test_a_calendar_update_recomputes_limits_and_records_it_in_the_trail(
    database_url: str, tmp_path: Path
) -> None:
    base = App.open(Settings.from_env(database_url=database_url), create=True)
    cases.add_user(base, "alice", "clerk", "王晓梅")
    case_id = cases.register(base, application(received_on="2026-11-20"), "alice", TODAY)
    provisional_due = cases.get_case(base, case_id).limits[0]
    assert provisional_due.due == D("2026-12-18")
    scan(base, TODAY)  # records the calendar in use
    # The region publishes a local holiday on 2026-12-16: the due date must move one day.
    override = tmp_path / "calendar.toml"
    override.write_text(
        '[[add_holiday]]\ndate = 2026-12-16\nnote = "本市地方性节日"\n', encoding="utf-8"
    )
    updated = App.open(Settings.from_env(database_url=database_url, calendar_override=override))
    outcome = run_scan(updated, TODAY, slot=None, node="test")
    assert outcome.counts is not None and outcome.counts.recomputed == 1
    assert cases.get_case(updated, case_id).limits[0].due == D("2026-12-21")
    with updated.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None and case.reply_due == D("2026-12-21")
        last = uow.session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq.desc())
        )
    assert last is not None and last.trigger == "recompute_limits" and last.actor == "system"
    assert "本市地方性节日" in last.reason or "calendar.toml" in last.reason
    assert verify_snapshot(updated.engine, case_id) == (1, [])
    outcome = run_scan(updated, TODAY, slot=None, node="test")
    assert outcome.counts is not None and outcome.counts.recomputed == 0
    base.close()
    updated.close()


def test_listing_masks_applicants_and_the_ics_feed_lists_upcoming_limits(app: App) -> None:
    case_id = cases.register(app, application(received_on="2026-11-02"), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-11-02")
    act(app, case_id, "accept", "alice", "2026-11-03")
    scan(app, TODAY)
    with app.uow() as uow:
        rows = open_alerts(uow.session, app.settings, TODAY, user="bob")
        clerk_rows = open_alerts(uow.session, app.settings, TODAY, user="carol")
        feed = ics_feed(uow.session, app.settings, TODAY).decode()
    assert [(r.case_id, r.condition.key, r.working_days_left) for r in rows] == [
        (case_id, "reply_approaching", 4)
    ]
    assert rows[0].applicant == "张*" and rows[0].id_masked == "110105********002X"
    assert clerk_rows == []  # carol handles none of it
    assert f"UID:case-{case_id}-reply_due-2026-11-30@disclosure" in feed
    assert "DTSTART;VALUE=DATE:20261130" in feed and "张三" not in feed


def test_one_scan_per_interval_slot(app: App) -> None:
    first = run_scan(app, TODAY, slot=42, node="a")
    second = run_scan(app, TODAY, slot=42, node="b")
    assert first.counts is not None and second.counts is None
    assert second.skipped == "this interval was already scanned"


def test_a_running_process_picks_up_an_edited_override_file(
    database_url: str, tmp_path: Path
) -> None:
    override = tmp_path / "calendar.toml"
    override.write_text('[[add_holiday]]\ndate = 2026-12-30\nnote = "示例"\n', encoding="utf-8")
    service = App.open(
        Settings.from_env(database_url=database_url, calendar_override=override), create=True
    )
    cases.add_user(service, "alice", "clerk", "王晓梅")
    case_id = cases.register(service, application(received_on="2026-11-20"), "alice", TODAY)
    scan(service, TODAY)
    assert cases.get_case(service, case_id).limits[0].due == D("2026-12-18")
    # The same process, the file edited in place (as an office would): the next scan applies it.
    override.write_text(
        '[[add_holiday]]\ndate = 2026-12-16\nnote = "本市地方性节日"\n', encoding="utf-8"
    )
    outcome = run_scan(service, TODAY, slot=None, node="test")
    assert outcome.counts is not None and outcome.counts.recomputed == 1
    with service.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None and case.reply_due == D("2026-12-21")
    service.close()


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("张三", "person", "张*"),
        ("阿卜杜热合曼·买买提", "person", "阿*********"),
        ("福州闽江建设工程有限公司", "commercial", "福州闽江建设工程有限公司"),
        ("某协会", "public_interest", "某协会"),
    ],
)
def test_only_natural_persons_names_are_masked(name: str, kind: str, shown: str) -> None:
    from disclosure.services.alerts import mask_name

    assert mask_name(name, kind) == shown


def test_a_clerk_sees_the_reply_alerts_of_the_cases_they_handle(app: App) -> None:
    from disclosure.errors import PermissionDenied

    registered = cases.register(app, application(received_on="2026-09-01"), "alice", TODAY)
    handed_over = cases.register(app, application(received_on="2026-09-02"), "alice", TODAY)
    act(app, handed_over, "review", "carol", "2026-11-24")  # carol took this one on
    scan(app, TODAY)

    def seen(user: str, role: str | None = None) -> set[tuple[int, str]]:
        with app.uow() as uow:
            rows = open_alerts(uow.session, app.settings, TODAY, user=user, role=role)
        return {(r.case_id, r.condition.key) for r in rows}

    everything = seen("bob")
    assert (registered, "reply_overdue") in everything
    assert (handed_over, "reply_overdue") in everything
    assert seen("dan") == everything  # the auditor reads everything, changes nothing
    alice, carol = seen("alice"), seen("carol")
    assert (registered, "reply_overdue") in alice and (registered, "reply_overdue") not in carol
    # Both the clerk who registered it and the clerk who last acted on it see a handed-over case.
    assert (handed_over, "reply_overdue") in alice and (handed_over, "reply_overdue") in carol
    assert seen("bob", role="clerk") == set()  # narrowing is allowed; bob handles nothing
    with pytest.raises(PermissionDenied):
        seen("alice", role="supervisor")


def test_the_header_count_is_the_length_of_the_list(app: App) -> None:
    """``count_open_alerts`` counts exactly what ``open_alerts`` lists, user by user, with
    another agency's alerts out of a clerk's reach."""
    from disclosure.services.agencies import add_agency
    from disclosure.services.alerts import count_open_alerts
    from disclosure.services.demo import DEMO_AGENCIES

    add_agency(app, DEMO_AGENCIES[0])
    code = DEMO_AGENCIES[0]["code"]
    cases.add_user(app, "erin", "clerk", "郑红", agencies=[code])
    cases.register(app, application(received_on="2026-09-01"), "alice", TODAY)
    handed_over = cases.register(app, application(received_on="2026-09-02"), "alice", TODAY)
    act(app, handed_over, "review", "carol", "2026-11-24")
    cases.register(app, application(received_on="2026-11-02"), "carol", TODAY)
    cases.register(app, application(received_on="2026-09-03"), "erin", TODAY, agency=code)
    scan(app, TODAY)
    for user in ("alice", "carol", "bob", "dan", "erin"):
        with app.uow() as uow:
            listed = open_alerts(uow.session, app.settings, TODAY, user=user)
            record = cases.user_named(uow.session, user)
            assert record is not None
            assert count_open_alerts(uow.session, record) == len(listed), user
            if user == "erin":
                assert len(listed) >= 1
