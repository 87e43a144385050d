"""``create_app(service)``: the FastAPI application of the web workbench and the HTTP API.

Errors never reach the user as a traceback: a ``DisclosureError`` becomes a page with the
message (or, under ``/api/``, ``{"error": rule, "field": …, "message": …}``) and the status
that says what went wrong; anything unexpected is logged without its data and answered 500
with a plain message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException as StarletteHTTPException

from disclosure.errors import (
    ConflictError,
    DatabaseBusy,
    DatabaseUnavailable,
    DisclosureError,
    NotFound,
    NotSignedIn,
    PermissionDenied,
    TransitionNotAllowed,
)
from disclosure.services.auth import CHANNEL_LABELS
from disclosure.services.unit_of_work import App
from disclosure.web.auth import SignInRequired, TooManyAttempts
from disclosure.workflow.states import ROLE_LABELS, STATE_LABELS
from disclosure.workflow.text import printable
from disclosure.workflow.triggers import TRIGGERS

_log = logging.getLogger(__name__)
_HERE = Path(__file__).resolve().parent
API_PREFIX = "/api/v1"


def status_of(error: DisclosureError) -> int:
    """The HTTP status that says what ``error`` means."""
    if isinstance(error, NotSignedIn):
        return 401
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, ConflictError | TransitionNotAllowed):
        return 409
    if isinstance(error, DatabaseBusy | DatabaseUnavailable):
        return 503
    if isinstance(error, TooManyAttempts):
        return 429
    return 400


def _local_time(zone: ZoneInfo) -> Callable[[datetime], str]:
    def local(moment: datetime) -> str:
        """A stored instant in the agency's time zone (SQLite hands back naive UTC)."""
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return local


def templates(zone: ZoneInfo) -> Jinja2Templates:
    """Jinja2 with autoescaping on for every template (``.html.j2`` is not an extension
    Jinja's default ``select_autoescape`` would escape)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = _local_time(zone)
    env.globals.update(
        STATE_LABELS=STATE_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        trigger_labels={"register": "登记申请", **{t.name: t.label for t in TRIGGERS}},
        channel_names=CHANNEL_LABELS,
    )
    return Jinja2Templates(env=env)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def create_app(service: App, *, with_scheduler: bool = False) -> FastAPI:
    """The web application on ``service`` (its settings, database and clock); with
    ``with_scheduler`` the time-limit scan runs in this process while the app is up."""
    from disclosure.web.routes import (
        admin,
        alerts,
        api,
        approvals,
        audit,
        calculator,
        cases,
        notifications,
        pages,
        reports,
    )

    @asynccontextmanager
    async def lifespan(_web: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if with_scheduler:
            from disclosure.scheduler import start_in_background

            scheduler = start_in_background(service)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)

    web = FastAPI(
        title="disclosure 政府信息依申请公开",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    web.state.service = service
    web.state.templates = templates(ZoneInfo(service.settings.agency_timezone))
    # Sign-in attempts per client address and minute, in this process (the per-account
    # lock-out in the database holds across processes).
    web.state.sign_in_limiter = MovingWindowRateLimiter(MemoryStorage())
    web.state.sign_in_rate = RateLimitItemPerMinute(service.settings.sign_in_attempts_per_minute)
    web.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    web.include_router(pages.router)
    web.include_router(cases.router)
    web.include_router(audit.router)
    web.include_router(approvals.router)
    web.include_router(alerts.router)
    web.include_router(calculator.router)
    web.include_router(reports.router)
    web.include_router(notifications.router)
    web.include_router(admin.router)
    web.include_router(api.router, prefix=API_PREFIX)

    @web.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("HX-Request"):  # htmx: reload the whole page to sign in
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    @web.exception_handler(DisclosureError)
    async def _disclosure_error(request: Request, exc: DisclosureError) -> Response:
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 and _wants_json(request) else None
        if _wants_json(request):
            return JSONResponse(exc.as_dict(), status_code=status, headers=headers)
        return error_page(request, status, exc.message)

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        body = validation_body(exc.errors())
        if _wants_json(request):
            return JSONResponse(body, status_code=422)
        return error_page(request, 422, str(body["message"]))

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "页面不存在", 405: "不支持此请求方法"}.get(exc.status_code, "请求有误")
        if _wants_json(request):
            rule = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
            return JSONResponse(
                {"error": rule, "field": None, "message": message},
                status_code=exc.status_code,
                headers=exc.headers,
            )
        return error_page(request, exc.status_code, message)

    @web.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The type only: an exception's text may repeat personal data from the request.
        _log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        message = "系统内部错误，已记录，请稍后重试或联系管理员"
        if _wants_json(request):
            return JSONResponse(
                {"error": "internal", "field": None, "message": message}, status_code=500
            )
        return error_page(request, 500, message)

    return web


def validation_body(errors: Any) -> dict[str, str | None]:
    """FastAPI's validation errors as our error body (the first one, in Chinese)."""
    first = errors[0] if errors else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    kind = str(first.get("type", "invalid"))
    rule = {"missing": "required", "extra_forbidden": "unknown_field"}.get(kind, "invalid")
    shown = printable(field or "请求")
    message = {
        "required": f"缺少必填项“{shown}”",
        "unknown_field": f"不接受字段“{shown}”",
    }.get(rule, f"“{shown}”的格式不正确")
    return {"error": rule, "field": field, "message": message}


def error_page(request: Request, status: int, message: str) -> Response:
    tpl: Jinja2Templates = request.app.state.templates
    return tpl.TemplateResponse(
        request, "error.html.j2", {"status": status, "message": message}, status_code=status
    )
