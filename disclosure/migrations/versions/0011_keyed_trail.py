"""A keyed trail and an external anchor (issue #11).

Why: each case's chain was verified against itself, so someone with database rights who
rewrote a chain consistently, appended a forged event with a correct hash, deleted a case
with all its rows or promoted a user in ``users`` went unnoticed.

- ``audit_events.key_id`` / ``mac``: HMAC-SHA-256 of the event's hash under a key kept
  outside the database (``disclosure.keys``); ``key_id`` names the key, so keys rotate.
  Events written before this revision are signed here, once, with the current key.
- ``users.key_id`` / ``mac``: the same over what a user may do (name, role, the county
  flag, the agencies), so a role set in the table directly no longer verifies.
- ``audit_checkpoints``: append-only; each row holds the chain head of every case changed
  since the previous checkpoint, folded into a Merkle root, chained to the previous row by
  hash and signed. The root is also written to a folder outside the database.
- ``checkpointed_heads``: the version each case had at its latest checkpoint, so the next
  checkpoint finds what changed without reading the trail (bookkeeping: tampering with it
  only changes what the next checkpoint includes, never what an earlier one proves).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("audit_events", "users"):
        op.add_column(table, sa.Column("key_id", sa.String(16)))
        op.add_column(table, sa.Column("mac", sa.String(64)))
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_count", sa.Integer, nullable=False),
        sa.Column("leaves", sa.Text, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_table(
        "checkpointed_heads",
        sa.Column("case_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    _forbid_update_and_delete("audit_checkpoints", postgresql)
    _sign_existing_rows(postgresql)


def _forbid_update_and_delete(table: str, postgresql: bool) -> None:
    if postgresql:
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql"
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


def _sign_existing_rows(postgresql: bool) -> None:
    """Sign the events and users already there with the current key (read only if needed)."""
    from disclosure.keys import user_record

    bind = op.get_bind()
    events = bind.execute(sa.text("SELECT id, hash FROM audit_events")).all()
    users = bind.execute(sa.text("SELECT id, name, role, all_agencies FROM users")).all()
    if not events and not users:
        return
    given = context.config.attributes.get("audit_keys")
    if given is not None:
        keys = given()
    else:  # the plain alembic command line: the environment's settings
        from disclosure.config import Settings

        keys = Settings.from_env().audit_keys
    if events:
        if postgresql:
            op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            op.execute("DROP TRIGGER audit_events_no_update")
        bind.execute(
            sa.text("UPDATE audit_events SET key_id = :key_id, mac = :mac WHERE id = :id"),
            [dict(zip(("key_id", "mac"), keys.sign(h), strict=True), id=i) for i, h in events],
        )
        if postgresql:
            op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        else:  # exactly as 0001 created it
            op.execute(
                "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
    agencies: dict[int, list[int]] = {}
    for user_id, agency_id in bind.execute(sa.text("SELECT user_id, agency_id FROM user_agencies")):
        agencies.setdefault(user_id, []).append(agency_id)
    for user_id, name, role, all_agencies in users:
        key_id, mac = keys.sign(
            user_record(name, role, bool(all_agencies), agencies.get(user_id, []))
        )
        bind.execute(
            sa.text("UPDATE users SET key_id = :key_id, mac = :mac WHERE id = :id"),
            {"key_id": key_id, "mac": mac, "id": user_id},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints")
        op.execute("DROP FUNCTION IF EXISTS audit_checkpoints_append_only()")
    op.drop_table("checkpointed_heads")
    op.drop_table("audit_checkpoints")
    for table in ("users", "audit_events"):
        op.drop_column(table, "mac")
        op.drop_column(table, "key_id")
