"""What a typed text may hold: one check for every text a user gives, pure.

Every text goes through ``clean_text`` before anything else sees it: the value must be a
string (a JSON ``["a"]``, ``true`` or ``{"$ne": 1}`` is refused, never turned into text),
it is normalised to NFC, and characters that hide or reorder what a reader sees (control
characters, bidi overrides, zero-width characters, line separators, lone surrogates) are
refused — they would make a name on a letter read differently from the name on file, and
PostgreSQL refuses NUL where SQLite stores it. Lengths count characters after
normalisation, the same on both databases.

Code-like texts (ID numbers, phone numbers, postal codes, dates, e-mail addresses) go
through ``clean_code`` instead, which normalises to NFKC: a clerk typing with a Chinese
input method gets full-width digits and letters (``１３８０００００００``, ``２０２６－０６－０５``)
and expects them to count as the ASCII ones. Names and descriptions stay NFC, so the
characters a person chose for a name are never rewritten.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from disclosure.errors import RuleViolation

#: Line breaks and tabs are the only controls a multi-line text (a reason, a reply) may hold.
_MULTILINE_ALLOWED = frozenset("\n\t")


def _bad(field: str, label: str, rule: str, detail: str) -> RuleViolation:
    return RuleViolation(field=field, rule=rule, message=f"{label}：{detail}")


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character a typed text may not hold, or None.

    Refused: Unicode categories Cc (C0/C1 controls, DEL, ESC), Cf (bidi overrides and
    isolates such as U+202E and U+2066, zero-width U+200B–U+200D, U+2060, U+FEFF), Cs (lone
    surrogates), the separators U+2028/U+2029 and noncharacters (U+FFFF …). Private-use characters stay allowed:
    older systems encode rare characters of names (生僻字) there.
    """
    for ch in text:
        if multiline and ch in _MULTILINE_ALLOWED:
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") or _is_noncharacter(ch):
            return ch
    return None


def _is_noncharacter(ch: str) -> bool:
    """U+FDD0–U+FDEF and the last two code points of every plane (U+FFFE, U+FFFF, …):
    never meant for interchange, and shown differently by every viewer."""
    cp = ord(ch)
    return 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE


def describe_character(ch: str) -> str:
    """``U+202E（RIGHT-TO-LEFT OVERRIDE）`` — readable, and safe to print."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f"（{name}）" if name else "")


def printable(text: str, limit: int = 40) -> str:
    """``text`` made safe to quote in a message: forbidden characters escaped as ``\\uXXXX``
    (a lone surrogate would otherwise break printing), cut to ``limit`` characters."""
    shown = "".join(
        f"\\u{ord(ch):04x}" if forbidden_character(ch) is not None else ch for ch in text[:limit]
    )
    return shown + ("…" if len(text) > limit else "")


def clean_text(
    value: object,
    field: str,
    label: str,
    max_len: int,
    *,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Validate and normalise one typed text.

    Args:
        value: what the user gave (None counts as empty).
        field: the stable field key for ``RuleViolation.field``.
        label: the field's Chinese name, used in the message.
        max_len: the most characters allowed, counted after normalisation.
        required: refuse an empty (or all-blank) value.
        multiline: allow line breaks and tabs (reasons, reply texts).

    Returns:
        The NFC-normalised text with surrounding white space removed ("" when empty). A
        multi-line text has its line breaks unified to ``\n`` (a Windows ``\r\n`` is not
        refused as a control character).

    Raises:
        RuleViolation: rules ``type``, ``required``, ``max_length``, ``control_character``.
    """
    return _clean(value, field, label, max_len, "NFC", required=required, multiline=multiline)


def clean_code(
    value: object,
    field: str,
    label: str,
    max_len: int,
    *,
    required: bool = False,
) -> str:
    """Validate and normalise one code-like text: ``clean_text`` with NFKC instead of NFC.

    NFKC turns full-width digits, letters and punctuation (``１１０１０５…Ｘ``, ``－``, ``＠``,
    ``（）``) and the ideographic space into their ASCII forms. Use it only for texts
    whose characters carry no meaning beyond their identity: ID numbers, phone numbers,
    postal codes, dates, e-mail addresses, choice values.

    Raises:
        RuleViolation: rules ``type``, ``required``, ``max_length``, ``control_character``.
    """
    return _clean(value, field, label, max_len, "NFKC", required=required, multiline=False)


def _clean(
    value: object,
    field: str,
    label: str,
    max_len: int,
    form: Literal["NFC", "NFKC"],
    *,
    required: bool,
    multiline: bool,
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _bad(field, label, "type", f"应为文字，实为{_type_name(value)}")
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize(form, value).strip()
    if required and not text:
        raise _bad(field, label, "required", "必须填写")
    # Length first: a 100,000-character value is refused without scanning it further.
    if len(text) > max_len:
        raise _bad(field, label, "max_length", f"不得超过{max_len}个字符（现为{len(text)}个）")
    bad = forbidden_character(text, multiline=multiline)
    if bad is not None:
        raise _bad(
            field,
            label,
            "control_character",
            f"含有不可见的控制或方向字符 {describe_character(bad)}，请删除后重试",
        )
    return text


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "真假值"
    if isinstance(value, int | float):
        return "数字"
    if isinstance(value, list | tuple):
        return "列表"
    if isinstance(value, dict):
        return "对象"
    return type(value).__name__


#: What a spreadsheet would run as a formula when a cell starts with it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV cell: one that would start a formula gets a leading ``'`` (an
    applicant's name is data, never a formula)."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


#: An address a mail server accepts: no spaces, quotes or angle brackets (no header tricks).
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


def clean_email(value: object, field: str = "email") -> str | None:
    """An e-mail address, trimmed; blank is None.

    Raises:
        RuleViolation: not a plain address of at most 254 characters.
    """
    text = clean_text(value, field, "电子邮箱", 254)
    if not text:
        return None
    if not _EMAIL.fullmatch(text):
        raise RuleViolation(
            field, "format", f"电子邮箱“{printable(text)}”格式无效，例如 wang@example.gov.cn"
        )
    return text
