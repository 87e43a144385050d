"""Holes a new clerk found (issue #8): the drafted reply kept, a third party's answer, repeats.

Why: a reply could be approved and then fail to print (its letter was rendered only when
sent), so the case stuck in 已审核 for ever. The drafted reply's letter is now rendered when
the draft is made and its context kept on the case (``draft_context``); the supervisor
approves that text and ``send`` issues exactly it. ``clock_events.opinion`` records whether a
consulted third party agreed or objected (the public-interest letter of Art. 32 exists only
over an objection). ``cases.duplicate_of`` links an application to the same applicant's
earlier one with the same description (重复申请 is a reply reason, Art. 36 (6)).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite keeps the append-only triggers of clock_events (a batch
    # recreate would drop them).
    op.add_column("cases", sa.Column("draft_context", sa.Text))
    op.add_column("cases", sa.Column("duplicate_of", sa.Integer))
    op.add_column("clock_events", sa.Column("opinion", sa.String(20)))


def downgrade() -> None:
    # DROP COLUMN needs SQLite 3.35+, which every supported Python ships.
    op.drop_column("clock_events", "opinion")
    op.drop_column("cases", "duplicate_of")
    op.drop_column("cases", "draft_context")
