"""Cases through the service layer on SQLite and PostgreSQL: transactions, locking, audit."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from disclosure.errors import (
    ConflictError,
    DeadlineError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    TransitionNotAllowed,
)
from disclosure.models.tables import AuditEvent, Case, ClockEventRow, Notification
from disclosure.services import cases
from disclosure.services.audit import GENESIS, verify, verify_snapshot
from disclosure.services.unit_of_work import App
from disclosure.workflow.deadlines import compute_limits
from disclosure.workflow.states import State
from tests.conftest import TODAY, act, application

D = date.fromisoformat

# The worked example of 2026-06-05 (deadlines.json) driven through the real workflow.
FULL_CASE: list[tuple[str, str, str, dict[str, Any]]] = [
    ("review", "alice", "2026-06-05", {}),
    (
        "request_correction",
        "alice",
        "2026-06-08",
        {"items": (["请写明所需审计报告的年度", "请说明项目名称"])},
    ),
    ("receive_correction", "alice", "2026-06-17", {}),
    (
        "consult_third_party",
        "alice",
        "2026-06-18",
        {"party": ("福州闽江建设工程有限公司")},
    ),
    ("third_party_replied", "alice", "2026-06-18", {"opinion": "agree"}),
    ("consult_agency", "carol", "2026-06-18", {"party": ("示例市财政局")}),
    ("agency_replied", "carol", "2026-06-18", {}),
    ("issue_fee", "alice", "2026-06-25", {"pages": 120}),
    ("fee_paid", "alice", "2026-07-15", {}),
    ("extend", "bob", "2026-07-16", {"days": 8, "reason": "涉及多年度档案"}),
    (
        "draft_reply",
        "alice",
        "2026-08-10",
        {
            "outcome": "partial",
            "reason_code": "third_party_rights",
            "detail": "现提供该报告除第三方商业信息外的部分。",
        },
    ),
    ("approve", "bob", "2026-08-11", {}),
    ("send", "alice", "2026-08-12", {}),
    ("archive", "carol", "2026-08-20", {}),
]


def drive(app: App, case_id: int, steps: list[tuple[str, str, str, dict[str, Any]]]) -> None:
    for trigger, actor, on, kwargs in steps:
        act(app, case_id, trigger, actor, on=D(on), today=D(on), **kwargs)


def rows(app: App, model: Any, case_id: int) -> int:
    with app.uow() as uow:
        return uow.session.scalar(
            select(func.count()).select_from(model).where(model.case_id == case_id)
        )


def test_a_case_goes_from_registration_to_archive_with_every_clock_event(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE)

    view = cases.get_case(app, case_id)
    assert view.state is State.ARCHIVED
    assert view.outcome == "partial" and view.outcome_reason == "third_party_rights"
    assert (view.drafted_by, view.approved_by) == ("alice", "bob")
    assert [e.trigger for e in view.trail] == ["register"] + [s[0] for s in FULL_CASE]
    assert view.limits[0].due == D("2026-08-17")  # the worked example's answer
    assert "延长8个工作日" in view.limits[0].explanation
    assert view.id_masked == "110105********002X"
    assert rows(app, ClockEventRow, case_id) == 9
    with app.uow() as uow:
        case = uow.session.get(Case, case_id)
        # A closed case owes no reply: no live limit is stored (case show recomputes it).
        assert case is not None and case.reply_due is None
        assert case.version == len(FULL_CASE) + 1
        assert case.closed_on == D("2026-08-12")
        assert verify(uow.session, case_id, keys=app.settings.audit_keys) == (1, [])


def test_stored_limits_match_the_pure_computation_after_every_step(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    for step in FULL_CASE[:10]:
        drive(app, case_id, [step])
        with app.uow() as uow:
            case = uow.session.get(Case, case_id)
            assert case is not None
            facts = cases._facts(case)
            limits = compute_limits(app.settings.calendar, facts.received_on, facts.events)
            assert case.reply_due == (limits.reply.due if limits.reply else None)
            live = {
                "awaiting_fee": "fee_due",
                "consulting_third_party": "third_party_due",
                "consulting_agency": "agency_due",
                "correction_requested": "correction_period_due",
            }
            for state, column in live.items():
                assert (getattr(case, column) is not None) == (case.state == state), (step, column)


@pytest.mark.parametrize("stop", range(len(FULL_CASE) + 1))
def test_every_state_survives_a_save_and_reload(app: App, stop: int) -> None:
    # Where each step of FULL_CASE leads, written out here: the expected state must never be
    # read back from the database under test.
    path = [
        ("review", State.UNDER_REVIEW),
        ("request_correction", State.CORRECTION_REQUESTED),
        ("receive_correction", State.HANDLING),
        ("consult_third_party", State.CONSULTING_THIRD_PARTY),
        ("third_party_replied", State.HANDLING),
        ("consult_agency", State.CONSULTING_AGENCY),
        ("agency_replied", State.HANDLING),
        ("issue_fee", State.AWAITING_FEE),
        ("fee_paid", State.HANDLING),
        ("extend", State.HANDLING),  # an extension keeps the state
        ("draft_reply", State.REPLY_DRAFTED),
        ("approve", State.REPLY_APPROVED),
        ("send", State.REPLIED),
        ("archive", State.ARCHIVED),
    ]
    assert [trigger for trigger, _ in path] == [step[0] for step in FULL_CASE]
    fired = [trigger for trigger, _ in path[:stop]]
    expected = path[stop - 1][1] if stop else State.REGISTERED
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:stop])
    app.close()  # drop every pooled connection: the next read comes from disk
    reopened = App.open(app.settings)
    try:
        view = cases.get_case(reopened, case_id)
        assert view.state is expected
        assert view.version == stop + 1  # registration, then one version per trigger
        assert [e.trigger for e in view.trail] == ["register", *fired]
        if stop < len(FULL_CASE):
            drive(reopened, case_id, [FULL_CASE[stop]])
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("trigger", "actor", "on", "kwargs", "error", "rule"),
    [
        ("accept", "alice", "2026-06-05", {}, TransitionNotAllowed, "transition_not_allowed"),
        ("review", "dan", "2026-06-05", {}, PermissionDenied, "role_not_allowed"),
        ("review", "nobody", "2026-06-05", {}, NotFound, "not_found"),
        ("review", "alice", "2026-12-01", {}, RuleViolation, "not_in_future"),
        ("review", "alice", "2026-06-04", {}, RuleViolation, "chronological"),
    ],
)
def test_refused_triggers_write_nothing(
    app: App, trigger: str, actor: str, on: str, kwargs: dict[str, Any], error: type, rule: str
) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    today = TODAY if rule == "not_in_future" else D(on)
    with pytest.raises(error) as caught:
        act(app, case_id, trigger, actor, on=D(on), today=today, **kwargs)
    assert caught.value.rule == rule
    assert rows(app, AuditEvent, case_id) == 1
    assert cases.get_case(app, case_id).version == 1


def test_an_extension_after_the_due_date_is_refused_and_names_the_field(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(
        app, case_id, [("review", "alice", "2026-06-05", {}), ("accept", "alice", "2026-06-05", {})]
    )
    with pytest.raises(DeadlineError) as caught:
        act(
            app,
            case_id,
            "extend",
            "bob",
            on=D("2026-07-07"),
            today=D("2026-07-07"),
            days=5,
            reason="量大",
        )
    assert (caught.value.field, caught.value.rule) == ("on", "extension_after_due")
    # The due date itself (2026-07-06) still counts.
    act(
        app,
        case_id,
        "extend",
        "bob",
        on=D("2026-07-06"),
        today=D("2026-07-06"),
        days=5,
        reason="量大",
    )


def test_registration_validates_fields_in_chinese(app: App) -> None:
    with pytest.raises(RuleViolation) as caught:
        cases.register(app, application(id_number="110105194912310021"), "alice", TODAY)
    assert (caught.value.field, caught.value.rule) == ("id_number", "resident_id_checksum")
    assert "居民身份证" in caught.value.message and "110105194912310021" not in caught.value.message
    with app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_stale_writer_gets_a_conflict_from_the_version_column(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with app.uow() as first, app.uow() as second:
        a = first.session.get(Case, case_id)
        b = second.session.get(Case, case_id)
        assert a is not None and b is not None
        a.state, a.version = State.UNDER_REVIEW.value, 2  # as services.cases._apply does
        first.commit()
        b.state, b.version = State.UNDER_REVIEW.value, 2
        with pytest.raises(ConflictError) as caught:
            second.commit()
    assert caught.value.message == "案件已被他人修改，请刷新后重试"
    assert cases.get_case(app, case_id).version == 2


@pytest.mark.parametrize(("trigger", "actor"), [("review", "alice"), ("urge", "bob")])
def test_a_case_changed_between_acts_read_and_write_gets_none_of_its_rows(
    app: App, monkeypatch: pytest.MonkeyPatch, trigger: str, actor: str
) -> None:
    """The version moves after act() read the case (here by a bare UPDATE with no event of
    its own, so the events' unique (case, seq) cannot catch it): the change is a conflict
    and writes nothing, neither its audit event nor an urge's notification, although on
    PostgreSQL its one write statement commits by itself."""
    case_id = cases.register(app, application(), "alice", TODAY)  # alice is its 承办人
    fire = cases.fire

    def fire_after_a_bump(*args: Any) -> Any:
        with app.engine.begin() as other:
            other.execute(
                text("UPDATE cases SET version = version + 1 WHERE id = :id"), {"id": case_id}
            )
        return fire(*args)

    monkeypatch.setattr(cases, "fire", fire_after_a_bump)
    with pytest.raises(ConflictError):
        act(app, case_id, trigger, actor, on="2026-06-05", reason="请尽快办理")
    with app.uow() as uow:
        events = uow.session.scalar(select(func.count()).select_from(AuditEvent))
        notices = uow.session.scalar(select(func.count()).select_from(Notification))
        state = uow.session.scalar(select(Case.state).where(Case.id == case_id))
    assert (events, notices, state) == (1, 0, State.REGISTERED.value)  # the registration's only


def test_two_clerks_acting_at_once_one_wins_the_other_gets_a_conflict(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    seen = cases.get_case(app, case_id).version
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def clerk(name: str) -> None:
        barrier.wait()
        try:
            act(
                app,
                case_id,
                "review",
                name,
                on=D("2026-06-05"),
                today=D("2026-06-05"),
                expected_version=seen,
            )
            results[name] = "ok"
        except ConflictError as exc:
            results[name] = exc

    threads = [threading.Thread(target=clerk, args=(n,)) for n in ("alice", "carol")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(str(type(r).__name__) for r in results.values()) == ["ConflictError", "str"]
    assert rows(app, AuditEvent, case_id) == 2
    with app.uow() as uow:
        assert verify(uow.session, case_id, keys=app.settings.audit_keys) == (1, [])


def test_concurrent_triggers_never_fork_the_trail(app: App) -> None:
    INPUTS = {  # noqa: N806
        "consult_third_party": {"party": "福州闽江建设工程有限公司"},
        "third_party_replied": {"opinion": "agree"},
    }
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(
        app, case_id, [("review", "alice", "2026-06-05", {}), ("accept", "alice", "2026-06-05", {})]
    )
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(trigger: str, actor: str) -> None:
        barrier.wait()
        for _ in range(5):
            try:
                act(
                    app,
                    case_id,
                    trigger,
                    actor,
                    on=D("2026-06-10"),
                    today=D("2026-06-10"),
                    **INPUTS[trigger],
                )
                result = "ok"
            except (ConflictError, TransitionNotAllowed) as exc:
                result = exc.rule
            with lock:
                outcomes.append(result)

    pairs = [
        ("consult_third_party", "alice"),
        ("third_party_replied", "carol"),
        ("consult_third_party", "carol"),
        ("third_party_replied", "alice"),
    ]
    threads = [threading.Thread(target=worker, args=p) for p in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    successes = outcomes.count("ok")
    assert successes >= 1
    assert set(outcomes) <= {"ok", "conflict", "transition_not_allowed"}
    assert rows(app, AuditEvent, case_id) == 3 + successes
    with app.uow() as uow:
        assert verify(uow.session, case_id, keys=app.settings.audit_keys) == (1, [])
        case = uow.session.get(Case, case_id)
        assert case is not None and case.version == 3 + successes


def test_a_failure_at_commit_rolls_back_state_clock_event_and_audit_together(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(
        app, case_id, [("review", "alice", "2026-06-05", {}), ("accept", "alice", "2026-06-05", {})]
    )
    # Another writer's audit event takes seq 4 behind our back: our INSERT collides at commit.
    with app.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (case_id, seq, at, actor, actor_role, trigger, from_state,"
                " to_state, reason, payload, prev_hash, hash) VALUES (:c, 4, :at, 'x', 'clerk', 'x',"
                " 'handling', 'handling', '', '{}', :h, :h)"
            ),
            {"c": case_id, "at": app.now(), "h": GENESIS},
        )
    with pytest.raises(ConflictError):
        act(app, case_id, "issue_fee", "alice", on=D("2026-06-10"), today=D("2026-06-10"), pages=50)
    view = cases.get_case(app, case_id)
    assert view.state is State.HANDLING and view.version == 3
    assert rows(app, ClockEventRow, case_id) == 0
    with app.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None and case.fee_due is None


def test_audit_events_are_append_only_in_the_database(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    for statement in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
            conn.execute(text(statement))
    assert rows(app, AuditEvent, case_id) == 1


APPEND_ONLY = ("audit_events", "clock_events", "letters")


def _tamper(app: App, statement: str) -> None:
    """What someone with database rights could do: lift the append-only guards and edit."""
    with app.engine.begin() as conn:
        if app.engine.dialect.name == "postgresql":
            for table in APPEND_ONLY:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
            conn.execute(text(statement))
            for table in APPEND_ONLY:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        else:
            for table in APPEND_ONLY:
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
            conn.execute(text(statement))


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        (
            "UPDATE audit_events SET reason = '改过' WHERE case_id = {case} AND seq = 3",
            3,
            "内容哈希不符",
        ),
        ("DELETE FROM audit_events WHERE case_id = {case} AND seq = 2", 2, "缺失"),
        ("DELETE FROM audit_events WHERE case_id = {case} AND seq = 4", 4, "事件被删除"),
        ("UPDATE cases SET state = 'replied' WHERE id = {case}", 4, "案件被绕过流程修改"),
        ("UPDATE cases SET reply_due = '2026-12-31' WHERE id = {case}", 4, "案件被绕过流程修改"),
        ("UPDATE cases SET version = 9 WHERE id = {case}", 5, "版本被改动"),
        ("UPDATE cases SET description = '改过' WHERE id = {case}", 1, "登记信息被改动"),
        ("UPDATE applicants SET phone = '110' WHERE id = {case}", 1, "登记信息被改动"),
        (
            "UPDATE clock_events SET occurred_on = '2026-06-20' WHERE case_id = {case}",
            4,
            "期限依据被改动",
        ),
        ("DELETE FROM clock_events WHERE case_id = {case}", 4, "期限依据被改动"),
        # Every letter changed: the first, the receipt, is named with its event.
        ("UPDATE letters SET html = html || ' ' WHERE case_id = {case}", 1, "文书被改动"),
        ("DELETE FROM letters WHERE case_id = {case} AND kind = 'correction'", 4, "文书被删除"),
    ],
)
def test_audit_verify_names_the_first_broken_event(
    app: App, tamper: str, seq: int, problem: str
) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    other = cases.register(app, application(name="李四"), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:3])
    _tamper(app, tamper.format(case=case_id))
    checked, breaks = verify_snapshot(app.engine)
    assert checked == 2
    in_cases = [b for b in breaks if b.case_id is not None]
    assert [(b.case_id, b.seq) for b in in_cases] == [(case_id, seq)]
    assert problem in in_cases[0].problem
    # A deleted letter also leaves a gap in its 文号 series; nothing else is found.
    gaps = ["文号第1号缺失"] if tamper.startswith("DELETE FROM letters") else []
    assert [g for g in gaps for b in breaks if b.case_id is None and g in b.problem] == gaps
    assert len(breaks) == 1 + len(gaps)
    with app.uow() as uow:
        assert verify(uow.session, other, keys=app.settings.audit_keys) == (1, [])


def test_listing_filters_by_state_and_due_dates(app: App) -> None:
    old = cases.register(app, application(received_on="2026-09-01"), "alice", TODAY)
    soon = cases.register(app, application(received_on="2026-10-30"), "alice", TODAY)
    done = cases.register(app, application(received_on="2026-09-01"), "alice", TODAY)
    drive(
        app,
        done,
        [
            ("review", "alice", "2026-09-01", {}),
            (
                "draft_reply",
                "alice",
                "2026-09-02",
                {"outcome": "disclose", "reason_code": "provided", "detail": "见附件。"},
            ),
            ("approve", "bob", "2026-09-02", {}),
            ("send", "alice", "2026-09-03", {}),
        ],
    )
    assert [c.id for c in cases.list_cases(app, TODAY, overdue=True)] == [old]
    assert [c.id for c in cases.list_cases(app, TODAY, due_within=5)] == [soon]
    assert [c.id for c in cases.list_cases(app, TODAY, state="replied")] == [done]
    summary = cases.list_cases(app, TODAY, overdue=True)[0]
    assert summary.working_days_left is not None and summary.working_days_left < 0
    assert summary.id_masked == "110105********002X"
    with pytest.raises(RuleViolation) as caught:
        cases.list_cases(app, TODAY, state="nonsense")
    assert caught.value.field == "state"
    board = cases.overview(app, TODAY)
    assert board.total == 3 and [c.id for c in board.overdue] == [old]


def test_an_extension_that_changes_no_date_still_advances_version_and_trail(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(
        app,
        case_id,
        [
            ("review", "alice", "2026-06-05", {}),
            ("accept", "alice", "2026-06-05", {}),
            ("set_due", "bob", "2026-06-08", {"until": D("2026-09-30"), "reason": "申请量大"}),
            ("extend", "bob", "2026-06-09", {"days": 5, "reason": "需调档"}),
            (
                "draft_reply",
                "alice",
                "2026-06-10",
                {"outcome": "disclose", "reason_code": "provided", "detail": "现提供报告全文。"},
            ),
        ],
    )
    view = cases.get_case(app, case_id)
    assert view.version == len(view.trail) == 6
    assert view.limits[0].due == D("2026-09-30")
    assert verify_snapshot(app.engine, case_id) == (1, [])


def test_the_trail_keeps_a_fingerprint_not_the_personal_data(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with app.uow() as uow:
        payload = uow.session.scalar(
            select(AuditEvent.payload).where(AuditEvent.case_id == case_id)
        )
    assert payload is not None
    for personal in ("11010519491231002X", "张三", "13800000000", "凤山镇"):
        assert personal not in payload
    assert "110105********002X" in payload and "application_sha256" in payload


def test_clock_events_are_append_only_in_the_database(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    drive(app, case_id, FULL_CASE[:2])
    for statement in ("UPDATE clock_events SET note = 'x'", "DELETE FROM clock_events"):
        with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
            conn.execute(text(statement))
