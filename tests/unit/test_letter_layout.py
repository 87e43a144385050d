"""Letters without a database or a PDF: the GB/T 9704 DOCX, the wording of replies and of
missing-field errors, 文号 normalisation and the due-date sentence (issue #8). The PDF
layout is tested in tests/integration/test_letter_pages.py."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn

from disclosure.errors import ConfigurationError, RuleViolation
from disclosure.letters.output import html_to_docx
from disclosure.letters.render import render_html
from disclosure.services.letters import due_sentence, normalise_number
from disclosure.workflow.deadlines import Limit
from disclosure.workflow.letters import BASES, KINDS, REPLY_DECISIONS, REPLY_FINDINGS, LetterKind


def context(**blocks: Any) -> dict[str, Any]:
    """A letter's context as services.letters builds it, with typical values."""
    base: dict[str, Any] = {
        "agency": {
            "name": "示例市审计局", "address": "示例市人民路1号", "contact": "王晓梅",
            "phone": "0591-12345678", "reconsideration_body": "示例市人民政府",
            "court": "示例市人民法院",
        },
        "applicant": {"name": "张三", "id_masked": "110105********002X", "id_type": "居民身份证"},
        "case": {
            "id": 7, "received_on": "2026年11月2日", "description": "2025年度部门预算执行审计报告",
            "channel_name": "当面", "channel_rule": "提交之日", "reply_due": "2026年11月30日",
            "reply_due_note": "答复期限自2026年11月2日起算20个工作日，至2026年11月30日届满",
            "provisional": False,
        },
        "letter": {"kind": "receipt", "title": KINDS[LetterKind.RECEIPT].title,
                   "number": "示审依申登〔2026〕7号", "issued_on": "2026年11月24日"},
    }  # fmt: skip
    return base | blocks


def letter(kind: LetterKind, title: str | None = None) -> dict[str, str]:
    return {"kind": kind.value, "title": title or KINDS[kind].title,
            "number": f"示审依申{KINDS[kind].code}〔2026〕7号", "issued_on": "2026年11月24日"}  # fmt: skip


def reply_block(outcome: str, reason: str, **extra: str) -> dict[str, str]:
    basis = BASES[(outcome, reason)]
    return {"outcome": outcome, "code": reason, "reason": reason, "article": basis.article,
            "basis": basis.text, "finding": REPLY_FINDINGS[(outcome, reason)],
            "decision": REPLY_DECISIONS[(outcome, reason)]} | extra  # fmt: skip


def reply_html(outcome: str = "partial", reason: str = "third_party_rights") -> str:
    title = "政府信息公开申请答复书（部分公开）"
    return render_html(
        f"reply_{outcome}.html.j2",
        context(
            letter=letter(LetterKind.REPLY, title),
            reply=reply_block(outcome, reason, detail="现将可以公开的部分随本答复书提供给您。"),
        ),
    )


# -- DOCX ----------------------------------------------------------------------------------


def east_asia(run: Any) -> str | None:
    fonts = run._element.rPr.rFonts if run._element.rPr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def test_the_docx_names_the_chinese_office_faces_on_every_run() -> None:
    document = Document(io.BytesIO(html_to_docx(reply_html())))
    runs = [(p, r) for p in document.paragraphs for r in p.runs if r.text.strip()]
    assert runs
    assert all(east_asia(r) for _, r in runs), "a run without w:eastAsia"
    by_text = {r.text: east_asia(r) for _, r in runs}
    assert by_text["示例市审计局"] == "方正小标宋简体"
    assert by_text["政府信息公开申请答复书（部分公开）"] == "方正小标宋简体"
    assert by_text["示审依申答〔2026〕7号"] == "仿宋_GB2312"
    assert by_text["2026年11月24日"] == "仿宋_GB2312"
    body = [r for p, r in runs if r.text.startswith("本机关于")]
    assert body and east_asia(body[0]) == "仿宋_GB2312" and body[0].font.size.pt == 16
    assert [r for _, r in runs if r.text.startswith("政府信息公开申请答复书")][0].font.size.pt == 22
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"
    table = document.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE).blob.decode("utf-8")
    assert re.search(r'w:name="仿宋_GB2312">\s*<w:altName w:val="仿宋"/>', table)
    assert re.search(r'w:name="方正小标宋简体">\s*<w:altName w:val="宋体"/>', table)


def test_the_docx_is_a4_with_the_gbt_9704_margins_and_page_numbers() -> None:
    document = Document(io.BytesIO(html_to_docx(reply_html())))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # type: ignore[union-attr]
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert tuple(round(m.mm) for m in margins) == (37, 35, 28, 26)  # type: ignore[union-attr]
    assert document.settings.odd_and_even_pages_header_footer
    for footer, side in ((section.footer, "RIGHT"), (section.even_page_footer, "LEFT")):
        paragraph = footer.paragraphs[0]
        xml = paragraph._p.xml
        assert "PAGE" in xml and 'w:fldCharType="begin"' in xml
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        assert str(paragraph.alignment).startswith(side)
        assert all(east_asia(r) == "宋体" for r in paragraph.runs)


def test_the_docx_keeps_the_footer_with_the_end_of_the_body() -> None:
    document = Document(io.BytesIO(html_to_docx(reply_html())))
    paragraphs = document.paragraphs
    signature = next(i for i, p in enumerate(paragraphs) if p.text.endswith("（盖章）"))
    for paragraph in paragraphs[signature - 1 : -1]:
        assert paragraph.paragraph_format.keep_with_next, paragraph.text


# -- reply wording -------------------------------------------------------------------------


@pytest.mark.parametrize(("outcome", "reason"), [k for k in BASES if k[0] not in ("other",)])
def test_each_reply_reads_as_a_sentence_citing_its_article(outcome: str, reason: str) -> None:
    text = re.sub(r"<[^>]+>|\s+", "", reply_html(outcome, reason))
    assert f"《中华人民共和国政府信息公开条例》{BASES[(outcome, reason)].article}规定，" in text
    assert f"据此，本机关{REPLY_DECISIONS[(outcome, reason)]}。" in text
    assert "（予以提供）" not in text and "决定予以公开（" not in text


# -- error messages --------------------------------------------------------------------------


def _no_english(message: str) -> None:
    assert not re.search(r"[A-Za-z]", message), message


@pytest.mark.parametrize(
    ("template", "blocks", "field", "label"),
    [
        ("reply_disclose.html.j2",
         {"letter": letter(LetterKind.REPLY, "政府信息公开申请答复书（予以公开）"),
          "reply": reply_block("disclose", "provided")},
         "detail", "答复内容（提供的信息或获取方式）"),
        ("correction.html.j2",
         {"letter": letter(LetterKind.CORRECTION),
          "correction": {"period_due": "2026年12月1日", "period_days": 15}},
         "item", "需要补正的事项"),
        ("third_party.html.j2",
         {"letter": letter(LetterKind.THIRD_PARTY),
          "consultation": {"window_due": "2026年12月1日", "days": 15}},
         "party", "被征求意见方名称"),
        ("third_party_decision.html.j2",
         {"letter": letter(LetterKind.THIRD_PARTY_DECISION), "decision": {"party": "某公司"}},
         "public_interest", "决定公开的公共利益理由"),
        ("extension.html.j2",
         {"letter": letter(LetterKind.EXTENSION),
          "extension": {"old_due": "2026年11月30日", "new_due": "2026年12月14日", "days": 10}},
         "reason", "延长答复期限的理由"),
        ("agreed_due.html.j2",
         {"letter": letter(LetterKind.AGREED_DUE),
          "agreed": {"old_due": "2026年11月30日", "new_due": "2027年1月29日"}},
         "reason", "另行确定答复期限的理由"),
    ],
)  # fmt: skip
def test_a_missing_field_is_named_in_chinese_with_the_input_field(
    template: str, blocks: dict[str, Any], field: str, label: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        render_html(template, context(**blocks))
    error = caught.value
    assert (error.field, error.rule) == (field, "letter_field_missing")
    title = blocks["letter"]["title"]
    assert error.message == f"{title}缺少必填内容：{label}；未生成文书，本次操作未保存"
    _no_english(error.message)


def test_an_override_printing_refer_to_names_that_input_field(tmp_path: Path) -> None:
    (tmp_path / "reply_other.html.j2").write_text(
        '{% extends "_reply.html.j2" %}{% block decision %}{{ reply.refer_to }}{% endblock %}',
        encoding="utf-8",
    )
    with pytest.raises(RuleViolation) as caught:
        render_html(
            "reply_other.html.j2",
            context(
                letter=letter(LetterKind.REPLY, "政府信息公开申请处理告知书"),
                reply=reply_block("other", "other", detail="x"),
            ),  # fmt: skip
            tmp_path,
        )
    assert caught.value.field == "refer_to"
    assert "负责公开该信息的机关" in caught.value.message
    _no_english(caught.value.message)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{% if %}", "第1行有语法错误"),
        ("<p>{{ case.nonexistent_thing }}</p>", "引用了系统不提供的内容“case.nonexistent_thing”"),
        ("<p>{{ 1 + case.description }}</p>", "中的运算或取值有误"),
    ],
)
def test_a_broken_override_template_is_a_configuration_error_in_chinese(
    tmp_path: Path, text: str, detail: str
) -> None:
    (tmp_path / "receipt.html.j2").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        render_html("receipt.html.j2", context(), tmp_path)
    message = caught.value.message
    assert detail in message
    # Nothing from Jinja2: only the file name, the setting's name and our own words.
    leftover = message.replace("receipt.html.j2", "").replace("DISCLOSURE_TEMPLATE_DIR", "")
    _no_english(leftover.replace("case.nonexistent_thing", ""))


# -- 文号 and the due-date sentence -------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "示审依申答〔2026〕12号",
        "示审依申答〔2026〕第12号",
        "示审依申答[2026]12号",
        "示审依申答【2026】第12号",
        "示审依申答(2026)12号",
        "示审依申答（２０２６）第１２号",
        "示审依申答［2026］012号",
        " 示审依申答 〔2026〕 第 12 号 ",
    ],
)
def test_a_number_typed_with_any_brackets_digits_or_di_normalises_alike(typed: str) -> None:
    assert normalise_number(typed) == "示审依申答〔2026〕12号"


def test_different_numbers_stay_different() -> None:
    assert normalise_number("示审依申答〔2026〕12号") != normalise_number("示审依申答〔2026〕2号")
    assert normalise_number("示审依申答〔2026〕12号") != normalise_number("示审依申登〔2026〕12号")
    assert normalise_number("示审依申答〔2026〕12号") != normalise_number("示审依申答〔2025〕12号")


@pytest.mark.parametrize(
    ("explanation", "sentence"),
    [
        ("自2026年11月2日起算20个工作日 → 2026年11月30日",
         "答复期限自2026年11月2日起算20个工作日，至2026年11月30日届满"),
        ("自2026年11月2日起算20个工作日；征求第三方意见暂停5个工作日；延长10个工作日 → 2026年12月21日",
         "答复期限自2026年11月2日起算20个工作日，征求第三方意见暂停5个工作日，延长10个工作日，"
         "至2026年12月21日届满"),
    ],
)  # fmt: skip
def test_the_due_date_explanation_becomes_a_sentence(explanation: str, sentence: str) -> None:
    due = date.fromisoformat("2026-11-30" if "延长" not in explanation else "2026-12-21")
    limit = Limit("reply", "答复期限", due, False, explanation)
    assert due_sentence(limit) == sentence
    assert "→" not in due_sentence(limit)


PPR_ORDER = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
    "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
    "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
    "rPr", "sectPr", "pPrChange",
)  # fmt: skip


def test_the_docx_paragraph_properties_are_in_schema_order() -> None:
    """Word refuses (\"unreadable content\") a w:pPr whose children are out of order."""
    document = Document(io.BytesIO(html_to_docx(reply_html())))
    section = document.sections[0]
    paragraphs = [*document.paragraphs, *section.footer.paragraphs,
                  *section.even_page_footer.paragraphs]  # fmt: skip
    assert any(p._p.pPr is not None and p._p.pPr.find(qn("w:pBdr")) is not None for p in paragraphs)
    for paragraph in paragraphs:
        if paragraph._p.pPr is None:
            continue
        tags = [child.tag.split("}")[1] for child in paragraph._p.pPr]
        positions = [PPR_ORDER.index(tag) for tag in tags]
        assert positions == sorted(positions), (paragraph.text, tags)
