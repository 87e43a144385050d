"""What needs a user: the in-app list and the daily e-mail digest.

Two sources. What can be read off the cases is read when asked, so it never goes stale:
drafts waiting for a supervisor's approval and open alerts on the cases a clerk is
responsible for. What cannot (a case assigned to me, a supervisor's urge — 催办) is stored
as a notification in the transaction of the change that caused it, unread until the user
marks it read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from disclosure.models.tables import Alert, Case, Notification, User
from disclosure.services.agencies import scope
from disclosure.services.unit_of_work import App
from disclosure.workflow.alerts import CONDITIONS_BY_KEY
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.states import Role, State
from disclosure.workflow.triggers import TRIGGERS_BY_NAME

#: Kinds of item, in the order the list shows them, with their Chinese names.
KIND_LABELS = {
    "urge": "催办",
    "approval": "待我审批",
    "alert": "我的案件预警",
    "assigned": "分派给我",
}
#: The most stored notifications one list shows (the oldest unread drop off the page).
LIST_MAX = 200


@dataclass(frozen=True)
class InboxItem:
    kind: str
    case_id: int | None
    message: str
    #: When it was stored, or None for what is read off a case now.
    at: datetime | None
    by: str = ""
    #: The stored notification's id (what "mark read" takes); None for what is read off.
    id: int | None = None

    @property
    def label(self) -> str:
        known = KIND_LABELS.get(self.kind)
        return known if known else TRIGGERS_BY_NAME[self.kind].label


def notify(
    session: Session, user_name: str, kind: str, case_id: int | None, message: str, *,
    by: str, at: datetime,
) -> None:  # fmt: skip
    """Store a notification for ``user_name`` in the caller's transaction (``notification``)."""
    session.add(notification(user_name, kind, case_id, message, by=by, at=at))


def notification(
    user_name: str, kind: str, case_id: int | None, message: str, *, by: str, at: datetime
) -> Notification:
    """A notification for ``user_name``, for the caller to write; ``kind`` is one of
    ``KIND_LABELS`` or the trigger that notifies."""
    assert kind in KIND_LABELS or kind in TRIGGERS_BY_NAME
    return Notification(
        user_name=user_name, kind=kind, case_id=case_id, message=message[:600], by=by,
        created_at=at,
    )  # fmt: skip


def _stored(session: Session, name: str) -> list[InboxItem]:
    rows = session.scalars(
        select(Notification)
        .where(Notification.user_name == name, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(LIST_MAX)
    )
    return [InboxItem(n.kind, n.case_id, n.message, n.created_at, n.by, n.id) for n in rows]


def _approvals(session: Session, user: Any) -> list[InboxItem]:
    """Drafts in the supervisor's agencies that someone else wrote."""
    query = select(Case.id, Case.drafted_by).where(
        Case.state == State.REPLY_DRAFTED.value, Case.drafted_by != user.name
    )
    agencies = scope(session, user, None)
    if agencies is not None:
        query = query.where(Case.agency_id.in_(sorted(agencies)))
    return [
        InboxItem("approval", case_id, f"{drafted_by}拟写的答复等待审批", None)
        for case_id, drafted_by in session.execute(query.order_by(Case.id).limit(LIST_MAX))
    ]


def _alerts(session: Session, name: str) -> list[InboxItem]:
    """Open alerts on the cases ``name`` is responsible for."""
    query = (
        select(Alert.case_id, Alert.condition, Alert.limit_date)
        .join(Case, Case.id == Alert.case_id)
        .where(Alert.cleared_at.is_(None), Case.assignee == name)
        .order_by(Alert.limit_date, Alert.case_id)
        .limit(LIST_MAX)
    )
    return [
        InboxItem(
            "alert", case_id, f"{CONDITIONS_BY_KEY[condition].label}（{cn_date(limit)}）", None
        )
        for case_id, condition, limit in session.execute(query)
        if condition in CONDITIONS_BY_KEY
    ]


def _user(session: Session, name: str) -> User:
    from disclosure.services.cases import user_required  # cases stores notifications

    return user_required(session, name, who="用户", doing="查看待办提醒")


def inbox_of(session: Session, name: str) -> list[InboxItem]:
    """What needs ``name`` now, in the caller's transaction."""
    return _inbox(session, _user(session, name))


def _inbox(session: Session, user: User) -> list[InboxItem]:
    items = _stored(session, user.name)
    if Role(user.role) is Role.SUPERVISOR:
        items += _approvals(session, user)
    if Role(user.role) in (Role.CLERK, Role.SUPERVISOR):
        items += _alerts(session, user.name)
    order = list(KIND_LABELS)
    return sorted(items, key=lambda item: order.index(item.kind) if item.kind in order else 0)


def inbox(app: App, name: str) -> list[InboxItem]:
    """What needs ``name`` now: urges and assignments not yet read, drafts to approve (a
    supervisor), open alerts on the cases the user is responsible for.

    Raises:
        NotFound: no such user.
    """
    with app.uow() as uow:
        return inbox_of(uow.session, name)


@dataclass(frozen=True)
class HeaderCounts:
    """The figures every page's header shows."""

    alerts: int
    inbox: int


def header_counts(app: App, name: str) -> HeaderCounts:
    """How many open alerts ``name`` sees and how many items need them, in one unit of work
    (every page shows both)."""
    from disclosure.services.alerts import count_open_alerts  # alerts needs cases, cases us

    with app.uow() as uow:
        session = uow.session
        user = _user(session, name)
        return HeaderCounts(count_open_alerts(session, user), len(_inbox(session, user)))


def mark_read(app: App, name: str, ids: list[int] | None = None) -> int:
    """Mark ``name``'s notifications read (``ids``; None: all). Only one's own: another
    user's id is passed over. Returns how many were marked."""
    with app.uow() as uow:
        statement = (
            update(Notification)
            .where(Notification.user_name == name, Notification.read_at.is_(None))
            .values(read_at=app.now())
        )
        if ids is not None:
            statement = statement.where(Notification.id.in_(sorted(set(ids))[:LIST_MAX]))
        marked = uow.session.connection().execute(statement).rowcount
        uow.commit()
        return marked or 0


def digest_text(
    display_name: str, items: list[InboxItem], today: date, link: str, anchor: str = ""
) -> str:
    """The body of a user's daily digest, in Chinese; ``anchor`` (the latest checkpoint, for
    supervisors and auditors) is printed so that it also lands outside the system."""
    lines = [
        f"{display_name}：",
        "",
        f"截至{cn_date(today)}，需要您处理的事项共{len(items)}项：",
        "",
    ]
    for kind, label in KIND_LABELS.items():
        mine = [item for item in items if item.kind == kind]
        if not mine:
            continue
        lines.append(f"【{label}】{len(mine)}项")
        for item in mine:
            case = f"案件{item.case_id}：" if item.case_id is not None else ""
            lines.append(f"  · {case}{item.message}")
        lines.append("")
    if link:
        lines.append(f"请登录工作台处理：{link}")
    if anchor:
        lines += ["", anchor]
    lines.append("（本邮件由系统自动发送，请勿回复。）")
    return "\n".join(lines)
