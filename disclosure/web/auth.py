"""Who is asking: the session cookie (pages), the bearer token (API), CSRF and role checks.

Every check here runs on the server, as a FastAPI dependency of the route; the services
check the actor's role and agency again (defence in depth). A page never takes a user name
from the request: the signed-in session says who acts.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from disclosure.errors import DisclosureError, NotSignedIn, PermissionDenied
from disclosure.services import auth
from disclosure.services.auth import Identity, WebSessionView
from disclosure.services.unit_of_work import App
from disclosure.workflow.states import ROLE_LABELS, Role

SESSION_COOKIE = "disclosure_session"
#: Before sign-in there is no session to hold a form token: the sign-in form's token is
#: this cookie's value (double submit), so another site cannot sign a browser in.
LOGIN_CSRF_COOKIE = "disclosure_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """A page asked for without a live session: the browser is sent to the sign-in page."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class CsrfRejected(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("csrf", "表单已失效（缺少或不符的防伪令牌），请刷新页面后重试")


class TooManyAttempts(DisclosureError):
    rule = "rate_limited"

    def __init__(self) -> None:
        super().__init__("登录尝试过于频繁，请一分钟后再试")


def limit_sign_ins(request: Request) -> None:
    """Count a sign-in attempt from the client's address; refuse past the rate."""
    state = request.app.state
    if not state.sign_in_limiter.hit(state.sign_in_rate, "sign_in", remote_of(request)):
        raise TooManyAttempts()


def service(request: Request) -> App:
    app: App = request.app.state.service
    return app


def remote_of(request: Request) -> str:
    return request.client.host if request.client else ""


def page_session(request: Request) -> WebSessionView:
    """The signed-in session of a page request, or the sign-in page."""
    view = auth.session_of(service(request), request.cookies.get(SESSION_COOKIE))
    if view is None:
        raise SignInRequired(request.url.path)
    request.state.session = view
    return view


async def submitted_form(request: Request) -> FormData:
    """The submitted form (read once; Starlette keeps it for the route)."""
    return await request.form(max_fields=200, max_part_size=256 * 1024)


async def checked_session(
    request: Request, view: Annotated[WebSessionView, Depends(page_session)]
) -> WebSessionView:
    """``page_session``, and for a form post its CSRF token (header or form field)."""
    if request.method not in _SAFE_METHODS:
        token: object = request.headers.get(CSRF_HEADER)
        form = None
        if token is None:
            form = await submitted_form(request)
            token = form.get(CSRF_FIELD)
        if not isinstance(token, str) or not secrets.compare_digest(
            token.encode(), view.csrf_token.encode()
        ):
            if form is not None:
                await form.close()  # an uploaded file's temporary copy goes too
            raise CsrfRejected()
    return view


Session = Annotated[WebSessionView, Depends(checked_session)]


def page_roles(*allowed: Role) -> Callable[..., Awaitable[WebSessionView]]:
    """A dependency: the signed-in session, if its user has one of ``allowed`` roles."""

    async def check(view: Session) -> WebSessionView:
        require(view.identity, allowed)
        return view

    return check


def require(identity: Identity, allowed: tuple[Role, ...]) -> None:
    if identity.role not in allowed:
        names = "、".join(ROLE_LABELS[role] for role in allowed)
        raise PermissionDenied("role_not_allowed", f"此功能仅限{names}使用")


def api_identity(request: Request) -> Identity:
    """The owner of the request's bearer token (``Authorization: Bearer dsc_…``)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotSignedIn(
            "缺少接口令牌：请在请求头 Authorization: Bearer … 中提供", "invalid_token"
        )
    return auth.token_identity(service(request), token.strip())


def api_roles(*allowed: Role) -> Callable[..., Identity]:
    def check(identity: Annotated[Identity, Depends(api_identity)]) -> Identity:
        require(identity, allowed)
        return identity

    return check


def new_login_token() -> str:
    return secrets.token_urlsafe(32)
