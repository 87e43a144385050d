"""Who is acting: passwords, web sessions, API tokens and the sign-in log (issue #10).

The web application and the HTTP API never take a user name from the request: they take a
session cookie or a bearer token, and this module says whose it is. Secrets are kept only
as hashes (argon2id for passwords, SHA-256 for the random session and API tokens, which
carry 256 bits and need no slow hash), so a copy of the database signs nobody in.

Passwords are checked by an ``AuthBackend``; the local one compares the argon2id hash in
``users``. A directory (LDAP) or an OIDC provider can be added as another backend: the
account itself (role, agencies, lock) stays in ``users`` whatever checks the password.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from disclosure.errors import NotFound, NotSignedIn, RuleViolation
from disclosure.models.tables import ApiToken, AuthEvent, User, WebSession
from disclosure.services.unit_of_work import App
from disclosure.workflow.states import Role
from disclosure.workflow.text import clean_text, forbidden_character, printable

#: Consecutive failed sign-ins after which the account locks until an administrator unlocks.
MAX_FAILED_SIGN_INS = 5
PASSWORD_MIN = 10
#: argon2 hashes whatever it is given; a bound keeps a 1 MB "password" from costing seconds.
PASSWORD_MAX = 128
#: A session's last-seen time is written at most this often (not on every request).
_TOUCH_EVERY = timedelta(seconds=60)
API_TOKEN_PREFIX = "dsc_"

_HASHER = PasswordHash((Argon2Hasher(),))
#: Verified against when the account does not exist, so that a wrong name takes as long as
#: a wrong password and the timing tells no one which names exist. Made on first use: a
#: hash costs as much as a sign-in, and most CLI commands never check a password.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("no such account: timing only")
    return _DUMMY_HASH


class Channel(StrEnum):
    """Where a change came from, recorded with it in the trail."""

    WEB = "web"
    API = "api"
    CLI = "cli"


CHANNEL_LABELS = {Channel.WEB: "网页", Channel.API: "接口令牌", Channel.CLI: "命令行"}


@dataclass(frozen=True)
class Via:
    """The channel of a change and, for the CLI, the operating-system user who ran it."""

    channel: Channel
    os_user: str | None = None

    def record(self) -> dict[str, str]:
        """What the audit payload keeps of it."""
        recorded = {"channel": self.channel.value}
        if self.os_user:
            recorded["os_user"] = self.os_user
        return recorded


@dataclass(frozen=True)
class Identity:
    """A signed-in user, as the web layer sees them."""

    name: str
    display_name: str
    role: Role
    agencies: tuple[str, ...]
    all_agencies: bool
    channel: Channel
    #: The short names of ``agencies``, in the same order (what the page header shows).
    agency_names: tuple[str, ...] = ()

    @property
    def via(self) -> Via:
        return Via(self.channel)


@dataclass(frozen=True)
class SignedIn:
    """A new web session: the cookie value (shown once, never stored) and its form token."""

    token: str
    csrf_token: str
    identity: Identity


class AuthBackend(Protocol):
    """Checks a password for an account that exists in ``users``."""

    def check(self, user: User, password: str) -> bool: ...


class LocalPasswords:
    """The argon2id hash in ``users.password_hash``; rehashed when the parameters change."""

    def __init__(self, store: Callable[[User, str], None]) -> None:
        self._store = store

    def check(self, user: User, password: str) -> bool:
        if user.password_hash is None:
            _HASHER.verify(password, _dummy_hash())
            return False
        valid, new_hash = _HASHER.verify_and_update(password, user.password_hash)
        if valid and new_hash is not None:
            self._store(user, new_hash)
        return valid


def _store_hash(user: User, new_hash: str) -> None:
    user.password_hash = new_hash


LOCAL = LocalPasswords(_store_hash)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _typed_name(name: object) -> str:
    """The account name as typed, made safe to keep in the log (never refused)."""
    text = printable(name if isinstance(name, str) else "")
    return text.strip()[:40]


def log_event(
    session: Session, at: datetime, user_name: str, event: str, channel: Channel,
    remote: str = "", detail: str = "",
) -> None:  # fmt: skip
    session.add(
        AuthEvent(
            at=at,
            user_name=user_name,
            event=event,
            channel=channel.value,
            remote=remote[:45],
            detail=detail[:200],
        )  # fmt: skip
    )


def _identity(user: User, channel: Channel) -> Identity:
    agencies = sorted(user.agencies, key=lambda agency: agency.code)
    return Identity(
        user.name,
        user.display_name,
        Role(user.role),
        tuple(agency.code for agency in agencies),
        user.all_agencies,
        channel,
        tuple(agency.short_name for agency in agencies),
    )


#: What ``cases.add_user`` accepts: any other name is no user and never reaches the driver.
_USER_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,40}")


def _user(session: Session, name: object) -> User | None:
    if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
        return None
    return session.scalars(select(User).where(User.name == name)).unique().one_or_none()


# -- passwords ---------------------------------------------------------------------------


def check_password_rules(password: object, user_name: str) -> str:
    """The password if it may be set, else RuleViolation naming the rule."""
    if not isinstance(password, str) or not password:
        raise RuleViolation("password", "required", "请输入密码")
    if len(password) < PASSWORD_MIN:
        raise RuleViolation("password", "min_length", f"密码至少{PASSWORD_MIN}个字符")
    if len(password) > PASSWORD_MAX:
        raise RuleViolation("password", "max_length", f"密码最多{PASSWORD_MAX}个字符")
    if password.strip().lower() == user_name.lower():
        raise RuleViolation("password", "same_as_name", "密码不能与用户名相同")
    if any(forbidden_character(ch) is not None for ch in password):
        raise RuleViolation("password", "control_character", "密码不能包含控制字符")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def set_password(app: App, name: str, password: str, *, by: str, channel: Channel) -> None:
    """Set (or reset) a user's password; ends their web sessions. Unlocks nothing."""
    check_password_rules(password, name)
    with app.uow() as uow:
        session = uow.session
        user = _required(session, name)
        user.password_hash = hash_password(password)
        _end_sessions(session, user.id, app.now())
        log_event(session, app.now(), name, "password_set", channel, detail=f"by {by}")
        uow.commit()


def has_users(app: App) -> bool:
    """Whether anyone can sign in at all (a database made by ``db upgrade`` alone has no user)."""
    with app.uow() as uow:
        count = uow.session.scalar(
            select(func.count()).select_from(User).where(User.password_hash.is_not(None))
        )
    return bool(count)


# -- web sessions ------------------------------------------------------------------------


_BAD_CREDENTIALS = "用户名或密码错误"


def sign_in(
    app: App, name: object, password: object, *, remote: str = "",
    backend: AuthBackend = LOCAL,
) -> SignedIn:  # fmt: skip
    """Check the password and open a web session.

    Raises:
        NotSignedIn: rule ``bad_credentials`` (wrong name or password: the message does not
            say which), or ``account_locked`` (the password was right but the account is
            locked; only then is the lock told, so that locks reveal no account names).
    """
    typed = _typed_name(name)
    password_text = password if isinstance(password, str) else ""
    with app.uow() as uow:
        session = uow.session
        now = app.now()
        user = _user(session, typed)
        if user is None:
            _HASHER.verify(password_text[:PASSWORD_MAX], _dummy_hash())
            log_event(session, now, typed, "sign_in_failed", Channel.WEB, remote, "unknown account")
            uow.commit()
            raise NotSignedIn(_BAD_CREDENTIALS, "bad_credentials")
        too_long = len(password_text) > PASSWORD_MAX  # no password set is that long
        if too_long or not backend.check(user, password_text):
            user.failed_sign_ins += 1
            log_event(session, now, typed, "sign_in_failed", Channel.WEB, remote, "wrong password")
            if user.failed_sign_ins >= MAX_FAILED_SIGN_INS and user.locked_at is None:
                user.locked_at = now
                log_event(session, now, typed, "locked", Channel.WEB, remote,
                     f"{MAX_FAILED_SIGN_INS} failed sign-ins")  # fmt: skip
            uow.commit()
            raise NotSignedIn(_BAD_CREDENTIALS, "bad_credentials")
        if user.locked_at is not None:
            log_event(session, now, typed, "sign_in_refused", Channel.WEB, remote, "locked")
            uow.commit()
            raise NotSignedIn("账户已锁定，请联系系统管理员解锁", "account_locked")
        user.failed_sign_ins = 0
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session.add(
            WebSession(
                token_sha256=_sha256(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
            )  # fmt: skip
        )
        log_event(session, now, user.name, "sign_in", Channel.WEB, remote)
        identity = _identity(user, Channel.WEB)
        uow.commit()
    return SignedIn(token, csrf, identity)


@dataclass(frozen=True)
class WebSessionView:
    identity: Identity
    csrf_token: str


def session_of(app: App, token: str | None) -> WebSessionView | None:
    """The live session a cookie names, or None (unknown, ended, idle too long, or locked).

    A session idle past ``session_idle_minutes`` is ended here, so it cannot come back.
    """
    if not token or len(token) > 100:
        return None
    idle = timedelta(minutes=app.settings.session_idle_minutes)
    with app.uow() as uow:
        session = uow.session
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_sha256 == _sha256(token), WebSession.ended_at.is_(None))
        ).unique().one_or_none()  # fmt: skip
        if row is None:
            return None
        web_session, user = row
        now = app.now()
        if user.locked_at is not None or now - _aware(web_session.last_seen_at, now) > idle:
            web_session.ended_at = now
            log_event(session, now, user.name, "session_expired", Channel.WEB)
            uow.commit()
            return None
        if now - _aware(web_session.last_seen_at, now) > _TOUCH_EVERY:
            web_session.last_seen_at = now
            uow.commit()
        return WebSessionView(_identity(user, Channel.WEB), web_session.csrf_token)


def _aware(moment: datetime, like: datetime) -> datetime:
    """SQLite returns naive datetimes (stored in UTC); compare them as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)


def sign_out(app: App, token: str | None, *, remote: str = "") -> None:
    """End the session the cookie names (nothing happens for an unknown one)."""
    if not token or len(token) > 100:
        return
    with app.uow() as uow:
        session = uow.session
        row = session.execute(
            select(WebSession, User.name)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_sha256 == _sha256(token), WebSession.ended_at.is_(None))
        ).one_or_none()
        if row is None:
            return
        web_session, user_name = row
        web_session.ended_at = app.now()
        log_event(session, app.now(), user_name, "sign_out", Channel.WEB, remote)
        uow.commit()


def _end_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )


# -- locks -------------------------------------------------------------------------------


def lock(app: App, name: str, *, by: str, channel: Channel) -> None:
    """Lock an account and end its sessions."""
    with app.uow() as uow:
        user = _required(uow.session, name)
        user.locked_at = user.locked_at or app.now()
        _end_sessions(uow.session, user.id, app.now())
        log_event(uow.session, app.now(), name, "locked", channel, detail=f"by {by}")
        uow.commit()


def unlock(app: App, name: str, *, by: str, channel: Channel) -> None:
    with app.uow() as uow:
        user = _required(uow.session, name)
        user.locked_at, user.failed_sign_ins = None, 0
        log_event(uow.session, app.now(), name, "unlocked", channel, detail=f"by {by}")
        uow.commit()


def _required(session: Session, name: str) -> User:
    user = _user(session, name)
    if user is None:
        raise NotFound("user_name", f"用户名“{printable(str(name))}”不存在")
    return user


# -- API tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenView:
    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def create_token(app: App, name: str, label: str, *, by: str, channel: Channel) -> str:
    """A new API token for ``name``; the returned text is shown once and never stored."""
    label = clean_text(label, "label", "令牌用途", 60, required=True)
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with app.uow() as uow:
        user = _required(uow.session, name)
        uow.session.add(
            ApiToken(
                token_sha256=_sha256(token), user_id=user.id, label=label, created_at=app.now()
            )
        )
        log_event(uow.session, app.now(), name, "token_created", channel, detail=f"{label} by {by}")
        uow.commit()
    return token


def tokens_of(app: App, name: str) -> list[TokenView]:
    with app.uow() as uow:
        user = _required(uow.session, name)
        rows = uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
        return [TokenView(t.id, t.label, t.created_at, t.last_used_at, t.revoked_at) for t in rows]


def revoke_token(app: App, name: str, token_id: int, *, by: str, channel: Channel) -> None:
    with app.uow() as uow:
        user = _required(uow.session, name)
        token = uow.session.get(ApiToken, token_id)
        if token is None or token.user_id != user.id:
            raise NotFound("token_id", f"用户名“{name}”名下没有编号为{token_id}的接口令牌")
        token.revoked_at = token.revoked_at or app.now()
        log_event(
            uow.session, app.now(), name, "token_revoked", channel, detail=f"{token_id} by {by}"
        )
        uow.commit()


def _live_token(session: Session, token: str, scope: str) -> tuple[ApiToken, User] | None:
    """The unrevoked token of ``scope`` with this text and its user, unless locked."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_sha256 == _sha256(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.scope == scope,
        )
    ).unique().one_or_none()  # fmt: skip
    if row is None or row[1].locked_at is not None:
        return None
    return row[0], row[1]


def token_identity(app: App, token: str | None) -> Identity:
    """Whose bearer token this is.

    Raises:
        NotSignedIn: no token, an unknown or revoked one, or a locked account.
    """
    if not token or not token.startswith(API_TOKEN_PREFIX) or len(token) > 100:
        raise NotSignedIn("缺少有效的接口令牌（Authorization: Bearer …）", "invalid_token")
    with app.uow() as uow:
        found = _live_token(uow.session, token, "api")
        if found is None:
            raise NotSignedIn("接口令牌无效、已撤销或账户已锁定", "invalid_token")
        api_token, user = found
        now = app.now()
        last = api_token.last_used_at
        if last is None or now - _aware(last, now) > _TOUCH_EVERY:
            api_token.last_used_at = now
            uow.commit()
        return _identity(user, Channel.API)


FEED_TOKEN_PREFIX = "dcal_"
FEED_LABEL = "日历订阅"


def create_feed_token(app: App, name: str, *, channel: Channel) -> str:
    """A new token for ``name``'s calendar feed (read-only: it opens nothing else); the
    user's earlier feed tokens are revoked. The text is shown once and never stored."""
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with app.uow() as uow:
        session, now = uow.session, app.now()
        user = _required(session, name)
        for old in session.scalars(
            select(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.scope == "feed", ApiToken.revoked_at.is_(None)
            )
        ):
            old.revoked_at = now
        session.add(
            ApiToken(token_sha256=_sha256(token), user_id=user.id, label=FEED_LABEL,
                     scope="feed", created_at=now)
        )  # fmt: skip
        log_event(session, now, name, "feed_token_created", channel)
        uow.commit()
    return token


def feed_owner(app: App, token: str | None) -> str:
    """The user whose calendar-feed token this is.

    Raises:
        NotSignedIn: no token, an unknown or revoked one, or a locked account.
    """
    if not token or not token.startswith(FEED_TOKEN_PREFIX) or len(token) > 100:
        raise NotSignedIn("订阅地址无效：请在“预警”页重新生成", "invalid_token")
    with app.uow() as uow:
        found = _live_token(uow.session, token, "feed")
        if found is None:
            raise NotSignedIn("订阅地址无效、已撤销或账户已锁定", "invalid_token")
        return found[1].name


# -- the sign-in log ---------------------------------------------------------------------


@dataclass(frozen=True)
class AuthLogEntry:
    at: datetime
    user_name: str
    event: str
    channel: str
    remote: str
    detail: str


def auth_log(app: App, *, limit: int = 200) -> list[AuthLogEntry]:
    with app.uow() as uow:
        rows = uow.session.scalars(select(AuthEvent).order_by(AuthEvent.id.desc()).limit(limit))
        return [
            AuthLogEntry(e.at, e.user_name, e.event, e.channel, e.remote, e.detail) for e in rows
        ]
