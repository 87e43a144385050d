"""``disclosure deadline --json``: the worked-example format in, due dates out.

Uses ``workflow.deadlines.compute_limits``, the very function the workflow stores limits
with. The format is a JSON list of items::

    [{"received": "2025-11-29",
      "events": [["consult_third_party", "2025-12-01"], ["extend", "2025-12-04", 6]],
      "due": "ignored on input"}]

A malformed item (not an object, events not a list, a date that is a number, days that
are text or true, a year outside the working calendar …) is reported by index and field,
and the other items are still computed: ``compute_data`` never raises for one item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from disclosure.errors import DisclosureError, RuleViolation
from disclosure.input_files import loads_json
from disclosure.workflow.application import parse_date
from disclosure.workflow.calendar import WorkingCalendar
from disclosure.workflow.deadlines import ClockEvent, ClockKind, Limits, compute_limits
from disclosure.workflow.rules import RuleSet
from disclosure.workflow.text import printable

#: The most items one file may hold: far more than any worked example needs, and bounded
#: so that a generated file cannot keep the command busy for minutes.
MAX_ITEMS = 10_000
#: The most clock events one item may hold (a real case has a handful).
MAX_EVENTS = 100
FIELD = "--json"


def _event(raw: object, field: str) -> ClockEvent:
    if not isinstance(raw, list) or not 2 <= len(raw) <= 3:
        raise RuleViolation(field, "event_shape", '事件须为 [类型, 日期] 或 ["extend", 日期, 天数]')
    if not isinstance(raw[0], str):
        raise RuleViolation(f"{field}[0]", "type", '事件类型须为文字（如 "extend"）')
    try:
        kind = ClockKind(raw[0])
    except ValueError:
        options = "、".join(k.value for k in ClockKind)
        raise RuleViolation(
            f"{field}[0]", "one_of", f"未知事件类型“{printable(raw[0])}”，可选：{options}"
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


def limits_of(item: object, cal: WorkingCalendar, rules: RuleSet) -> Limits:
    """Every limit of one item (received date and events), as the engine computes them.

    Raises:
        DisclosureError: the item is malformed or its events break a rule of the law.
    """
    if not isinstance(item, dict):
        raise RuleViolation("item", "json_object", "每一项须为 JSON 对象")
    if "received" not in item:
        raise RuleViolation("received", "required", "须给出收到申请日期 received")
    received = parse_date(item["received"], "received")
    raw_events = item.get("events", [])
    if not isinstance(raw_events, list):
        raise RuleViolation("events", "json_list", "events 须为列表")
    if len(raw_events) > MAX_EVENTS:
        raise RuleViolation(
            "events", "max_events", f"每项最多{MAX_EVENTS}个事件，实为{len(raw_events)}个"
        )
    events = [_event(raw, f"events[{i}]") for i, raw in enumerate(raw_events)]
    return compute_limits(cal, received, events, rules)


def compute_item(item: object, cal: WorkingCalendar, rules: RuleSet) -> dict[str, Any]:
    """The reply limit of one item.

    Raises:
        DisclosureError: the item is malformed or its events break a rule of the law.
    """
    reply = limits_of(item, cal, rules).reply
    if reply is None:  # a correction is awaited: no reply limit runs
        return {"due": None, "provisional": False}
    return {"due": reply.due.isoformat(), "provisional": reply.provisional}


def compute_data(
    data: object, cal: WorkingCalendar, rules: RuleSet
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Compute every item of already parsed data (what ``read_json_file`` returned).

    Returns:
        One result per item (same order) and the list of problems found. A problem is
        ``{"index", "field", "rule", "message"}``; its item's result is
        ``{"due": None, "provisional": None, "error": problem}``.

    Raises:
        RuleViolation: (field ``--json``) the data is not a list (``json_list``) or holds
            more than ``MAX_ITEMS`` items (``max_items``). Nothing else raises.
    """
    if not isinstance(data, list):
        raise RuleViolation(FIELD, "json_list", "文件内容须为 JSON 列表")
    if len(data) > MAX_ITEMS:
        raise RuleViolation(
            FIELD, "max_items", f"文件最多含{MAX_ITEMS:,}项，实为{len(data):,}项，请分成几个文件"
        )
    return _compute_all(data, cal, rules)


def compute_file(
    text: str, cal: WorkingCalendar, rules: RuleSet
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse JSON text (with ``input_files.loads_json``'s refusals) and ``compute_data`` it."""
    return compute_data(loads_json(text, FIELD), cal, rules)


def _compute_all(
    items: Sequence[object], cal: WorkingCalendar, rules: RuleSet
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    results: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            results.append(compute_item(item, cal, rules))
            continue
        except DisclosureError as exc:
            problem = {"index": index, "field": exc.field, "rule": exc.rule, "message": exc.message}
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # A bug, not the user's fault: still report it per item instead of losing the
            # file (tests fuzz compute_data and fail on rule "internal").
            problem = {
                "index": index,
                "field": "item",
                "rule": "internal",
                "message": f"无法计算此项（{type(exc).__name__}），请报告此问题",
            }
        problems.append(problem)
        results.append({"due": None, "provisional": None, "error": problem})
    return results, problems
