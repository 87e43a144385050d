"""RFC 8785 (JCS) canonical JSON, with the standard library's C encoder where it agrees.

``rfc8785.dumps`` is the reference, written in Python; it was the largest single cost of a
state change after the database (issue #9). For the values the trail holds — text, integers
within ±(2**53 − 1), true/false/null, arrays and objects whose keys are text in the Basic
Multilingual Plane — ``json.dumps`` with sorted keys, no spaces and no ASCII escaping
prints the same characters: JCS took its string escapes from it, an integer prints as
``str(int)`` in both, and code-point order is UTF-16 order within the BMP. Anything else
(floats, larger integers, keys outside the BMP, other types, text that is not UTF-8) goes
to ``rfc8785``, which prints or refuses it. ``tests/unit/test_canonical.py`` checks that
both agree on generated values of every kind.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

CanonicalizationError = rfc8785.CanonicalizationError

_SAFE_INTEGER = 2**53 - 1
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _same_in_both(value: Any) -> bool:
    """Whether the C encoder prints ``value`` exactly as JCS does (see the module docstring)."""
    # Loops, not generators, and the commonest kinds first: this walk of every event's
    # payload was about 4 % of a state change (cProfile, issue #9).
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not (key.isascii() or max(key) <= "\uffff"):
                return False
            if not _same_in_both(item):
                return False
        return True
    if isinstance(value, list | tuple):
        return all(map(_same_in_both, value))
    return False


def dumps(value: Any) -> str:
    """The RFC 8785 text of ``value``.

    Raises:
        CanonicalizationError: ``value`` holds something JCS cannot print exactly (NaN, an
            integer beyond 2**53 − 1, a lone surrogate, a non-text key, another type).
    """
    if _same_in_both(value):
        text = _ENCODER.encode(value)
        try:
            text.encode("utf-8")  # a lone surrogate: let rfc8785 refuse it
        except UnicodeEncodeError:
            pass
        else:
            return text
    return rfc8785.dumps(value).decode("utf-8")


def dumps_with(value: dict[str, Any], key: str, text: str) -> str:
    """``dumps({**value, key: member})`` where ``text`` is ``dumps(member)``, already printed
    (an audit event's payload, printed once for its row and again inside the body its hash
    covers): the member is neither parsed nor walked again.

    Raises:
        CanonicalizationError: as ``dumps``, for what ``value`` holds.
    """
    if not all(isinstance(k, str) for k in value):
        raise CanonicalizationError("object keys must be text")
    # JCS orders members by their keys' UTF-16 code units: those before ``key``, then it,
    # then those after.
    place = _utf16(key)
    before = {k: item for k, item in value.items() if k != key and _utf16(k) <= place}
    after = {k: item for k, item in value.items() if _utf16(k) > place}
    members = [dumps(before)[1:-1], f"{dumps(key)}:{text}", dumps(after)[1:-1]]
    return "{" + ",".join(member for member in members if member) + "}"


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")
