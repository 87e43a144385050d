"""Every number the Regulations fix, in one versioned rule set.

A future amendment of the law becomes a new ``RuleSet`` value, not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass

from disclosure.workflow.fees import FeeScale


@dataclass(frozen=True)
class RuleSet:
    """Time limits in official working days.

    Attributes:
        version: which text of the law these numbers come from.
        reply_days: Art. 33 (2): reply within 20 working days of receipt.
        max_extension_days: Art. 33 (2): one extension of at most 20 working days.
        correction_notice_days: Art. 30: ask for a correction within 7 working days.
        correction_period_days: Art. 30 "a reasonable period"; our configurable default.
        consultation_days: Art. 32 / 34: a third party or agency answers within 15 days.
        fee_payment_days: Fee Measures Art. 9: pay within 20 working days of the notice.
    """

    version: str = "2019-decree-711"
    reply_days: int = 20
    max_extension_days: int = 20
    correction_notice_days: int = 7
    correction_period_days: int = 15
    consultation_days: int = 15
    fee_payment_days: int = 20


RULES_2019 = RuleSet()


@dataclass(frozen=True)
class LocalPolicy:
    """What an installation decides for itself where the law leaves room.

    Attributes:
        backdate_working_days: a step may be dated at most this many working days before
            today; further back needs a supervisor and a stated reason (the trail keeps the
            business date beside the recording time either way).
        agreed_due_max_days: an Art. 35 agreed date lies at most this many calendar days
            after the decision.
        fee_scale: how the agency charges where a fee is due (Fee Measures Art. 6).
    """

    backdate_working_days: int = 3
    agreed_due_max_days: int = 365
    fee_scale: FeeScale = FeeScale.BY_VOLUME


DEFAULT_POLICY = LocalPolicy()
