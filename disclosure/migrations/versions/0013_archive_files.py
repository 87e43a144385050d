"""Archived files: read-only in the database, kept for the agency's retention period (#11).

Why: 保存备查 — an archived case is the file an inspection reads, so nothing may change it
afterwards, by the application or by a stray statement:

- triggers refuse an UPDATE or DELETE of an archived case or of its applicant, and any new
  letter, clock event or audit event on it. The one sanctioned change, anonymisation when
  the law or the retention period requires it, names the case in ``archive_unlocks`` for the
  length of its own transaction.
- ``cases.archived_on`` / ``retain_until``: when the file was archived and until when it is
  kept, from the agency's ``retention_years`` (default 10); ``archive due-for-disposal``
  lists the files past it. The product never deletes one.
- ``checkpointed_heads.checkpoint_seq``: which checkpoint fixed a case's version, so an
  exported file can carry the checkpoint that covers it, with its Merkle proof.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: Tables whose new rows belong to a case (no new ones on an archived case).
CASE_ROWS = ("letters", "clock_events", "audit_events")
_UNLOCKED = "EXISTS (SELECT 1 FROM archive_unlocks u WHERE u.case_id = {case})"


def upgrade() -> None:
    op.add_column("agencies", sa.Column("retention_years", sa.Integer, nullable=False,
                                        server_default="10"))  # fmt: skip
    op.add_column("cases", sa.Column("archived_on", sa.Date))
    op.add_column("cases", sa.Column("retain_until", sa.Date))
    op.create_index("ix_cases_retain_until", "cases", ["retain_until"])
    op.add_column("checkpointed_heads", sa.Column("checkpoint_seq", sa.Integer))
    op.create_table(
        "archive_unlocks",
        sa.Column("case_id", sa.Integer, primary_key=True, autoincrement=False),
    )
    # Files archived before this revision: archived on their last step, kept 10 years.
    op.execute("UPDATE cases SET archived_on = last_action_on WHERE state = 'archived'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE cases SET retain_until = (archived_on + interval '10 years')::date"
            " WHERE state = 'archived'"
        )
        _postgresql_triggers()
    else:
        op.execute(
            "UPDATE cases SET retain_until = date(archived_on, '+10 years')"
            " WHERE state = 'archived'"
        )
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION archived_file_read_only() RETURNS trigger AS $$
        DECLARE
            archived integer;
        BEGIN
            IF TG_TABLE_NAME = 'cases' THEN
                archived := OLD.id;
            ELSIF TG_TABLE_NAME = 'applicants' THEN
                SELECT c.id INTO archived FROM cases c
                 WHERE c.applicant_id = OLD.id AND c.state = 'archived' LIMIT 1;
            ELSE
                SELECT c.id INTO archived FROM cases c
                 WHERE c.id = NEW.case_id AND c.state = 'archived';
            END IF;
            IF archived IS NULL
               OR EXISTS (SELECT 1 FROM archive_unlocks u WHERE u.case_id = archived) THEN
                RETURN COALESCE(NEW, OLD);
            END IF;
            RAISE EXCEPTION 'archived case % is read-only', archived;
        END $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER cases_archived_read_only BEFORE UPDATE OR DELETE ON cases FOR EACH ROW"
        " WHEN (OLD.state = 'archived') EXECUTE FUNCTION archived_file_read_only()"
    )
    op.execute(
        "CREATE TRIGGER applicants_archived_read_only BEFORE UPDATE OR DELETE ON applicants"
        " FOR EACH ROW EXECUTE FUNCTION archived_file_read_only()"
    )
    for table in CASE_ROWS:
        op.execute(
            f"CREATE TRIGGER {table}_archived_read_only BEFORE INSERT ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION archived_file_read_only()"
        )


def _sqlite_triggers() -> None:
    refuse = "BEGIN SELECT RAISE(ABORT, 'archived case is read-only'); END"
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER cases_archived_no_{verb.lower()} BEFORE {verb} ON cases"
            f" WHEN OLD.state = 'archived' AND NOT {_UNLOCKED.format(case='OLD.id')} {refuse}"
        )
        archived = (
            "(SELECT c.id FROM cases c WHERE c.applicant_id = OLD.id AND c.state = 'archived')"
        )
        op.execute(
            f"CREATE TRIGGER applicants_archived_no_{verb.lower()} BEFORE {verb} ON applicants"
            f" WHEN {archived} IS NOT NULL AND NOT {_UNLOCKED.format(case=archived)} {refuse}"
        )
    for table in CASE_ROWS:
        op.execute(
            f"CREATE TRIGGER {table}_archived_no_insert BEFORE INSERT ON {table}"
            " WHEN (SELECT state FROM cases WHERE id = NEW.case_id) = 'archived'"
            f" AND NOT {_UNLOCKED.format(case='NEW.case_id')} {refuse}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("cases", "applicants", *CASE_ROWS):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_archived_read_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS archived_file_read_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS cases_archived_no_{verb}")
            op.execute(f"DROP TRIGGER IF EXISTS applicants_archived_no_{verb}")
        for table in CASE_ROWS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_archived_no_insert")
    op.drop_table("archive_unlocks")
    op.drop_column("checkpointed_heads", "checkpoint_seq")
    op.drop_index("ix_cases_retain_until", "cases")
    op.drop_column("cases", "retain_until")
    op.drop_column("cases", "archived_on")
    op.drop_column("agencies", "retention_years")
