"""disclosure.canonical prints exactly what rfc8785 prints, and refuses what it refuses."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure import canonical

#: Text of every kind: controls, quotes, backslashes, CJK, bidi marks, characters outside
#: the BMP (which sort differently in UTF-16) and lone surrogates (which JCS refuses).
_TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\x1f", "\x7f", '"', "\\", "\u202e", "\ue000", "\uffff"]),
        st.sampled_from(["😀", "\U00010000", "\ud800", "\udfff"]),
    ),
    max_size=8,
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    _TEXT,
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.integers(),  # beyond 2**53 too
    st.floats(allow_nan=True, allow_infinity=True),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_TEXT, inner, max_size=4),
        st.dictionaries(st.integers(0, 3), inner, min_size=1, max_size=2),  # non-text keys
    ),
    max_leaves=20,
)


def _outcome(dumps: Any, value: Any) -> tuple[str, str]:
    try:
        printed = dumps(value)
    except rfc8785.CanonicalizationError:
        return ("refused", "")
    return ("printed", printed.decode("utf-8") if isinstance(printed, bytes) else printed)


@settings(max_examples=500)
@given(_VALUES)
def test_every_value_prints_as_rfc8785_prints_it_or_is_refused_alike(value: Any) -> None:
    assert _outcome(canonical.dumps, value) == _outcome(rfc8785.dumps, value)


class _Kind(StrEnum):
    FEE = "issue_fee"


class _Count(IntEnum):
    TWO = 2


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "😀": 2},  # code-point order differs from UTF-16 order here
        {"a": 1.0, "b": 1e16, "c": 0.1},
        {"kind": _Kind.FEE, "n": _Count.TWO},
        {"big": 2**53},
        {"text": '引号"反斜杠\\换行\n控制\x01'},
    ],
)
def test_the_values_where_the_two_encoders_could_differ(value: Any) -> None:
    assert _outcome(canonical.dumps, value) == _outcome(rfc8785.dumps, value)


def test_a_lone_surrogate_is_refused_not_printed() -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical.dumps({"name": "\ud800"})


@settings(max_examples=500)
@given(st.dictionaries(_TEXT, _VALUES, max_size=6), _TEXT, _VALUES)
def test_a_member_printed_already_is_placed_as_printing_the_whole_would_place_it(
    value: dict[str, Any], key: str, member: Any
) -> None:
    """``dumps_with`` (an audit event's payload printed once) gives what ``dumps`` gives for
    the whole object, or refuses what it refuses."""
    try:
        text = canonical.dumps(member)
    except rfc8785.CanonicalizationError:
        return  # a member that cannot be printed is never given printed
    whole = _outcome(canonical.dumps, {**value, key: member})
    assert _outcome(lambda v: canonical.dumps_with(v, key, text), value) == whole


def test_the_member_goes_between_the_keys_around_it() -> None:
    printed = canonical.dumps_with({"z": 1, "a": "甲", "payload": 0}, "payload", '{"b":[1]}')
    assert printed == '{"a":"甲","payload":{"b":[1]},"z":1}'
