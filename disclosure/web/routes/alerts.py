"""预警: open time-limit alerts by kind and agency, with the step each one proposes."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from disclosure.services import alerts, auth
from disclosure.services.auth import WebSessionView
from disclosure.web.auth import page_roles, service
from disclosure.web.routes.pages import CASE_ROLES, render
from disclosure.workflow.states import Role
from disclosure.workflow.triggers import TRIGGERS_BY_NAME

router = APIRouter(include_in_schema=False)

Reader = Annotated[WebSessionView, Depends(page_roles(*CASE_ROLES))]
#: A new feed token is a write: auditors change nothing.
Worker = Annotated[WebSessionView, Depends(page_roles(Role.CLERK, Role.SUPERVISOR))]


@router.get("/alerts")
def alert_page(request: Request, session: Reader) -> Response:
    return _alert_page(request, session)


@router.post("/alerts/feed-token")
def new_feed_token(request: Request, session: Worker) -> Response:
    """A new calendar-feed address for this user (the old one stops working); shown once."""
    app = service(request)
    token = auth.create_feed_token(app, session.identity.name, channel=auth.Channel.WEB)
    return _alert_page(
        request, session, feed_url=f"{app.settings.public_url}/alerts/feed.ics?token={token}"
    )


@router.get("/alerts/feed.ics")
def feed(request: Request, token: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    """The iCalendar feed of the limits in the token owner's agencies: read-only, opened by
    the token in its address (a calendar program cannot sign in)."""
    app = service(request)
    owner = auth.feed_owner(app, token)
    body = alerts.calendar_feed(app, app.settings.agency_today(), viewer=owner)
    return Response(
        body, media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )  # fmt: skip


def _alert_page(request: Request, session: WebSessionView, feed_url: str | None = None) -> Response:
    """The alerts this user may see (a clerk: the steps of every case and the limits of the
    cases they handle; supervisors and auditors: all), counted by kind and by agency."""
    app = service(request)
    listed = alerts.alert_list(app, app.settings.agency_today(), user=session.identity.name)
    by_kind = Counter(row.condition.label for row in listed.rows)
    by_agency = Counter(row.agency for row in listed.rows)
    steps = {
        row.condition.key: TRIGGERS_BY_NAME[row.condition.proposed_step].label
        for row in listed.rows
        if row.condition.proposed_step in TRIGGERS_BY_NAME
    }
    return render(
        request,
        "alerts.html.j2",
        {
            "session": session,
            "rows": listed.rows,
            "last_scan": listed.last_scan,
            "by_kind": by_kind.most_common(),
            "by_agency": by_agency.most_common(),
            "steps": steps,
            "feed_url": feed_url,
        },
    )
