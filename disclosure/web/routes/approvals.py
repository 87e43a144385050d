"""待审批 (supervisors): drafted replies to approve or return, and cases near their limit
where an extension may be decided."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from disclosure.services import cases
from disclosure.services.auth import WebSessionView
from disclosure.web.auth import page_roles, service
from disclosure.web.routes.pages import render
from disclosure.workflow.states import Role, State

router = APIRouter(include_in_schema=False)

Supervisor = Annotated[WebSessionView, Depends(page_roles(Role.SUPERVISOR))]
#: The states an extension may be granted in (the ``extend`` trigger's sources).
_EXTENDABLE = frozenset(
    {State.HANDLING, State.CONSULTING_THIRD_PARTY, State.CONSULTING_AGENCY, State.AWAITING_FEE}
)


@router.get("/approvals")
def approvals(request: Request, session: Supervisor) -> Response:
    app = service(request)
    today = app.settings.agency_today()
    viewer = session.identity.name
    drafts = cases.list_cases(app, today, state=State.REPLY_DRAFTED.value, viewer=viewer)
    near = cases.list_cases(
        app, today, due_within=app.settings.approaching_days, viewer=viewer, limit=200
    )
    return render(
        request,
        "approvals.html.j2",
        {
            "session": session,
            "drafts": drafts,
            "extendable": [c for c in near if c.state in _EXTENDABLE],
            "approaching": app.settings.approaching_days,
        },
    )
