"""预警: open time-limit alerts by kind and agency, with the step each one proposes."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from disclosure.services import alerts
from disclosure.services.auth import WebSessionView
from disclosure.web.auth import page_roles, service
from disclosure.web.routes.pages import CASE_ROLES, render
from disclosure.workflow.triggers import TRIGGERS_BY_NAME

router = APIRouter(include_in_schema=False)

Reader = Annotated[WebSessionView, Depends(page_roles(*CASE_ROLES))]


@router.get("/alerts")
def alert_page(request: Request, session: Reader) -> Response:
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
        },
    )
