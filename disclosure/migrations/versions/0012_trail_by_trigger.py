"""Indexes for the annual report (issue #11).

Why: the report's section 四 counts the reconsiderations and lawsuits recorded on cases
(``record_challenge``). They are kept in the trail only, where they are hash-chained and
signed; ``ix_audit_events_trigger`` lets the report read those few events without scanning
every event of every case. Section 六 counts fee notices and payments by date:
``ix_clock_events_kind_occurred`` reads those clock events alone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_trigger", "audit_events", ["trigger"])
    op.create_index("ix_clock_events_kind_occurred", "clock_events", ["kind", "occurred_on"])


def downgrade() -> None:
    op.drop_index("ix_clock_events_kind_occurred", "clock_events")
    op.drop_index("ix_audit_events_trigger", "audit_events")
