"""Reports from case data: the annual report (2021 format) and the assessment figures.

The counting is pure (``workflow.annual_report``, ``workflow.performance``); this module
reads what it needs in a few set-wise queries, scoped to what the viewer may see, and hands
the result to the renderers (``disclosure.reports``) as bytes or text.

Demo cases (``disclosure demo``) are left out unless asked for: a report is filed with the
government, and demo data loaded into a live database must never reach it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from disclosure.errors import RuleViolation
from disclosure.models.tables import Agency, Applicant, AuditEvent, Case, ClockEventRow
from disclosure.reports import annual as annual_files
from disclosure.reports import performance as performance_files
from disclosure.services.agencies import scope
from disclosure.services.cases import viewer_of
from disclosure.services.unit_of_work import App
from disclosure.workflow.annual_report import (
    KIND_COLUMNS,
    AnnualReport,
    CaseCount,
    Challenge,
    Explanation,
    FeeRecord,
    ReportCase,
    build_annual_report,
    count_annual_report,
    explain_cell,
    parse_column,
    parse_row,
)
from disclosure.workflow.deadlines import ClockEvent, ClockKind, compute_limits
from disclosure.workflow.performance import (
    Month,
    PerformanceCase,
    PerformanceReport,
    build_performance,
    months_between,
)
from disclosure.workflow.states import CLOSED_STATES, State

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
#: Years a report may be asked for (the 2019 Regulations apply from 2019-05-15).
FIRST_YEAR, LAST_YEAR = 2019, 2100
_BATCH = 1000
AnnualFormat = Literal["table", "csv", "xlsx", "pdf"]
PerformanceFormat = Literal["table", "csv", "xlsx", "png"]


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise RuleViolation(
            "year",
            "range",
            f"年份{year}无效：须在{FIRST_YEAR}至{LAST_YEAR}之间（《条例》2019年施行）",
        )
    return year


@dataclass(frozen=True)
class Scope:
    """The agencies a report covers (None: every agency) and its label."""

    agency_ids: frozenset[int] | None
    label: str
    include_demo: bool

    def cases(self, query: _Query) -> _Query:
        """``query`` (over ``cases``) limited to this scope."""
        if self.agency_ids is not None:
            query = query.where(Case.agency_id.in_(self.agency_ids))
        if not self.include_demo:
            query = query.where(Case.is_demo.is_(False))
        return query


def _scope(session: Session, viewer: str | None, agency: str | None, include_demo: bool) -> Scope:
    ids = scope(session, viewer_of(session, viewer), agency)
    if ids is not None and len(ids) == 1:
        [only] = ids
        name = session.scalar(select(Agency.name).where(Agency.id == only)) or ""
        return Scope(ids, name, include_demo)
    return Scope(ids, "全部机关" if ids is None else "所属各机关", include_demo)


# -- the annual report --------------------------------------------------------------------


def _in_report(year: int) -> ColumnElement[bool]:
    """The cases a year's report may count: received by its end, not closed before it."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    return and_(Case.received_on <= end, or_(Case.closed_on.is_(None), Case.closed_on >= start))


#: The periods a report case's dates fall in: received (before or during the year) ×
#: closed (not, during or after it); "closed before" is outside every report.
_PERIODS = tuple((r, c) for r in ("before", "during") for c in ("open", "during", "after"))


def _case_counts(session: Session, year: int, where: Scope) -> list[CaseCount]:
    """The cases of the report as one GROUP BY over kind, state and outcome, with a sum per
    pair of periods — a few hundred rows however many cases there are. (Grouping by the
    periods themselves makes PostgreSQL expect a group per case and sort on disk.)"""
    start, end = date(year, 1, 1), date(year, 12, 31)
    received = {"before": Case.received_on < start, "during": Case.received_on >= start}
    closed = {
        "open": Case.closed_on.is_(None),
        "during": Case.closed_on <= end,
        "after": Case.closed_on > end,
    }
    keys = (Applicant.kind, Case.state, Case.outcome, Case.outcome_reason)
    sums = [func.sum(when((and_(received[r], closed[c]), 1), else_=0)) for r, c in _PERIODS]
    query = (
        select(*keys, *sums)
        .join(Applicant, Applicant.id == Case.applicant_id)
        .where(_in_report(year))
        .group_by(*keys)
    )
    counts = []
    for kind, state, outcome, reason, *numbers in session.execute(where.cases(query)):
        for (received_in, closed_in), number in zip(_PERIODS, numbers, strict=True):
            if number:
                counts.append(
                    CaseCount(kind, received_in, closed_in, state, outcome, reason, int(number))
                )
    return counts


def _report_cases(
    session: Session, year: int, where: Scope, kind: str | None = None
) -> list[ReportCase]:
    """The cases of the report one by one (of one applicant kind), for the drill-down."""
    query = (
        select(
            Case.id,
            Case.agency_id,
            Applicant.kind,
            Case.received_on,
            Case.closed_on,
            Case.state,
            Case.outcome,
            Case.outcome_reason,
        )  # fmt: skip
        .join(Applicant, Applicant.id == Case.applicant_id)
        .where(_in_report(year))
        .order_by(Case.id)
    )
    if kind is not None:
        query = query.where(Applicant.kind == kind)
    return [ReportCase(*row) for row in session.execute(where.cases(query))]


def _fees(session: Session, year: int, where: Scope) -> list[FeeRecord]:
    """Every fee notice that could count in ``year`` (issued, or paid, in it)."""
    kinds = (ClockKind.ISSUE_FEE_NOTICE.value, ClockKind.FEE_PAID.value)
    query = (
        select(
            ClockEventRow.case_id,
            ClockEventRow.kind,
            ClockEventRow.occurred_on,
            ClockEventRow.fee_amount,
        )  # fmt: skip
        .join(Case, Case.id == ClockEventRow.case_id)
        .where(ClockEventRow.kind.in_(kinds), ClockEventRow.occurred_on <= date(year, 12, 31))
        .order_by(ClockEventRow.case_id, ClockEventRow.seq)
    )
    records: list[FeeRecord] = []
    open_notice: dict[int, int] = {}  # case → index of its unpaid notice in ``records``
    for case_id, kind, on, amount in session.execute(where.cases(query)):
        if kind == ClockKind.ISSUE_FEE_NOTICE.value:
            open_notice[case_id] = len(records)
            records.append(FeeRecord(case_id, on, Decimal(amount or 0), None))
        elif case_id in open_notice:
            index = open_notice.pop(case_id)
            notice = records[index]
            records[index] = FeeRecord(case_id, notice.issued_on, notice.amount, on)
    start = date(year, 1, 1)
    return [r for r in records if r.issued_on >= start or (r.paid_on and r.paid_on >= start)]


def _challenges(session: Session, where: Scope) -> list[Challenge]:
    """Where each recorded reconsideration or lawsuit stands: the newest record per case
    and kind (recording one again records its progress)."""
    query = (
        select(AuditEvent.case_id, AuditEvent.payload)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(AuditEvent.trigger == "record_challenge")
        .order_by(AuditEvent.case_id, AuditEvent.seq)
    )
    latest: dict[tuple[int, str], Challenge] = {}
    for case_id, payload in session.execute(where.cases(query)):
        data = json.loads(payload)
        decided = data.get("decided_on")
        latest[(case_id, data["kind"])] = Challenge(
            case_id, data["kind"], date.fromisoformat(data["filed_on"]), data.get("result"),
            date.fromisoformat(decided) if decided else None,
        )  # fmt: skip
    return list(latest.values())


def annual_report(
    app: App,
    year: int,
    *,
    agency: str | None = None,
    viewer: str | None = None,
    include_demo: bool = False,
) -> AnnualReport:
    """The year's report for one agency (its code) or every agency the viewer may see,
    counted by groups in the database (``explain`` lists the cases of one number).

    Raises:
        RuleViolation: a year out of range; the report does not add up (naming the row and
            column): nothing is printed then.
        PermissionDenied: the viewer does not work for the agency.
    """
    check_year(year)
    with app.uow() as uow:
        session = uow.session
        where = _scope(session, viewer, agency, include_demo)
        return count_annual_report(
            year,
            where.label,
            _case_counts(session, year, where),
            _fees(session, year, where),
            _challenges(session, where),
        )


def _itemised_report(
    app: App, year: int, where_of: tuple[str | None, str | None, bool], kind: str | None
) -> AnnualReport:
    agency, viewer, include_demo = where_of
    with app.uow() as uow:
        session = uow.session
        where = _scope(session, viewer, agency, include_demo)
        return build_annual_report(year, where.label, _report_cases(session, year, where, kind))


def annual_file(report: AnnualReport, fmt: AnnualFormat) -> bytes:
    """The report as a CSV (UTF-8 with BOM, for Excel), XLSX or PDF file."""
    if fmt == "csv":
        return annual_files.annual_csv(report).encode("utf-8-sig")
    if fmt == "xlsx":
        return annual_files.annual_xlsx(report)
    if fmt == "pdf":
        return annual_files.annual_pdf(report)
    raise RuleViolation("format", "one_of", f"格式“{fmt}”不能写成文件，可选：csv、xlsx、pdf")


def annual_rows(report: AnnualReport) -> list[annual_files.TableRow]:
    return annual_files.annual_table_rows(report)


def explain(
    app: App,
    year: int,
    row: str,
    column: str,
    *,
    agency: str | None = None,
    viewer: str | None = None,
    include_demo: bool = False,
) -> tuple[Explanation, ...]:
    """Why each case of a section 三 cell is counted there (``三.(三).4`` × ``商业企业``)."""
    check_year(year)
    parse_row(row)  # a bad key is refused before any reading
    name = parse_column(column)
    kind = next((k.value for k, label in KIND_COLUMNS.items() if label == name), None)
    report = _itemised_report(app, year, (agency, viewer, include_demo), kind)
    return explain_cell(report, row, column)


# -- the assessment figures ---------------------------------------------------------------


def _performance_rows(
    session: Session, first: date, last: date, where: Scope
) -> Iterator[tuple[Case, list[ClockEventRow]]]:
    """The cases received by ``last`` and not closed before ``first``, with their clock
    events, in batches."""
    query = where.cases(
        select(Case.id)
        .where(Case.received_on <= last, or_(Case.closed_on.is_(None), Case.closed_on >= first))
        .order_by(Case.id)
    )
    ids = list(session.scalars(query))
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        events: dict[int, list[ClockEventRow]] = {i: [] for i in chunk}
        for row in session.scalars(
            select(ClockEventRow)
            .where(ClockEventRow.case_id.in_(chunk))
            .order_by(ClockEventRow.case_id, ClockEventRow.seq)
        ):
            events[row.case_id].append(row)
        for case in session.scalars(select(Case).where(Case.id.in_(chunk)).order_by(Case.id)):
            yield case, events[case.id]


def _performance_case(
    app: App, case: Case, events: list[ClockEventRow], today: date
) -> PerformanceCase:
    state = State(case.state)
    replied = state in (State.REPLIED, State.ARCHIVED) and case.outcome is not None
    closed_on = case.closed_on if state in CLOSED_STATES else None
    days = on_time = None
    if replied and closed_on is not None:
        calendar = app.settings.calendar
        clock = tuple(ClockEvent(ClockKind(e.kind), e.occurred_on, e.days, e.until) for e in events)
        reply = compute_limits(calendar, case.received_on, clock, app.settings.rules).reply
        days = calendar.working_days_between(case.received_on, closed_on)
        on_time = reply is not None and closed_on <= reply.due
    return PerformanceCase(
        case_id=case.id,
        agency_id=case.agency_id,
        received_on=case.received_on,
        closed_on=closed_on,
        replied=replied,
        working_days_taken=days,
        on_time=on_time,
        overdue_now=closed_on is None and case.reply_due is not None and case.reply_due < today,
        extensions=sum(e.kind == ClockKind.EXTEND.value for e in events),
        corrections=sum(e.kind == ClockKind.REQUEST_CORRECTION.value for e in events),
        outcome=case.outcome,
    )


def performance(
    app: App,
    first: Month,
    last: Month,
    *,
    agency: str | None = None,
    viewer: str | None = None,
    include_demo: bool = False,
) -> PerformanceReport:
    """The figures per agency and month from ``first`` to ``last`` (months of closing);
    overdue cases as of the agency's today.

    Raises:
        RuleViolation: ``first`` after ``last``, or a month out of range.
        PermissionDenied: the viewer does not work for the agency.
    """
    check_year(first.year)
    check_year(last.year)
    months_between(first, last)  # refuses a period that ends before it begins
    start = date(first.year, first.month, 1)
    end = date(last.following().year, last.following().month, 1)
    today = app.settings.agency_today()
    with app.uow() as uow:
        session = uow.session
        where = _scope(session, viewer, agency, include_demo)
        names = select(Agency.id, Agency.name)
        if where.agency_ids is not None:
            names = names.where(Agency.id.in_(where.agency_ids))
        labels = {agency_id: name for agency_id, name in session.execute(names)}
        last_day = date.fromordinal(end.toordinal() - 1)
        found = [
            _performance_case(app, case, events, today)
            for case, events in _performance_rows(session, start, last_day, where)
        ]
    return build_performance(found, labels, first, last)


def performance_file(report: PerformanceReport, fmt: PerformanceFormat) -> bytes:
    """The figures as CSV (UTF-8 with BOM), XLSX, or the monthly on-time chart as PNG."""
    if fmt == "csv":
        return performance_files.performance_csv(report).encode("utf-8-sig")
    if fmt == "xlsx":
        return performance_files.performance_xlsx(report)
    if fmt == "png":
        return performance_files.on_time_chart(report)
    raise RuleViolation("format", "one_of", f"格式“{fmt}”不能写成文件，可选：csv、xlsx、png")


def performance_rows(report: PerformanceReport) -> list[list[str]]:
    """Rows for a terminal table: header first."""
    return performance_files.performance_table_rows(report)


def parse_month(value: str, field: str) -> Month:
    """``2026-03`` (or ``2026-3``, ``2026年3月``) as a month.

    Raises:
        RuleViolation: naming ``field`` (``from`` or ``to``).
    """
    text = value.strip().replace("年", "-").rstrip("月")
    parts = text.split("-")
    try:
        year, month = (int(part) for part in parts)
        return Month(year, month)
    except (ValueError, RuleViolation):
        raise RuleViolation(
            field, "month", f"月份“{value[:20]}”无效：请写成 YYYY-MM（例如 2026-03）"
        ) from None
