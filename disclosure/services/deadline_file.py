"""``disclosure deadline --json``: the worked-example format in, due dates out.

Uses ``workflow.deadlines.compute_limits``, the very function the workflow stores limits
with. A malformed item is reported by index and field; the other items are still computed.
"""

from __future__ import annotations

import json
from typing import Any

from disclosure.errors import DisclosureError, RuleViolation
from disclosure.workflow.application import parse_date
from disclosure.workflow.calendar import WorkingCalendar
from disclosure.workflow.deadlines import ClockEvent, ClockKind, compute_limits
from disclosure.workflow.rules import RuleSet


def _event(raw: object, field: str) -> ClockEvent:
    if not isinstance(raw, list) or len(raw) < 2:
        raise RuleViolation(field, "event_shape", '事件须为 [类型, 日期] 或 ["extend", 日期, 天数]')
    try:
        kind = ClockKind(raw[0])
    except ValueError:
        options = "、".join(k.value for k in ClockKind)
        raise RuleViolation(
            f"{field}[0]", "one_of", f"未知事件类型“{raw[0]}”，可选：{options}"
        ) from None
    on = parse_date(raw[1], f"{field}[1]")
    days = until = None
    if kind is ClockKind.EXTEND:
        if len(raw) != 3 or not isinstance(raw[2], int) or isinstance(raw[2], bool):
            raise RuleViolation(f"{field}[2]", "integer", "extend 事件须给出延长的工作日数（整数）")
        days = raw[2]
    elif kind is ClockKind.CUSTOM_DUE:
        if len(raw) != 3:
            raise RuleViolation(f"{field}[2]", "required", "custom_due 事件须给出另行确定的日期")
        until = parse_date(raw[2], f"{field}[2]")
    elif len(raw) != 2:
        raise RuleViolation(field, "event_shape", f"{kind.value} 事件只有类型和日期两项")
    return ClockEvent(kind, on, days, until)


def compute_item(item: object, cal: WorkingCalendar, rules: RuleSet) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RuleViolation("item", "json_object", "每一项须为 JSON 对象")
    received = parse_date(item.get("received"), "received")
    raw_events = item.get("events", [])
    if not isinstance(raw_events, list):
        raise RuleViolation("events", "json_list", "events 须为列表")
    events = [_event(raw, f"events[{i}]") for i, raw in enumerate(raw_events)]
    reply = compute_limits(cal, received, events, rules).reply
    if reply is None:  # a correction is awaited: no reply limit runs
        return {"due": None, "provisional": False}
    return {"due": reply.due.isoformat(), "provisional": reply.provisional}


def compute_file(
    text: str, cal: WorkingCalendar, rules: RuleSet
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return one result per item (same order) and the list of problems found."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleViolation(
            "--json", "json", f"文件不是有效的 JSON（第{exc.lineno}行第{exc.colno}列）"
        ) from None
    if not isinstance(items, list):
        raise RuleViolation("--json", "json_list", "文件内容须为 JSON 列表")
    results: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            results.append(compute_item(item, cal, rules))
        except DisclosureError as exc:
            problem = {"index": index, "field": exc.field, "rule": exc.rule, "message": exc.message}
            problems.append(problem)
            results.append({"due": None, "provisional": None, "error": problem})
    return results, problems
