"""Agencies as data (issue #9): one county platform for many departments.

Why: one agency per installation, configured by environment variables, cannot serve a county
whose departments each print their own name, 文号 prefix, contact block, fee scale and
templates, and whose supervisor wants every department's limits on one screen.

- ``agencies`` holds each department's particulars. The first row is made from the
  installation's ``DISCLOSURE_*`` settings as they stand when this migration runs, so an
  existing office keeps printing exactly what it printed.
- ``cases.agency_id``: every existing case belongs to that first agency. It is NOT NULL with
  a server default of 1 (what an older row means) and no database foreign key: SQLite cannot
  add a REFERENCES column to a table with rows without recreating ``cases``, which the
  other history tables reference. The service sets it on every registration.
- ``user_agencies``: whom a user works for (every existing user: the first agency);
  ``users.all_agencies`` marks the county's supervisors and auditors, who see every agency.
- ``letter_counters`` is keyed by (agency, year, kind) instead of (prefix, year, kind):
  numbering stays gapless per agency even if its prefix changes. The existing counters move
  to the first agency (one prefix per installation until now).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _first_agency() -> dict[str, object]:
    from disclosure.config import Settings
    from disclosure.services.agencies import first_agency

    return first_agency(Settings.from_env())


def upgrade() -> None:
    agencies = op.create_table(
        "agencies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("short_name", sa.String(20), nullable=False),
        sa.Column("number_prefix", sa.String(20), nullable=False, unique=True),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("contact", sa.String(30), nullable=False),
        sa.Column("phone", sa.String(30), nullable=False),
        sa.Column("reconsideration_body", sa.String(60), nullable=False),
        sa.Column("court", sa.String(60), nullable=False),
        sa.Column("fee_scale", sa.String(10), nullable=False),
        sa.Column("fee_payment", sa.String(300), nullable=False),
        sa.Column("template_dir", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(agencies, [_first_agency()])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('agencies_id_seq', 1)")

    op.create_table(
        "user_agencies",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), primary_key=True),
    )
    op.execute("INSERT INTO user_agencies (user_id, agency_id) SELECT id, 1 FROM users")
    op.add_column(
        "users",
        sa.Column("all_agencies", sa.Boolean, nullable=False, server_default=sa.false()),
    )

    op.add_column("cases", sa.Column("agency_id", sa.Integer, nullable=False, server_default="1"))
    op.create_index("ix_cases_agency_id", "cases", ["agency_id"])

    op.create_table(
        "letter_counters_0007",
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), primary_key=True),
        sa.Column("last_no", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO letter_counters_0007 (agency_id, year, kind, last_no) "
        "SELECT 1, year, kind, max(last_no) FROM letter_counters GROUP BY year, kind"
    )
    op.drop_table("letter_counters")
    op.rename_table("letter_counters_0007", "letter_counters")


def downgrade() -> None:
    op.create_table(
        "letter_counters_0006",
        sa.Column("prefix", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), primary_key=True),
        sa.Column("last_no", sa.Integer, nullable=False),
    )
    op.drop_table("letter_counters")
    op.rename_table("letter_counters_0006", "letter_counters")
    op.drop_index("ix_cases_agency_id", "cases")
    op.drop_column("cases", "agency_id")
    op.drop_column("users", "all_agencies")
    op.drop_table("user_agencies")
    op.drop_table("agencies")
