"""用户管理 (issue #10): what an administrator does to accounts, and only an administrator.

Adding a user, setting a password and locking reuse ``cases.add_user`` and ``services.auth``;
this module adds what they lack: the check that the acting user is an administrator (the
web route checks the role too), the rule that the platform always keeps an administrator
who can sign in, changing a user's role, name and agencies, and a line in the sign-in log
(``auth_events``) for every change, naming who made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure.errors import NotFound, PermissionDenied, RuleViolation
from disclosure.models.tables import User
from disclosure.services import auth, cases
from disclosure.services.audit import seal_user
from disclosure.services.auth import Channel
from disclosure.services.cases import agencies_named
from disclosure.services.unit_of_work import App
from disclosure.workflow.states import ROLE_LABELS, Role
from disclosure.workflow.text import clean_text, printable


@dataclass(frozen=True)
class Account:
    """A user as the administrator's list shows them (never the password or its hash)."""

    name: str
    display_name: str
    role: Role
    agencies: tuple[str, ...]
    all_agencies: bool
    locked: bool
    has_password: bool
    failed_sign_ins: int
    email: str | None


def record(
    session: Session, app: App, user_name: str, event: str, channel: Channel, *,
    remote: str = "", detail: str = "",
) -> None:  # fmt: skip
    """One row of the sign-in log, written as ``services.auth`` writes its own (in the
    caller's transaction)."""
    auth.log_event(session, app.now(), user_name, event, channel, remote, detail)


def parse_role(value: object) -> Role:
    """The role a form names, or RuleViolation (field ``role``) listing the choices."""
    try:
        return Role(value if isinstance(value, str) else "")
    except ValueError:
        options = "、".join(f"{r.value}（{ROLE_LABELS[r]}）" for r in Role)
        raise RuleViolation(
            "role", "one_of", f"角色“{printable(str(value))[:20]}”无效，可选：{options}"
        ) from None


# -- who may ------------------------------------------------------------------------------


def _admin(session: Session, actor: str) -> User:
    """The acting administrator; PermissionDenied for anyone else (or a locked account)."""
    user = cases.user_named(session, actor)
    if user is None or user.role != Role.ADMIN.value or user.locked_at is not None:
        raise PermissionDenied("role_not_allowed", "此功能仅限系统管理员使用")
    return user


def _check_admin(app: App, actor: str) -> None:
    with app.uow() as uow:
        _admin(uow.session, actor)


def _target(session: Session, name: str) -> User:
    user = cases.user_named(session, name)
    if user is None:
        raise NotFound("name", f"用户“{printable(str(name))[:40]}”不存在")
    return user


def _keep_an_admin(session: Session, target: User, field: str, doing: str) -> None:
    """Refuse to take ``target`` out of the administrators who can sign in when no other
    would be left. The administrators' rows are locked first (in id order, so that two
    administrators demoting each other at once queue rather than deadlock)."""
    admins = session.execute(
        select(User.id, User.locked_at, User.password_hash)
        .where(User.role == Role.ADMIN.value)
        .order_by(User.id)
        .with_for_update()
    ).all()
    others = [row for row in admins if row.id != target.id]
    if not any(row.locked_at is None and row.password_hash is not None for row in others):
        raise RuleViolation(
            field,
            "last_admin",
            f"{printable(target.name)}是唯一能登录的系统管理员，不能{doing}；请先新增另一位管理员",
        )


# -- reading ------------------------------------------------------------------------------


def _account(user: User) -> Account:
    return Account(
        user.name, user.display_name, Role(user.role),
        tuple(sorted(agency.code for agency in user.agencies)), user.all_agencies,
        user.locked_at is not None, user.password_hash is not None, user.failed_sign_ins,
        user.email,
    )  # fmt: skip


def accounts(app: App, *, actor: str) -> list[Account]:
    """Every user, by name."""
    with app.uow() as uow:
        _admin(uow.session, actor)
        users = uow.session.execute(select(User).order_by(User.name)).unique().scalars()
        return [_account(user) for user in users]


def account(app: App, name: str, *, actor: str) -> Account:
    with app.uow() as uow:
        _admin(uow.session, actor)
        return _account(_target(uow.session, name))


# -- changes ------------------------------------------------------------------------------


def _unique_codes(codes: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(code for code in codes if code))


def _scope_text(all_agencies: bool, codes: Sequence[str]) -> str:
    """Whom a user works for, as the log says it: ``county``, ``county+a,b``, ``a,b``, ``-``."""
    listed = ",".join(sorted(codes))
    if all_agencies:
        return f"county+{listed}" if listed else "county"
    return listed or "-"


def add_account(
    app: App, name: str, role: str, display_name: str, *, agencies: Sequence[str],
    all_agencies: bool, password: str, actor: str, channel: Channel, remote: str = "",
) -> None:  # fmt: skip
    """Add a user with an initial password (``cases.add_user`` checks every field).

    Raises:
        PermissionDenied: ``actor`` is not an administrator.
        RuleViolation: a field is wrong; an unknown agency is refused on field ``agencies``.
    """
    _check_admin(app, actor)
    try:
        cases.add_user(
            app, name, role, display_name, agencies=_unique_codes(agencies) or None,
            all_agencies=all_agencies, password=password,
        )  # fmt: skip
    except NotFound as unknown:  # an agency code no agency has
        raise RuleViolation("agencies", "unknown", unknown.message) from None
    with app.uow() as uow:
        scope = _scope_text(all_agencies, _unique_codes(agencies))
        detail = f"{role} {scope} by {actor}"
        record(uow.session, app, name, "user_added", channel, remote=remote, detail=detail)
        uow.commit()


@dataclass(frozen=True)
class Changed:
    """What ``change_account`` changed (nothing, if the form was sent back unchanged)."""

    role: tuple[Role, Role] | None = None
    display_name: bool = False
    agencies: bool = False

    def __bool__(self) -> bool:
        return self.role is not None or self.display_name or self.agencies


def change_account(
    app: App, name: str, *, role: str, display_name: str, agencies: Sequence[str],
    all_agencies: bool, actor: str, channel: Channel, remote: str = "",
) -> Changed:  # fmt: skip
    """Set a user's role, display name and agencies (in one transaction). A changed role
    applies from the user's next request; their sessions stay open.

    Raises:
        PermissionDenied: ``actor`` is not an administrator.
        NotFound: no such user.
        RuleViolation: a field is wrong, a clerk is made a county user, or the change would
            leave no administrator who can sign in.
    """
    new_role = parse_role(role)
    shown = clean_text(display_name, "display_name", "姓名", 60, required=True)
    if all_agencies and new_role is Role.CLERK:
        raise RuleViolation("all_agencies", "role", "经办人不能是县级（全部机关）用户")
    codes = _unique_codes(agencies)
    with app.uow() as uow:
        session = uow.session
        _admin(session, actor)
        user = _target(session, name)
        old_role = Role(user.role)
        if old_role is Role.ADMIN and new_role is not Role.ADMIN:
            _keep_an_admin(session, user, "role", "改为其他角色")
        try:
            chosen = agencies_named(session, codes, all_agencies)
        except NotFound as unknown:
            raise RuleViolation("agencies", "unknown", unknown.message) from None
        before = _scope_text(user.all_agencies, [a.code for a in user.agencies])
        after = _scope_text(all_agencies, [a.code for a in chosen])
        changed = Changed(
            role=(old_role, new_role) if new_role is not old_role else None,
            display_name=shown != user.display_name,
            agencies=before != after,
        )

        def log(event: str, what: str = "") -> None:
            detail = f"{what} by {actor}".lstrip()
            record(session, app, name, event, channel, remote=remote, detail=detail)

        if changed.role is not None:
            user.role = new_role.value
            log("role_changed", f"{old_role.value} → {new_role.value}")
        if changed.display_name:
            user.display_name = shown
            log("name_changed")
        if changed.agencies:
            user.agencies, user.all_agencies = chosen, all_agencies
            log("agencies_changed", f"{before} → {after}")
        seal_user(user, app.settings.audit_keys)
        uow.commit()
        return changed


def reset_password(app: App, name: str, password: str, *, actor: str, channel: Channel) -> None:
    """Set a new password that the administrator typed; the user's web sessions end and the
    sign-in log names the administrator (``auth.set_password``)."""
    _check_admin(app, actor)
    auth.set_password(app, name, password, by=actor, channel=channel)


def lock_account(app: App, name: str, *, actor: str, channel: Channel) -> None:
    """Lock an account (its sessions end at once). An administrator cannot lock themselves,
    nor the last administrator who can sign in."""
    with app.uow() as uow:
        session = uow.session
        me = _admin(session, actor)
        user = _target(session, name)
        if user.id == me.id:
            raise RuleViolation("lock", "self", "不能锁定自己的账户，请由另一位系统管理员操作")
        if user.role == Role.ADMIN.value:
            _keep_an_admin(session, user, "lock", "锁定")
    auth.lock(app, name, by=actor, channel=channel)


def unlock_account(app: App, name: str, *, actor: str, channel: Channel) -> None:
    """Unlock an account, also one locked by failed sign-ins."""
    with app.uow() as uow:
        _admin(uow.session, actor)
        _target(uow.session, name)
    auth.unlock(app, name, by=actor, channel=channel)
