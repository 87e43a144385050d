"""待办提醒: what needs the signed-in user (urges, assignments, drafts to approve, alerts on
their cases), and marking what was read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from disclosure.services import notifications
from disclosure.services.auth import WebSessionView
from disclosure.web.auth import page_roles, service, submitted_form
from disclosure.web.routes.pages import CASE_ROLES, render
from disclosure.workflow.states import Role

router = APIRouter(include_in_schema=False)

Reader = Annotated[WebSessionView, Depends(page_roles(*CASE_ROLES))]
#: Marking read is a write: auditors change nothing (and are sent nothing).
Worker = Annotated[WebSessionView, Depends(page_roles(Role.CLERK, Role.SUPERVISOR))]


@router.get("/notifications")
def notification_page(request: Request, session: Reader) -> Response:
    items = notifications.inbox(service(request), session.identity.name)
    return render(request, "notifications.html.j2", {"session": session, "items": items})


@router.post("/notifications/read")
async def mark_read(request: Request, session: Worker) -> Response:
    """Mark the ticked notifications read (or all, with ``all``), then back to the list."""
    form = await submitted_form(request)
    ids = None
    if not form.get("all"):
        ids = [
            int(v)
            for v in form.getlist("ids")
            if isinstance(v, str) and v.isdigit() and len(v) < 11
        ]
    notifications.mark_read(service(request), session.identity.name, ids)
    return RedirectResponse("/notifications", status_code=303)
