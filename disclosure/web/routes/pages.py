"""Sign-in, sign-out and the home page (我的待办)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from disclosure.errors import NotSignedIn
from disclosure.services import alerts, auth, cases
from disclosure.services.auth import WebSessionView
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
from disclosure.workflow.states import Role, State

router = APIRouter(include_in_schema=False)

CASE_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR)
PAGE_SIZE = 50


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page; for a signed-in case worker with the count of their open alerts in the header."""
    session = context.get("session")
    if isinstance(session, WebSessionView) and session.identity.role in CASE_ROLES:
        app = service(request)
        listed = alerts.alert_list(app, app.settings.agency_today(), user=session.identity.name)
        context = {**context, "alert_count": len(listed.rows)}
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


@router.get("/")
def home(
    request: Request,
    view: Annotated[WebSessionView, Depends(page_roles(*Role))],
    state: Annotated[str | None, Query(max_length=30)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    identity = view.identity
    if identity.role is Role.ADMIN:
        users = cases.list_users(service(request))
        return render(request, "admin.html.j2", {"session": view, "users": users})
    app = service(request)
    today = app.settings.agency_today()
    chosen = state or None
    listed = cases.list_cases(
        app, today, state=chosen, viewer=identity.name,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    total = cases.count_cases(app, today, state=chosen, viewer=identity.name)
    return render(
        request,
        "home.html.j2",
        {
            "session": view,
            "cases": listed,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "state": chosen,
            "states": list(State),
            "today": today,
            "approaching": app.settings.approaching_days,
        },
    )
