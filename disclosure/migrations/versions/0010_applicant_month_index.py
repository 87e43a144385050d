"""An index for the applicant's applications to an agency in a month (issue #9).

Why: a fee notice counts the applicant's applications to the agency in the month of the
one charged (``services.cases._month_rank``: the 按件计收 scale rises with the count), and
registration looks for the same applicant's earlier applications (重复申请). Without an index
on ``cases.applicant_id`` both read every case of the agency; with
``ix_cases_applicant_agency_received`` they read the applicant's few rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_applicant_agency_received",
        "cases",
        ["applicant_id", "agency_id", "received_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_applicant_agency_received", "cases")
