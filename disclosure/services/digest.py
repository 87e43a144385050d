"""The daily e-mail digest: each user with an address gets one e-mail a day listing what
needs them (``notifications.inbox_of``), through the configured SMTP server.

A user's digest is claimed (a ``digests_sent`` row for the user and the day) in the
transaction that sends it: if sending fails the claim rolls back and the next run tries
again; if two processes run the scheduler, the second finds the claim and skips the user.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from disclosure.config import Settings
from disclosure.errors import MailUnavailable, NotFound
from disclosure.models.tables import DigestSent, User
from disclosure.services.checkpoints import ANCHOR_ROLES, anchor_line
from disclosure.services.notifications import digest_text, inbox_of
from disclosure.services.unit_of_work import App
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.text import clean_email, printable

log = logging.getLogger("disclosure.digest")


@dataclass
class DigestRun:
    """What one run did: who was sent a digest, who had nothing, who had one already."""

    sent: list[str] = field(default_factory=list)
    empty: int = 0
    already: int = 0
    #: Why nothing was sent at all ("" when the run went ahead).
    skipped: str = ""


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port = settings.smtp_host, settings.smtp_port
    try:
        if settings.smtp_tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=30, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=30)
            if settings.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
    except (OSError, smtplib.SMTPException) as exc:
        # The exception's class, never its text: a server may echo the credentials.
        raise MailUnavailable(
            f"无法连接发信服务器 {host}:{port}（{type(exc).__name__}），每日摘要未发送"
        ) from None
    return smtp


def _message(settings: Settings, user: User, text: str, today: date) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"政府信息公开申请办理：{cn_date(today)}待办摘要"
    message["From"] = formataddr(("政府信息公开申请办理系统", settings.smtp_sender))
    message["To"] = formataddr((user.display_name, user.email or ""))
    message["Message-ID"] = make_msgid(domain=settings.smtp_sender.rsplit("@", 1)[-1])
    message.set_content(text, charset="utf-8")
    return message


def set_email(app: App, name: str, email: str | None) -> None:
    """Set (or, with None or blank, clear) where ``name``'s daily digest goes.

    Raises:
        RuleViolation: not a plain e-mail address.
        NotFound: no such user.
    """
    address = clean_email(email)
    with app.uow() as uow:
        user = uow.session.scalars(select(User).where(User.name == name)).unique().one_or_none()
        if user is None:
            raise NotFound("user_name", f"用户名“{printable(str(name))}”不存在")
        user.email = address
        uow.commit()


def preview_digests(app: App) -> list[tuple[str, str]]:
    """Each user's digest text as it would be sent now (users with an address and something
    to do), without sending or claiming anything."""
    today = app.settings.agency_today()
    with app.uow() as uow:
        session = uow.session
        texts = []
        for user in session.scalars(
            select(User)
            .where(User.email.is_not(None), User.locked_at.is_(None))
            .order_by(User.name)
        ).unique():
            items = inbox_of(session, user.name)
            if items:
                anchor = anchor_line(session) if user.role in ANCHOR_ROLES else ""
                link = app.settings.public_url
                texts.append(
                    (user.name, digest_text(user.display_name, items, today, link, anchor))
                )
        return texts


def send_digests(app: App, today: date) -> DigestRun:
    """Send today's digest to every unlocked user with an e-mail address and something to do.

    Raises:
        MailUnavailable: the server cannot be reached (nothing is marked sent).
    """
    settings = app.settings
    run = DigestRun()
    if not settings.smtp_host:
        run.skipped = "未配置发信服务器（DISCLOSURE_SMTP_HOST），不发送每日摘要"
        return run
    with app.uow() as uow:
        users = [
            (user.id, user.name)
            for user in uow.session.scalars(
                select(User)
                .where(User.email.is_not(None), User.locked_at.is_(None))
                .order_by(User.name)
            ).unique()
        ]
    smtp: smtplib.SMTP | None = None
    try:
        for user_id, name in users:
            with app.uow() as uow:
                session = uow.session
                items = inbox_of(session, name)
                if not items:
                    run.empty += 1
                    continue
                session.add(DigestSent(user_id=user_id, sent_on=today, sent_at=app.now(),
                                       items=len(items)))  # fmt: skip
                try:
                    session.flush()
                except IntegrityError:
                    run.already += 1
                    continue
                user = session.get(User, user_id)
                assert user is not None
                anchor = anchor_line(session) if user.role in ANCHOR_ROLES else ""
                text = digest_text(user.display_name, items, today, settings.public_url, anchor)
                if smtp is None:
                    smtp = _connect(settings)
                try:
                    smtp.send_message(_message(settings, user, text, today))
                except (OSError, smtplib.SMTPException) as exc:
                    raise MailUnavailable(
                        f"发信服务器拒收{name}的每日摘要（{type(exc).__name__}）"
                    ) from None
                uow.commit()
                run.sent.append(name)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    log.info("digest: sent=%d empty=%d already=%d", len(run.sent), run.empty, run.already)
    return run
