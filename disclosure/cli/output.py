"""Listings for people and for programs: ``--format table|json|csv``.

A table is for a clerk at a terminal (Chinese labels, user text escaped). JSON and CSV are for
scripts and other systems: stable English keys, dates in ISO 8601, amounts as text. CSV
cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) get a
leading ``'`` — an applicant's name is data, never a formula.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from disclosure.cli.console import out
from disclosure.errors import RuleViolation
from disclosure.workflow.text import spreadsheet_safe

LISTING_FORMATS = ("table", "json", "csv")

ListingFormat = Annotated[
    str, typer.Option("--format", help="输出格式：table 表格 / json / csv（供程序读取）")
]


def check_listing_format(fmt: str) -> str:
    if fmt not in LISTING_FORMATS:
        options = "、".join(LISTING_FORMATS)
        raise RuleViolation("format", "one_of", f"输出格式“{fmt[:40]}”无效，可选：{options}")
    return fmt


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if isinstance(value, int | float):  # a number is never a formula, -5 stays -5
        return text
    return spreadsheet_safe(text)


def write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(_plain(data), ensure_ascii=False, indent=1) + "\n")


def write_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])


def emit(
    fmt: str,
    *,
    data: Any,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    table: Callable[[], Table] | None = None,
) -> None:
    """Print ``table()`` for people, ``data`` as JSON or ``rows`` as CSV for programs (a
    command that prints its table itself passes none and calls this for json/csv only)."""
    if fmt == "json":
        write_json(data)
    elif fmt == "csv":
        write_csv(rows, columns)
    elif table is not None:
        out.print(table())
