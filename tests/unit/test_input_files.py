"""Reading a clerk's JSON file: every bad file ends in a Chinese RuleViolation, never a hang."""

from __future__ import annotations

import codecs
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure.errors import RuleViolation
from disclosure.input_files import loads_json, read_json_file, read_json_object

FIELD = "--from-file"
APPLICATION = {"name": "张三", "address": "福建省福州市罗源县凤山镇1号"}


def write(tmp_path: Path, content: bytes, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def refused(path: Path, **kw: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        read_json_file(path, FIELD, **kw)  # type: ignore[arg-type]
    # An unknown encoding name is the --encoding option's fault, not the file's.
    assert caught.value.field == ("encoding" if kw.get("encoding") == "latin-1" else FIELD)
    caught.value.message.encode("utf-8")  # printable
    return caught.value


# --- what is read ----------------------------------------------------------------------------


def test_a_utf8_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(APPLICATION, ensure_ascii=False).encode())
    assert read_json_file(path, FIELD) == APPLICATION


def test_a_utf8_file_with_a_bom_is_read(tmp_path: Path) -> None:
    content = codecs.BOM_UTF8 + json.dumps(APPLICATION, ensure_ascii=False).encode()
    path = write(tmp_path, content)
    assert read_json_file(path, FIELD) == APPLICATION
    assert read_json_file(path, FIELD, encoding="gb18030") == APPLICATION  # the BOM decides


@pytest.mark.parametrize("encoding", ["gb18030", "GB18030", "gbk", "GBK", " gb18030 "])
def test_a_gbk_file_is_read_with_the_encoding_named(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, json.dumps(APPLICATION, ensure_ascii=False).encode("gbk"))
    assert read_json_file(path, FIELD, encoding=encoding) == APPLICATION


def test_a_gb18030_only_character_needs_gb18030(tmp_path: Path) -> None:
    data = {"name": "王𠀀"}  # outside GBK: four bytes in GB18030
    path = write(tmp_path, json.dumps(data, ensure_ascii=False).encode("gb18030"))
    assert read_json_file(path, FIELD, encoding="gb18030") == data
    assert refused(path, encoding="gbk").rule == "encoding"


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf_8"])
def test_utf8_may_be_named_explicitly(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, json.dumps(APPLICATION, ensure_ascii=False).encode())
    assert read_json_file(path, FIELD, encoding=encoding) == APPLICATION


def test_read_json_object_returns_the_object(tmp_path: Path) -> None:
    path = write(tmp_path, b'{"a": [1, 2.5, true, null]}')
    assert read_json_object(path, FIELD) == {"a": [1, 2.5, True, None]}


# --- what is refused, one row per rule --------------------------------------------------------

NESTED = b"[" * 100_000 + b"]" * 100_000
CASES: list[tuple[str, bytes, dict[str, object], str, str]] = [
    # (id, content, options, rule, a phrase of the message)
    ("gbk-without-option", json.dumps(APPLICATION, ensure_ascii=False).encode("gbk"), {},
     "encoding", "--encoding gb18030"),
    ("gbk-named-utf8", json.dumps(APPLICATION, ensure_ascii=False).encode("gbk"),
     {"encoding": "utf-8"}, "encoding", "不是 UTF-8"),
    ("utf8-named-gbk", "{\"a\": \"€𠀀\"}".encode(), {"encoding": "gbk"}, "encoding", "GBK"),
    ("unknown-encoding", b"{}", {"encoding": "latin-1"}, "encoding", "latin-1"),
    ("utf16-bom", json.dumps(APPLICATION).encode("utf-16"), {}, "encoding", "UTF-16"),
    ("utf16-le-no-bom", json.dumps(APPLICATION).encode("utf-16-le"), {}, "encoding", "UTF-16"),
    ("utf32-bom", json.dumps(APPLICATION).encode("utf-32"), {}, "encoding", "UTF-32"),
    ("nul-byte", b'{"a": "b\x00c"}', {}, "nul_byte", "NUL"),
    ("empty", b"", {}, "json", "内容为空"),
    ("syntax", b'{"name": "a",\n "b": }', {}, "json", "第2行第7列"),
    ("unterminated", b'{"name": "a', {}, "json", "字符串没有结束引号"),
    ("trailing", b"{} {}", {}, "json", "多余内容"),
    ("nested-100000", NESTED, {}, "max_depth", "20层"),
    ("nested-objects", b'{"a":' * 21 + b"1" + b"}" * 21, {}, "max_depth", "20层"),
    ("int-5000-digits", b'{"a": ' + b"9" * 5000 + b"}", {}, "json_number", "5000位"),
    ("negative-int-5000-digits", b"[-" + b"9" * 5000 + b"]", {}, "json_number", "5000位"),
    ("nan", b'{"a": NaN}', {}, "json_number", "NaN"),
    ("infinity", b"[Infinity]", {}, "json_number", "Infinity"),
    ("minus-infinity", b"[-Infinity]", {}, "json_number", "-Infinity"),
    ("overflowing-float", b"[1e999]", {}, "json_number", "1e999"),
    ("duplicate-key", b'{"name": "a", "name": "b"}', {}, "duplicate_key", "name"),
    ("too-large", b" " * 2_000_001 + b"{}", {}, "max_size", "1,000,000 字节"),
    ("small-limit", b"[1, 2, 3]", {"max_bytes": 5}, "max_size", "5 字节"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "options", "rule", "phrase"),
    [row[1:] for row in CASES],
    ids=[row[0] for row in CASES],
)
def test_each_bad_file_is_refused_with_its_rule(
    tmp_path: Path, content: bytes, options: dict[str, object], rule: str, phrase: str
) -> None:
    exc = refused(write(tmp_path, content), **options)
    assert exc.rule == rule
    assert phrase in exc.message


def test_nesting_up_to_the_limit_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, b"[" * 20 + b"]" * 20)
    assert read_json_file(path, FIELD) is not None
    assert refused(path, max_depth=19).rule == "max_depth"


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    text = json.dumps({"a": "[" * 1000 + '\\"{' * 100})
    assert read_json_file(write(tmp_path, text.encode()), FIELD) == json.loads(text)


def test_a_deep_file_never_reaches_the_recursion_limit(tmp_path: Path) -> None:
    depth = sys.getrecursionlimit() * 10
    path = write(tmp_path, b'{"a":' * depth + b"1" + b"}" * depth)
    assert refused(path, max_depth=depth).rule in {"max_depth", "json"}


def test_many_escaped_quotes_are_scanned_in_linear_time(tmp_path: Path) -> None:
    path = write(tmp_path, b'"' + b'\\"' * 400_000)  # an unterminated string
    assert refused(path).rule == "json"


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    exc = refused(tmp_path / "missing.json")
    assert exc.rule == "readable" and "不存在" in exc.message


def test_a_directory_is_not_a_regular_file(tmp_path: Path) -> None:
    exc = refused(tmp_path)
    assert exc.rule == "regular_file" and "目录" in exc.message


def test_dev_zero_is_refused_without_reading_it() -> None:
    assert refused(Path("/dev/zero")).rule == "regular_file"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert refused(fifo).rule == "regular_file"


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to("/dev/zero")
    assert refused(link).rule == "regular_file"


def test_a_path_with_invisible_characters_is_printed_escaped(tmp_path: Path) -> None:
    exc = refused(tmp_path / "a\u202eb.json")
    assert "\u202e" not in exc.message and "\\u202e" in exc.message


@pytest.mark.parametrize(
    ("content", "kind"), [(b"[1]", "列表"), (b'"text"', "文字"), (b"3", "数字"), (b"null", "null")]
)
def test_read_json_object_refuses_anything_but_an_object(
    tmp_path: Path, content: bytes, kind: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        read_json_object(write(tmp_path, content), FIELD)
    assert (caught.value.field, caught.value.rule) == (FIELD, "json_object")
    assert kind in caught.value.message


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_no_bytes_ever_produce_anything_but_a_value_or_a_rule_violation(content: bytes) -> None:
    # A fresh directory per example: hypothesis cannot use the function-scoped tmp_path.
    with tempfile.TemporaryDirectory() as directory:
        path = write(Path(directory), content)
        try:
            read_json_file(path, FIELD)
        except RuleViolation as exc:
            assert exc.field == FIELD and exc.message


@given(st.text(alphabet='[]{}",:\\ 01a\n', max_size=200))
def test_no_text_escapes_loads_json_as_anything_but_a_rule_violation(text: str) -> None:
    try:
        loads_json(text, "--json", max_depth=5)
    except RuleViolation as exc:
        assert exc.rule in {"json", "max_depth", "duplicate_key"}
