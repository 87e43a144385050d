"""Case use cases: register, fire a trigger, read one case, list cases, the supervisor's view.

Each write runs in one unit of work: the state change, its clock event, the recomputed
limits and the audit event are committed together or not at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, Update, bindparam, extract, func, select, update
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from disclosure.config import Settings
from disclosure.errors import ConflictError, NotFound, PermissionDenied, RuleViolation
from disclosure.models.db import as_loaded, insert_row, insert_rows_then_update, new_row
from disclosure.models.tables import (
    Agency,
    Applicant,
    AuditEvent,
    Base,
    Case,
    ClockEventRow,
    LetterCounter,
    Notification,
    User,
    UserAgency,
)
from disclosure.services.agencies import agency_by_code, check_agency, outsider, scope
from disclosure.services.audit import (
    append_event,
    application_fingerprint,
    clock_event_record,
    letter_record,
    new_event,
    seal_user,
)
from disclosure.services.auth import Via, check_password_rules, hash_password
from disclosure.services.letters import (
    LetterInput,
    LetterRequest,
    claimed_counter,
    counted_number,
    last_party,
    taken_number,
)
from disclosure.services.letters import prepare as prepare_letter
from disclosure.services.letters import preview as preview_letter
from disclosure.services.notifications import notification
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import Application, mask_id, validate_application
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.deadlines import ClockEvent, ClockKind, Limit, Limits, compute_limits
from disclosure.workflow.fees import FeeScale
from disclosure.workflow.inputs import TriggerInput
from disclosure.workflow.letters import LetterKind
from disclosure.workflow.limit_columns import LIMIT_COLUMNS, LIMIT_COLUMNS_BY_KEY
from disclosure.workflow.machine import Actor, CaseFacts, Command, Step, fire
from disclosure.workflow.rules import LocalPolicy
from disclosure.workflow.states import (
    CLOSED_STATES,
    OPEN_STATES,
    ROLE_LABELS,
    Role,
    State,
    parse_state,
)
from disclosure.workflow.text import clean_email, clean_text, printable
from disclosure.workflow.triggers import CONTACT_METHODS, TRIGGERS_BY_NAME, Trigger

# -- users -------------------------------------------------------------------------------


_USER_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,40}")


def add_user(
    app: App,
    name: str,
    role: str,
    display_name: str,
    *,
    agencies: list[str] | None = None,
    all_agencies: bool = False,
    password: str | None = None,
    email: str | None = None,
) -> None:
    """Add a user who works for ``agencies`` (codes; by default the only agency there is),
    or, for the county's supervisors, auditors and administrators, for every agency
    (``all_agencies``). Without ``password`` the user cannot sign in until one is set;
    without ``email`` the user gets no daily digest."""
    if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
        raise RuleViolation("name", "format", "用户名须为1至40个英文字母、数字或 _ . -")
    display_name = clean_text(display_name, "display_name", "姓名", 60)
    try:
        role_value = Role(role)
    except ValueError:
        options = "、".join(f"{r.value}（{ROLE_LABELS[r]}）" for r in Role)
        raise RuleViolation(
            "role", "one_of", f"角色“{printable(str(role))}”无效，可选：{options}"
        ) from None
    email = clean_email(email)
    password_hash = None
    if password is not None:
        password_hash = hash_password(check_password_rules(password, name))
    with app.uow() as uow:
        if user_named(uow.session, name) is not None:
            raise RuleViolation("name", "unique", f"用户“{name}”已存在")
        if all_agencies and role_value is Role.CLERK:
            raise RuleViolation("all_agencies", "role", "经办人不能是县级（全部机关）用户")
        user = User(
            name=name,
            role=role_value.value,
            display_name=display_name or name,
            created_at=app.now(),
            all_agencies=all_agencies,
            agencies=agencies_named(uow.session, agencies, all_agencies),
            password_hash=password_hash,
            email=email,
        )
        seal_user(user, app.settings.audit_keys)
        uow.session.add(user)
        uow.commit()


def agencies_named(session: Session, codes: list[str] | None, county: bool) -> list[Agency]:
    """The agencies ``codes`` name; none for a county user; else the platform's only one."""
    if codes:
        return [agency_by_code(session, code) for code in codes]
    if county:
        return []
    every = list(session.scalars(select(Agency).order_by(Agency.id)))
    if len(every) == 1:
        return every
    options = "、".join(f"{a.name}（{a.code}）" for a in every)
    raise RuleViolation("agencies", "required", f"请说明该用户属于哪个机关：{options}")


@dataclass(frozen=True)
class UserView:
    name: str
    display_name: str
    role: str


def list_users(app: App) -> list[UserView]:
    with app.uow() as uow:
        users = uow.session.execute(select(User).order_by(User.name)).unique().scalars()
        return [UserView(u.name, u.display_name, u.role) for u in users]


def user_named(session: Session, name: str) -> User | None:
    """The user called ``name``, or None. A user name is plain ASCII: anything else (NUL, a
    lone surrogate) is no user, and never reaches the driver, which would refuse it in English.
    """
    if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
        return None
    return session.execute(select(User).where(User.name == name)).unique().scalar_one_or_none()


def user_required(
    session: Session, name: str | None, *, who: str = "办理人", doing: str = "办理"
) -> User:
    """The user called ``name``; refused in Chinese when no name is given or it is unknown."""
    if not name:
        raise RuleViolation("actor", "required", f"请说明由谁{doing}（{who}的用户名）")
    user = user_named(session, name)
    if user is None:
        raise NotFound("actor", f"{who}“{printable(name)}”不是本系统的用户，请由管理员先创建该用户")
    return user


def acting_user(session: Session, name: str | None) -> User:
    return user_required(session, name)


def _actor(session: Session, name: str | None) -> Actor:
    user = acting_user(session, name)
    return Actor(user.name, Role(user.role))


def viewer_of(session: Session, name: str | None) -> User | None:
    """The user a read is for (None: the operator at the server, who sees every agency)."""
    if name is None:
        return None
    user = user_named(session, name)
    if user is None:
        raise NotFound("viewer", f"“{printable(name)}”不是本系统的用户")
    if user.role == Role.ADMIN.value:  # manages accounts, reads no application
        raise PermissionDenied("role_not_allowed", "系统管理员不能查阅案件")
    return user


def _agency_for_registration(session: Session, user: User, code: str | None) -> Agency:
    """The agency an application is registered to: the one named, else the user's only one
    (for the county's users: the platform's only one)."""
    if code is not None:
        agency = agency_by_code(session, code)
        check_agency(user, agency.id, "为该机关登记申请")
        return agency
    candidates = (
        list(session.scalars(select(Agency).order_by(Agency.id)))
        if user.all_agencies
        else list(user.agencies)
    )
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise PermissionDenied("agency_not_allowed", f"{user.name}不属于任何机关，不能登记申请")
    options = "、".join(f"{a.name}（{a.code}）" for a in candidates)
    raise RuleViolation("agency", "required", f"请说明登记到哪个机关：{options}")


# -- writes ------------------------------------------------------------------------------


def _facts(case: Case) -> CaseFacts:
    return CaseFacts(
        state=State(case.state),
        received_on=case.received_on,
        events=tuple(
            ClockEvent(ClockKind(e.kind), e.occurred_on, e.days, e.until) for e in case.clock_events
        ),
        drafted_by=case.drafted_by,
        outcome=case.outcome,
        outcome_reason=case.outcome_reason,
        last_action_on=case.last_action_on,
        approved_by=case.approved_by,
        reply_detail=case.reply_detail,
        refer_to=case.refer_to,
        third_party_opinion=_third_party_opinion(case),
    )


def _third_party_opinion(case: Case) -> str | None:
    """The last consulted third party's answer (Art. 32), if it answered."""
    answers = [e for e in case.clock_events if e.kind == ClockKind.THIRD_PARTY_REPLIED.value]
    return answers[-1].opinion if answers else None


def _limit_values(state: State, limits: Limits) -> dict[str, Any]:
    """The case columns that store ``limits`` in ``state``."""
    # A closed case owes no reply: clearing its limit keeps every alert range (and its index
    # scan) to live cases, however much history accumulates. `case show` recomputes it.
    values: dict[str, Any] = {}
    for column in LIMIT_COLUMNS:
        limit: Limit | None = getattr(limits, column.key)
        live = limit is not None and state in column.live_in
        values[column.column] = limit.due if limit is not None and live else None
    values["limits_provisional"] = any(limit.provisional for limit in limits.all())
    return values


def _store_limits(case: Case, state: State, limits: Limits) -> None:
    for column, value in _limit_values(state, limits).items():
        setattr(case, column, value)


def _limits_payload(limits: Limits) -> dict[str, Any]:
    return {
        limit.key: {"due": limit.due.isoformat(), "provisional": limit.provisional}
        for limit in limits.all()
    }


def register(
    app: App,
    data: Mapping[str, Any],
    actor_name: str | None,
    today: date,
    *,
    agency: str | None = None,
    is_demo: bool = False,
    via: Via | None = None,
) -> int:
    """Register an application (Art. 29–31) to ``agency`` (its code; by default the clerk's
    only agency); returns the case number. ``via`` (the channel) is recorded in the trail."""
    application = validate_application(data, today)
    with app.uow() as uow:
        session = uow.session
        user = acting_user(session, actor_name)
        actor = Actor(user.name, Role(user.role))
        if actor.role is Role.AUDITOR:
            raise PermissionDenied("role_not_allowed", "审计监督人员只能查阅，不能登记申请")
        to_agency = _agency_for_registration(session, user, agency)
        facts = CaseFacts(State.REGISTERED, application.received_on)
        limits = compute_limits(
            app.settings.calendar, application.received_on, (), app.settings.rules
        )
        applicant = Applicant(
            kind=application.applicant_kind.value,
            name=application.name,
            id_type=application.id_type.value,
            id_number=application.id_number,
            phone=application.phone,
            email=application.email,
            address=application.address,
            postal_code=application.postal_code,
        )
        case = Case(
            applicant=applicant,
            agency_id=to_agency.id,
            agency=to_agency,
            description=application.description,
            delivery_form=application.delivery_form.value,
            delivery_method=application.delivery_method.value,
            channel=application.channel.value,
            received_on=application.received_on,
            registered_at=app.now(),
            registered_by=actor.name,
            # The clerk who registers it handles it until a supervisor assigns someone else.
            assignee=actor.name if actor.role is Role.CLERK else None,
            state=facts.state.value,
            is_demo=is_demo,
            last_action_on=application.received_on,
            version=1,
        )
        _store_limits(case, facts.state, limits)
        case.duplicate_of = _earlier_same_application(
            session, app.settings, application, to_agency.id
        )
        session.add(case)
        session.flush()
        connection = session.connection()
        letter = prepare_letter(
            connection, app.settings, case, LetterKind.RECEIPT,
            LetterRequest(limits, limits, today), issued_by=actor.name, audit_seq=1, at=app.now(),
        )  # fmt: skip
        insert_row(connection, letter)
        receipt = letter_record(letter)
        # The trail keeps a fingerprint of the personal data, not the data itself: an
        # append-only log could never correct or erase it.
        recorded: dict[str, Any] = {
            "application_sha256": application_fingerprint(case, applicant),
            "applicant_kind": applicant.kind,
            "id_masked": mask_id(applicant.id_number),
            "channel": case.channel,
            "received_on": case.received_on.isoformat(),
        }
        if case.duplicate_of is not None:
            recorded["duplicate_of"] = case.duplicate_of
        if via is not None:
            recorded["via"] = via.record()
        append_event(
            session,
            case,
            keys=app.settings.audit_keys,
            seq=1,
            at=app.now(),
            actor=actor.name,
            actor_role=actor.role.value,
            trigger="register",
            from_state=None,
            to_state=State.REGISTERED.value,
            reason="",
            payload={**recorded, "limits": _limits_payload(limits), "letters": [receipt]},
        )
        uow.commit()
        return case.id


def _description_key(text: str) -> str:
    """What makes two descriptions "the same": width, case, spaces and punctuation aside."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def _earlier_same_application(
    session: Session, settings: Settings, application: Application, agency_id: int
) -> int | None:
    """The first case of the same applicant with the same description received within the
    configured window (a possible 重复申请, Art. 36 (6)); the clerk is warned, not stopped."""
    window = settings.duplicate_window_days
    if window == 0:
        return None
    key = _description_key(application.description)
    received = application.received_on
    rows = session.execute(
        select(Case.id, Case.description)
        .join(Applicant, Applicant.id == Case.applicant_id)
        .where(
            Applicant.id_type == application.id_type.value,
            Applicant.id_number == application.id_number,
            Case.agency_id == agency_id,
            Case.received_on >= received - timedelta(days=window),
            Case.received_on <= received + timedelta(days=window),
        )
        .order_by(Case.id)
    ).all()
    return next((case_id for case_id, text in rows if _description_key(text) == key), None)


@dataclass(frozen=True)
class IssuedLetter:
    """A letter a change issued: its kind, title and 文号."""

    kind: str
    title: str
    number: str


@dataclass(frozen=True)
class Change:
    """What one trigger changed: the step, the case's new version and the letters issued."""

    case_id: int
    step: Step
    version: int
    letters: tuple[IssuedLetter, ...]
    fee: FeeView | None = None


def act(
    app: App,
    case_id: int,
    command: TriggerInput,
    *,
    actor: str | None,
    on: date,
    today: date,
    expected_version: int | None = None,
    via: Via | None = None,
) -> Change:
    """Fire one trigger on a case and persist everything it changes in one transaction:
    state, clock event, limits, the letters the trigger issues, and the audit event.

    ``command`` is the trigger's input model (``triggers.parse_input`` builds one from loose
    fields); ``on`` is the business date, ``today`` the agency's today; ``via`` (the channel
    the change came through) is recorded in the trail.

    Raises:
        ConflictError: another writer changed the case first (or ``expected_version`` is stale).
        TransitionNotAllowed / RuleViolation / NotFound: nothing is written.
    """
    if on > today:
        raise RuleViolation(
            "on", "not_in_future", f"办理日期{cn_date(on)}晚于今天（{cn_date(today)}）"
        )
    trigger = TRIGGERS_BY_NAME[command.trigger]

    def attempt(claims: bool, read_version: int | None = None) -> Change:
        """On PostgreSQL a change that ``claims`` reads in one statement and writes in one,
        each committing by itself (the optimistic lock guards the gap): its letters' 文号
        numbers are read with the case and claimed by compare-and-set in the write, which
        raises ``_NumbersTaken`` if another change took one first. Otherwise the numbers are
        taken in the reading statement, in a transaction that holds their counters until it
        ends (a refusal gives them back), and ``read_version`` is the version the case must
        still be at. SQLite takes them in its transaction as the letters are numbered.
        """
        with app.core_uow(autocommit=claims) as uow:
            connection = uow.connection
            ranks = "month_rank" in trigger.needs
            kinds: tuple[str, ...] = ()
            if connection.dialect.name == "postgresql":
                kinds = tuple(str(letter.kind) for letter in trigger.issued(command))
            loaded = _load(
                connection, actor, case_id, prints=trigger.prints, ranks=ranks,
                numbering=(kinds, on.year), claims=claims,
            )  # fmt: skip
            who, case = loaded.actor, loaded.case
            if not loaded.may_act:
                raise outsider(who.name, f"办理“{trigger.label}”")
            if expected_version is not None and case.version != expected_version:
                raise ConflictError(
                    f"案件已被他人修改：你看到的版本号是{expected_version}，当前版本号是{case.version}，"
                    "请刷新后重试",
                    field="expected_version",
                )
            if read_version is not None and case.version != read_version:
                raise ConflictError()
            told = _told(trigger, case)
            facts = _facts(case)
            if ranks:
                facts = replace(facts, month_rank=loaded.month_rank)
            step = fire(
                facts, Command(command, who, on, today), app.settings.calendar,
                app.settings.rules, _policy(app, loaded.fee_scale),
            )  # fmt: skip
            notices = []
            if told is not None and told != who.name:
                notices.append(
                    notification(
                        told, trigger.name, case.id, command.reason, by=who.name, at=app.now()
                    )
                )
            letters = _apply(connection, loaded, facts, step, command, who, app, via, notices)
            uow.commit()
            return Change(
                case_id, step, case.version, letters, _fee_view(case) if step.fee else None
            )

    try:
        return attempt(claims=True)
    except _NumbersTaken as lost:
        # Rare (two issuers of one kind at one agency at once): queue on the counters.
        return attempt(claims=False, read_version=lost.version)


class _NumbersTaken(Exception):
    """Another change took a 文号 number this one read; it wrote nothing (``_write_case``)."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        #: The case's version when the change read it.
        self.version = version


def _told(trigger: Trigger, case: Case) -> str | None:
    """Who the trigger notifies on this case.

    Raises:
        RuleViolation: the trigger notifies the responsible clerk and there is none yet.
    """
    if trigger.notifies != "assignee":
        return None
    if case.assignee is None:
        raise RuleViolation(
            "assignee", "not_assigned", f"本案尚未分派承办人，无人可“{trigger.label}”，请先分派"
        )
    return case.assignee


def _limits_before(app: App, facts: CaseFacts) -> Limits:
    """The case's limits before the step (what its letters compare the new ones with)."""
    settings = app.settings
    return compute_limits(settings.calendar, facts.received_on, facts.events, settings.rules)


def _policy(app: App, fee_scale: str) -> LocalPolicy:
    settings = app.settings
    return LocalPolicy(
        backdate_working_days=settings.backdate_working_days,
        agreed_due_max_days=settings.agreed_due_max_days,
        fee_scale=FeeScale(fee_scale),
    )


#: What the case row keeps of the workflow's facts, column for column.
_FACT_COLUMNS = (
    "drafted_by",
    "outcome",
    "outcome_reason",
    "approved_by",
    "reply_detail",
    "refer_to",
)

#: Every column a change may write; ``_write_case`` writes those it altered.
_CHANGE_COLUMNS = (
    "version",
    "state",
    "last_action_on",
    *_FACT_COLUMNS,
    "draft_context",
    "closed_on",
    *(column.column for column in LIMIT_COLUMNS),
    "limits_provisional",
    "archived_on",
    "retain_until",
    "audit_head",
)


@functools.lru_cache(maxsize=256)
def _update_case(columns: tuple[str, ...]) -> Update:
    """The UPDATE of ``columns``, built once per set; ``WHERE version`` is the optimistic lock."""
    return (
        update(Case)
        .where(Case.id == bindparam("loaded_id"), Case.version == bindparam("loaded_version"))
        .values({column: bindparam(column) for column in columns})
    )


def _change_values(case: Case) -> dict[str, Any]:
    loaded = vars(case)  # as_loaded and _set keep the values there; a missing one is a KeyError
    return {column: loaded[column] for column in _CHANGE_COLUMNS}


def _set(case: Case, **values: Any) -> None:
    """Give the loaded case new values, without the ORM's change tracking.

    The case belongs to no session (``_load``) and ``act`` writes the row itself
    (``_write_case``); the object reads as the row will be written, for the letters and the
    audit snapshot. An attribute reads from the object's dict before anything else, so the
    values go there directly (``set_committed_value`` cost about 3 % of a change).
    """
    vars(case).update(values)


def _write_case(
    connection: Connection,
    rows: Sequence[Base],
    case: Case,
    loaded: dict[str, Any],
    counted: Sequence[LetterCounter] = (),
) -> None:
    """INSERT the change's ``rows``, then UPDATE the columns it altered (``loaded``: their
    values before it; the version always changes) if the row is still at the version loaded
    and every ``counted`` 文号 counter moves to the number its letter claims.

    Raises:
        ConflictError: another writer changed the case since it was loaded.
        _NumbersTaken: that, or another change took a number claimed (nothing was written).
    """
    values = _change_values(case)
    changed = tuple(column for column in _CHANGE_COLUMNS if values[column] != loaded[column])
    params = {column: values[column] for column in changed}
    params.update(loaded_id=case.id, loaded_version=loaded["version"])
    update = _update_case(changed)
    if insert_rows_then_update(connection, rows, update, params, counted=counted) != 1:
        raise _NumbersTaken(loaded["version"]) if counted else ConflictError()


def _apply(
    connection: Connection,
    loaded: _Loaded,
    facts_before: CaseFacts,
    step: Step,
    command: TriggerInput,
    actor: Actor,
    app: App,
    via: Via | None = None,
    notices: Sequence[Notification] = (),
) -> tuple[IssuedLetter, ...]:
    """Write what ``step`` changes, and issue its letters; ``notices`` go in with its rows.

    Statements, in order: each letter's 文号 counter (on PostgreSQL read or taken by
    ``_load``, and a number read claimed with the rows); then the rows (letters, clock event,
    notices, audit event) and one UPDATE of the case (the columns it altered and its audit
    chain head, guarded by the version loaded; a writer that got there first makes it, or
    the event's unique (case, seq), a conflict), one statement on PostgreSQL. The case object is given each value as it is decided
    (``_set``), so the draft, the letters and the audit snapshot read the case as the change
    leaves it.
    """
    settings, case = app.settings, loaded.case
    before_change = _change_values(case)
    seq = case.version + 1
    facts = step.facts
    on = facts.last_action_on
    assert on is not None  # every step dates its case
    _set(
        case,
        version=seq,  # one bump per change, even one that alters no other column
        last_action_on=on,
        state=step.after.value,
        **{column: getattr(facts, column) for column in _FACT_COLUMNS},
    )
    payload: dict[str, Any] = {"on": on.isoformat(), "limits": _limits_payload(step.limits)}
    # What the letters compare the new limits with; a step without letters needs none.
    renders = step.draft is not None or bool(step.letters)
    before = _limits_before(app, facts_before) if renders else step.limits
    letter_input = LetterInput.of(command.letter_fields())
    if step.draft is not None:
        # Render the reply now: a draft its letter cannot print is refused here, not after
        # approval (where only send and withdraw remain). The context is kept and sent as is.
        _html, context = preview_letter(
            settings, case, step.draft.kind,
            LetterRequest(step.limits, before, on, letter_input, command.reason),
        )  # fmt: skip
        _set(case, draft_context=json.dumps(context, ensure_ascii=False, sort_keys=True))
    elif facts.drafted_by is None:
        _set(case, draft_context=None)
    if step.after in _DRAFT_STATES and case.draft_context is not None:
        payload["draft_sha256"] = _sha256(case.draft_context)  # what is approved is sent
    if step.after in CLOSED_STATES and case.closed_on is None:
        _set(case, closed_on=on)
    if step.after is State.ARCHIVED:  # kept for the agency's period, then due for disposal
        _set(case, archived_on=on, retain_until=years_after(on, loaded.retention_years))
    _set(case, **_limit_values(step.after, step.limits))
    fee = step.fee
    clock_row = None
    if step.clock_event is not None and step.clock_record is not None:
        event, record = step.clock_event, step.clock_record
        clock_row = new_row(
            ClockEventRow, case_id=case.id, seq=len(case.clock_events) + 1, kind=event.kind.value,
            occurred_on=event.on, days=event.days, until=event.until, note=record.note,
            party=record.party, opinion=record.opinion,
        )  # fmt: skip
        if fee is not None:
            clock_row.fee_amount, clock_row.fee_scale = fee.amount, fee.scale.value
            clock_row.fee_quantity = fee.quantity
            clock_row.fee_basis = "\n".join((fee.basis, *fee.lines))
        _set(case, clock_events=[*case.clock_events, clock_row])
        payload["clock_event"] = clock_event_record(clock_row)
    payload.update(step.details)
    if via is not None:
        payload["via"] = via.record()
    issued, letter_rows, numbers = [], [], dict(loaded.numbers)
    for letter_type in step.letters:
        given = letter_input
        if letter_type.kind == LetterKind.THIRD_PARTY_DECISION:
            given = replace(given, party=last_party(case, ClockKind.CONSULT_THIRD_PARTY.value))
        approved = None
        if letter_type.kind == LetterKind.REPLY and case.draft_context is not None:
            approved = json.loads(case.draft_context)
        request = LetterRequest(
            step.limits, before, on, given, command.reason, fee,
            step.clock_event.days if step.clock_event else None,
        )  # fmt: skip
        letter = prepare_letter(
            connection,
            settings,
            case,
            letter_type.kind,
            request,
            issued_by=actor.name,
            audit_seq=seq,
            at=app.now(),
            context=approved,
            seq_no=numbers.pop((str(letter_type.kind), on.year), None),
        )
        letter_rows.append(letter)
        issued.append(IssuedLetter(letter.kind, letter_type.title, letter.number))
        payload.setdefault("letters", []).append(letter_record(letter))
    if numbers:  # taken and not printed: a gap once committed
        raise RuntimeError(f"文号 taken for letters the change did not issue: {sorted(numbers)}")
    audit_event = new_event(
        case, keys=settings.audit_keys, seq=seq, at=app.now(), actor=actor.name,
        actor_role=actor.role.value, trigger=step.trigger, from_state=step.before.value,
        to_state=step.after.value, reason=command.reason, payload=payload,
    )  # fmt: skip
    _set(case, audit_head=audit_event.hash)
    # The rows first, then the case: the step that archives a case leaves it read-only in
    # the database (0013), so its own event must be in before the state changes.
    rows = [*letter_rows, *([clock_row] if clock_row is not None else []), *notices, audit_event]
    counted = [claimed_counter(case.agency_id, row) for row in letter_rows] if loaded.claims else []
    _write_case(connection, rows, case, before_change, counted)
    return tuple(issued)


_DRAFT_STATES = frozenset({State.REPLY_DRAFTED, State.REPLY_APPROVED})


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SYSTEM_ACTOR = "system"


def recompute_limits(
    session: Session, settings: Settings, case: Case, now: datetime, note: str
) -> int:
    """Recompute a case's stored limits with the current calendar; record a move in the trail.

    Returns 1 if anything moved (and an audit event was written), else 0.
    """
    state = State(case.state)
    facts = _facts(case)
    limits = compute_limits(settings.calendar, facts.received_on, facts.events, settings.rules)
    columns = (*(column.column for column in LIMIT_COLUMNS), "limits_provisional")
    before = {column: getattr(case, column) for column in columns}
    _store_limits(case, state, limits)
    after = {column: getattr(case, column) for column in columns}
    if after == before:
        return 0
    seq = case.version + 1
    case.version = seq
    moved = {
        column: [str(before[column]), str(after[column])]
        for column in columns
        if before[column] != after[column]
    }
    append_event(
        session, case, keys=settings.audit_keys, seq=seq, at=now, actor=SYSTEM_ACTOR,
        actor_role=SYSTEM_ACTOR, trigger="recompute_limits", from_state=state.value, to_state=state.value, reason=note,
        payload={"limits": _limits_payload(limits), "moved": moved},
    )  # fmt: skip
    return 1


@dataclass(frozen=True)
class _Loaded:
    """What a change starts from: who acts, the case and what it needs of the agency."""

    actor: Actor
    #: The actor works for every agency (the county) or for the case's.
    may_act: bool
    case: Case
    fee_scale: str
    retention_years: int
    #: The case's rank among its applicant's applications to the agency that month, if asked.
    month_rank: int | None = None
    #: The 文号 numbers the load took or read, by letter kind and year (PostgreSQL; ``_load``).
    numbers: dict[tuple[str, int], int] = field(default_factory=dict)
    #: The numbers were read, not taken: the write claims them (``_write_case``).
    claims: bool = False


def _labelled(cls: type[Base], prefix: str, unread: frozenset[str]) -> list[tuple[str, Any]]:
    """(attribute, labelled column) for every column of a mapped class but the ``unread``."""
    return [
        (prop.key, prop.columns[0].label(f"{prefix}{prop.key}"))
        for prop in cls.__mapper__.column_attrs
        if prop.key not in unread
    ]


#: What of the case row and its clock events only letters print: a change that prints
#: nothing does not read it (``as_loaded`` leaves it unloaded, so a read of it would raise,
#: not answer None).
_PRINTED_ONLY: dict[type[Base], frozenset[str]] = {
    Case: frozenset(
        {"description", "delivery_form", "delivery_method", "channel", "registered_at",
         "applicant_id"}
    ),
    ClockEventRow: frozenset(
        {"case_id", "note", "party", "fee_amount", "fee_scale", "fee_quantity", "fee_basis"}
    ),
}  # fmt: skip


@dataclass(frozen=True)
class _LoadStatement:
    """The statement ``_load`` runs and where each row's parts sit in its columns."""

    statement: Select[Any]
    parts: tuple[tuple[type[Base], tuple[str, ...], int], ...]
    #: Where the month rank, then the numbers taken, sit (after the parts).
    tail: int

    def take(self, row: Sequence[Any], cls: type[Base]) -> dict[str, Any]:
        for part, keys, start in self.parts:
            if part is cls:
                return dict(zip(keys, row[start : start + len(keys)], strict=True))
        raise KeyError(cls)


#: Columns before the parts: the user's name, role and county flag, whether they work for
#: the case's agency, and the agency's fee scale and retention.
_HEAD = 6


def _month_rank() -> Any:
    """The case's rank among its applicant's applications to the same agency received in
    its calendar month, in the order they were registered, as a column of ``_load``'s SELECT.

    Registration order (``id``), not received date: a late-registered, back-dated application
    must not change the rank of one already charged. Each agency charges for its own
    applications. An identity may have an applicant row per application, so the applicant
    is matched by identity; the count reads the applicant's rows of
    ``ix_cases_applicant_agency_received``, never the agency's.
    """
    other, same_person = aliased(Case), aliased(Applicant)
    return (
        select(func.count())
        .select_from(other)
        .join(same_person, same_person.id == other.applicant_id)
        .where(
            same_person.id_type == Applicant.id_type,
            same_person.id_number == Applicant.id_number,
            other.agency_id == Case.agency_id,
            extract("year", other.received_on) == extract("year", Case.received_on),
            extract("month", other.received_on) == extract("month", Case.received_on),
            other.id <= Case.id,
        )
        .scalar_subquery()
    )


@functools.cache
def _load_statement(
    prints: bool, ranks: bool, numbers: int, claims: bool = False
) -> _LoadStatement:
    """The acting user, the case, its clock events and its agency's terms in one Core SELECT
    (with its applicant's and agency's rows for a trigger that ``prints``, its month rank
    for one that ``ranks``, and ``numbers`` 文号 numbers, PostgreSQL only: read as their
    counters stand if the change ``claims`` them when it writes, else taken).

    Both rows are found by a unique key, so the join gives one row per clock event: one
    round trip, and one snapshot even where each statement sees the latest commit (SQLite
    outside a write, READ COMMITTED). Core, not an ORM query: the ORM's loading cost more
    than the rest of a change, and the change writes its rows itself (issue #9).
    """
    works_there = (
        select(UserAgency.user_id)
        .where(UserAgency.user_id == User.id, UserAgency.agency_id == Case.agency_id)
        .exists()
    )
    classes: tuple[type[Base], ...] = (Case, ClockEventRow)
    if prints:
        classes += (Applicant, Agency)
    head: list[Any] = [
        User.name, User.role, User.all_agencies, works_there, Agency.fee_scale,
        Agency.retention_years,
    ]  # fmt: skip
    assert len(head) == _HEAD
    columns, parts = list(head), []
    for number, cls in enumerate(classes):
        unread = frozenset() if prints else _PRINTED_ONLY.get(cls, frozenset())
        labelled = _labelled(cls, f"p{number}_", unread)
        parts.append((cls, tuple(key for key, _ in labelled), len(columns)))
        columns.extend(column for _, column in labelled)
    tail = len(columns)
    if ranks:
        columns.append(_month_rank())
    columns.extend((counted_number if claims else taken_number)(n) for n in range(numbers))
    statement = (
        select(*columns)
        .select_from(User)
        .join(Case, Case.id == bindparam("case_id"))
        .join_from(Case, Agency, Agency.id == Case.agency_id)
        .outerjoin(ClockEventRow, ClockEventRow.case_id == Case.id)
        .where(User.name == bindparam("user_name"))
        .order_by(ClockEventRow.seq)
    )
    if prints or ranks:
        statement = statement.join_from(Case, Applicant, Applicant.id == Case.applicant_id)
    return _LoadStatement(statement, tuple(parts), tail)


#: The SELECT a change that prints nothing starts with (``bench/transitions.py`` times it).
LOAD_STATEMENT = _load_statement(False, False, 0).statement


def _load(
    connection: Connection,
    user_name: str | None,
    case_id: int,
    *,
    prints: bool,
    ranks: bool = False,
    numbering: tuple[tuple[str, ...], int] = ((), 0),
    claims: bool = False,
) -> _Loaded:
    """The acting user, the case to change (with its clock events, and its applicant and
    agency if the trigger ``prints``), its agency's terms, and its month rank if the trigger
    ``ranks`` (``_month_rank``).

    ``numbering`` (letter kinds, year): the 文号 numbers the change's letters will carry
    (PostgreSQL). With ``claims`` they are read as their counters stand
    (``letters.counted_number``) and the write claims them; without, they are taken in the
    same statement (``letters.taken_number``): the counter rows stay locked until the change
    commits or rolls back, which gives the numbers back.

    Raises:
        RuleViolation / NotFound: no actor named, or no such user (said first, as ``_actor``
            says it), or no such case.
    """
    rows: Sequence[Any] = ()
    kinds, year = numbering
    load = _load_statement(prints, ranks, len(kinds), claims)
    # A user name is plain ASCII: anything else is no user and never reaches the driver.
    if isinstance(user_name, str) and _USER_NAME.fullmatch(user_name):
        params: dict[str, Any] = {"user_name": user_name, "case_id": case_id}
        if kinds:
            params.update({f"kind_{n}": kind for n, kind in enumerate(kinds)}, year=year)
        rows = connection.execute(load.statement, params).all()
    if not rows:  # say which one is missing (a second statement on this path only)
        with Session(bind=connection) as session:
            _actor(session, user_name)
        raise NotFound("case", f"案件{case_id}不存在")
    first = rows[0]
    name, role, county, works_there, fee_scale, retention_years = first[:_HEAD]
    case = as_loaded(Case, load.take(first, Case))
    events = [load.take(row, ClockEventRow) for row in rows]
    set_committed_value(
        case, "clock_events", [as_loaded(ClockEventRow, e) for e in events if e["id"] is not None]
    )
    if prints:
        set_committed_value(case, "applicant", as_loaded(Applicant, load.take(first, Applicant)))
        set_committed_value(case, "agency", as_loaded(Agency, load.take(first, Agency)))
    tail = first[load.tail :]
    return _Loaded(
        Actor(name, Role(role)), bool(county or works_there), case, fee_scale, retention_years,
        int(tail[0] or 1) if ranks else None,
        {(kind, year): number for kind, number in zip(kinds, tail[ranks:], strict=True)},
        claims=claims and bool(kinds),
    )  # fmt: skip


def load_case(session: Session, case_id: int) -> Case:
    # One statement for the row and its clock events: a consistent snapshot even where
    # each statement sees the latest commit (SQLite outside a write, READ COMMITTED).
    case = session.get(Case, case_id, options=[joinedload(Case.clock_events)])
    if case is None:
        raise NotFound("case", f"案件{case_id}不存在")
    return case


# -- reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """Everything ``case show`` displays."""

    id: int
    state: State
    version: int
    applicant_name: str
    applicant_kind: str
    id_type: str
    id_masked: str
    contact: str
    description: str
    channel: str
    received_on: date
    outcome: str | None
    outcome_reason: str | None
    drafted_by: str | None
    approved_by: str | None
    limits: list[Limit]
    paused: bool
    trail: list[TrailEntry]
    fee: FeeView | None = None
    reply: ReplyTiming | None = None
    duplicate_of: int | None = None
    assignee: str | None = None
    contacts: tuple[ContactView, ...] = ()


@dataclass(frozen=True)
class ContactView:
    """One contact with the applicant (联系记录), as the trail recorded it."""

    on: date
    method: str
    by: str
    summary: str
    recorded_at: datetime

    @property
    def method_label(self) -> str:
        return CONTACT_METHODS.get(self.method, self.method)


def _contacts(trail: list[TrailEntry]) -> tuple[ContactView, ...]:
    found = []
    for entry in trail:
        if entry.trigger == "record_contact":
            payload = json.loads(entry.payload)
            found.append(
                ContactView(
                    date.fromisoformat(payload["on"]),
                    str(payload.get("contact_method") or ""),
                    entry.actor,
                    str(payload.get("summary") or ""),
                    entry.at,
                )  # fmt: skip
            )
    return tuple(found)


@dataclass(frozen=True)
class TrailEntry:
    """One audit event as ``case show`` lists it (``payload`` is its recorded JSON)."""

    seq: int
    at: datetime
    actor: str
    actor_role: str
    trigger: str
    from_state: str | None
    to_state: str
    reason: str
    payload: str


@dataclass(frozen=True)
class FeeView:
    """The fee notice of a case (Fee Measures): amount, scale and how it was computed."""

    amount: Decimal
    scale: str
    basis: str
    issued_on: date
    paid_on: date | None


@dataclass(frozen=True)
class ReplyTiming:
    """When a closed case was answered, against its reply limit.

    ``margin`` counts working days between the reply and the limit: positive = that many
    working days early, 0 = on the last day, negative = late.
    """

    replied_on: date
    due: date
    margin: int


def _fee_view(case: Case) -> FeeView | None:
    notices = [e for e in case.clock_events if e.kind == ClockKind.ISSUE_FEE_NOTICE.value]
    if not notices or notices[-1].fee_amount is None:
        return None
    notice = notices[-1]
    paid = [
        e.occurred_on
        for e in case.clock_events
        if e.kind == ClockKind.FEE_PAID.value and e.seq > notice.seq
    ]
    return FeeView(
        notice.fee_amount,  # type: ignore[arg-type]
        notice.fee_scale or "",
        notice.fee_basis or "",
        notice.occurred_on,
        paid[0] if paid else None,
    )


def _reply_timing(app: App, case: Case, limits: Limits) -> ReplyTiming | None:
    if case.closed_on is None or case.outcome is None or limits.reply is None:
        return None
    if State(case.state) not in (State.REPLIED, State.ARCHIVED):
        return None
    due = limits.reply.due
    margin = app.settings.calendar.working_days_between(case.closed_on, due)
    return ReplyTiming(case.closed_on, due, margin)


def get_case(app: App, case_id: int, *, viewer: str | None = None) -> CaseView:
    """One case as ``case show`` displays it; ``viewer`` must work for the case's agency.

    Raises:
        NotFound: no such case. PermissionDenied: the viewer works for another agency.
    """
    with app.uow() as uow:
        session = uow.session
        user = viewer_of(session, viewer)
        case = load_case(session, case_id)
        if user is not None:
            check_agency(user, case.agency_id, "查看该案件")
        facts = _facts(case)
        limits = compute_limits(
            app.settings.calendar, facts.received_on, facts.events, app.settings.rules
        )
        state = State(case.state)
        shown = [
            limit
            for limit in limits.all()
            if limit.key == "reply" or state in LIMIT_COLUMNS_BY_KEY[limit.key].live_in
        ]
        trail = [
            TrailEntry(
                e.seq,
                e.at,
                e.actor,
                e.actor_role,
                e.trigger,
                e.from_state,
                e.to_state,
                e.reason,
                e.payload,
            )  # fmt: skip
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
            )
        ]
        a = case.applicant
        contact = " / ".join(x for x in (a.phone, a.email, a.address) if x)
        return CaseView(
            case.id,
            state,
            case.version,
            a.name,
            a.kind,
            a.id_type,
            mask_id(a.id_number),
            contact,
            case.description,
            case.channel,
            case.received_on,
            case.outcome,
            case.outcome_reason,
            case.drafted_by,
            case.approved_by,
            shown,
            limits.paused and state in OPEN_STATES,
            trail,
            fee=_fee_view(case),
            reply=_reply_timing(app, case, limits),
            duplicate_of=case.duplicate_of,
            assignee=case.assignee,
            contacts=_contacts(trail),
        )


@dataclass(frozen=True)
class CaseSummary:
    id: int
    state: State
    applicant_name: str
    id_masked: str
    received_on: date
    reply_due: date | None
    provisional: bool
    working_days_left: int | None
    #: The responsible clerk (承办人), if assigned.
    assignee: str | None = None


def _cases_query(
    app: App,
    today: date,
    state: str | None,
    due_within: int | None,
    overdue: bool,
    agencies: frozenset[int] | None,
) -> Select[Any]:
    cal = app.settings.calendar
    query = select(Case)
    if agencies is not None:
        query = query.where(Case.agency_id.in_(sorted(agencies)))
    if state is not None:
        query = query.where(Case.state == parse_state(state).value)
    if due_within is not None or overdue:
        query = query.where(Case.state.in_([s.value for s in OPEN_STATES]))
    if due_within is not None:
        if not 0 <= due_within <= 250:
            raise RuleViolation(
                "due_within", "range", f"期限范围须为0至250个工作日，实为{due_within}"
            )
        horizon = cal.add_working_days(today, due_within)
        query = query.where(Case.reply_due >= today, Case.reply_due <= horizon)
    if overdue:
        query = query.where(Case.reply_due < today)
    return query


def list_cases(
    app: App,
    today: date,
    *,
    state: str | None = None,
    due_within: int | None = None,
    overdue: bool = False,
    limit: int | None = None,
    offset: int = 0,
    viewer: str | None = None,
    agency: str | None = None,
) -> list[CaseSummary]:
    """Cases filtered by state (code or Chinese label) and by how close their reply limit is
    (open cases only for dates), the nearest limit first; ``offset``/``limit`` page them.
    Only the agencies ``viewer`` works for (or the one ``agency`` names) are listed."""
    if offset < 0:
        raise RuleViolation("offset", "range", f"起始位置不能为负数，实为{offset}")
    with app.uow() as uow:
        agencies = scope(uow.session, viewer_of(uow.session, viewer), agency)
        query = _cases_query(app, today, state, due_within, overdue, agencies).order_by(
            Case.reply_due.is_(None), Case.reply_due, Case.id
        )
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return [summary_of(case, today, app) for case in uow.session.scalars(query)]


def count_cases(
    app: App,
    today: date,
    *,
    state: str | None = None,
    due_within: int | None = None,
    overdue: bool = False,
    viewer: str | None = None,
    agency: str | None = None,
) -> int:
    """How many cases ``list_cases`` would list without a limit."""
    with app.uow() as uow:
        agencies = scope(uow.session, viewer_of(uow.session, viewer), agency)
        query = _cases_query(app, today, state, due_within, overdue, agencies)
        return int(uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def summary_of(case: Case, today: date, app: App) -> CaseSummary:
    left = None
    if case.reply_due is not None and State(case.state) in OPEN_STATES:
        left = app.settings.calendar.working_days_between(today, case.reply_due)
    return CaseSummary(
        case.id,
        State(case.state),
        case.applicant.name,
        mask_id(case.applicant.id_number),
        case.received_on,
        case.reply_due,
        case.limits_provisional,
        left,
        case.assignee,
    )


@dataclass(frozen=True)
class Overview:
    """The supervisor's view: open cases by state, and those approaching or past their limit."""

    by_state: dict[State, int]
    approaching: list[CaseSummary]
    overdue: list[CaseSummary]
    total: int
    #: The names of the agencies it covers.
    agencies: list[str] = field(default_factory=list)


def overview(
    app: App, today: date, *, viewer: str | None = None, agency: str | None = None
) -> Overview:
    """The supervisor's view of the agencies ``viewer`` works for (the county's: all of
    them), or of the one ``agency`` names."""
    with app.uow() as uow:
        agencies = scope(uow.session, viewer_of(uow.session, viewer), agency)
        query = select(Case.state, func.count()).group_by(Case.state)
        if agencies is not None:
            query = query.where(Case.agency_id.in_(sorted(agencies)))
        rows = uow.session.execute(query).all()
        names = select(Agency.name).order_by(Agency.id)
        if agencies is not None:
            names = names.where(Agency.id.in_(sorted(agencies)))
        covered = list(uow.session.scalars(names))
    counts = Counter({State(s): n for s, n in rows})
    return Overview(
        by_state={s: counts[s] for s in State if counts[s]},
        approaching=list_cases(
            app, today, due_within=app.settings.approaching_days, viewer=viewer, agency=agency
        ),
        overdue=list_cases(app, today, overdue=True, viewer=viewer, agency=agency),
        total=sum(counts.values()),
        agencies=covered,
    )
