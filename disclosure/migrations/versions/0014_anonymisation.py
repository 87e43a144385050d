"""Letters of an archived file may be redacted by the anonymisation alone (issue #11).

Why: when the law or the retention period requires it, the applicant's name, ID, phone and
address are erased from the file — from the applicant's row and from the letters' stored
copies too. Letters are append-only (0002); the update trigger now lets a letter change
while its case is named in ``archive_unlocks``, which only the anonymisation does, inside
its own transaction (the row is deleted before it commits). Deleting a letter stays refused.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_UNLOCKED = "EXISTS (SELECT 1 FROM archive_unlocks u WHERE u.case_id = OLD.case_id)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION letters_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND {_UNLOCKED} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'letters is append-only';
            END $$ LANGUAGE plpgsql
            """
        )
    else:
        op.execute("DROP TRIGGER letters_no_update")
        op.execute(
            f"CREATE TRIGGER letters_no_update BEFORE UPDATE ON letters WHEN NOT {_UNLOCKED} "
            "BEGIN SELECT RAISE(ABORT, 'letters is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION letters_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'letters is append-only'; END $$ LANGUAGE plpgsql"
        )
    else:
        op.execute("DROP TRIGGER letters_no_update")
        op.execute(
            "CREATE TRIGGER letters_no_update BEFORE UPDATE ON letters "
            "BEGIN SELECT RAISE(ABORT, 'letters is append-only'); END"
        )
