"""The relational schema, as typed SQLAlchemy 2.x declarative classes.

Rows are persistence only: the workflow reasons over ``workflow.machine.CaseFacts`` built
from them, never over the rows themselves. The schema itself is created by the Alembic
revisions in ``disclosure/migrations``; these classes must match them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from disclosure.workflow.limit_columns import LIMIT_COLUMNS


class Base(DeclarativeBase):
    pass


class Agency(Base):
    """A department on the county's platform: its letters, numbering, fees and staff (0007)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    short_name: Mapped[str] = mapped_column(String(20))
    #: Unique, so that two agencies' 文号 can never read alike.
    number_prefix: Mapped[str] = mapped_column(String(20), unique=True)
    address: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(30))
    phone: Mapped[str] = mapped_column(String(30))
    reconsideration_body: Mapped[str] = mapped_column(String(60))
    court: Mapped[str] = mapped_column(String(60))
    fee_scale: Mapped[str] = mapped_column(String(10))
    #: Years an archived file is kept (``retain_until``; 0013).
    retention_years: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    fee_payment: Mapped[str] = mapped_column(String(300))
    template_dir: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A clerk, supervisor or auditor; ``name`` is what ``--as`` takes.

    A user works for the agencies listed in ``user_agencies``; ``all_agencies`` (the county's
    supervisors and auditors) sees and acts for every agency.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    all_agencies: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: argon2id (``services.auth``); None: the user cannot sign in until one is set (0008).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    #: Consecutive failed sign-ins; the account locks at ``auth.MAX_FAILED_SIGN_INS``.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Where the daily digest goes (None: no e-mail; 0009).
    email: Mapped[str | None] = mapped_column(String(254))
    #: HMAC of what the user may do (``keys.user_record``) and the key that made it (0011).
    key_id: Mapped[str | None] = mapped_column(String(16))
    mac: Mapped[str | None] = mapped_column(String(64))

    # Joined: the user and the agencies it works for come in the one statement that checks
    # who is acting (query with ``.unique()``).
    agencies: Mapped[list[Agency]] = relationship(secondary="user_agencies", lazy="joined")


class UserAgency(Base):
    __tablename__ = "user_agencies"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)


class Applicant(Base):
    __tablename__ = "applicants"
    __table_args__ = (Index("ix_applicants_identity", "id_number", "id_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(30))
    id_number: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(6), default="")


class Case(Base):
    """One application and where it stands.

    ``version`` is the optimistic lock and also the length of the case's audit chain: every
    committed change bumps it once, appends the audit event whose ``seq`` equals it and
    sets ``audit_head`` to that event's hash.
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    #: The agency the application was made to (no database FK, and 1 for rows older than
    #: agencies: see 0007).
    agency_id: Mapped[int] = mapped_column(Integer, index=True, server_default="1")
    description: Mapped[str] = mapped_column(Text)
    delivery_form: Mapped[str] = mapped_column(String(20))
    delivery_method: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(30))
    received_on: Mapped[date] = mapped_column(Date)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(30), index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    outcome_reason: Mapped[str | None] = mapped_column(String(40))
    drafted_by: Mapped[str | None] = mapped_column(String(40))
    approved_by: Mapped[str | None] = mapped_column(String(40))
    closed_on: Mapped[date | None] = mapped_column(Date)
    last_action_on: Mapped[date] = mapped_column(Date)
    reply_detail: Mapped[str | None] = mapped_column(Text)
    refer_to: Mapped[str | None] = mapped_column(String(100))
    # One indexed date column per stored limit, as workflow/limit_columns.py declares them.
    for _limit in LIMIT_COLUMNS:
        vars()[_limit.column] = mapped_column(_limit.column, Date, index=True)
    del _limit
    if TYPE_CHECKING:  # for the type checker only; the loop above makes the columns
        reply_due: Mapped[date | None]
    limits_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The drafted reply letter's context (JSON): what the supervisor approves is what is sent.
    draft_context: Mapped[str | None] = mapped_column(Text)
    #: The same applicant's earlier application with the same description (重复申请).
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The hash of the case's last audit event: the next event chains to it (see 0006).
    audit_head: Mapped[str | None] = mapped_column(String(64))
    #: The responsible clerk (承办人), a user name; None: not assigned yet (0008).
    assignee: Mapped[str | None] = mapped_column(String(40), index=True)
    #: When the file was archived, and until when it is kept (the agency's retention; 0013).
    archived_on: Mapped[date | None] = mapped_column(Date)
    retain_until: Mapped[date | None] = mapped_column(Date, index=True)

    applicant: Mapped[Applicant] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(
        lazy="joined", primaryjoin="Case.agency_id == Agency.id", foreign_keys="Case.agency_id"
    )
    clock_events: Mapped[list[ClockEventRow]] = relationship(
        order_by="ClockEventRow.seq", lazy="selectin"
    )

    # The service sets the version itself (one bump per change, even one that alters no
    # other column); SQLAlchemy still adds ``WHERE version = <loaded>`` to every UPDATE.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    # The worklist reads pages in (reply_due, id) order, by state or not (0009).
    __table_args__ = (
        Index("ix_cases_agency_state_reply_due", "agency_id", "state", "reply_due", "id"),
        Index("ix_cases_agency_reply_due", "agency_id", "reply_due", "id"),
        # An applicant's applications to an agency by month: fee rank, repeats (0010).
        Index("ix_cases_applicant_agency_received", "applicant_id", "agency_id", "received_on"),
    )


class ClockEventRow(Base):
    """An event that moves a time limit, with the business date it happened on."""

    __tablename__ = "clock_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        # The annual report reads fee notices and payments by date (0012).
        Index("ix_clock_events_kind_occurred", "kind", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    occurred_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    party: Mapped[str | None] = mapped_column(String(100))
    fee_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    fee_scale: Mapped[str | None] = mapped_column(String(20))
    fee_quantity: Mapped[int | None] = mapped_column(Integer)
    fee_basis: Mapped[str | None] = mapped_column(Text)
    #: A consulted third party's answer: ``agree`` or ``object`` (Art. 32).
    opinion: Mapped[str | None] = mapped_column(String(20))


class AuditEvent(Base):
    """Append-only (database triggers refuse UPDATE and DELETE); hash-chained per case.

    ``scheme`` says which rules the event was written under, so an old chain stays
    verifiable after what is hashed or recorded changes (``services.audit``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        Index("ix_audit_events_at", "at"),
        # The report reads the few events of one trigger (record_challenge; 0012).
        Index("ix_audit_events_trigger", "trigger"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(40))
    actor_role: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: What the hash covers and the payload records (``services.audit.SCHEME``; see 0005).
    scheme: Mapped[int] = mapped_column(Integer)
    #: HMAC-SHA-256 of ``hash`` under the key ``key_id`` names, kept outside the database (0011).
    key_id: Mapped[str | None] = mapped_column(String(16))
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """Append-only: the chain heads of the cases changed since the previous checkpoint,
    folded into a Merkle root, chained by hash and signed; the root is also written outside
    the database (``services.checkpoints``, 0011)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    case_count: Mapped[int] = mapped_column(Integer)
    #: JSON ``[[case_id, version, head], …]`` by case id: the Merkle tree's leaves.
    leaves: Mapped[str] = mapped_column(Text)
    root: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str] = mapped_column(String(64))


class CheckpointedHead(Base):
    """The version each case had at its latest checkpoint (bookkeeping, 0011)."""

    __tablename__ = "checkpointed_heads"

    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    #: The checkpoint that fixed that version (0013; None for rows older than 0013).
    checkpoint_seq: Mapped[int | None] = mapped_column(Integer)


class ArchiveUnlock(Base):
    """While a row names a case, the database lets its archived file be changed: only the
    anonymisation does so, in the transaction that inserts and deletes the row (0013)."""

    __tablename__ = "archive_unlocks"

    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class LetterCounter(Base):
    """The last 文号 number issued per agency, year and letter kind (gapless: see 0002, 0007)."""

    __tablename__ = "letter_counters"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer)


class Letter(Base):
    """A letter as issued: the exact HTML, its hash and the data it was rendered from."""

    __tablename__ = "letters"
    __table_args__ = (UniqueConstraint("prefix", "year", "kind", "seq_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    template: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    seq_no: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(40))
    audit_seq: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    context: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)


class Alert(Base):
    """One alert per (case, condition, limit date): raised once, cleared when it no longer holds."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("case_id", "condition", "limit_date", name="uq_alert_once"),
        Index("ix_alerts_open", "condition", "cleared_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    condition: Mapped[str] = mapped_column(String(40))
    limit_date: Mapped[date] = mapped_column(Date)
    proposed_step: Mapped[str | None] = mapped_column(String(40))
    raised_on: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_on: Mapped[date | None] = mapped_column(Date)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SchedulerRun(Base):
    """One scan: which node ran it for which day and interval slot, and what it changed."""

    __tablename__ = "scheduler_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    node: Mapped[str] = mapped_column(String(100))
    today: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    raised: Mapped[int] = mapped_column(Integer)
    cleared: Mapped[int] = mapped_column(Integer)
    recomputed: Mapped[int] = mapped_column(Integer)


class CalendarState(Base):
    """The calendar the stored limits were computed with (a single row)."""

    __tablename__ = "calendar_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The session's form token (CSRF), sent back in every form and htmx request.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Signed out, timed out or revoked by an administrator.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for the HTTP API, stored as its SHA-256; revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(60))
    #: ``api`` (the HTTP API) or ``feed`` (only the read-only calendar feed; 0009).
    scope: Mapped[str] = mapped_column(String(10), default="api", server_default="api")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthEvent(Base):
    """A sign-in, sign-out, failure, lock-out or token change (append-only, 0008)."""

    __tablename__ = "auth_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: The account name as typed (cleaned and cut to 40 characters): failures name no user.
    user_name: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(10))
    remote: Mapped[str] = mapped_column(String(45), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")


class Notification(Base):
    """Something a user must see in the app: a case assigned to them, an urge (催办). What
    can be read off the cases (drafts to approve, alerts) is not stored (0009)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    message: Mapped[str] = mapped_column(String(600))
    by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_notifications_user_unread", "user_name", "read_at"),)


class DigestSent(Base):
    """A user's daily digest, claimed before it is sent: one e-mail per user and day, however
    many processes run the scheduler (0009)."""

    __tablename__ = "digests_sent"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    sent_on: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    items: Mapped[int] = mapped_column(Integer)
