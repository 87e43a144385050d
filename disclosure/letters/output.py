"""Turn a stored letter (its HTML) into PDF or DOCX, so every format carries the same text.

Both follow GB/T 9704-2012 (letters.md, "Layout"): A4, top margin 37 mm, left 28 mm, type
area 156 mm × 225 mm (right 26 mm, bottom 35 mm), 22 lines a page, body in 3号 (16 pt),
title in 2号 (22 pt), page numbers ``— 1 —`` in 4号 on the right of odd pages and the left
of even pages.

PDF: WeasyPrint, with the CJK font embedded (subset) from Debian's fonts-noto-cjk; the page
layout is the stylesheet of ``templates/base.html.j2``. No free 仿宋 face for simplified
Chinese is packaged, so the PDF sets the body in Noto Serif CJK SC (宋-style) and the title
in its bold weight (the closest to 小标宋).

DOCX: python-docx, built from the same HTML (headings, paragraphs, numbered lists), so a
clerk can edit and stamp it in Word or WPS. It names the faces a Chinese office has —
仿宋_GB2312 for the body, 方正小标宋简体 for the title and the agency's name, 黑体 and
楷体_GB2312 for first- and second-level headings, 宋体 for page numbers — in the East Asian
slot of every run (``w:rFonts w:eastAsia``), and gives Word the fallback for each in the
font table (``w:altName``: 仿宋, 宋体, 楷体), used where the _GB2312/方正 face is missing.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from lxml import etree  # type: ignore[import-untyped]

#: The East Asian faces the DOCX names, and the fallback Word substitutes for each.
BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
FALLBACKS = {BODY_FONT: "仿宋", TITLE_FONT: "宋体", HEADING2_FONT: "楷体"}

#: GB/T 9704 page geometry, in millimetres.
PAGE_WIDTH, PAGE_HEIGHT = 210, 297
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 37, 35, 28, 26
LINE_PITCH = Pt(225 / 22 / 25.4 * 72)  # 22 lines in the 225 mm type area: 28.99 pt
BODY_SIZE, TITLE_SIZE, AGENCY_SIZE, PAGE_NUMBER_SIZE = 16, 22, 26, 14
RED = RGBColor(0xCC, 0, 0)

# WeasyPrint logs every unsupported CSS property at WARNING; our stylesheet is fixed.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango takes ~0.3 s

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


_BLOCK_TAGS = ("h1", "h2", "h3", "h4", "p", "li")


@dataclass
class _Block:
    tag: str
    css_class: str
    text: list[str] = field(default_factory=list)
    number: int = 0
    in_footer: bool = False


class _LetterParser(HTMLParser):
    """Collects the letter's blocks (h1–h4, p, li) in order; ignores head and style; notes
    which blocks belong to the footer (``div.footer``: signature, date, notes)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self._current: _Block | None = None
        self._skip = 0
        self._list_counter = 0
        self._divs: list[bool] = []  # per open div: is it the footer?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        css = dict(attrs).get("class") or ""
        if tag in ("head", "style", "title"):
            self._skip += 1
        elif tag == "div":
            self._divs.append("footer" in css.split())
        elif tag == "ol":
            self._list_counter = 0
        elif tag in _BLOCK_TAGS:
            self._current = _Block(tag, css, in_footer=any(self._divs))
            if tag == "li":
                self._list_counter += 1
                self._current.number = self._list_counter

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "title"):
            self._skip -= 1
        elif tag == "div" and self._divs:
            self._divs.pop()
        elif tag in _BLOCK_TAGS and self._current is not None:
            self.blocks.append(self._current)
            self._current = None

    def handle_data(self, data: str) -> None:
        if not self._skip and self._current is not None:
            self._current.text.append(data)


def _blocks(html: str) -> list[_Block]:
    parser = _LetterParser()
    parser.feed(html)
    return parser.blocks


def _block_text(block: _Block) -> str:
    text = " ".join("".join(block.text).split())
    return f"{block.number}. {text}" if block.tag == "li" else text


# -- DOCX --------------------------------------------------------------------------------


def _set_fonts(rpr: Any, east_asia: str, latin: str | None = None) -> None:
    """Name the face in every slot of ``w:rFonts``; the East Asian slot is the one Word
    uses for Chinese characters (``w:hint`` tells it to prefer that slot for shared ones)."""
    fonts = rpr.get_or_add_rFonts()
    latin = latin or east_asia
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(slot), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _style_run(run: Any, east_asia: str, size: float, *, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    _set_fonts(run._element.get_or_add_rPr(), east_asia)


def _declare_fallbacks(document: Any) -> None:
    """Add our faces to the font table, each with its ``w:altName`` fallback."""
    part = document.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE)
    root = etree.fromstring(part.blob)
    names = {font.get(qn("w:name")) for font in root.iter(qn("w:font"))}
    faces = (BODY_FONT, TITLE_FONT, HEADING1_FONT, HEADING2_FONT, PAGE_NUMBER_FONT, "仿宋", "楷体")
    for face in faces:
        if face in names:
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), face)
        if face in FALLBACKS:
            etree.SubElement(font, qn("w:altName")).set(qn("w:val"), FALLBACKS[face])
        etree.SubElement(font, qn("w:charset")).set(qn("w:val"), "86")  # GB2312
        etree.SubElement(font, qn("w:family")).set(qn("w:val"), "modern")
        etree.SubElement(font, qn("w:pitch")).set(qn("w:val"), "fixed")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _set_defaults(document: Any) -> None:
    """Normal style: 仿宋_GB2312 3号, exact 22-lines-a-page spacing, Chinese language — so
    text a clerk types into the document looks like the rest."""
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_SIZE)
    rpr = normal.element.get_or_add_rPr()
    _set_fonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.widow_control = True


def _page_number(paragraph: Paragraph) -> None:
    """``— {PAGE} —`` in 4号 宋体 (half-width numerals) with a PAGE field."""

    def run(text: str | None = None) -> Any:
        made = paragraph.add_run(text)
        _style_run(made, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
        return made

    run("— ")
    for kind, instruction in (("begin", None), (None, " PAGE "), ("separate", None)):
        element = OxmlElement("w:fldChar" if kind else "w:instrText")
        if kind:
            element.set(qn("w:fldCharType"), kind)
        else:
            element.set(qn("xml:space"), "preserve")
            element.text = instruction
        run()._element.append(element)
    run("1")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run()._element.append(end)
    run(" —")


def _page_numbers(document: Any) -> None:
    """Odd pages: right, one character in; even pages: left, one character in (GB/T 9704)."""
    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    for footer, alignment in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.alignment = alignment
        fmt = paragraph.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if alignment == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = Pt(PAGE_NUMBER_SIZE)
        else:
            fmt.left_indent = Pt(PAGE_NUMBER_SIZE)
        _page_number(paragraph)


#: The children of ``w:pPr`` that must follow ``w:pBdr`` (ECMA-376 CT_PPrBase sequence).
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _red_rule_below(paragraph: Paragraph) -> None:
    """The red separator line 4 mm under the 文号, as wide as the type area."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", "12"),
        ("w:space", "11"),
        ("w:color", "CC0000"),
    ):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.insert_element_before(borders, *_AFTER_PBDR)  # schema order, or Word rejects the file


def _width_in_em(text: str) -> float:
    """Printed width of a line in em: CJK characters are one, ASCII half."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def html_to_docx(html: str) -> bytes:
    blocks = _blocks(html)
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Mm(PAGE_HEIGHT), Mm(PAGE_WIDTH)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    section.footer_distance = Mm(MARGIN_BOTTOM - 7 - 5)  # page number 7 mm below the type area
    _declare_fallbacks(document)
    _set_defaults(document)
    _page_numbers(document)
    date_width = next(
        (_width_in_em(_block_text(b)) for b in blocks if "date" in b.css_class.split()), 0.0
    )
    first_footer = next((i for i, b in enumerate(blocks) if b.in_footer), len(blocks))
    first_note = True
    for index, block in enumerate(blocks):
        text = _block_text(block)
        classes = block.css_class.split()
        paragraph = document.add_paragraph()
        fmt = paragraph.paragraph_format
        run = paragraph.add_run(text)
        if block.tag == "h1":  # the agency's name (发文机关标志)
            _style_run(run, TITLE_FONT, AGENCY_SIZE)
            run.font.color.rgb = RED
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        elif block.tag == "h2":  # the title, two lines below the red rule
            _style_run(run, TITLE_FONT, TITLE_SIZE)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fmt.space_before = LINE_PITCH * 2
            fmt.keep_with_next = True
        elif block.tag in ("h3", "h4"):  # first-level 黑体, second-level 楷体
            _style_run(run, HEADING1_FONT if block.tag == "h3" else HEADING2_FONT, BODY_SIZE)
            fmt.first_line_indent = Pt(BODY_SIZE * 2)
            fmt.keep_with_next = True
        else:
            _style_run(run, BODY_FONT, BODY_SIZE)
        if "number" in classes:  # 文号: centred two lines below the agency's name
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fmt.space_before = LINE_PITCH * 2
            _red_rule_below(paragraph)
        elif "salutation" in classes:
            fmt.space_before = LINE_PITCH
        elif "date" in classes:  # 右空四字
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            fmt.right_indent = Pt(BODY_SIZE * 4)
        elif "signature" in classes:  # centred over the date
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            offset = (date_width - _width_in_em(text)) / 2
            fmt.right_indent = Pt(max(0.0, BODY_SIZE * (4 + offset)))
            fmt.space_before = LINE_PITCH * 2
        elif "meta" in classes:  # 附注: two characters in, below the date
            fmt.first_line_indent = Pt(BODY_SIZE * 2)
            if first_note:
                fmt.space_before = LINE_PITCH
                first_note = False
        elif block.tag == "li" or "body" in classes:
            fmt.first_line_indent = Pt(BODY_SIZE * 2)
        # Keep the footer in one piece and with the end of the body (issue #8).
        if first_footer - 1 <= index < len(blocks) - 1 and first_footer < len(blocks):
            fmt.keep_with_next = True
        if block.in_footer:
            fmt.keep_together = True
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def render_format(html: str, fmt: str) -> bytes:
    """The stored letter in one of ``FORMATS``."""
    if fmt == "pdf":
        return html_to_pdf(html)
    if fmt == "docx":
        return html_to_docx(html)
    if fmt == "html":
        return html.encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}")


def html_text(html: str) -> str:
    """The letter's visible text, one block per line (for tests and the CLI preview)."""
    return "\n".join(_block_text(block) for block in _blocks(html))
