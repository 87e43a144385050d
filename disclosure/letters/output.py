"""Turn a stored letter (its HTML) into PDF or DOCX, so every format carries the same text.

PDF: WeasyPrint, A4, with the CJK font embedded (subset) from Debian's fonts-noto-cjk.
DOCX: python-docx, built from the same HTML (headings, paragraphs, numbered lists), so a
clerk can edit and stamp it in Word.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from html.parser import HTMLParser

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

FONT = "Noto Serif CJK SC"

# WeasyPrint logs every unsupported CSS property at WARNING; our stylesheet is fixed.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango takes ~0.3 s

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


@dataclass
class _Block:
    tag: str
    css_class: str
    text: list[str] = field(default_factory=list)
    number: int = 0


class _LetterParser(HTMLParser):
    """Collects the letter's blocks (h1, h2, p, li) in order; ignores head and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self._current: _Block | None = None
        self._skip = 0
        self._list_counter = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "style", "title"):
            self._skip += 1
        elif tag == "ol":
            self._list_counter = 0
        elif tag in ("h1", "h2", "p", "li"):
            css = dict(attrs).get("class") or ""
            self._current = _Block(tag, css)
            if tag == "li":
                self._list_counter += 1
                self._current.number = self._list_counter

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "title"):
            self._skip -= 1
        elif tag in ("h1", "h2", "p", "li") and self._current is not None:
            self.blocks.append(self._current)
            self._current = None

    def handle_data(self, data: str) -> None:
        if not self._skip and self._current is not None:
            self._current.text.append(data)


def _set_font(run: object, size: float, bold: bool = False) -> None:
    font = run.font  # type: ignore[attr-defined]
    font.name = FONT
    font.size = Pt(size)
    font.bold = bold
    # East Asian text uses the eastAsia font slot, not the Latin one.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)  # type: ignore[attr-defined]


def html_to_docx(html: str) -> bytes:
    parser = _LetterParser()
    parser.feed(html)
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(30), Mm(28)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    for block in parser.blocks:
        text = " ".join("".join(block.text).split())
        paragraph = document.add_paragraph()
        if block.tag == "li":
            text = f"{block.number}. {text}"
            paragraph.paragraph_format.left_indent = Pt(28)
        run = paragraph.add_run(text)
        if block.tag == "h1":
            _set_font(run, 20, bold=True)
            run.font.color.rgb = RGBColor(0xBB, 0, 0)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.tag == "h2":
            _set_font(run, 18, bold=True)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            _set_font(run, 10.5 if "meta" in block.css_class else 14)
        if block.css_class in ("number", "signature", "date"):
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif "body" in block.css_class:
            paragraph.paragraph_format.first_line_indent = Pt(28)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FORMATS = ("pdf", "docx", "html")


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
    parser = _LetterParser()
    parser.feed(html)
    lines = []
    for block in parser.blocks:
        text = " ".join("".join(block.text).split())
        lines.append(f"{block.number}. {text}" if block.tag == "li" else text)
    return "\n".join(lines)
