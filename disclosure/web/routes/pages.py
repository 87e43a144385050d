"""Sign-in, sign-out and the home page (我的待办)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from disclosure.errors import NotSignedIn, RuleViolation
from disclosure.services import auth, notifications
from disclosure.services.auth import WebSessionView
from disclosure.services.worklist import (
    EXPORT_MAX,
    CaseFilter,
    assign,
    assignable_staff,
    mine,
    worklist,
)
from disclosure.web.auth import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRejected,
    limit_sign_ins,
    page_roles,
    remote_of,
    service,
    submitted_form,
)
from disclosure.web.auth import new_login_token as _new_login_token
from disclosure.workflow.application import CHANNEL_LABELS
from disclosure.workflow.states import STATE_LABELS, Role, State
from disclosure.workflow.text import spreadsheet_safe

router = APIRouter(include_in_schema=False)

CASE_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page; for a signed-in case worker with the count of their open alerts in the header."""
    session = context.get("session")
    if isinstance(session, WebSessionView) and session.identity.role in CASE_ROLES:
        app = service(request)
        counts = notifications.header_counts(app, session.identity.name)
        context = {**context, "alert_count": counts.alerts, "inbox_count": counts.inbox}
    tpl: Jinja2Templates = request.app.state.templates
    return tpl.TemplateResponse(request, name, context, status_code=status)


def _local(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_page(
    request: Request, next_path: str, *, name: str = "", error: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    token = _new_login_token()
    response = render(
        request,
        "login.html.j2",
        {
            "next": next_path,
            "name": name,
            "error": error,
            "login_csrf": token,
            "has_users": auth.has_users(service(request)),
        },
        status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
        secure=service(request).settings.secure_cookies, path="/login",
    )  # fmt: skip
    return response


@router.get("/login")
def login_form(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    return _login_page(request, _local(next))


@router.post("/login")
async def login(request: Request) -> Response:
    limit_sign_ins(request)
    form = await submitted_form(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = form.get(CSRF_FIELD)
    if not cookie or not isinstance(given, str) or given != cookie:
        raise CsrfRejected()
    name, password = form.get("name"), form.get("password")
    next_path = _local(str(form.get("next") or "/"))
    app = service(request)
    try:
        signed_in = auth.sign_in(app, name, password, remote=remote_of(request))
    except NotSignedIn as refused:
        shown = name if isinstance(name, str) else ""
        return _login_page(request, next_path, name=shown[:40], error=refused.message, status=401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, signed_in.token, httponly=True, samesite="lax",
        secure=app.settings.secure_cookies, path="/",
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(
    request: Request, view: Annotated[WebSessionView, Depends(page_roles(*Role))]
) -> Response:
    auth.sign_out(service(request), request.cookies.get(SESSION_COOKIE), remote=remote_of(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


#: The worklist's filter fields, as the query string names them.
FILTER_FIELDS = (
    "state", "received_from", "received_to", "due_from", "due_to", "applicant", "number",
    "channel", "keyword",
)  # fmt: skip


def worklist_filter(request: Request, identity: Any) -> tuple[CaseFilter, dict[str, str], bool]:
    """The filter a worklist request asks for, the values as typed, and whether it shows
    only the user's own cases (a clerk's default)."""
    query = request.query_params
    typed = {name: query.get(name, "") for name in FILTER_FIELDS}
    own = query.get("scope", "mine" if identity.role is Role.CLERK else "all") == "mine"
    wanted = CaseFilter.parse(typed)
    return (mine(wanted, identity.name) if own else wanted), typed, own


@router.get("/")
def home(
    request: Request,
    view: Annotated[WebSessionView, Depends(page_roles(*Role))],
    after: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    identity = view.identity
    app = service(request)
    if identity.role is Role.ADMIN:
        return RedirectResponse("/admin", status_code=303)  # 用户管理: routes/admin.py
    today = app.settings.agency_today()
    context: dict[str, Any] = {
        "session": view, "today": today, "approaching": app.settings.approaching_days,
        "states": list(State), "channels": {c.value: label for c, label in CHANNEL_LABELS.items()},
        "after": after, "error": None, "page": None, "own": False, "typed": {},
    }  # fmt: skip
    try:
        wanted, typed, own = worklist_filter(request, identity)
        context.update(typed=typed, own=own)
        context["page"] = worklist(app, today, wanted, viewer=identity.name, after=after)
    except RuleViolation as refused:
        context.update(
            error=refused, typed={k: request.query_params.get(k, "") for k in FILTER_FIELDS}
        )
        return render(request, "home.html.j2", context, 400)
    if identity.role is Role.SUPERVISOR:
        context["staff"] = assignable_staff(app, identity.name)
    return render(request, "home.html.j2", context)


@router.get("/cases.csv")
def export(
    request: Request, view: Annotated[WebSessionView, Depends(page_roles(*CASE_ROLES))]
) -> Response:
    """The filtered worklist as CSV (UTF-8 with BOM, so that spreadsheet programs read the
    Chinese), at most ``EXPORT_MAX`` rows."""
    app = service(request)
    wanted, _typed, _own = worklist_filter(request, view.identity)
    page = worklist(
        app, app.settings.agency_today(), wanted, viewer=view.identity.name, limit=EXPORT_MAX
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["案件编号", "状态", "申请人", "证件号码", "收到日期", "答复期限", "剩余工作日", "承办人"]
    )
    for c in page.cases:
        writer.writerow([
            c.id, STATE_LABELS[c.state], spreadsheet_safe(c.applicant_name), c.id_masked,
            c.received_on.isoformat(), c.reply_due.isoformat() if c.reply_due else "",
            "" if c.working_days_left is None else c.working_days_left, c.assignee or "",
        ])  # fmt: skip
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cases.csv"'},
    )


@router.post("/cases/assign")
async def assign_cases(
    request: Request,
    view: Annotated[WebSessionView, Depends(page_roles(Role.SUPERVISOR))],
) -> Response:
    """Assign the ticked cases to one clerk (all or none), then back to the list."""
    form = await submitted_form(request)
    ids = [
        int(v)
        for v in form.getlist("case_ids")
        if isinstance(v, str) and v.isdigit() and len(v) < 11
    ]
    assignee = form.get("assignee")
    changed = assign(
        service(request), ids, assignee if isinstance(assignee, str) else "",
        actor=view.identity.name, via=view.identity.via,
    )  # fmt: skip
    back = _local(str(form.get("back") or "/"))
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}assigned={changed}", status_code=303)
