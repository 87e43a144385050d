"""The states of a case, the roles of its users and the closed set of reply outcomes.

The triggers that move a case between states are declared in ``triggers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from disclosure.errors import RuleViolation


class State(StrEnum):
    """Where a case stands.

    - ``registered``: the application is on file with its received date (Art. 31).
    - ``under_review``: a clerk checks that the request is clear and complete (Art. 29–30).
    - ``correction_requested``: one correction notice sent (Art. 30); the reply clock waits
      for the corrected application and restarts from its receipt.
    - ``handling``: the agency searches, decides and drafts; the reply clock runs (Art. 33).
    - ``consulting_third_party`` / ``consulting_agency``: a written consultation (Art. 32/34)
      is out; the reply clock stops for at most 15 working days.
    - ``awaiting_fee``: a fee notice is out (Art. 42, Fee Measures); the clock stops until payment.
    - ``reply_drafted``: a clerk drafted the reply with its outcome; a supervisor must approve.
    - ``reply_approved``: approved by a supervisor who did not draft it (Art. 33 practice);
      until it is sent a supervisor may still take the approval back (``return_draft``).
    - ``replied``: the reply has been sent to the applicant (Art. 36–39).
    - ``withdrawn``: the applicant withdrew the application.
    - ``abandoned``: 视为放弃 — no correction in time (Art. 30) or fee not paid (Fee Measures).
    - ``archived``: the file is closed and read-only (保存备查).
    """

    REGISTERED = "registered"
    UNDER_REVIEW = "under_review"
    CORRECTION_REQUESTED = "correction_requested"
    HANDLING = "handling"
    CONSULTING_THIRD_PARTY = "consulting_third_party"
    CONSULTING_AGENCY = "consulting_agency"
    AWAITING_FEE = "awaiting_fee"
    REPLY_DRAFTED = "reply_drafted"
    REPLY_APPROVED = "reply_approved"
    REPLIED = "replied"
    WITHDRAWN = "withdrawn"
    ABANDONED = "abandoned"
    ARCHIVED = "archived"


STATE_LABELS: dict[State, str] = {
    State.REGISTERED: "已登记",
    State.UNDER_REVIEW: "审查中",
    State.CORRECTION_REQUESTED: "待补正",
    State.HANDLING: "办理中",
    State.CONSULTING_THIRD_PARTY: "征求第三方意见",
    State.CONSULTING_AGENCY: "征求其他机关意见",
    State.AWAITING_FEE: "待缴费",
    State.REPLY_DRAFTED: "拟答复",
    State.REPLY_APPROVED: "已审核",
    State.REPLIED: "已答复",
    State.WITHDRAWN: "申请人撤回",
    State.ABANDONED: "视为放弃",
    State.ARCHIVED: "已归档",
}


def parse_state(value: object) -> State:
    """A state from its code (``handling``) or its Chinese label (``办理中``).

    Raises:
        RuleViolation: field ``state``, rule ``one_of``, listing both spellings.
    """
    text = value.strip() if isinstance(value, str) else ""
    for state, label in STATE_LABELS.items():
        if text in (state.value, label):
            return state
    options = "、".join(f"{label}（{state.value}）" for state, label in STATE_LABELS.items())
    raise RuleViolation("state", "one_of", f"状态“{text}”无效，可选：{options}")


#: States in which the reply clock is stopped (不计入答复期限).
PAUSED_STATES = frozenset(
    {State.CONSULTING_THIRD_PARTY, State.CONSULTING_AGENCY, State.AWAITING_FEE}
)
#: States after which no reply is owed any more.
CLOSED_STATES = frozenset({State.REPLIED, State.WITHDRAWN, State.ABANDONED, State.ARCHIVED})
OPEN_STATES = frozenset(State) - CLOSED_STATES


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    #: Manages users and agencies; acts on no case and reads none (issue #10).
    ADMIN = "admin"


ROLE_LABELS = {
    Role.CLERK: "经办人",
    Role.SUPERVISOR: "负责人",
    Role.AUDITOR: "审计监督",
    Role.ADMIN: "系统管理员",
}


@dataclass(frozen=True)
class Outcome:
    """One outcome of §6 with its article and its closed set of reason codes."""

    code: str
    label: str
    article: str
    reasons: dict[str, str]


OUTCOMES: dict[str, Outcome] = {
    o.code: o
    for o in (
        Outcome(
            "disclose",
            "予以公开",
            "第三十六条第（一）（二）项",
            {"provided": "予以提供", "published": "已主动公开，告知获取途径"},
        ),
        Outcome(
            "partial",
            "部分公开",
            "第三十七条",
            {
                "state_secret": "部分属于国家秘密",
                "law_prohibited": "部分属于其他法律行政法规禁止公开的信息",
                "three_safety_stability": "部分公开后可能危及“三安全一稳定”",
                "third_party_rights": "部分涉及第三方合法权益",
                "internal_affairs": "部分属于内部事务信息",
                "process_info": "部分属于过程性信息",
                "enforcement_file": "部分属于行政执法案卷",
                "administrative_query": "部分属于行政查询事项",
            },
        ),
        Outcome(
            "withhold",
            "不予公开",
            "第十四条、第十五条、第十六条、第三十六条第（三）项",
            {
                "state_secret": "属于国家秘密",
                "law_prohibited": "其他法律行政法规禁止公开",
                "three_safety_stability": "危及“三安全一稳定”",
                "third_party_rights": "保护第三方合法权益",
                "internal_affairs": "属于三类内部事务信息",
                "process_info": "属于四类过程性信息",
                "enforcement_file": "属于行政执法案卷",
                "administrative_query": "属于行政查询事项",
            },
        ),
        Outcome(
            "cannot_provide",
            "无法提供",
            "第三十六条第（四）（五）项、第三十八条、第三十条",
            {
                "not_held": "本机关不掌握相关政府信息",
                "needs_creation": "没有现成信息需要另行制作",
                "still_unclear": "补正后申请内容仍不明确",
            },
        ),
        Outcome(
            "not_handled",
            "不予处理",
            "第三十五条、第三十六条第（六）项、第三十九条",
            {
                "petition": "信访举报投诉类申请",
                "repeat": "重复申请",
                "publication": "要求提供公开出版物",
                "mass_requests": "无正当理由大量反复申请",
                "confirm_or_reissue": "要求行政机关确认或重新出具已获取信息",
            },
        ),
        Outcome(
            "other",
            "其他处理",
            "第三十条、《政府信息公开信息处理费管理办法》",
            {
                "no_correction": "申请人无正当理由逾期不补正",
                "fee_unpaid": "申请人逾期未按收费通知要求缴纳费用",
                "other": "其他",
            },
        ),
    )
}
#: Outcomes reached by their own trigger, never drafted by hand.
SYSTEM_OUTCOMES = frozenset({("other", "no_correction"), ("other", "fee_unpaid")})
