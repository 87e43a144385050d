"""A realistic demo set: ~200 cases driven through the real workflow to every state.

Cases are registered and advanced with the same services a clerk uses, with business dates
in the past relative to ``today``, so corrections, pauses, extensions and overdue cases all
arise from the law's own arithmetic rather than being written into the tables.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from disclosure.errors import DisclosureError
from disclosure.models.tables import Case, User
from disclosure.services import cases
from disclosure.services.agencies import add_agency, list_agencies
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import credit_code_check_character
from disclosure.workflow.states import OUTCOMES, SYSTEM_OUTCOMES
from disclosure.workflow.triggers import parse_input

#: The two departments the demo adds beside the installation's first agency.
DEMO_AGENCIES = (
    {
        "code": "finance", "name": "示例市财政局", "short_name": "市财政局",
        "number_prefix": "示财依申", "address": "示例市人民路8号", "contact": "郑红",
        "phone": "0591-87654321", "reconsideration_body": "示例市人民政府",
        "court": "示例市人民法院", "fee_scale": "count",
        "fee_payment": "请持本通知到示例市财政局一楼窗口缴纳，或转账至示例市财政局非税收入账户。",
    },
    {
        "code": "land", "name": "示例市自然资源局", "short_name": "市自然资源局",
        "number_prefix": "示资依申", "address": "示例市东大路36号", "contact": "林涛",
        "phone": "0591-83334444", "reconsideration_body": "示例市人民政府",
        "court": "示例市人民法院", "fee_scale": "volume",
        "fee_payment": "请持本通知到示例市自然资源局政务窗口缴纳。",
    },
)  # fmt: skip

#: (name, role, display name, agency codes — "" is the first agency —, county-wide)
DEMO_USERS = (
    ("alice", "clerk", "王晓梅", ("",), False),
    ("carol", "clerk", "陈静", ("",), False),
    ("bob", "supervisor", "李建国", ("",), False),
    ("dan", "auditor", "赵明", (), True),
    ("erin", "clerk", "郑红", ("finance",), False),
    ("frank", "supervisor", "吴刚", ("finance",), False),
    ("gina", "clerk", "林涛", ("land",), False),
    ("hank", "supervisor", "黄磊", ("land",), False),
    ("zhou", "supervisor", "周建华", (), True),
    ("admin", "admin", "系统管理员", (), True),
)


def demo_password(name: str) -> str:
    """A demo account's password: printed by ``make run``, known to anyone who reads this.
    Only a database made by ``disclosure demo`` has these accounts."""
    return f"{name}-demo-2026"


def demo_accounts() -> list[tuple[str, str, str]]:
    """(name, role, password) of every demo account, for the start-up message."""
    return [(name, role, demo_password(name)) for name, role, *_ in DEMO_USERS]


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "海燕",
]
_ORGS = [
    ("commercial", "福州闽江建设工程有限公司"),
    ("commercial", "罗源湾港口物流有限公司"),
    ("research", "福建省社会科学研究院"),
    ("public_interest", "绿色家园环保公益协会"),
    ("legal_services", "福建正诚律师事务所"),
    ("other_organisation", "罗源县凤山镇居民委员会"),
]
_SUBJECTS = [
    "本局2025年度部门预算及执行情况审计报告",
    "罗源县2024年政府投资项目审计结果公告",
    "城关棚户区改造项目专项审计报告全文",
    "2025年乡镇领导干部经济责任审计整改情况",
    "扶贫专项资金审计发现问题及整改清单",
    "县医院基建项目结算审计意见书",
    "本局2025年政务公开工作实施方案",
    "农村公路建设资金使用情况审计报告",
]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# Each path is a sequence of triggers a real case can follow; a case stops part-way.
_PATHS: list[list[str]] = [
    ["review", "accept", "draft_reply", "approve", "send", "archive"],
    ["review", "request_correction", "receive_correction", "draft_reply", "approve", "send"],
    ["review", "request_correction", "abandon_correction", "archive"],
    [
        "review",
        "accept",
        "consult_third_party",
        "third_party_replied",
        "extend",
        "draft_reply",
        "approve",
        "send",
    ],
    [
        "review",
        "accept",
        "consult_agency",
        "agency_replied",
        "draft_reply",
        "approve",
        "send",
        "archive",
    ],
    ["review", "accept", "issue_fee", "fee_paid", "draft_reply", "approve", "send"],
    ["review", "accept", "issue_fee", "abandon_fee"],
    ["review", "accept", "extend", "draft_reply", "return_draft", "draft_reply", "approve", "send"],
    ["review", "accept", "withdraw", "archive"],
    ["review", "accept", "consult_third_party", "withdraw"],
    ["review", "accept"],  # left in handling: these become the overdue ones
    ["review", "accept", "consult_agency"],  # still waiting for the other agency's answer
]


_CORRECTIONS = [
    "请写明所需信息的年度或时间范围",
    "请写明所需信息涉及的项目名称",
    "请提供有效的身份证明复印件",
    "请写明获取信息的方式",
]
_DETAILS = {
    "disclose": "现将所申请信息随本答复书一并提供（共12页）。",
    "partial": "现提供可以公开的部分（共8页），涉及第三方商业信息的部分已作遮盖处理。",
    "withhold": "该信息不属于可以公开的政府信息。",
    "cannot_provide": "经检索本机关档案及业务系统，未找到所申请的信息。",
    "not_handled": "您的诉求请通过相应渠道提出。",
    "other": "本申请已作其他处理。",
}


def _resident_id(rng: random.Random) -> str:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    body = f"350123{birth:%Y%m%d}{rng.randrange(1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def _credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91350123" + "".join(rng.choice(alphabet) for _ in range(9))
    return body + credit_code_check_character(body)


def _application(rng: random.Random, received: date) -> dict[str, Any]:
    if rng.random() < 0.7:
        applicant: dict[str, Any] = {
            "applicant_kind": "person",
            "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
            "id_type": "resident_id",
            "id_number": _resident_id(rng),
        }
    else:
        kind, name = rng.choice(_ORGS)
        applicant = {
            "applicant_kind": kind,
            "name": name,
            "id_type": "credit_code",
            "id_number": _credit_code(rng),
        }
    channel = rng.choice(["in_person", "registered_post", "online", "online", "fax"])
    return {
        **applicant,
        "phone": f"138{rng.randrange(10**8):08d}",
        "address": f"福建省福州市罗源县凤山镇{rng.randrange(1, 300)}号",
        "postal_code": "350600",
        "description": rng.choice(_SUBJECTS),
        "delivery_form": rng.choice(["paper", "electronic"]),
        "delivery_method": rng.choice(["pickup", "post", "online"]),
        "channel": channel,
        "received_on": received.isoformat(),
    }


def _draftable(corrected: bool) -> list[tuple[str, str]]:
    return [
        (o.code, r)
        for o in OUTCOMES.values()
        for r in o.reasons
        if (o.code, r) not in SYSTEM_OUTCOMES and (corrected or r != "still_unclear")
    ]


def _ensure_staff(app: App) -> dict[str, tuple[list[str], str]]:
    """The demo's agencies and users; each agency's (clerks, supervisor)."""
    first = app.settings.agency_code
    known_agencies = {view.profile.code for view in list_agencies(app)}
    for agency in DEMO_AGENCIES:
        if agency["code"] not in known_agencies:
            add_agency(app, agency)
    with app.uow() as uow:
        known = set(uow.session.scalars(select(User.name)))
    staff: dict[str, tuple[list[str], str]] = {}
    for name, role, display, codes, county in DEMO_USERS:
        agencies = [code or first for code in codes]
        if name not in known:
            cases.add_user(
                app, name, role, display, agencies=agencies, all_agencies=county,
                password=demo_password(name),
            )  # fmt: skip
        for code in agencies:
            clerks, supervisor = staff.setdefault(code, ([], ""))
            if role == "clerk":
                clerks.append(name)
            elif role == "supervisor":
                staff[code] = (clerks, name)
    return staff


def load_demo(
    app: App, today: date, count: int = 200, advance: Callable[[], None] = lambda: None
) -> int:
    """Top the demo set up to ``count`` cases; return how many were made (0 if complete).

    Each case commits on its own, so an interrupted run resumes where it stopped.
    """
    staff = _ensure_staff(app)
    codes = [app.settings.agency_code, app.settings.agency_code, "finance", "land"]
    with app.uow() as uow:
        existing = uow.session.scalar(select(func.count()).where(Case.is_demo)) or 0
    rng = random.Random(20261124 + existing)
    cal = app.settings.calendar
    for _ in range(existing):
        advance()
    for _ in range(max(0, count - existing)):
        received = today - timedelta(days=rng.randrange(0, 110))
        agency = rng.choice(codes)
        clerks, supervisor = staff[agency]
        case_id = cases.register(
            app, _application(rng, received), rng.choice(clerks), today, agency=agency,
            is_demo=True,
        )  # fmt: skip
        path = rng.choice(_PATHS)
        # Most cases move on at an office's pace until "today"; one in eight stalls (the overdue).
        stop = rng.randint(0, len(path)) if rng.random() < 0.12 else len(path)
        on, corrected = received, False
        for trigger in path[:stop]:
            gap = {
                "abandon_correction": 16,
                "abandon_fee": 21,
                "fee_paid": rng.randint(3, 15),
                "third_party_replied": rng.randint(3, 12),
                "review": rng.randint(0, 2),
                "request_correction": rng.randint(0, 3),
            }.get(trigger, rng.randint(1, 6))
            on = max(on, cal.add_working_days(on, gap)) if gap else on
            if on > today:
                break
            clerk = rng.choice(clerks)
            kwargs: dict[str, Any] = {}
            actor = clerk
            if trigger in ("extend", "approve", "return_draft"):
                actor = supervisor
            if trigger == "extend":
                kwargs = {
                    "days": rng.randint(5, 20),
                    "reason": "申请内容涉及多年度资料，需调档汇总",
                }
            elif trigger == "draft_reply":
                outcome, reason = rng.choice(_draftable(corrected))
                kwargs = {"outcome": outcome, "reason_code": reason, "detail": _DETAILS[outcome]}
                if reason in ("not_held", "petition", "publication"):
                    kwargs["refer_to"] = "示例市财政局（电话0591-87654321）"
            elif trigger == "request_correction":
                kwargs = {"items": rng.sample(_CORRECTIONS, 2)}
            elif trigger == "consult_third_party":
                kwargs = {"party": rng.choice(_ORGS)[1]}
            elif trigger == "consult_agency":
                kwargs = {"party": "示例市财政局"}
            elif trigger == "issue_fee":
                kwargs = {"pages": rng.randint(40, 320)}
            elif trigger == "withdraw":
                kwargs = {"reason": "申请人书面撤回申请"}
            elif trigger == "third_party_replied":
                kwargs = {"opinion": rng.choice(["agree", "object"])}
            try:
                # Each step is taken on its own day, as the office did: not a late entry.
                command = parse_input(trigger, kwargs)
                cases.act(app, case_id, command, actor=actor, on=on, today=on)
            except DisclosureError:
                break  # the law refused this step on this date: the case stays where it is
            corrected = corrected or trigger == "receive_correction"
        advance()
    return max(0, count - existing)
