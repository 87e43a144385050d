"""Administrative reconsideration and litigation about a case (行政复议、行政诉讼).

What section 四 of the annual report counts, recorded on a closed case by the
``record_challenge`` trigger: which kind, when it was filed and, once decided, the result.
"""

from __future__ import annotations

from enum import StrEnum


class ChallengeKind(StrEnum):
    """The three groups of section 四: 行政复议, and 行政诉讼 without or after one."""

    RECONSIDERATION = "reconsideration"
    LITIGATION_DIRECT = "litigation_direct"
    LITIGATION_AFTER_REVIEW = "litigation_after_review"


#: The form's heading of each group (the two lawsuits sit under 行政诉讼).
CHALLENGE_LABELS = {
    ChallengeKind.RECONSIDERATION: "行政复议",
    ChallengeKind.LITIGATION_DIRECT: "未经复议直接起诉",
    ChallengeKind.LITIGATION_AFTER_REVIEW: "复议后起诉",
}
LITIGATION_HEADING = "行政诉讼"
PENDING = "尚未审结"
#: The decided results in the form's column order.
CHALLENGE_RESULTS = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果"}


def challenge_name(kind: ChallengeKind) -> str:
    """``行政复议`` or ``行政诉讼（复议后起诉）``: the group's name standing alone."""
    if kind is ChallengeKind.RECONSIDERATION:
        return CHALLENGE_LABELS[kind]
    return f"{LITIGATION_HEADING}（{CHALLENGE_LABELS[kind]}）"
