"""Time-limit alerts, scheduler runs and the calendar the stored limits were computed with.

Why: supervisors must never miss a legal limit (ogi-rules §9). An alert is one row per
(case, condition, limit date) — the unique constraint, not Python, guarantees it is raised
once, however many scans or nodes run. ``scheduler_runs`` claims one scan per interval slot
(unique ``slot``), so several scheduler processes scan exactly once per interval and the
record of what each scan did survives restarts. ``calendar_state`` remembers which calendar
(package version, override file, coverage) the stored limits used, so a holiday update
triggers a recomputation of provisional limits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("condition", sa.String(40), nullable=False),
        sa.Column("limit_date", sa.Date, nullable=False),
        sa.Column("proposed_step", sa.String(40)),
        sa.Column("raised_on", sa.Date, nullable=False),
        sa.Column("raised_at", TZ, nullable=False),
        sa.Column("cleared_on", sa.Date),
        sa.Column("cleared_at", TZ),
        sa.UniqueConstraint("case_id", "condition", "limit_date", name="uq_alert_once"),
    )
    op.create_index("ix_alerts_open", "alerts", ["condition", "cleared_at"])
    op.create_table(
        "scheduler_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slot", sa.BigInteger, unique=True),
        sa.Column("node", sa.String(100), nullable=False),
        sa.Column("today", sa.Date, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        sa.Column("raised", sa.Integer, nullable=False),
        sa.Column("cleared", sa.Integer, nullable=False),
        sa.Column("recomputed", sa.Integer, nullable=False),
    )
    op.create_table(
        "calendar_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calendar_state")
    op.drop_table("scheduler_runs")
    op.drop_index("ix_alerts_open", table_name="alerts")
    op.drop_table("alerts")
