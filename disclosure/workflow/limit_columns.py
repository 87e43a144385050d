"""The limits a case row keeps, declared once: the stored column, its Chinese name, and the
states in which it is live (elsewhere it is cleared, so alert scans read only live cases).

The ORM table, the audit snapshot, the alert conditions and the calendar feed all read this.
"""

from __future__ import annotations

from dataclasses import dataclass

from disclosure.workflow.states import OPEN_STATES, State


@dataclass(frozen=True)
class LimitColumn:
    """One stored limit.

    Attributes:
        key: the attribute of ``deadlines.Limits`` it stores.
        label: Chinese name, as supervisors read it.
        live_in: states in which the stored date is kept.
    """

    key: str
    label: str
    live_in: frozenset[State]

    @property
    def column(self) -> str:
        return f"{self.key}_due"


LIMIT_COLUMNS: tuple[LimitColumn, ...] = (
    # A closed case owes no reply: clearing its limit keeps every alert range (and its index
    # scan) to live cases, however much history accumulates.
    LimitColumn("reply", "答复期限", OPEN_STATES),
    LimitColumn(
        "correction_notice", "补正告知期限", frozenset({State.REGISTERED, State.UNDER_REVIEW})
    ),
    LimitColumn("correction_period", "补正期限", frozenset({State.CORRECTION_REQUESTED})),
    LimitColumn("third_party", "第三方答复期限", frozenset({State.CONSULTING_THIRD_PARTY})),
    LimitColumn("agency", "其他机关答复期限", frozenset({State.CONSULTING_AGENCY})),
    LimitColumn("fee", "缴费期限", frozenset({State.AWAITING_FEE})),
)
LIMIT_COLUMNS_BY_KEY = {column.key: column for column in LIMIT_COLUMNS}
