"""One check for every typed text: type, normalisation, length, invisible characters."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disclosure.errors import RuleViolation
from disclosure.workflow.text import clean_code, clean_text, forbidden_character, printable

FORBIDDEN = [
    "\x00",  # NUL: PostgreSQL refuses it
    "\x1b",  # ESC: terminal escape sequences
    "\x07",  # BEL
    "\x7f",  # DEL
    "\x85",  # C1: NEXT LINE
    "\x9b",  # C1: CSI
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u200b",  # ZERO WIDTH SPACE
    "\u200d",  # ZERO WIDTH JOINER
    "\ufeff",  # BOM / ZERO WIDTH NO-BREAK SPACE
    "\u2028",  # LINE SEPARATOR
    "\u2029",  # PARAGRAPH SEPARATOR
    "\ud800",  # lone surrogate
    "\udfff",  # lone surrogate
]


def refused(value: object, **kw: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        clean_text(value, "name", "申请人姓名", 20, **kw)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("value", "kw", "rule"),
    [
        (["a"], {}, "type"),
        (True, {}, "type"),
        ({"$ne": 1}, {}, "type"),
        (12345, {}, "type"),
        (1.5, {}, "type"),
        (b"bytes", {}, "type"),
        ("", {"required": True}, "required"),
        ("  \u3000 ", {"required": True}, "required"),
        (None, {"required": True}, "required"),
        ("张" * 21, {}, "max_length"),
        ("张\u202e三", {}, "control_character"),
        ("张三\n李四", {}, "control_character"),
    ],
    ids=[
        "list",
        "bool",
        "operator-object",
        "int",
        "float",
        "bytes",
        "empty",
        "blank",
        "none",
        "too-long",
        "bidi",
        "newline-single-line",
    ],
)
def test_each_rule_is_refused_with_its_name_and_field(
    value: object, kw: dict[str, object], rule: str
) -> None:
    exc = refused(value, **kw)
    assert (exc.field, exc.rule) == ("name", rule)
    assert exc.message.startswith("申请人姓名：")


@pytest.mark.parametrize("ch", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
def test_every_hiding_character_is_refused_inside_a_text(ch: str) -> None:
    exc = refused(f"张{ch}三")
    assert exc.rule == "control_character"
    assert f"U+{ord(ch):04X}" in exc.message
    exc.message.encode("utf-8")  # printable: no lone surrogate in the message


def test_a_wrong_type_is_named_in_chinese_and_never_turned_into_text() -> None:
    assert "列表" in refused(["a"]).message
    assert "真假值" in refused(True).message
    assert "对象" in refused({"$ne": 1}).message
    assert "['a']" not in refused(["a"]).message


def test_text_is_nfc_normalised_and_stripped() -> None:
    assert clean_text("  e\u0301 ", "name", "姓名", 5) == "\u00e9"
    # NFC keeps full-width characters a person chose for a name.
    assert clean_text("ＡＢＣ", "name", "姓名", 5) == "ＡＢＣ"


def test_length_counts_characters_after_normalisation() -> None:
    assert clean_text("e\u0301" * 5, "name", "姓名", 5) == "\u00e9" * 5


def test_multiline_allows_line_breaks_and_tabs_and_unifies_windows_line_ends() -> None:
    assert clean_text("第一行\r\n第二行\r第三行\t完", "d", "描述", 50, multiline=True) == (
        "第一行\n第二行\n第三行\t完"
    )
    with pytest.raises(RuleViolation) as caught:
        clean_text("第一行\n\x1b[31m", "d", "描述", 50, multiline=True)
    assert caught.value.rule == "control_character"


def test_private_use_characters_of_rare_names_stay_allowed() -> None:
    assert clean_text("王\ue000", "name", "姓名", 5) == "王\ue000"


@pytest.mark.parametrize(
    ("typed", "ascii"),
    [
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("１３８００００００００", "13800000000"),
        ("２０２６－０６－０５", "2026-06-05"),
        ("（０５９１）８７６５４３２１", "(0591)87654321"),
        ("ｏｆｆｉｃｅ＠ｅｘａｍｐｌｅ．ｃｎ", "office@example.cn"),
        ("\u3000３５００００\u3000", "350000"),
    ],
)
def test_clean_code_turns_full_width_input_into_ascii(typed: str, ascii: str) -> None:
    assert clean_code(typed, "id_number", "身份证明号码", 40) == ascii


@pytest.mark.parametrize(("value", "rule"), [(["1"], "type"), (1, "type"), ("1\u200b2", "control_character"), ("1" * 7, "max_length")])  # fmt: skip
def test_clean_code_applies_the_same_rules(value: object, rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        clean_code(value, "postal_code", "邮政编码", 6)
    assert (caught.value.field, caught.value.rule) == ("postal_code", rule)


def test_printable_escapes_hiding_characters_and_cuts() -> None:
    assert printable("a\u202eb\ud800") == "a\\u202eb\\ud800"
    assert printable("x" * 50, 10) == "x" * 10 + "…"


@given(st.text())
def test_clean_text_never_returns_a_forbidden_character(value: str) -> None:
    try:
        result = clean_text(value, "name", "姓名", 10_000)
    except RuleViolation as exc:
        assert exc.rule in {"control_character", "max_length"}
        return
    assert forbidden_character(result) is None
    assert unicodedata.is_normalized("NFC", result)


@given(st.text())
def test_clean_code_never_returns_a_forbidden_character(value: str) -> None:
    try:
        result = clean_code(value, "phone", "联系电话", 10_000)
    except RuleViolation as exc:
        assert exc.rule in {"control_character", "max_length"}
        return
    assert forbidden_character(result) is None
    assert unicodedata.is_normalized("NFKC", result)


@given(st.text(alphabet="0123456789X", min_size=1, max_size=30))
def test_nfkc_of_a_full_width_code_equals_the_ascii_one(code: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert clean_code(full_width, "id_number", "身份证明号码", 40) == code


@given(
    st.one_of(
        st.integers(),
        st.floats(),
        st.booleans(),
        st.lists(st.text()),
        st.dictionaries(st.text(), st.integers()),
    )
)
def test_a_non_text_json_value_is_always_refused_as_type(value: object) -> None:
    with pytest.raises(RuleViolation) as caught:
        clean_text(value, "name", "姓名", 100)
    assert caught.value.rule == "type"
