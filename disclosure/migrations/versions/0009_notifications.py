"""Notifications and the daily digest (issue #10).

Why: a clerk must learn that a case was assigned to them or that a supervisor urges it
(催办) without watching every case; a supervisor must see the drafts waiting for them.

- ``notifications``: what cannot be read off the cases themselves (an assignment, an
  urge), per user, unread until the user marks it read. Drafts to approve and alerts on
  one's cases are read off the cases when asked, so they never go stale.
- ``users.email``: where the daily digest goes (NULL: no e-mail).
- ``api_tokens.scope``: ``api`` (the HTTP API) or ``feed`` (only the read-only iCalendar
  feed of limits, whose URL carries the token and so may sit in a calendar program).
- ``ix_cases_agency_state_reply_due`` and ``ix_cases_agency_reply_due``: the worklist
  reads an agency's page in (reply_due, id) order, with or without a state, straight from an
  index instead of sorting every matching case (100,000 cases: 93 ms → 0.3 ms a page on
  PostgreSQL), and counts the matches from the index alone.
- ``digests_sent``: one row per user and day, inserted before the e-mail is sent, so two
  processes running the scheduler never send a user two digests on one day.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(254)))
    op.add_column(
        "api_tokens", sa.Column("scope", sa.String(10), nullable=False, server_default="api")
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_name", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id")),
        sa.Column("message", sa.String(600), nullable=False),
        sa.Column("by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_cases_agency_state_reply_due", "cases", ["agency_id", "state", "reply_due", "id"]
    )
    op.create_index("ix_cases_agency_reply_due", "cases", ["agency_id", "reply_due", "id"])
    op.create_index("ix_notifications_user_unread", "notifications", ["user_name", "read_at"])
    op.create_table(
        "digests_sent",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("sent_on", sa.Date, primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digests_sent")
    op.drop_index("ix_notifications_user_unread", "notifications")
    op.drop_index("ix_cases_agency_reply_due", "cases")
    op.drop_index("ix_cases_agency_state_reply_due", "cases")
    op.drop_table("notifications")
    op.drop_column("api_tokens", "scope")
    op.drop_column("users", "email")
