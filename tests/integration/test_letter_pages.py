"""The printed letter (issue #8): every kind, issued through its trigger, prints on A4 with
the GB/T 9704 type area, 文号 without 第, page numbers ``— 1 —`` right on odd pages and left
on even ones, and no page holding only the footer (signature, date, notes) — checked on
the PDF with pdftotext and pypdf, and on the DOCX with python-docx."""

from __future__ import annotations

import html as html_lib
import io
import re
import subprocess
from datetime import date

import pytest
from docx import Document
from pypdf import PdfReader

from disclosure.config import Settings
from disclosure.letters.output import html_to_pdf, render_format
from disclosure.letters.render import render_html
from disclosure.models.tables import Letter
from disclosure.services import cases
from disclosure.services.letters import list_letters
from disclosure.services.unit_of_work import App
from disclosure.workflow.letters import LetterKind
from tests.conftest import TODAY, act, application
from tests.unit.test_letter_layout import context, east_asia, letter, reply_html

D = date.fromisoformat
RECEIVED = "2026-11-02"


def correction(items: int) -> str:
    return render_html(
        "correction.html.j2",
        context(
            letter=letter(LetterKind.CORRECTION),
            correction={
                "points": [
                    f"请写明第{i}项所需信息的文件名称、文号和形成年度" for i in range(1, items + 1)
                ],
                "period_due": "2026年12月15日",
                "period_days": 15,
            },
        ),
    )


def pdf_pages(pdf: bytes) -> list[str]:
    """pdftotext's text of each page, whitespace removed."""
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    pages = out.stdout.decode("utf-8").split("\f")[:-1]
    return [re.sub(r"\s+", "", page) for page in pages]


def footer_lines(html: str) -> list[str]:
    """The footer's lines (signature, date, notes) as pdftotext reads them."""
    found = re.findall(r'<p class="(?:signature|date|meta)">(.*?)</p>', html, re.S)
    return [re.sub(r"\s+", "", html_lib.unescape(re.sub(r"<[^>]+>", "", t))) for t in found]


def assert_footer_never_alone(pdf: bytes, html: str) -> list[str]:
    """No page holds only footer text (or nothing but its page number), and the footer is
    printed whole on the last page."""
    pages = pdf_pages(pdf)
    footer = footer_lines(html)
    assert footer
    for number, page in enumerate(pages, 1):
        rest = re.sub(r"—\d+—|\d+/\d+$", "", page)
        for line in footer:
            rest = rest.replace(line, "")
        assert rest, f"page {number} of {len(pages)} holds only the footer: {page}"
    assert all(line in pages[-1] for line in footer), "the footer is split across pages"
    return pages


# -- footer placement --------------------------------------------------------------------


@pytest.mark.parametrize("items", range(1, 25, 2))
def test_a_correction_notice_of_any_length_keeps_its_footer_with_the_body(items: int) -> None:
    html = correction(items)
    assert_footer_never_alone(html_to_pdf(html), html)


def test_a_long_correction_notice_runs_to_pages_numbered_right_then_left() -> None:
    html = correction(30)
    pdf = html_to_pdf(html)
    pages = assert_footer_never_alone(pdf, html)
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert f"—{number}—" in page
    boxes = words(pdf)
    for number, page_words in boxes.items():
        mark = [w for w in page_words if w[4] in ("—", str(number))]
        assert mark, number
        left = min(w[0] for w in mark)
        right = max(w[2] for w in mark)
        if number % 2:  # odd: right, one 4号 character in from the type area's edge
            assert abs(right - (mm(184) - 14)) < mm(2), (number, right)
        else:
            assert abs(left - (mm(28) + 14)) < mm(2), (number, left)
        assert min(w[1] for w in mark) > mm(297 - 35), "page number below the type area"


# -- GB/T 9704 geometry of the PDF -------------------------------------------------------


def mm(value: float) -> float:
    return value / 25.4 * 72


def words(pdf: bytes) -> dict[int, list[tuple[float, float, float, float, str]]]:
    """Every word's box (xMin, yMin, xMax, yMax, text) in points, by page number."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    pages: dict[int, list[tuple[float, float, float, float, str]]] = {}
    for number, page in enumerate(out.split("<page ")[1:], 1):
        pages[number] = [
            (float(a), float(b), float(c), float(d), html_lib.unescape(t))
            for a, b, c, d, t in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                page,
            )
        ]
    return pages


def test_the_pdf_is_a4_with_the_gbt_9704_type_area() -> None:
    html = reply_html()
    pdf = html_to_pdf(html)
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)
    boxes = words(pdf)
    body = [w for page in boxes.values() for w in page if not re.fullmatch(r"—|\d+", w[4])]
    assert abs(min(w[0] for w in body) - mm(28)) < mm(1)  # left margin 28 mm
    assert max(w[2] for w in body) <= mm(210 - 26) + 1  # type area 156 mm wide
    assert min(w[1] for w in body) >= mm(37) - 1  # top margin 37 mm
    assert max(w[3] for w in body) <= mm(37 + 225) + 1  # type area 225 mm high


def test_the_pdf_number_is_centred_below_the_heading_without_di() -> None:
    pdf = html_to_pdf(reply_html())
    first = words(pdf)[1]
    number = [w for w in first if "〔2026〕" in w[4] or w[4].startswith("示审依申答")]
    assert number
    centre = (min(w[0] for w in number) + max(w[2] for w in number)) / 2
    assert abs(centre - mm(28 + 156 / 2)) < mm(2)
    heading = [w for w in first if w[4].startswith("示例市")][0]
    assert number[0][1] - heading[3] > mm(15)  # two blank lines below the agency's name
    assert "示审依申答〔2026〕7号" in pdf_pages(pdf)[0]


def test_the_pdf_embeds_the_noto_cjk_faces() -> None:
    fonts = subprocess.run(
        ["pdffonts", "-"], input=html_to_pdf(reply_html()), capture_output=True, check=True
    ).stdout.decode()
    assert "Noto-Serif-CJK-SC-Bold" in fonts and "Bold" in fonts


# -- every kind, through its trigger ----------------------------------------------------------


def every_kind(app: App, items: int = 2) -> list[Letter]:
    """One case per path, with typical inputs; every letter kind is issued at least once."""
    ids = []
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", RECEIVED)
    act(app, case_id, "request_correction", "alice", "2026-11-04",
        items=[f"请写明第{i}项所需报告的年度和项目名称" for i in range(items)])  # fmt: skip
    act(app, case_id, "abandon_correction", "alice", "2026-11-26")
    ids.append(case_id)
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", RECEIVED)
    act(app, case_id, "accept", "alice", "2026-11-03")
    act(app, case_id, "consult_third_party", "alice", "2026-11-04",
        party="福州闽江建设工程有限公司")  # fmt: skip
    act(app, case_id, "third_party_replied", "alice", "2026-11-10", opinion="object",
        reason="第三方不同意公开")  # fmt: skip
    act(app, case_id, "consult_agency", "alice", "2026-11-10",
        party="示例市财政局")  # fmt: skip
    act(app, case_id, "agency_replied", "alice", "2026-11-12")
    act(app, case_id, "extend", "bob", "2026-11-20", days=10, reason="涉及多个年度的档案需调阅")
    act(app, case_id, "draft_reply", "alice", "2026-11-20", outcome="partial",
        reason_code="third_party_rights",
        detail="现将可以公开的部分（审计报告正文第1至12页）随本答复书提供给您；"
               "涉及企业商业秘密的第13至15页不予公开。")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-11-23")
    act(app, case_id, "send", "carol", "2026-11-24",
        public_interest="涉及公共资金使用，公开有利于社会监督")  # fmt: skip
    ids.append(case_id)
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", RECEIVED)
    act(app, case_id, "accept", "alice", "2026-11-03")
    act(app, case_id, "issue_fee", "alice", "2026-11-05", pages=150)
    ids.append(case_id)
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", RECEIVED)
    act(app, case_id, "accept", "alice", "2026-11-03")
    act(app, case_id, "set_due", "bob", "2026-11-20", until=D("2027-01-29"),
        reason="申请公开的信息涉及七个年度的审计档案，需逐件调阅、审查",
        consent="申请人于2026年11月19日书面同意")  # fmt: skip
    act(app, case_id, "draft_reply", "alice", "2026-11-24", outcome="disclose",
        reason_code="provided", detail="现将该报告复印件随本答复书提供给您。")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-11-24")
    act(app, case_id, "send", "carol", "2026-11-24")
    ids.append(case_id)
    with app.uow() as uow:
        letters = [x for case_id in ids for x in list_letters(uow.session, case_id)]
    assert {x.kind for x in letters} == {k.value for k in LetterKind}
    return letters


def test_every_kind_prints_on_a4_with_its_number_and_the_footer_never_alone(app: App) -> None:
    for found in every_kind(app):
        assert re.fullmatch(r"示审依申.〔2026〕[1-9]\d*号", found.number), found.number
        pdf = render_format(found.html, "pdf")
        pages = assert_footer_never_alone(pdf, found.html)
        assert found.number in pages[0], found.kind
        assert "→" not in "".join(pages)
        for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, 1):
            size = (float(page.mediabox.width), float(page.mediabox.height))
            assert (round(size[0] / 72 * 25.4), round(size[1] / 72 * 25.4)) == (210, 297)
            assert f"—{number}—" in pages[number - 1]
        document = Document(io.BytesIO(render_format(found.html, "docx")))
        runs = [r for p in document.paragraphs for r in p.runs if r.text.strip()]
        assert all(east_asia(r) for r in runs), found.kind
        assert found.number in [p.text for p in document.paragraphs]


def test_a_correction_notice_with_many_items_keeps_its_footer_with_the_body(app: App) -> None:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", RECEIVED)
    act(app, case_id, "request_correction", "alice", "2026-11-04",
        items=[f"请写明第{i}项所需信息的文件名称、文号和形成年度"
                                        for i in range(1, 19)])  # fmt: skip
    with app.uow() as uow:
        found = list_letters(uow.session, case_id)[-1]
    pages = assert_footer_never_alone(render_format(found.html, "pdf"), found.html)
    assert len(pages) >= 2


def test_the_agency_may_keep_di_in_its_numbers(database_url: str) -> None:
    service = App.open(Settings.from_env(database_url=database_url, number_with_di=True),
                       create=True)  # fmt: skip
    cases.add_user(service, "alice", "clerk", "王晓梅")
    case_id = cases.register(service, application(received_on=RECEIVED), "alice", TODAY)
    with service.uow() as uow:
        found = list_letters(uow.session, case_id)[0]
    assert re.fullmatch(r"示审依申登〔2026〕第\d+号", found.number)
    assert found.number in "".join(pdf_pages(render_format(found.html, "pdf")))
    service.close()
