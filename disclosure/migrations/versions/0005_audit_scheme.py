"""The audit scheme each event was written under (issue #27).

Why: revision 0002 made the trail record more of each clock event (the consulted party and
the fee: scheme 2) than revision 0001 did (kind, date, days, until: scheme 1), and
verification compared every clock event with the *new* record. A database begun before
0002 and upgraded therefore failed ``disclosure audit verify`` on every case with a clock
event, a false tamper alarm. From now on every event stores its ``scheme`` and is verified by
that scheme's rules; new events are written under scheme 3, which also records the third
party's ``opinion`` (added in 0004) and puts the scheme number inside the hash.

How existing events are marked: an event's scheme shows only in its clock-event record, which
the event's hash covers — a record with exactly the scheme-1 keys was written by 0001's code.
For each case, every event up to and including its last scheme-1 clock event is marked 1
(the code of a database only moves forward, so everything before such an event is older);
all other existing events are marked 2. For an event without a clock event, schemes 1 and 2
hash and record the same, so the mark changes nothing but keeps each chain's schemes in
order, which verification checks. Verification does not rely on these marks for events
below 3: it reads the scheme from the hashed payload and reports a mark that disagrees, so
editing the column cannot weaken it.

Append-only: the column is added with a plain ADD COLUMN (SQLite keeps the triggers of
``audit_events``; a batch recreate would drop them). Marking scheme-1 events needs UPDATE,
which the triggers refuse, so the UPDATE trigger is lifted and restored *inside this
migration's transaction* (``disclosure.models.db.upgrade`` runs every upgrade in one
transaction holding the migration lock): no other session ever sees the table writable.
The column keeps its default of 2 on both databases (SQLite cannot drop a default without
recreating the table): the code always names the scheme, and a row inserted behind its back
with the default after a scheme-3 event reads as an old scheme after a newer one, which
verification reports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: The clock-event record keys of scheme 1 (revision 0001's ``clock_event_record``).
SCHEME_1_KEYS = {"kind", "on", "days", "until"}


def upgrade() -> None:
    op.add_column(
        "audit_events", sa.Column("scheme", sa.Integer, nullable=False, server_default="2")
    )
    bind = op.get_bind()
    last_scheme_1: dict[int, int] = {}
    rows = bind.execute(
        sa.text(
            "SELECT case_id, seq, payload FROM audit_events WHERE payload LIKE '%\"clock_event\":%'"
        )
    )
    for case_id, seq, payload in rows:
        record = json.loads(payload).get("clock_event")
        if isinstance(record, dict) and set(record) == SCHEME_1_KEYS:
            last_scheme_1[case_id] = max(seq, last_scheme_1.get(case_id, 0))
    postgresql = bind.dialect.name == "postgresql"
    if last_scheme_1:
        _lift_update_trigger(postgresql)
        bind.execute(
            sa.text("UPDATE audit_events SET scheme = 1 WHERE case_id = :case_id AND seq <= :seq"),
            [{"case_id": c, "seq": s} for c, s in sorted(last_scheme_1.items())],
        )
        _restore_update_trigger(postgresql)


def _lift_update_trigger(postgresql: bool) -> None:
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")


def _restore_update_trigger(postgresql: bool) -> None:
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:  # exactly as 0001 created it
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def downgrade() -> None:
    # DROP COLUMN needs SQLite 3.35+, which every supported Python ships; it keeps triggers.
    op.drop_column("audit_events", "scheme")
