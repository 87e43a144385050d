"""Case pages: register an application, a case with its limits, actions, letters and trail."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from disclosure.errors import (
    ConflictError,
    DisclosureError,
    NotFound,
    RuleViolation,
    TransitionNotAllowed,
)
from disclosure.services import cases
from disclosure.services import letters as letter_service
from disclosure.services.auth import Identity, WebSessionView
from disclosure.services.unit_of_work import App
from disclosure.services.worklist import assignable_staff
from disclosure.web.auth import page_roles, service, submitted_form
from disclosure.web.forms import FormField, form_data, form_fields
from disclosure.web.routes.pages import CASE_ROLES, render
from disclosure.workflow.application import (
    APPLICANT_KIND_LABELS,
    CHANNEL_LABELS,
    DELIVERY_FORM_LABELS,
    DELIVERY_METHOD_LABELS,
    FIELD_LABELS,
    ID_TYPE_LABELS,
    parse_date,
)
from disclosure.workflow.machine import available_triggers
from disclosure.workflow.states import Role, State
from disclosure.workflow.triggers import TRIGGERS_BY_NAME, Trigger, parse_input

router = APIRouter(include_in_schema=False)

CaseNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
Viewer = Annotated[WebSessionView, Depends(page_roles(*CASE_ROLES))]
Registrar = Annotated[WebSessionView, Depends(page_roles(Role.CLERK, Role.SUPERVISOR))]
Actor = Annotated[WebSessionView, Depends(page_roles(Role.CLERK, Role.SUPERVISOR))]

#: The registration form's choices, field by field.
REGISTRATION_CHOICES: dict[str, dict[str, str]] = {
    "applicant_kind": {k.value: v for k, v in APPLICANT_KIND_LABELS.items()},
    "id_type": {k.value: v for k, v in ID_TYPE_LABELS.items()},
    "channel": {k.value: v for k, v in CHANNEL_LABELS.items()},
    "delivery_form": {k.value: v for k, v in DELIVERY_FORM_LABELS.items()},
    "delivery_method": {k.value: v for k, v in DELIVERY_METHOD_LABELS.items()},
}
REGISTRATION_FIELDS = tuple(FIELD_LABELS)
DRAFT_STATES = frozenset({State.REPLY_DRAFTED, State.REPLY_APPROVED})


def _actions(identity: Identity, view: cases.CaseView) -> list[Trigger]:
    """The triggers this user may fire on the case now: its state accepts them and the
    user's role may fire them (the service checks both again)."""
    return [
        TRIGGERS_BY_NAME[name]
        for name in available_triggers(view.state)
        if identity.role in TRIGGERS_BY_NAME[name].roles
    ]


def _case_page(
    request: Request,
    session: WebSessionView,
    case_id: int,
    *,
    open_action: str | None = None,
    values: dict[str, Any] | None = None,
    error: DisclosureError | None = None,
    status: int = 200,
) -> Response:
    app = service(request)
    identity = session.identity
    view = cases.get_case(app, case_id, viewer=identity.name)
    letters = letter_service.case_letters(app, case_id)
    actions = _actions(identity, view)
    stale = None
    if open_action is not None and open_action not in {t.name for t in actions}:
        # The case moved on (another clerk acted): the form comes back as typed, marked as
        # no longer possible, so nothing typed is lost.
        stale = TRIGGERS_BY_NAME.get(open_action)
    return render(
        request,
        "case.html.j2",
        {
            "session": session,
            "case": view,
            "letters": letters,
            "actions": [(t, form_fields(t.input)) for t in (*actions, *([stale] if stale else []))],
            "stale": stale.name if stale else None,
            "open_action": open_action,
            "values": values or {},
            "error": error,
            "today": app.settings.agency_today(),
            "trail": [(entry, json.loads(entry.payload)) for entry in view.trail],
            "channel_labels": CHANNEL_LABELS,
            "has_draft": view.state in DRAFT_STATES,
            "staff": assignable_staff(app, identity.name)
            if identity.role is Role.SUPERVISOR
            else [],
        },
        status,
    )


@router.get("/cases/new")
def registration_form(request: Request, session: Registrar) -> Response:
    today = service(request).settings.agency_today()
    return _registration_page(request, session, {"received_on": today.isoformat()})


def _registration_page(
    request: Request,
    session: WebSessionView,
    values: dict[str, Any],
    error: DisclosureError | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "register.html.j2",
        {
            "session": session,
            "values": values,
            "error": error,
            "labels": FIELD_LABELS,
            "choices": REGISTRATION_CHOICES,
        },
        status,
    )


@router.post("/cases")
async def register(request: Request, session: Registrar) -> Response:
    form = await submitted_form(request)
    values = {name: str(form.get(name) or "") for name in REGISTRATION_FIELDS}
    data = {name: value for name, value in values.items() if value.strip()}
    app = service(request)
    try:
        case_id = cases.register(
            app, data, session.identity.name, app.settings.agency_today(),
            via=session.identity.via,
        )  # fmt: skip
    except RuleViolation as refused:
        return _registration_page(request, session, values, refused, 400)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/cases/{case_id}")
def case_page(request: Request, session: Viewer, case_id: CaseNumber) -> Response:
    return _case_page(request, session, case_id)


def _business_date(form: Any, today: date) -> date:
    given = form.get("on")
    if not isinstance(given, str) or not given.strip():
        return today
    return parse_date(given.strip(), "on")


@router.post("/cases/{case_id}/actions/{trigger}")
async def act(
    request: Request,
    session: Actor,
    case_id: CaseNumber,
    trigger: Annotated[str, Path(max_length=40, pattern=r"^[a-z_]+$")],
) -> Response:
    """Fire ``trigger``; on a refusal the case page comes back with the form as typed and
    the message next to its field."""
    form = await submitted_form(request)
    spec = TRIGGERS_BY_NAME.get(trigger)
    if spec is None:
        raise RuleViolation("trigger", "one_of", f"没有“{trigger}”这一操作")
    values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    app = service(request)
    today = app.settings.agency_today()
    expected = values.get("expected_version", "")
    try:
        command = parse_input(trigger, form_data(spec.input, form))
        cases.act(
            app, case_id, command, actor=session.identity.name, on=_business_date(form, today),
            today=today,
            expected_version=int(expected) if expected.isdigit() else None,
            via=session.identity.via,
        )  # fmt: skip
    except (ConflictError, TransitionNotAllowed) as lost:
        return _case_page(
            request, session, case_id, open_action=trigger, values=values, error=lost, status=409
        )
    except RuleViolation as refused:
        return _case_page(
            request, session, case_id, open_action=trigger, values=values, error=refused,
            status=403 if refused.rule == "role_not_allowed" else 400,
        )  # fmt: skip
    return RedirectResponse(f"/cases/{case_id}#trail", status_code=303)


_MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}


@router.get("/cases/{case_id}/letters/{kind}.{fmt}")
def letter_file(
    request: Request,
    session: Viewer,
    case_id: CaseNumber,
    kind: Annotated[str, Path(max_length=40, pattern=r"^[a-z_0-9]+$")],
    fmt: Annotated[str, Path(pattern=r"^(pdf|docx|html)$")],
) -> Response:
    return letter_response(service(request), session.identity, case_id, kind, fmt)


def letter_response(app: App, identity: Identity, case_id: int, kind: str, fmt: str) -> Response:
    """One issued letter as PDF, DOCX or the stored HTML (the agency check comes first)."""
    cases.get_case(app, case_id, viewer=identity.name)
    letter = letter_service.letter_of(app, case_id, kind)
    body = letter_service.printed(letter, fmt)
    headers = {"X-Content-Type-Options": "nosniff"}
    if fmt != "html":
        filename = f"case-{case_id}-{kind}.{fmt}"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        headers.update(_LOCKED_DOWN)
    return Response(body, media_type=_MEDIA[fmt], headers=headers)


#: A stored letter runs no script and loads nothing from elsewhere; it may be framed only by
#: this site's own case page.
_LOCKED_DOWN = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
}


@router.get("/cases/{case_id}/draft.html")
def draft(request: Request, session: Viewer, case_id: CaseNumber) -> Response:
    """The drafted reply awaiting approval, as it will print (without its 文号)."""
    app = service(request)
    cases.get_case(app, case_id, viewer=session.identity.name)
    html = letter_service.draft_html(app, case_id)
    if html is None:
        raise NotFound("case", f"案件{case_id}没有待审核的答复草稿")
    return Response(html, media_type=_MEDIA["html"], headers=_LOCKED_DOWN)


def field_error(error: DisclosureError | None, spec: FormField) -> str | None:
    """The message to show next to ``spec``, if the error names it."""
    if error is not None and error.field == spec.name:
        return error.message
    return None
