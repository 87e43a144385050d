"""Sign-in (issue #10): passwords, server-side sessions, API tokens, the sign-in log, and
each case's responsible clerk (承办人).

Why: the CLI takes ``--as NAME`` on trust, so anyone at the keyboard is anyone. The web
application signs people in instead:

- ``users.password_hash`` (argon2id; NULL: the user cannot sign in until a password is set),
  ``failed_sign_ins`` (consecutive failures, reset by a success) and ``locked_at`` (set after
  too many failures or by an administrator; only an administrator unlocks).
- ``web_sessions``: one row per signed-in browser. The cookie holds a random token; the table
  holds only its SHA-256, so a copy of the database signs nobody in. ``csrf_token`` is the
  session's form token. Sign-out and an idle timeout end a session (``ended_at``).
- ``api_tokens``: bearer tokens for the HTTP API, stored hashed, revocable.
- ``auth_events``: every sign-in, sign-out, failure, lock-out and token change, append-only
  like the audit trail.
- ``cases.assignee``: the clerk responsible for the case (NULL: not assigned yet).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_APPEND_ONLY_PG = (
    "CREATE FUNCTION auth_events_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'auth_events is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER auth_events_no_update BEFORE UPDATE OR DELETE ON auth_events "
    "FOR EACH ROW EXECUTE FUNCTION auth_events_append_only()",
)

_APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER auth_events_no_update BEFORE UPDATE ON auth_events "
    "BEGIN SELECT RAISE(ABORT, 'auth_events is append-only'); END",
    "CREATE TRIGGER auth_events_no_delete BEFORE DELETE ON auth_events "
    "BEGIN SELECT RAISE(ABORT, 'auth_events is append-only'); END",
)


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(200)))
    op.add_column(
        "users", sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("users", sa.Column("locked_at", sa.DateTime(timezone=True)))

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "auth_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("user_name", sa.String(40), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("remote", sa.String(45), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _APPEND_ONLY_PG if postgres else _APPEND_ONLY_SQLITE:
        op.execute(statement)

    op.add_column("cases", sa.Column("assignee", sa.String(40)))
    op.create_index("ix_cases_assignee", "cases", ["assignee"])


def downgrade() -> None:
    op.drop_index("ix_cases_assignee", "cases")
    op.drop_column("cases", "assignee")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS auth_events_no_update ON auth_events")
        op.execute("DROP FUNCTION IF EXISTS auth_events_append_only()")
    op.drop_table("auth_events")
    op.drop_table("api_tokens")
    op.drop_table("web_sessions")
    op.drop_column("users", "locked_at")
    op.drop_column("users", "failed_sign_ins")
    op.drop_column("users", "password_hash")
