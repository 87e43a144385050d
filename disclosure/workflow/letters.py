"""Every letter of the workflow (letters.md) and the legal text each reply reason cites.

Which trigger issues which letter is declared with the trigger, in ``triggers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LetterKind(StrEnum):
    RECEIPT = "receipt"
    CORRECTION = "correction"
    EXTENSION = "extension"
    THIRD_PARTY = "third_party"
    THIRD_PARTY_DECISION = "third_party_decision"
    AGENCY_CONSULT = "agency_consult"
    FEE = "fee"
    REPLY = "reply"
    CLOSING = "closing"
    AGREED_DUE = "agreed_due"


@dataclass(frozen=True)
class LetterType:
    """A kind of letter: its stored code, title, 文号 character and template.

    A trigger may declare a letter type of its own (``triggers.py``); ``KINDS`` holds those
    the core workflow issues.
    """

    kind: str
    title: str
    code: str  # one character after the agency prefix, so 文号 differ across kinds
    template: str


KINDS: dict[str, LetterType] = {
    t.kind: t
    for t in (
        LetterType(LetterKind.RECEIPT, "政府信息公开申请登记回执", "登", "receipt.html.j2"),
        LetterType(LetterKind.CORRECTION, "补正申请告知书", "补", "correction.html.j2"),
        LetterType(LetterKind.EXTENSION, "延长答复期限告知书", "延", "extension.html.j2"),
        LetterType(LetterKind.THIRD_PARTY, "征求第三方意见书", "征", "third_party.html.j2"),
        LetterType(
            LetterKind.THIRD_PARTY_DECISION,
            "决定公开告知书（第三方）",
            "决",
            "third_party_decision.html.j2",
        ),
        LetterType(LetterKind.AGENCY_CONSULT, "征求意见函", "函", "agency_consult.html.j2"),
        LetterType(LetterKind.FEE, "信息处理费收费通知书", "费", "fee.html.j2"),
        LetterType(LetterKind.REPLY, "政府信息公开申请答复书", "答", "reply_{outcome}.html.j2"),
        LetterType(LetterKind.CLOSING, "终止处理告知书", "终", "closing.html.j2"),
        LetterType(LetterKind.AGREED_DUE, "另行确定答复期限告知书", "定", "agreed_due.html.j2"),
    )
}

#: Reply titles by outcome; 不予处理 is a 告知书, not a 答复书 (letters.md).
REPLY_TITLES = {
    "disclose": "政府信息公开申请答复书（予以公开）",
    "partial": "政府信息公开申请答复书（部分公开）",
    "withhold": "政府信息公开申请答复书（不予公开）",
    "cannot_provide": "政府信息公开申请答复书（无法提供）",
    "not_handled": "政府信息公开申请告知书（不予处理）",
    "other": "政府信息公开申请处理告知书",
}


@dataclass(frozen=True)
class Basis:
    """The article a decision rests on, and the words of the Regulations it quotes."""

    article: str
    text: str


_SECRET = "依法确定为国家秘密的政府信息，法律、行政法规禁止公开的政府信息，以及公开后可能危及国家安全、公共安全、经济安全、社会稳定的政府信息，不予公开"
_PROCESS = "行政机关在履行行政管理职能过程中形成的讨论记录、过程稿、磋商信函、请示报告等过程性信息以及行政执法案卷信息，可以不予公开"

#: (outcome, reason code) → legal basis, quoted from the 2019 Regulations.
BASES: dict[tuple[str, str], Basis] = {
    ("disclose", "provided"): Basis(
        "第三十六条第（二）项",
        "所申请公开信息可以公开的，向申请人提供该政府信息，或者告知申请人获取该政府信息的方式、途径和时间",
    ),
    ("disclose", "published"): Basis(
        "第三十六条第（一）项",
        "所申请公开信息已经主动公开的，告知申请人获取该政府信息的方式、途径",
    ),
    ("withhold", "state_secret"): Basis("第十四条", _SECRET),
    ("withhold", "law_prohibited"): Basis("第十四条", _SECRET),
    ("withhold", "three_safety_stability"): Basis("第十四条", _SECRET),
    ("withhold", "third_party_rights"): Basis(
        "第十五条",
        "涉及商业秘密、个人隐私等公开会对第三方合法权益造成损害的政府信息，行政机关不得公开",
    ),
    ("withhold", "internal_affairs"): Basis(
        "第十六条第一款",
        "行政机关的内部事务信息，包括人事管理、后勤管理、内部工作流程等方面的信息，可以不予公开",
    ),
    ("withhold", "process_info"): Basis("第十六条第二款", _PROCESS),
    ("withhold", "enforcement_file"): Basis("第十六条第二款", _PROCESS),
    ("withhold", "administrative_query"): Basis(
        "第三十六条第（七）项",
        "所申请公开信息属于工商、不动产登记资料等信息，有关法律、行政法规对信息的获取有特别规定的，告知申请人依照有关法律、行政法规的规定办理",
    ),
    ("cannot_provide", "not_held"): Basis(
        "第三十六条第（四）（五）项",
        "经检索没有所申请公开信息的，告知申请人该政府信息不存在；所申请公开信息不属于本行政机关负责公开的，告知申请人并说明理由，能够确定负责公开该政府信息的行政机关的，告知申请人该行政机关的名称、联系方式",
    ),
    ("cannot_provide", "needs_creation"): Basis(
        "第三十八条",
        "行政机关向申请人提供的信息，应当是已制作或者获取的政府信息；需要行政机关对现有政府信息进行加工、分析的，行政机关可以不予提供",
    ),
    ("cannot_provide", "still_unclear"): Basis(
        "第三十条",
        "政府信息公开申请内容不明确的，行政机关应当给予指导和释明，并一次性告知申请人作出补正",
    ),
    ("not_handled", "petition"): Basis(
        "第三十九条第一款",
        "申请人以政府信息公开申请的形式进行信访、投诉、举报等活动，行政机关应当告知申请人不作为政府信息公开申请处理并可以告知通过相应渠道提出",
    ),
    ("not_handled", "repeat"): Basis(
        "第三十六条第（六）项",
        "行政机关已就申请人提出的政府信息公开申请作出答复、申请人重复申请公开相同政府信息的，告知申请人不予重复处理",
    ),
    ("not_handled", "publication"): Basis(
        "第三十九条第二款",
        "申请人提出的申请内容为要求行政机关提供政府公报、报刊、书籍等公开出版物的，行政机关可以告知获取的途径",
    ),
    ("not_handled", "mass_requests"): Basis(
        "第三十五条",
        "申请人申请公开政府信息的数量、频次明显超过合理范围，行政机关可以要求申请人说明理由；行政机关认为申请理由不合理的，告知申请人不予处理",
    ),
    ("not_handled", "confirm_or_reissue"): Basis(
        "第二条",
        "本条例所称政府信息，是指行政机关在履行行政管理职能过程中制作或者获取的，以一定形式记录、保存的信息",
    ),
    ("other", "other"): Basis(
        "第三十六条",
        "对政府信息公开申请，行政机关根据下列情况分别作出答复",
    ),
    ("other", "no_correction"): Basis(
        "第三十条",
        "申请人无正当理由逾期不补正的，视为放弃申请，行政机关不再处理该政府信息公开申请",
    ),
    ("other", "fee_unpaid"): Basis(
        "《政府信息公开信息处理费管理办法》",
        "申请人逾期未按收费通知要求缴纳费用的，视为放弃申请，行政机关不再处理该政府信息公开申请",
    ),
}
# A partial disclosure withholds a part for one of the withholding reasons, and cites Art. 37.
for (_outcome, _reason), _basis in list(BASES.items()):
    if _outcome == "withhold":
        BASES[("partial", _reason)] = Basis(
            f"第三十七条、{_basis.article}",
            "申请公开的信息中含有不应当公开或者不属于政府信息的内容，但是能够作区分处理的，"
            f"行政机关应当向申请人提供可以公开的政府信息内容，并对不予公开的内容说明理由；{_basis.text}",
        )

#: How a withholding reason reads inside a sentence ("您申请的政府信息…，本机关决定不予公开").
WITHHOLD_PHRASES = {
    "state_secret": "属于依法确定为国家秘密的政府信息",
    "law_prohibited": "属于法律、行政法规禁止公开的政府信息",
    "three_safety_stability": "公开后可能危及国家安全、公共安全、经济安全或者社会稳定",
    "third_party_rights": "涉及商业秘密、个人隐私等，公开会对第三方合法权益造成损害",
    "internal_affairs": "属于行政机关的内部事务信息",
    "process_info": "属于行政机关在履行行政管理职能过程中形成的过程性信息",
    "enforcement_file": "属于行政执法案卷信息",
    "administrative_query": "属于有关法律、行政法规对获取另有特别规定的信息",
}

#: What the agency found, as the opening clause of a reply's decision paragraph. The
#: paragraph then reads: finding. 《条例》article规定，basis。据此，本机关decision。detail
REPLY_FINDINGS: dict[tuple[str, str], str] = {
    ("disclose", "provided"): "经审查，您申请获取的政府信息属于可以公开的政府信息",
    ("disclose", "published"): "经审查，您申请获取的政府信息本机关已经主动公开",
    ("cannot_provide", "not_held"): "经检索，本机关没有制作或者获取您所申请公开的政府信息",
    ("cannot_provide", "needs_creation"): (
        "经审查，本机关没有您所申请的现成信息，提供该信息需要对现有政府信息进行加工、分析"
    ),
    ("cannot_provide", "still_unclear"): (
        "经审查，您的申请经补正后内容仍不明确，本机关无法确定您所需要的政府信息"
    ),
    ("not_handled", "petition"): (
        "经审查，您的申请属于以政府信息公开申请的形式进行信访、投诉、举报等活动"
    ),
    ("not_handled", "repeat"): (
        "经审查，本机关已就您提出的政府信息公开申请作出答复，您此次申请公开的是相同的政府信息"
    ),
    ("not_handled", "publication"): (
        "经审查，您要求本机关提供的是政府公报、报刊、书籍等公开出版物"
    ),
    ("not_handled", "mass_requests"): (
        "经审查，您申请公开政府信息的数量、频次明显超过合理范围，经本机关要求说明理由，"
        "申请理由不合理"
    ),
    ("not_handled", "confirm_or_reissue"): (
        "经审查，您的申请是要求本机关确认或者重新出具已获取的信息，不属于申请获取政府信息"
    ),
    ("other", "other"): "经审查，本机关对您的申请作如下处理",
}
for _reason, _phrase in WITHHOLD_PHRASES.items():
    REPLY_FINDINGS[("withhold", _reason)] = f"经审查，您申请获取的政府信息{_phrase}"
    REPLY_FINDINGS[("partial", _reason)] = (
        f"经审查，您申请获取的政府信息中，部分内容{_phrase}，其余内容可以公开，且能够作区分处理"
    )

#: What the agency decided, read after "据此，本机关".
REPLY_DECISIONS: dict[tuple[str, str], str] = {
    ("disclose", "provided"): "决定予以公开",
    ("disclose", "published"): "告知您获取该政府信息的方式、途径",
    ("cannot_provide", "not_held"): "无法向您提供该政府信息",
    ("cannot_provide", "needs_creation"): "决定不予提供",
    ("cannot_provide", "still_unclear"): "无法向您提供所申请的政府信息",
    ("not_handled", "petition"): "不作为政府信息公开申请处理",
    ("not_handled", "repeat"): "不予重复处理",
    ("not_handled", "publication"): "不作为政府信息公开申请处理，告知您获取的途径",
    ("not_handled", "mass_requests"): "对该申请不予处理",
    ("not_handled", "confirm_or_reissue"): "不作为政府信息公开申请处理",
    ("other", "other"): "作如下处理",
}
for _reason in WITHHOLD_PHRASES:
    REPLY_DECISIONS[("withhold", _reason)] = "决定不予公开"
    REPLY_DECISIONS[("partial", _reason)] = (
        "决定部分公开：向您提供可以公开的内容，对上述部分内容不予公开"
    )
REPLY_DECISIONS[("withhold", "administrative_query")] = (
    "不通过政府信息公开程序提供该信息，请您依照有关法律、行政法规的规定办理"
)
REPLY_FINDINGS[("withhold", "administrative_query")] = (
    "经审查，您申请获取的政府信息属于工商、不动产登记资料等信息，"
    "有关法律、行政法规对该信息的获取有特别规定"
)
