"""Scanning for the alert conditions of ogi-rules §9, listing alerts, and the iCalendar feed.

A scan is set-based SQL over the indexed limit columns: for each condition one
``INSERT … SELECT … ON CONFLICT`` raises the alerts that hold today (the unique constraint
makes a repeat a no-op) and one ``UPDATE … WHERE NOT EXISTS`` clears those that no longer
hold. Both touch only cases whose limit falls in the condition's date range, so a scan costs
in proportion to the alerts, not to the number of cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, bindparam, func, or_, select, text, true
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, selectinload

from disclosure.calendar_source import calendar_fingerprint
from disclosure.config import Settings
from disclosure.errors import ConflictError, DatabaseBusy, PermissionDenied, RuleViolation
from disclosure.models.tables import (
    Agency,
    Alert,
    Applicant,
    AuditEvent,
    CalendarState,
    Case,
    SchedulerRun,
    User,
)
from disclosure.services.agencies import scope
from disclosure.services.cases import recompute_limits
from disclosure.services.unit_of_work import App
from disclosure.workflow.alerts import CONDITIONS, CONDITIONS_BY_KEY, Condition, date_range
from disclosure.workflow.application import mask_id
from disclosure.workflow.limit_columns import LIMIT_COLUMNS
from disclosure.workflow.states import OPEN_STATES, ROLE_LABELS, Role

_RAISE = """
INSERT INTO alerts (case_id, condition, limit_date, proposed_step, raised_on, raised_at)
SELECT id, :condition, {column}, :proposed, :today, :now FROM cases
WHERE state IN :states AND {column} BETWEEN :first AND :last
ON CONFLICT (case_id, condition, limit_date)
DO UPDATE SET cleared_on = NULL, cleared_at = NULL, raised_on = :today, raised_at = :now
WHERE alerts.cleared_at IS NOT NULL
"""
_CLEAR = """
UPDATE alerts SET cleared_on = :today, cleared_at = :now
WHERE condition = :condition AND cleared_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM cases
    WHERE cases.id = alerts.case_id AND cases.state IN :states
      AND cases.{column} = alerts.limit_date AND cases.{column} BETWEEN :first AND :last
)
"""


@dataclass(frozen=True)
class ScanCounts:
    raised: int
    cleared: int
    recomputed: int
    by_condition: dict[str, int]


def _statement(template: str, condition: Condition) -> Any:
    # The column comes from the fixed CONDITIONS table, never from input.
    return text(template.format(column=condition.column)).bindparams(
        bindparam("states", expanding=True)
    )


def scan(
    session: Session, settings: Settings, today: date, now: datetime, recomputed: int = 0
) -> ScanCounts:
    """Raise and clear every alert for ``today`` in the caller's transaction."""
    raised = cleared = 0
    by_condition: dict[str, int] = {}
    for condition in CONDITIONS:
        n = getattr(settings, condition.threshold) if condition.threshold else 0
        first, last = date_range(condition, settings.calendar, today, n)
        params = {
            "condition": condition.key, "proposed": condition.proposed_step, "today": today,
            "now": now, "states": sorted(s.value for s in condition.states),
            "first": first, "last": last,
        }  # fmt: skip
        raised_now = _rowcount(session, _statement(_RAISE, condition), params)
        cleared += _rowcount(session, _statement(_CLEAR, condition), params)
        raised += raised_now
        by_condition[condition.key] = raised_now
    return ScanCounts(raised, cleared, recomputed, by_condition)


def _rowcount(session: Session, statement: Any, params: dict[str, Any]) -> int:
    result = cast(CursorResult[Any], session.execute(statement, params))
    return result.rowcount or 0


def recompute_after_calendar_change(app: App, now: datetime, batch_size: int = 200) -> int:
    """After a holiday update, recompute the stored limits of every open case.

    Runs in batches of their own transactions (not inside a scan): a clerk's concurrent
    change to one case only postpones that batch to the next scan. The new calendar is
    recorded once every batch went through. Returns how many cases' limits moved.
    """
    settings = app.settings
    fingerprint, description = calendar_fingerprint(settings.calendar_override)
    with app.uow() as uow:
        state = uow.session.get(CalendarState, 1)
        if state is None:  # first scan: the stored limits were computed with this calendar
            uow.session.add(CalendarState(id=1, fingerprint=fingerprint,
                                          description=description, updated_at=now))  # fmt: skip
            uow.commit()
            return 0
        if state.fingerprint == fingerprint:
            return 0
        note = f"工作日历更新：{state.description} → {description}"
    moved, last_id, complete = 0, 0, True
    open_states = [s.value for s in OPEN_STATES]
    while True:
        try:
            with app.uow() as uow:
                batch = list(uow.session.scalars(
                    select(Case)
                    .where(Case.state.in_(open_states), Case.id > last_id)
                    .options(selectinload(Case.clock_events))
                    .order_by(Case.id)
                    .limit(batch_size)
                ))  # fmt: skip
                if not batch:
                    break
                last_id = batch[-1].id
                moved_here = sum(
                    recompute_limits(uow.session, settings, case, now, note) for case in batch
                )
                uow.commit()
                moved += moved_here
        except (ConflictError, DatabaseBusy):
            complete = False  # a clerk got there first; this batch is redone next scan
    if complete:
        with app.uow() as uow:
            state = uow.session.get(CalendarState, 1)
            assert state is not None
            state.fingerprint, state.description, state.updated_at = fingerprint, description, now
            uow.commit()
    return moved


# -- reading -----------------------------------------------------------------------------


def last_scan(session: Session) -> datetime | None:
    """When the last scan finished (None if none ever did)."""
    return session.scalar(
        select(SchedulerRun.finished_at)
        .where(SchedulerRun.finished_at.is_not(None))
        .order_by(SchedulerRun.finished_at.desc())
        .limit(1)
    )


#: Conditions a clerk acts on in every case (the shared queue of proposed steps).
CLERK_CONDITIONS = frozenset(
    {c.key for c in CONDITIONS if c.proposed_step} | {"correction_notice_approaching"}
)
#: Conditions a clerk sees for the cases they handle: their own replies falling due or late,
#: and a correction notice they let lapse.
OWN_CASE_CONDITIONS = frozenset(
    {"reply_approaching", "reply_due_today", "reply_overdue", "correction_notice_overdue"}
)
#: Views of the alert list, and the roles that may ask for each.
_VIEWS: dict[str, frozenset[Role]] = {
    "supervisor": frozenset({Role.SUPERVISOR, Role.AUDITOR}),
    "clerk": frozenset(Role),
}


@dataclass(frozen=True)
class AlertRow:
    case_id: int
    condition: Condition
    limit_date: date
    working_days_left: int
    applicant: str
    id_masked: str
    raised_on: date
    #: The short name of the case's agency.
    agency: str = ""


def mask_name(name: str, kind: str) -> str:
    """A natural person's name keeps its first character (张**); organisations stay readable."""
    return name[:1] + "*" * (len(name) - 1) if kind == "person" else name


def handled_by(user: str) -> Any:
    """SQL condition: ``user`` handles the case — is its 承办人, registered it, or is the last
    clerk who acted.

    Both count: a case handed over keeps showing its alerts to whoever took it on, and the
    clerk who registered it still sees it until someone else has acted; an overdue reply
    shown to two clerks is safer than one shown to none.
    """
    last_clerk = (
        select(AuditEvent.actor)
        .where(AuditEvent.case_id == Case.id, AuditEvent.actor_role == Role.CLERK.value)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    return or_(Case.assignee == user, Case.registered_by == user, last_clerk == user)


def open_alerts(
    session: Session,
    settings: Settings,
    today: date,
    *,
    user: str | None,
    role: str | None = None,
    kinds: list[str] | None = None,
    agency: str | None = None,
) -> list[AlertRow]:
    """The open alerts ``user`` may see, oldest limit first: of the agencies the user works
    for (the county's: every agency), or of the one ``agency`` names.

    The view follows the user's recorded role: a supervisor (and an auditor, read-only) sees
    every alert; a clerk sees the proposed steps of every case plus the reply and
    correction-notice alerts of the cases they handle (``handled_by``). ``role`` may only
    narrow the view (a supervisor asking for the clerk view), never widen it.

    Raises:
        RuleViolation: no user given, an unknown view or alert kind.
        NotFound: no such user.
        PermissionDenied: a clerk asking for the supervisor view.
    """
    from disclosure.services.cases import user_required

    record = user_required(session, user, who="查看人", doing="查看提醒")
    own_role = Role(record.role)
    view = role or ("clerk" if own_role is Role.CLERK else "supervisor")
    if view not in _VIEWS:
        raise RuleViolation("role", "one_of", f"视图“{view}”无效，可选：supervisor、clerk")
    if own_role not in _VIEWS[view]:
        raise PermissionDenied(
            "role_not_allowed",
            f"{ROLE_LABELS[own_role]}只能查看经办人视图（自己办理的案件及待确认的操作）",
        )
    for kind in kinds or []:
        if kind not in CONDITIONS_BY_KEY:
            raise RuleViolation(
                "kind", "one_of", f"提醒类别“{kind}”无效，可选：{'、'.join(CONDITIONS_BY_KEY)}"
            )
    query = (
        select(Alert, Applicant.name, Applicant.kind, Applicant.id_number, Agency.short_name)
        .join(Case, Case.id == Alert.case_id)
        .join(Applicant, Applicant.id == Case.applicant_id)
        .join(Agency, Agency.id == Case.agency_id)
        .where(Alert.cleared_at.is_(None))
        .order_by(Alert.limit_date, Alert.case_id, Alert.condition)
    )
    agencies = scope(session, record, agency)
    if agencies is not None:
        query = query.where(Case.agency_id.in_(sorted(agencies)))
    wanted = set(kinds or CONDITIONS_BY_KEY)
    if view == "clerk":
        shared, own = wanted & CLERK_CONDITIONS, wanted & OWN_CASE_CONDITIONS
        query = query.where(
            or_(
                Alert.condition.in_(sorted(shared)),
                and_(Alert.condition.in_(sorted(own)), handled_by(record.name)),
            )
        )
    else:
        query = query.where(Alert.condition.in_(sorted(wanted)))
    cal = settings.calendar
    return [
        AlertRow(
            alert.case_id,
            CONDITIONS_BY_KEY[alert.condition],
            alert.limit_date,
            cal.working_days_between(today, alert.limit_date),
            mask_name(name, kind),
            mask_id(number),
            alert.raised_on,
            agency,
        )  # fmt: skip
        for alert, name, kind, number, agency in session.execute(query)
    ]


def count_open_alerts(session: Session, record: User) -> int:
    """How many alerts ``open_alerts`` lists for ``user`` in its own view, counted without
    listing them (the page header's figure on every page).

    Each open alert finds its case by primary key (a scalar subquery, which the planner
    keeps as such) instead of joining every case of the agency: the open alerts are few,
    the cases many.
    """
    agencies = scope(session, record, None)
    in_scope = Case.agency_id.in_(sorted(agencies)) if agencies is not None else true()

    def case_where(condition: Any) -> Any:
        probe = select(sql_case((condition, 1), else_=0)).where(Case.id == Alert.case_id)
        return probe.correlate(Alert).scalar_subquery() == 1

    query = select(func.count(Alert.id)).where(Alert.cleared_at.is_(None))
    if Role(record.role) is Role.CLERK:
        query = query.where(
            or_(
                and_(Alert.condition.in_(sorted(CLERK_CONDITIONS)), case_where(in_scope)),
                and_(
                    Alert.condition.in_(sorted(OWN_CASE_CONDITIONS)),
                    case_where(and_(in_scope, handled_by(record.name))),
                ),
            )
        )
    else:
        query = query.where(Alert.condition.in_(sorted(CONDITIONS_BY_KEY)), case_where(in_scope))
    return int(session.scalar(query) or 0)


def holding_alerts(session: Session, settings: Settings, today: date) -> list[AlertRow]:
    """Every alert that holds on ``today``, read-only: what a scan for that day raises or keeps.

    Uses the same date ranges as ``scan`` (so the same indexes), and writes nothing, which
    lets a dry run name the cases it would alert for.
    """
    cal = settings.calendar
    rows: list[AlertRow] = []
    for condition in CONDITIONS:
        n = getattr(settings, condition.threshold) if condition.threshold else 0
        first, last = date_range(condition, cal, today, n)
        column = getattr(Case, condition.column)
        query = (
            select(Case.id, column, Applicant.name, Applicant.kind, Applicant.id_number)
            .join(Applicant, Applicant.id == Case.applicant_id)
            .where(
                Case.state.in_(sorted(s.value for s in condition.states)),
                column.between(first, last),
            )
        )
        rows.extend(
            AlertRow(
                case_id,
                condition,
                due,
                cal.working_days_between(today, due),
                mask_name(name, kind),
                mask_id(number),
                today,
            )  # fmt: skip
            for case_id, due, name, kind, number in session.execute(query)
        )
    order = {c.key: i for i, c in enumerate(CONDITIONS)}
    return sorted(rows, key=lambda r: (r.limit_date, r.case_id, order[r.condition.key]))


def ics_feed(
    session: Session,
    settings: Settings,
    today: date,
    days: int = 60,
    *,
    now: datetime | None = None,
    agencies: frozenset[int] | None = None,
) -> bytes:
    """An iCalendar feed of every open case's limits in the next ``days`` calendar days
    (of the ``agencies`` given; None: of all).

    Args:
        now: when the feed is generated (pass ``App.now()``); default: the system clock.
            RFC 5545 wants each event's DTSTAMP in UTC, so it is written as ``…Z``.

    Raises:
        ValueError: ``now`` is naive (its offset from UTC is unknown).
    """
    from icalendar import Calendar, Event

    if now is not None and now.tzinfo is None:
        raise ValueError(f"ics_feed needs an aware 'now', got the naive {now!r}")
    stamp = (datetime.now(UTC) if now is None else now).astimezone(UTC)
    feed = Calendar()
    feed.add("prodid", "-//disclosure//time limits//ZH")
    feed.add("version", "2.0")
    feed.add("x-wr-calname", f"{settings.agency_name} 依申请公开期限")
    horizon = today + timedelta(days=days)
    query = (
        select(Case, Applicant.name, Applicant.kind)
        .join(Applicant, Applicant.id == Case.applicant_id)
        .where(Case.state.in_([s.value for s in OPEN_STATES]))
        .order_by(Case.id)
    )
    if agencies is not None:
        query = query.where(Case.agency_id.in_(sorted(agencies)))
    cases = session.execute(query)
    for case, name, kind in cases:
        for limit in LIMIT_COLUMNS:
            column, label = limit.column, limit.label
            due: date | None = getattr(case, column)
            if due is None or not today <= due <= horizon:
                continue
            event = Event()
            event.add("uid", f"case-{case.id}-{column}-{due.isoformat()}@disclosure")
            event.add("summary", f"{label}：案件{case.id}（{mask_name(name, kind)}）")
            event.add("dtstart", due)
            event.add("dtend", due + timedelta(days=1))
            event.add("dtstamp", stamp)
            if case.limits_provisional:
                event.add("description", "临时日期：所在年度节假日尚未公布")
            feed.add_component(event)
    return bytes(feed.to_ical())


# -- the edge: one unit of work per call --------------------------------------------------


@dataclass(frozen=True)
class AlertList:
    """The alerts a user may see, and when the scheduler last finished a scan."""

    rows: list[AlertRow]
    last_scan: datetime | None


def alert_list(
    app: App,
    today: date,
    *,
    user: str | None,
    role: str | None = None,
    kinds: list[str] | None = None,
    agency: str | None = None,
) -> AlertList:
    with app.uow() as uow:
        rows = open_alerts(
            uow.session, app.settings, today, user=user, role=role, kinds=kinds, agency=agency
        )
        return AlertList(rows, last_scan(uow.session))


def alerts_holding(app: App, today: date) -> list[AlertRow]:
    """The alerts whose conditions hold on ``today`` (a dry run's view)."""
    with app.uow() as uow:
        return holding_alerts(uow.session, app.settings, today)


def calendar_feed(app: App, today: date, days: int = 60, *, viewer: str | None = None) -> bytes:
    """The iCalendar feed of open cases' limits in the next ``days`` days (of the agencies
    ``viewer`` works for; None: the operator at the server, every agency)."""
    from disclosure.services.cases import viewer_of

    with app.uow() as uow:
        session = uow.session
        agencies = scope(session, viewer_of(session, viewer), None) if viewer else None
        return ics_feed(session, app.settings, today, days, now=app.now(), agencies=agencies)
