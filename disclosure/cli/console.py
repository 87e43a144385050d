"""Where the CLI prints, and how text from users is made safe to print."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from typing import IO

from rich.console import Console
from rich.markup import escape

#: Width for output that is not a terminal (pipes, logs, ``make run``) and no COLUMNS says
#: otherwise: wide enough for the tables and the option lists, instead of Rich's 80.
PIPED_WIDTH = 140


def width_of(stream: IO[str]) -> int | None:
    """None on a terminal (Rich follows COLUMNS or the terminal's size); else COLUMNS or 140."""
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


# emoji=False: ":smile:" in an applicant's name stays text.
out = Console(highlight=False, emoji=False, width=width_of(sys.stdout))
err = Console(stderr=True, highlight=False, emoji=False, width=width_of(sys.stderr))


# -- text from users, made safe to print --------------------------------------------------

#: Characters that would act on the terminal or reorder what a reader sees: C0/C1 controls
#: (ESC starts an ANSI sequence), DEL, bidi overrides and isolates, zero-width characters,
#: line and paragraph separators.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: object, *, multiline: bool = False) -> str:
    """``value`` as text that cannot act on the terminal: every control character (and every
    bidi or zero-width character) is shown as a ``\\x1b``-style escape. A multi-line text
    (a description, a reason) keeps its line breaks and tabs."""

    def show(match: re.Match[str]) -> str:
        ch = match.group()
        return ch if multiline and ch in "\n\t" else _visible(ch)

    return _UNSAFE.sub(show, str(value))


def safe(value: object, *, multiline: bool = False) -> str:
    """User-supplied text for a Rich markup string or table cell: inert and shown literally."""
    return escape(plain(value, multiline=multiline))


# -- values shown the same way everywhere ------------------------------------------------

#: Time zones whose local time Chinese readers call 北京时间.
_BEIJING_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})


def zone_label(zone: str) -> str:
    return "北京时间" if zone in _BEIJING_ZONES else zone


def days_left(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"[red]超期{-days}个工作日[/red]"
    return "[yellow]今天到期[/yellow]" if days == 0 else str(days)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
