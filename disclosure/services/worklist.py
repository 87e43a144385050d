"""The clerk's worklist: cases searched by what a clerk remembers of them, page by page,
and the responsible clerk (承办人) a supervisor assigns.

Pages are keyset pages ordered by reply limit (cases without one last) and case number:
the next page starts after the last row shown, so a page costs the same deep in the list
as at its start, and a case registered meanwhile neither repeats nor hides a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import contains_eager

from disclosure.errors import NotFound, PermissionDenied, RuleViolation
from disclosure.models.tables import Applicant, Case, Letter, User
from disclosure.services.agencies import check_agency, scope
from disclosure.services.audit import append_event
from disclosure.services.auth import Via
from disclosure.services.cases import (
    CaseSummary,
    acting_user,
    load_case,
    summary_of,
    user_named,
    viewer_of,
)
from disclosure.services.letters import normalise_number
from disclosure.services.notifications import notify
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import CHANNEL_LABELS, parse_date
from disclosure.workflow.states import OPEN_STATES, Role, parse_state
from disclosure.workflow.text import clean_text, printable

PAGE_SIZE = 50
#: The most rows an export holds: a filter narrows a larger list.
EXPORT_MAX = 10_000
#: The most cases one assignment may move.
ASSIGN_MAX = 500
_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2}|-):(\d{1,10})")


@dataclass(frozen=True)
class CaseFilter:
    """What a worklist is filtered by; every field is optional."""

    state: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None
    applicant: str | None = None
    number: str | None = None
    channel: str | None = None
    keyword: str | None = None
    #: A user name: only the cases this clerk is responsible for.
    assignee: str | None = None
    #: Only cases still open (a limit that is due or overdue means nothing once replied).
    open_only: bool = False

    @classmethod
    def parse(cls, given: dict[str, Any]) -> CaseFilter:
        """From loose text (a query string): blank is absent; a bad value is refused with
        its field named.

        Raises:
            RuleViolation: a date, state or channel that is not one.
        """

        def text(name: str, label: str, limit: int = 100) -> str | None:
            return clean_text(given.get(name), name, label, limit) or None

        def day(name: str) -> date | None:
            value = given.get(name)
            return parse_date(value, name) if isinstance(value, str) and value.strip() else None

        state = text("state", "状态", 30)
        channel = text("channel", "提交方式", 30)
        if channel is not None and channel not in {c.value for c in CHANNEL_LABELS}:
            options = "、".join(c.value for c in CHANNEL_LABELS)
            raise RuleViolation(
                "channel", "one_of", f"提交方式“{printable(channel)}”无效，可选：{options}"
            )
        found = cls(
            state=parse_state(state).value if state else None,
            received_from=day("received_from"),
            received_to=day("received_to"),
            due_from=day("due_from"),
            due_to=day("due_to"),
            applicant=text("applicant", "申请人"),
            number=text("number", "文号", 60),
            channel=channel,
            keyword=text("keyword", "关键词"),
            assignee=text("assignee", "承办人", 40),
        )
        for low, high, label in (
            ("received_from", "received_to", "收到日期"),
            ("due_from", "due_to", "答复期限"),
        ):
            start, end = getattr(found, low), getattr(found, high)
            if start and end and start > end:
                raise RuleViolation(high, "range", f"{label}的结束日不能早于开始日")
        return found


@dataclass(frozen=True)
class WorklistPage:
    cases: list[CaseSummary]
    #: Where the next page starts (None: this is the last page).
    next_cursor: str | None
    total: int


def _number_forms(text: str) -> list[str]:
    """A typed 文号 as it may be stored: without 第 (GB/T 9704) or with it (local custom)."""
    plain = normalise_number(text)
    return [plain, re.sub(r"〕(\d+)号$", r"〕第\1号", plain)]


def _filtered(query: Any, wanted: CaseFilter) -> Any:
    if wanted.open_only:
        query = query.where(Case.state.in_(sorted(s.value for s in OPEN_STATES)))
    if wanted.state:
        query = query.where(Case.state == wanted.state)
    if wanted.received_from:
        query = query.where(Case.received_on >= wanted.received_from)
    if wanted.received_to:
        query = query.where(Case.received_on <= wanted.received_to)
    if wanted.due_from:
        query = query.where(Case.reply_due >= wanted.due_from)
    if wanted.due_to:
        query = query.where(Case.reply_due <= wanted.due_to)
    if wanted.channel:
        query = query.where(Case.channel == wanted.channel)
    if wanted.assignee:
        query = query.where(Case.assignee == wanted.assignee)
    if wanted.applicant:  # lower() on both sides: SQLite and PostgreSQL match alike
        query = query.where(
            func.lower(Applicant.name).contains(wanted.applicant.lower(), autoescape=True)
        )
    if wanted.keyword:
        query = query.where(
            func.lower(Case.description).contains(wanted.keyword.lower(), autoescape=True)
        )
    if wanted.number:
        query = query.where(
            exists().where(
                Letter.case_id == Case.id, Letter.number.in_(_number_forms(wanted.number))
            )
        )
    return query


def _cursor(cursor: str) -> tuple[date | None, int]:
    """The last row shown: its reply limit (None: in the part without one) and its id."""
    matched = _CURSOR.fullmatch(cursor)
    if matched is None:
        raise RuleViolation("after", "format", "分页位置无效，请从第一页重新开始")
    due_text, case_id = matched.group(1), int(matched.group(2))
    try:
        due = None if due_text == "-" else date.fromisoformat(due_text)
    except ValueError:
        raise RuleViolation("after", "format", "分页位置无效，请从第一页重新开始") from None
    return due, case_id


def _cursor_of(summary: CaseSummary) -> str:
    due = summary.reply_due.isoformat() if summary.reply_due else "-"
    return f"{due}:{summary.id}"


def worklist(
    app: App,
    today: date,
    wanted: CaseFilter,
    *,
    viewer: str,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> WorklistPage:
    """One page of the cases ``viewer`` may see that match ``wanted``, nearest limit first.

    The list is read in two parts, each in index order: the cases with a reply limit by
    (limit, id), then those without one by id. A page never sorts the whole match, so
    its cost does not grow with the agency's caseload.
    """
    if not 1 <= limit <= EXPORT_MAX:
        raise RuleViolation("limit", "range", f"每页条数须为1至{EXPORT_MAX}")
    last_due, last_id = _cursor(after) if after else (None, 0)
    in_undated_part = after is not None and last_due is None
    with app.uow() as uow:
        session = uow.session
        agencies = scope(session, viewer_of(session, viewer), None)

        def matching(query: Any) -> Any:
            if agencies is not None:
                query = query.where(Case.agency_id.in_(sorted(agencies)))
            if wanted.applicant:
                query = query.join(Applicant, Applicant.id == Case.applicant_id)
            return _filtered(query, wanted)

        def cases_of(query: Any) -> Any:
            # Filtered by applicant: the applicant comes from that join, not a second one.
            return query.options(contains_eager(Case.applicant)) if wanted.applicant else query

        total = int(session.scalar(matching(select(func.count(Case.id)))) or 0)
        rows: list[Case] = []
        if not in_undated_part:
            dated = cases_of(matching(select(Case))).where(Case.reply_due.is_not(None))
            if last_due is not None:
                dated = dated.where(
                    or_(
                        Case.reply_due > last_due,
                        and_(Case.reply_due == last_due, Case.id > last_id),
                    )
                )
            rows = list(session.scalars(dated.order_by(Case.reply_due, Case.id).limit(limit + 1)))
        if len(rows) <= limit:
            undated = cases_of(matching(select(Case))).where(
                Case.reply_due.is_(None), Case.id > last_id if in_undated_part else true()
            )
            rows += session.scalars(undated.order_by(Case.id).limit(limit + 1 - len(rows)))
        shown = [summary_of(case, today, app) for case in rows[:limit]]
    more = len(rows) > limit
    return WorklistPage(shown, _cursor_of(shown[-1]) if more and shown else None, total)


def assign(
    app: App,
    case_ids: list[int],
    assignee: str,
    *,
    actor: str,
    reason: str = "",
    via: Via | None = None,
) -> int:
    """Make ``assignee`` the responsible clerk of every case in ``case_ids``, all or none;
    each change is an audit event. Returns how many cases changed hands.

    Raises:
        PermissionDenied: the actor is no supervisor, or works for another agency.
        RuleViolation: no cases, too many, or an assignee who cannot handle a case.
        NotFound: an unknown case or assignee.
        ConflictError: another writer changed one of the cases meanwhile.
    """
    ids = sorted(set(case_ids))
    if not ids:
        raise RuleViolation("case_ids", "required", "请选择要分派的案件")
    if len(ids) > ASSIGN_MAX:
        raise RuleViolation("case_ids", "max_items", f"一次最多分派{ASSIGN_MAX}件")
    reason = clean_text(reason, "reason", "分派说明", 200, multiline=True)
    with app.uow() as uow:
        session = uow.session
        user = acting_user(session, actor)
        if Role(user.role) is not Role.SUPERVISOR:
            raise PermissionDenied("role_not_allowed", "只有负责人可以分派或改派承办人")
        target = user_named(session, assignee) if isinstance(assignee, str) else None
        if target is None:
            raise NotFound("assignee", f"承办人“{printable(str(assignee))}”不是本系统的用户")
        if Role(target.role) not in (Role.CLERK, Role.SUPERVISOR):
            raise RuleViolation("assignee", "role", "承办人须为经办人或负责人")
        changed = 0
        for case_id in ids:
            case = load_case(session, case_id)
            check_agency(user, case.agency_id, "分派该案件")
            if not target.all_agencies and case.agency_id not in {a.id for a in target.agencies}:
                raise RuleViolation(
                    "assignee", "agency", f"{target.name}不在案件{case_id}所属机关工作，不能承办"
                )
            if case.assignee == target.name:
                continue
            previous, seq = case.assignee, case.version + 1
            case.version, case.assignee = seq, target.name
            payload: dict[str, Any] = {"assignee": target.name, "previous": previous}
            if via is not None:
                payload["via"] = via.record()
            append_event(
                session, case, keys=app.settings.audit_keys, seq=seq, at=app.now(),
                actor=user.name, actor_role=user.role, trigger="assign", from_state=case.state,
                to_state=case.state, reason=reason, payload=payload,
            )  # fmt: skip
            if target.name != user.name:
                note = f"{user.display_name}将本案分派给您承办" + (f"：{reason}" if reason else "")
                notify(session, target.name, "assigned", case_id, note, by=user.name, at=app.now())
            changed += 1
        uow.commit()
    return changed


def mine(wanted: CaseFilter, name: str) -> CaseFilter:
    return replace(wanted, assignee=name)


#: The widest "due within" a listing takes, in working days.
DUE_WITHIN_MAX = 250


def due_soon(
    app: App, today: date, wanted: CaseFilter, *, within: int | None, overdue: bool
) -> CaseFilter:
    """``wanted`` narrowed to open cases whose reply is due within ``within`` working days
    of ``today``, or (``overdue``) whose reply limit has passed.

    Raises:
        RuleViolation: ``within`` out of range, or both asked at once.
    """
    if within is not None and overdue:
        raise RuleViolation("overdue", "exclusive", "“逾期”与“期限在N个工作日内”不能同时使用")
    if within is not None:
        if not 0 <= within <= DUE_WITHIN_MAX:
            raise RuleViolation(
                "due_within", "range", f"期限范围须为0至{DUE_WITHIN_MAX}个工作日，实为{within}"
            )
        horizon = app.settings.calendar.add_working_days(today, within)
        return replace(wanted, due_from=today, due_to=horizon, open_only=True)
    if overdue:
        return replace(wanted, due_from=None, due_to=today - timedelta(days=1), open_only=True)
    return wanted


@dataclass(frozen=True)
class Assignable:
    name: str
    display_name: str


def assignable_staff(app: App, viewer: str) -> list[Assignable]:
    """The clerks and supervisors of the agencies ``viewer`` works for (the county: all)."""
    with app.uow() as uow:
        session = uow.session
        user = viewer_of(session, viewer)
        agencies = scope(session, user, None)
        query = select(User).where(User.role.in_([Role.CLERK.value, Role.SUPERVISOR.value]))
        staff = []
        for candidate in session.scalars(query.order_by(User.name)).unique():
            works_for = {a.id for a in candidate.agencies}
            if agencies is None or candidate.all_agencies or works_for & agencies:
                staff.append(Assignable(candidate.name, candidate.display_name))
        return staff
