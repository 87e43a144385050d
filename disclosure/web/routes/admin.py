"""用户管理 (administrators, issue #10): the users, adding one, and for each user their role,
name and agencies, a new password, lock and unlock.

Plain forms that work without JavaScript: a post that succeeds answers 303 back to its page
with a notice named in the query string; one that is refused shows the page again with the
message next to its field and what was typed (passwords excepted), status 400. The route
checks the role (``page_roles``) and the form token; ``services.users`` checks again.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from disclosure.errors import PermissionDenied, RuleViolation
from disclosure.services import users
from disclosure.services.agencies import list_agencies
from disclosure.services.auth import Channel, WebSessionView
from disclosure.services.unit_of_work import App
from disclosure.web.auth import page_roles, remote_of, service, submitted_form
from disclosure.web.routes.pages import render
from disclosure.workflow.states import Role

router = APIRouter(include_in_schema=False)

Admin = Annotated[WebSessionView, Depends(page_roles(Role.ADMIN))]
_NAME = r"^[A-Za-z0-9_.\-]{1,40}$"
UserName = Annotated[str, Path(max_length=40, pattern=_NAME)]

#: The notices a redirect may ask for (``?done=…``): fixed texts, never text from the URL
#: but the user name, which must look like one.
_NOTICES = {
    "added": "已新增用户{name}。",
    "changed": "已保存{name}的角色、姓名和所属机关。",
    "unchanged": "没有修改需要保存。",
    "password": "已为{name}设置新密码，其已登录的会话均已结束。",
    "locked": "已锁定{name}，其已登录的会话均已结束。",
    "unlocked": "已解除{name}的锁定。",
}


def _notice(done: str | None, name: str | None) -> str | None:
    template = _NOTICES.get(done or "")
    if template is None:
        return None
    shown = name if name and re.fullmatch(_NAME, name) else ""
    return template.format(name=f"“{shown}”" if shown else "")


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _account_fields(form: FormData) -> dict[str, Any]:
    """The fields an account form shares, as typed."""
    return {
        "display_name": _text(form, "display_name"),
        "role": _text(form, "role"),
        "agencies": [v for v in form.getlist("agencies") if isinstance(v, str)],
        "all_agencies": _text(form, "all_agencies") in ("1", "on"),
    }


def _password(form: FormData) -> str:
    """The new password, if typed the same twice (the check the CLI's prompt makes)."""
    password = _text(form, "password")
    if password and password != _text(form, "password_again"):
        raise RuleViolation("password_again", "mismatch", "两次输入的密码不一致")
    return password


def _agencies(app: App) -> dict[str, str]:
    return {view.profile.code: view.profile.name for view in list_agencies(app)}


# -- the list and adding a user -----------------------------------------------------------


def _list_page(
    request: Request, session: WebSessionView, *, values: dict[str, Any] | None = None,
    error: RuleViolation | None = None, status: int = 200, notice: str | None = None,
) -> Response:  # fmt: skip
    app = service(request)
    agencies = _agencies(app)
    blank = {
        "name": "", "display_name": "", "role": Role.CLERK.value,
        "agencies": list(agencies) if len(agencies) == 1 else [], "all_agencies": False,
    }  # fmt: skip
    return render(
        request,
        "admin.html.j2",
        {
            "session": session,
            "accounts": users.accounts(app, actor=session.identity.name),
            "agencies": agencies,
            "values": values or blank,
            "error": error,
            "notice": notice,
        },
        status,
    )


@router.get("/admin")
def users_page(
    request: Request,
    session: Admin,
    done: Annotated[str | None, Query(max_length=20)] = None,
    user: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Every user with role, agencies, lock and password state, and the form to add one."""
    return _list_page(request, session, notice=_notice(done, user))


@router.post("/admin/users")
async def add_user(request: Request, session: Admin) -> Response:
    form = await submitted_form(request)
    values = {"name": _text(form, "name").strip(), **_account_fields(form)}
    app = service(request)
    try:
        users.add_account(
            app, values["name"], values["role"], values["display_name"],
            agencies=values["agencies"], all_agencies=values["all_agencies"],
            password=_password(form), actor=session.identity.name, channel=Channel.WEB,
            remote=remote_of(request),
        )  # fmt: skip
    except PermissionDenied:
        raise
    except RuleViolation as refused:
        return _list_page(request, session, values=values, error=refused, status=400)
    return RedirectResponse(f"/admin?done=added&user={values['name']}", status_code=303)


# -- one user -----------------------------------------------------------------------------


def _user_page(
    request: Request, session: WebSessionView, name: str, *, form: str | None = None,
    values: dict[str, Any] | None = None, error: RuleViolation | None = None,
    status: int = 200, notice: str | None = None,
) -> Response:  # fmt: skip
    """The user's page; ``form`` names the form the error (and ``values``) belong to."""
    app = service(request)
    account = users.account(app, name, actor=session.identity.name)
    current = {
        "display_name": account.display_name,
        "role": account.role.value,
        "agencies": list(account.agencies),
        "all_agencies": account.all_agencies,
    }
    return render(
        request,
        "admin_user.html.j2",
        {
            "session": session,
            "account": account,
            "agencies": _agencies(app),
            "values": values if form == "edit" and values is not None else current,
            "form": form,
            "error": error,
            "notice": notice,
            "myself": account.name == session.identity.name,
        },
        status,
    )


@router.get("/admin/users/{name}")
def user_page(
    request: Request,
    session: Admin,
    name: UserName,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _user_page(request, session, name, notice=_notice(done, name))


@router.post("/admin/users/{name}")
async def change_user(request: Request, session: Admin, name: UserName) -> Response:
    """Role, display name and agencies, together."""
    form = await submitted_form(request)
    values = _account_fields(form)
    try:
        changed = users.change_account(
            service(request), name, role=values["role"], display_name=values["display_name"],
            agencies=values["agencies"], all_agencies=values["all_agencies"],
            actor=session.identity.name, channel=Channel.WEB, remote=remote_of(request),
        )  # fmt: skip
    except PermissionDenied:
        raise
    except RuleViolation as refused:
        return _user_page(
            request, session, name, form="edit", values=values, error=refused, status=400
        )
    done = "changed" if changed else "unchanged"
    return RedirectResponse(f"/admin/users/{name}?done={done}", status_code=303)


@router.post("/admin/users/{name}/password")
async def reset_password(request: Request, session: Admin, name: UserName) -> Response:
    """A new password the administrator typed; the user's sessions end."""
    form = await submitted_form(request)
    try:
        users.reset_password(
            service(request), name, _password(form), actor=session.identity.name,
            channel=Channel.WEB,
        )  # fmt: skip
    except PermissionDenied:
        raise
    except RuleViolation as refused:
        return _user_page(request, session, name, form="password", error=refused, status=400)
    return RedirectResponse(f"/admin/users/{name}?done=password", status_code=303)


@router.post("/admin/users/{name}/lock")
async def lock_user(request: Request, session: Admin, name: UserName) -> Response:
    try:
        users.lock_account(service(request), name, actor=session.identity.name, channel=Channel.WEB)
    except PermissionDenied:
        raise
    except RuleViolation as refused:
        return _user_page(request, session, name, form="lock", error=refused, status=400)
    return RedirectResponse(f"/admin/users/{name}?done=locked", status_code=303)


@router.post("/admin/users/{name}/unlock")
async def unlock_user(request: Request, session: Admin, name: UserName) -> Response:
    users.unlock_account(service(request), name, actor=session.identity.name, channel=Channel.WEB)
    return RedirectResponse(f"/admin/users/{name}?done=unlocked", status_code=303)
