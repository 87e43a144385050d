"""Reading a JSON file a clerk gives on the command line, refusing every bad file in Chinese.

``case register --from-file`` and ``deadline --json`` take files prepared by hand, often
on Windows, in Notepad or exported from Excel. Whatever such a file holds, reading it ends
either in the parsed value or in a ``RuleViolation(field, rule, message)``, never in a
traceback or a hang:

=================  ==================================================================
rule               refused because
=================  ==================================================================
``readable``       the file cannot be opened (missing, no permission …)
``regular_file``   the path is a directory, a device (``/dev/zero``), a FIFO or socket
``max_size``       the file is larger than ``max_bytes`` (at most that much is read)
``encoding``       not UTF-8 (likely GBK/GB18030), UTF-16/32, or an unknown encoding name
``nul_byte``       NUL bytes: a binary file, not text
``json``           not JSON; the message names the line and column
``max_depth``      nested deeper than ``max_depth``, found before the parser recurses
``json_number``    an integer literal too long to convert, NaN, Infinity, 1e999
``duplicate_key``  an object names the same key twice (which one counts is ambiguous)
``json_object``    (``read_json_object``) the top level is not an object
=================  ==================================================================
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any, NoReturn

from disclosure.errors import RuleViolation
from disclosure.workflow.text import printable

#: Encoding names ``--encoding`` accepts (compared case-insensitively, ``_`` as ``-``).
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030", "gbk": "gbk"}
DEFAULT_MAX_BYTES = 1_000_000
DEFAULT_MAX_DEPTH = 20
#: Longer integer literals are refused: no field needs them, and Python refuses to
#: convert more than 4300 digits anyway.
MAX_INTEGER_DIGITS = 100

# Outside strings only these characters matter for the depth; a string's rest is skipped
# in one match (possessive, so an unterminated string costs one linear scan, no backtracking).
_STRUCTURAL = re.compile(r'["\[\]{}]')
_STRING_REST = re.compile(r'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_JSON_MESSAGES = {
    "Expecting value": "此处应为一个值",
    "Expecting ',' delimiter": "此处缺少逗号",
    "Expecting ':' delimiter": "此处缺少冒号",
    "Expecting property name enclosed in double quotes": "此处应为用双引号括起的字段名",
    "Unterminated string starting at": "字符串没有结束引号",
    "Invalid control character at": "字符串中含有未转义的控制字符",
    "Invalid \\escape": "无效的转义序列",
    "Invalid \\uXXXX escape": "无效的 \\uXXXX 转义",
    "Extra data": "JSON 值之后还有多余内容",
}
_UTF16_32_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def read_json_file(
    path: Path,
    field: str,
    *,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Read and parse one JSON file, or refuse it with a Chinese message.

    Args:
        path: the file named on the command line.
        field: the option it came from (``--from-file``), used as ``RuleViolation.field``.
        encoding: None for UTF-8 (with or without BOM); ``utf-8``, ``gb18030`` or ``gbk``
            (any case) to decode strictly with that encoding. A UTF-8 BOM always wins.
        max_bytes: the largest file accepted; at most ``max_bytes + 1`` bytes are read.
        max_depth: the deepest nesting of arrays and objects accepted.

    Returns:
        The parsed value (dict, list, str, int, float, bool or None).

    Raises:
        RuleViolation: with ``field`` and one of the rules in the module docstring.
    """
    codec = _codec(encoding, field)
    raw = _read_bytes(path, field, max_bytes)
    text = _decode(raw, path, field, codec)
    return loads_json(text, field, max_depth=max_depth, source=f"文件 {_shown(path)} ")


def read_json_object(
    path: Path,
    field: str,
    *,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """``read_json_file`` for a file that must hold one JSON object (rule ``json_object``)."""
    data = read_json_file(path, field, encoding=encoding, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(data, dict):
        raise RuleViolation(
            field,
            "json_object",
            f"文件 {_shown(path)} 的内容须为一个 JSON 对象（{{…}}），实为{_json_type(data)}",
        )
    return data


def loads_json(
    text: str, field: str, *, max_depth: int = DEFAULT_MAX_DEPTH, source: str = ""
) -> Any:
    """Parse JSON text with the same refusals as ``read_json_file`` (depth, numbers, keys).

    Args:
        text: the decoded text.
        field: ``RuleViolation.field`` of every refusal.
        max_depth: the deepest nesting of arrays and objects accepted.
        source: how messages name the text (``"文件 a.json "``), empty for "the content".
    """
    where = source or "内容"
    _check_depth(text, field, max_depth, where)
    try:
        return json.loads(
            text,
            parse_int=lambda literal: _parse_int(literal, field, where),
            parse_float=lambda literal: _parse_float(literal, field, where),
            parse_constant=lambda literal: _refuse_number(literal, field, where),
            object_pairs_hook=lambda pairs: _object(pairs, field, where),
        )
    except json.JSONDecodeError as exc:
        reason = _json_reason(exc, text)
        raise RuleViolation(
            field,
            "json",
            f"{where}不是有效的 JSON：{reason}（第{exc.lineno}行第{exc.colno}列）",
        ) from None
    except RecursionError:  # _check_depth makes this unreachable; never let it escape
        _too_deep(field, where, max_depth, "")
    except ValueError as exc:  # int() beyond sys.get_int_max_str_digits, should parse_int miss
        raise RuleViolation(field, "json_number", f"{where}含有无法处理的数字：{exc}") from None


def _codec(encoding: str | None, field: str) -> str | None:
    if encoding is None:
        return None
    codec = ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
    if codec is None:
        raise RuleViolation(
            "encoding",
            "encoding",
            f"文件编码“{printable(encoding, 20)}”不受支持，可选：utf-8、gb18030、gbk",
        )
    return codec


def _read_bytes(path: Path, field: str, max_bytes: int) -> bytes:
    # O_NONBLOCK: opening a FIFO must not wait for a writer. It changes nothing for a
    # regular file, and anything else is refused by the fstat below before any read.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        _not_regular(path, field, "目录")
    except OSError as exc:
        _unreadable(path, field, exc)
    chunks: list[bytes] = []
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            _not_regular(
                path, field, "目录" if stat.S_ISDIR(info.st_mode) else "设备、管道或套接字"
            )
        if info.st_size > max_bytes:
            _too_large(path, field, max_bytes, info.st_size)
        remaining = max_bytes + 1  # the file may have grown since fstat
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        _unreadable(path, field, exc)
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > max_bytes:
        _too_large(path, field, max_bytes, None)
    return raw


def _decode(raw: bytes, path: Path, field: str, codec: str | None) -> str:
    for bom, name in _UTF16_32_BOMS:
        if raw.startswith(bom):
            raise RuleViolation(
                field,
                "encoding",
                f"文件 {_shown(path)} 是 {name} 编码（如记事本“Unicode”格式），"
                "请另存为 UTF-8 后重试",
            )
    if raw.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"  # a BOM decides: no GB18030 JSON begins with these bytes
    if b"\x00" in raw:
        if raw[1::2].count(0) > len(raw) // 4 or raw[0::2].count(0) > len(raw) // 4:
            raise RuleViolation(
                field,
                "encoding",
                f"文件 {_shown(path)} 看来是 UTF-16 编码（没有字节顺序标记），"
                "请另存为 UTF-8 后重试",
            )
        raise RuleViolation(
            field,
            "nul_byte",
            f"文件 {_shown(path)} 含有 NUL 字节（第{raw.index(0) + 1}字节），"
            "不是文本文件，请检查是否选错了文件",
        )
    try:
        return raw.decode(codec or "utf-8")
    except UnicodeDecodeError as exc:
        position = f"第{exc.start + 1}字节处无法解码"
        if codec in (None, "utf-8", "utf-8-sig"):
            raise RuleViolation(
                field,
                "encoding",
                f"文件 {_shown(path)} 不是 UTF-8 编码（{position}），可能是 GBK/GB18030 编码"
                "（Windows 记事本的“ANSI”或 Excel 常用）。请将文件另存为 UTF-8，"
                "或加上选项 --encoding gb18030 重试",
            ) from None
        raise RuleViolation(
            field,
            "encoding",
            f"文件 {_shown(path)} 不是有效的 {codec.upper()} 编码（{position}），"
            "请确认文件的编码，或另存为 UTF-8 后不加 --encoding 重试",
        ) from None


def _check_depth(text: str, field: str, max_depth: int, where: str) -> None:
    """Refuse nesting deeper than ``max_depth`` in one linear scan, before json.loads
    recurses into it (a 100,000-deep ``[[[…`` would raise RecursionError there)."""
    depth = 0
    pos = 0
    while (match := _STRUCTURAL.search(text, pos)) is not None:
        pos = match.end()
        token = match.group()
        if token == '"':
            rest = _STRING_REST.match(text, pos)
            if rest is None:  # unterminated: json.loads reports it
                return
            pos = rest.end()
        elif token in "[{":
            depth += 1
            if depth > max_depth:
                start = match.start()
                line = text.count("\n", 0, start) + 1
                column = start - text.rfind("\n", 0, start)
                _too_deep(field, where, max_depth, f"（第{line}行第{column}列）")
        else:
            depth = max(depth - 1, 0)  # unbalanced brackets are json.loads's to report


def _too_deep(field: str, where: str, max_depth: int, position: str) -> NoReturn:
    raise RuleViolation(
        field, "max_depth", f"{where}的列表或对象嵌套超过{max_depth}层{position}"
    ) from None


def _parse_int(literal: str, field: str, where: str) -> int:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise RuleViolation(
            field,
            "json_number",
            f"{where}含有一个{len(literal.lstrip('-'))}位的整数，超过{MAX_INTEGER_DIGITS}位上限",
        )
    return int(literal)


def _parse_float(literal: str, field: str, where: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        _refuse_number(printable(literal), field, where)
    return value


def _refuse_number(literal: str, field: str, where: str) -> NoReturn:
    raise RuleViolation(
        field, "json_number", f"{where}含有 JSON 不允许的数值“{literal}”（无穷大或非数）"
    )


def _object(pairs: list[tuple[str, Any]], field: str, where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise RuleViolation(
                field, "duplicate_key", f"{where}的同一对象中字段“{printable(key)}”出现了两次"
            )
        result[key] = value
    return result


def _json_reason(exc: json.JSONDecodeError, text: str) -> str:
    if not text.strip():
        return "内容为空"
    for prefix, reason in _JSON_MESSAGES.items():
        if exc.msg.startswith(prefix):
            return reason
    return printable(exc.msg, 80)


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "列表"
    if isinstance(value, str):
        return "文字"
    if isinstance(value, bool):
        return "真假值"
    if isinstance(value, int | float):
        return "数字"
    return "null"


def _shown(path: Path) -> str:
    return printable(str(path), 200)


def _not_regular(path: Path, field: str, kind: str) -> NoReturn:
    raise RuleViolation(
        field, "regular_file", f"{_shown(path)} 是{kind}，不是普通文件，无法读取"
    ) from None


def _unreadable(path: Path, field: str, exc: OSError) -> NoReturn:
    if isinstance(exc, FileNotFoundError):
        detail = "文件不存在"
    elif isinstance(exc, PermissionError):
        detail = "没有读取权限"
    else:
        detail = printable(exc.strerror or type(exc).__name__, 80)
    raise RuleViolation(field, "readable", f"无法读取文件 {_shown(path)}：{detail}") from None


def _too_large(path: Path, field: str, max_bytes: int, size: int | None) -> NoReturn:
    actual = f"大小为 {size:,} 字节，" if size is not None else ""
    raise RuleViolation(
        field,
        "max_size",
        f"文件 {_shown(path)} {actual}超过大小上限 {max_bytes:,} 字节（约 {_human(max_bytes)}）",
    )


def _human(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:g} MB"
    if size >= 1_000:
        return f"{size / 1_000:g} KB"
    return f"{size} 字节"
