"""Standard letters: issued letters with their 文号, gapless counters, fee and letter inputs.

Why: a letter is part of the case file (保存备查). It is stored as rendered — the exact HTML,
its SHA-256 and the data it was rendered from — so re-printing years later gives the same
text even after templates or the agency name change; ``letters`` is append-only like the
other history tables. 文号 come from one counter row per (prefix, year, kind), incremented in
the issuing transaction: a rollback returns the number, so the sequence has no gaps, and the
row lock serializes concurrent issuers on PostgreSQL. The fee columns keep the amount,
scale and basis with the fee event (Fee Measures); ``party`` names who was consulted;
``reply_detail`` / ``refer_to`` hold what the drafted reply says.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_counters",
        sa.Column("prefix", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), primary_key=True),
        sa.Column("last_no", sa.Integer, nullable=False),
    )
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("prefix", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq_no", sa.Integer, nullable=False),
        sa.Column("number", sa.String(60), nullable=False, unique=True),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(40), nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.UniqueConstraint("prefix", "year", "kind", "seq_no"),
    )
    with op.batch_alter_table("clock_events") as batch:
        batch.add_column(sa.Column("party", sa.String(100)))
        batch.add_column(sa.Column("fee_amount", sa.Numeric(12, 2)))
        batch.add_column(sa.Column("fee_scale", sa.String(20)))
        batch.add_column(sa.Column("fee_quantity", sa.Integer))
        batch.add_column(sa.Column("fee_basis", sa.Text))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("reply_detail", sa.Text))
        batch.add_column(sa.Column("refer_to", sa.String(100)))
    # The fee by count ranks an applicant's applications in a month (Fee Measures).
    op.create_index("ix_applicants_identity", "applicants", ["id_number", "id_type"])
    _forbid_update_and_delete("letters")


def _forbid_update_and_delete(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{table} is append-only';
            END $$ LANGUAGE plpgsql
            """
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


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS letters_append_only ON letters")
        op.execute("DROP FUNCTION IF EXISTS letters_append_only()")
    op.drop_index("ix_applicants_identity", table_name="applicants")
    op.drop_table("letters")
    op.drop_table("letter_counters")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("refer_to")
        batch.drop_column("reply_detail")
    with op.batch_alter_table("clock_events") as batch:
        for column in ("fee_basis", "fee_quantity", "fee_scale", "fee_amount", "party"):
            batch.drop_column(column)
