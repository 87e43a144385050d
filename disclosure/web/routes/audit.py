"""审计: closed and archived cases, their trails, and the hash-chain check (read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from disclosure.errors import RuleViolation
from disclosure.services import archive, audit, cases
from disclosure.services.auth import Identity, WebSessionView
from disclosure.services.unit_of_work import App
from disclosure.web.auth import page_roles, service, submitted_form
from disclosure.web.routes.cases import CaseNumber
from disclosure.web.routes.pages import render
from disclosure.workflow.states import CLOSED_STATES, Role, State

router = APIRouter(include_in_schema=False)

Auditor = Annotated[WebSessionView, Depends(page_roles(Role.AUDITOR, Role.SUPERVISOR))]
_CLOSED = [s for s in State if s in CLOSED_STATES]


@router.get("/audit")
def audit_home(
    request: Request,
    session: Auditor,
    state: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    """Closed and archived cases the auditor may read, newest limit first."""
    app = service(request)
    chosen = state if state in {s.value for s in _CLOSED} else None
    today = app.settings.agency_today()
    listed = []
    for wanted in [State(chosen)] if chosen else _CLOSED:
        listed += cases.list_cases(
            app, today, state=wanted.value, viewer=session.identity.name, limit=200
        )
    listed.sort(key=lambda c: c.id, reverse=True)
    return render(
        request,
        "audit.html.j2",
        {"session": session, "cases": listed, "states": _CLOSED, "state": chosen, "result": None},
    )


def verified(
    app: App, identity: Identity, case_id: int | None
) -> tuple[int, list[audit.ChainBreak]]:
    """The chain check of one case (after the agency check) or of every case the user sees."""
    if case_id is not None:
        cases.get_case(app, case_id, viewer=identity.name)
        return audit.verify_trail(app, case_id)
    if identity.all_agencies:
        return audit.verify_trail(app)
    checked, breaks = 0, list[audit.ChainBreak]()
    for code in identity.agencies:
        n, found = audit.verify_trail(app, agency=code)
        checked, breaks = checked + n, breaks + found
    return checked, breaks


@router.get("/audit/verify")
def verify(
    request: Request,
    session: Auditor,
    case: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Recompute the hash chains and compare them with the rows; the result as a fragment
    (htmx) or as the audit page."""
    checked, breaks = verified(service(request), session.identity, case)
    result = {"case": case, "checked": checked, "breaks": breaks}
    if request.headers.get("HX-Request"):
        return render(request, "_verify_result.html.j2", {"result": result})
    return render(
        request,
        "audit.html.j2",
        {"session": session, "cases": [], "states": _CLOSED, "state": None, "result": result},
    )


@router.get("/audit/cases/{case_id}/verify")
def verify_case(request: Request, session: Auditor, case_id: CaseNumber) -> Response:
    return verify(request, session, case_id)


#: The largest 卷宗 the page accepts for checking (a case's letters and trail are a few MB).
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


@router.get("/cases/{case_id}/archive.zip")
def archive_file(request: Request, session: Auditor, case_id: CaseNumber) -> Response:
    """The 卷宗 of an archived case the user may read, to take away and check offline."""
    name, data = archive.case_file(service(request), case_id, viewer=session.identity.name)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/audit/archive-verify")
async def verify_upload(request: Request, session: Auditor) -> Response:
    """Check an uploaded 卷宗 as ``archive verify`` does, with this server's audit keys."""
    app = service(request)
    form = await submitted_form(request)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise RuleViolation("file", "required", "请选择要核验的卷宗文件（.zip）")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
    finally:
        await form.close()  # the spooled upload's temporary file
    if len(data) > MAX_UPLOAD_BYTES:
        raise RuleViolation(
            "file", "too_large", f"卷宗文件超过{MAX_UPLOAD_BYTES // 2**20} MB，请用命令行核验"
        )
    check = archive.verify_file(data, app.settings.audit_keys)
    return render(
        request,
        "audit.html.j2",
        {"session": session, "cases": [], "states": _CLOSED, "state": None, "result": None,
         "archive_check": check, "archive_name": upload.filename or ""},
    )  # fmt: skip
