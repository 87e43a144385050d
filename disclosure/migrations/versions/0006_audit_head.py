"""The head of each case's audit chain kept on the case row (issue #9).

Why: every change chains its audit event to the hash of the case's previous event, which
was read back with a ``SELECT hash FROM audit_events`` in the change's transaction: one
statement (and on PostgreSQL one round trip) of the five or six a step needs. The case row
is loaded anyway, so it now carries that hash, ``cases.audit_head``, and the change updates
it in the UPDATE it already makes. It also anchors the chain's end: ``audit verify``
reports a case whose head is not its last event's hash, so deleting the newest event no
longer passes unseen when the version and the case row are rolled back with it (the head
must be rolled back too).

Backfill: the head of every existing case is the hash of its event with the highest
``seq``, one correlated UPDATE that SQLite and PostgreSQL both run. A case without any
event keeps NULL, which is what verification reported already ("no trail"); appending to
it is refused, as before. The column is nullable for that reason; the code sets it on
every event it writes.

No trigger is touched: ``cases`` is not append-only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("audit_head", sa.String(64)))
    op.execute(
        "UPDATE cases SET audit_head = ("
        "SELECT e.hash FROM audit_events e WHERE e.case_id = cases.id "
        "ORDER BY e.seq DESC LIMIT 1)"
    )


def downgrade() -> None:
    # DROP COLUMN needs SQLite 3.35+, which every supported Python ships.
    op.drop_column("cases", "audit_head")
