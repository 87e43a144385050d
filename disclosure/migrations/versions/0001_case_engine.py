"""Case engine: users, applicants, cases with their stored limits, clock events, audit trail.

Why: the first schema. Limits are stored (and indexed) rather than computed on read because
the supervisor's view and the scheduler select by date over every open case; the workflow
recomputes them in the same transaction as every state change. ``audit_events`` and
``clock_events`` are append-only at the database level (triggers), so the hash chain is a
second line of defence, not the only one.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
#: History tables: the database itself refuses UPDATE and DELETE on them.
APPEND_ONLY = ("clock_events", "audit_events")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("display_name", sa.String(60), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "applicants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("id_type", sa.String(30), nullable=False),
        sa.Column("id_number", sa.String(40), nullable=False),
        sa.Column("phone", sa.String(30), nullable=False),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("postal_code", sa.String(6), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("applicant_id", sa.Integer, sa.ForeignKey("applicants.id"), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("delivery_form", sa.String(20), nullable=False),
        sa.Column("delivery_method", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("registered_by", sa.String(40), nullable=False),
        sa.Column("state", sa.String(30), nullable=False, index=True),
        sa.Column("outcome", sa.String(30)),
        sa.Column("outcome_reason", sa.String(40)),
        sa.Column("drafted_by", sa.String(40)),
        sa.Column("approved_by", sa.String(40)),
        sa.Column("closed_on", sa.Date),
        sa.Column("last_action_on", sa.Date, nullable=False),
        sa.Column("reply_due", sa.Date, index=True),
        sa.Column("correction_notice_due", sa.Date, index=True),
        sa.Column("correction_period_due", sa.Date, index=True),
        sa.Column("third_party_due", sa.Date, index=True),
        sa.Column("agency_due", sa.Date, index=True),
        sa.Column("fee_due", sa.Date, index=True),
        sa.Column("limits_provisional", sa.Boolean, nullable=False),
        sa.Column("is_demo", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "clock_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("days", sa.Integer),
        sa.Column("until", sa.Date),
        sa.Column("note", sa.Text, nullable=False),
        sa.UniqueConstraint("case_id", "seq"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(30)),
        sa.Column("to_state", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("case_id", "seq"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    for table in APPEND_ONLY:
        _forbid_update_and_delete(table)


def _forbid_update_and_delete(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{table} is append-only';
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    for table in ("audit_events", "clock_events", "cases", "applicants", "users"):
        op.drop_table(table)
