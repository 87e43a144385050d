"""期限计算器: received date and clock events in, every limit with its explanation and the
working-day calendar of the months it spans out — the engine's own ``compute_limits``."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from disclosure.errors import DisclosureError
from disclosure.services.auth import WebSessionView
from disclosure.services.deadline_file import limits_of
from disclosure.web.auth import page_roles, service
from disclosure.web.routes.pages import CASE_ROLES, render
from disclosure.workflow.application import CHANNEL_RULES, parse_date
from disclosure.workflow.calendar import WorkingCalendar
from disclosure.workflow.deadlines import ClockKind, Limits

router = APIRouter(include_in_schema=False)

Reader = Annotated[WebSessionView, Depends(page_roles(*CASE_ROLES))]
#: Rows of events the form offers (a real case has a handful).
EVENT_ROWS = 6
EVENT_LABELS = {
    ClockKind.REQUEST_CORRECTION: "发出补正告知",
    ClockKind.RECEIVE_CORRECTION: "收到补正",
    ClockKind.CONSULT_THIRD_PARTY: "征求第三方意见",
    ClockKind.THIRD_PARTY_REPLIED: "收到第三方意见",
    ClockKind.CONSULT_AGENCY: "征求其他机关意见",
    ClockKind.AGENCY_REPLIED: "收到其他机关意见",
    ClockKind.ISSUE_FEE_NOTICE: "发出收费通知",
    ClockKind.FEE_PAID: "收到缴费",
    ClockKind.EXTEND: "延长答复期限（填天数）",
    ClockKind.CUSTOM_DUE: "另行确定答复期限（填日期）",
}


def month_grid(
    cal: WorkingCalendar, first: date, last: date, marked: set[date]
) -> list[dict[str, Any]]:
    """The months from ``first`` to ``last``: weeks of days, each with 休 (a weekday off),
    班 (a weekend working day) or nothing, and whether it is a limit's day."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        weeks = []
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            days = []
            for day in week:
                working = cal.is_working_day(day)
                weekend = day.weekday() >= 5
                mark = (
                    "休" if (not working and not weekend) else "班" if (working and weekend) else ""
                )
                days.append({
                    "day": day, "in_month": day.month == month, "working": working,
                    "mark": mark, "limit": day in marked,
                })  # fmt: skip
            weeks.append(days)
        months.append({"title": f"{year}年{month}月", "weeks": weeks})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@router.get("/calculator")
def calculator(request: Request, session: Reader) -> Response:
    """The form, and with ``received`` given, the limits and the calendar."""
    app = service(request)
    query = request.query_params
    values = {key: query.get(key, "") for key in query.keys()}
    rows = [
        {
            "kind": query.get(f"kind{i}", ""),
            "on": query.get(f"on{i}", ""),
            "extra": query.get(f"extra{i}", ""),
        }
        for i in range(EVENT_ROWS)
    ]
    limits: Limits | None = None
    error: DisclosureError | None = None
    months: list[dict[str, Any]] = []
    if query.get("received"):
        events: list[list[object]] = []
        for row in rows:
            if not row["kind"]:
                continue
            event: list[object] = [row["kind"], row["on"]]
            if row["kind"] == ClockKind.EXTEND:
                event.append(int(row["extra"]) if row["extra"].isdigit() else row["extra"])
            elif row["kind"] == ClockKind.CUSTOM_DUE:
                event.append(row["extra"])
            events.append(event)
        cal = app.settings.calendar
        try:
            limits = limits_of(
                {"received": query["received"], "events": events}, cal, app.settings.rules
            )
        except DisclosureError as refused:
            error = refused
        else:
            dues = {limit.due for limit in limits.all()}
            start = parse_date(query["received"], "received")
            end = max([*dues, start + timedelta(days=28)])
            months = month_grid(cal, start, min(end, start + timedelta(days=400)), dues)
    return render(
        request,
        "calculator.html.j2",
        {
            "session": session,
            "values": values,
            "rows": rows,
            "limits": limits.all() if limits else [],
            "error": error,
            "months": months,
            "channels": {c.value: f"{name}：{rule}" for c, (name, rule) in CHANNEL_RULES.items()},
            "event_labels": {k.value: v for k, v in EVENT_LABELS.items()},
        },
        400 if error else 200,
    )
