"""What a clerk or supervisor supplies when firing a trigger: one typed model per trigger.

Every model is a frozen pydantic model with ``extra="forbid"`` and a ``trigger`` literal, so a
union of them parses an HTTP body by its ``trigger`` field. Each field carries its Chinese
label (``title``), and every text goes through ``text.clean_text`` before anything else sees
it. ``parse_input`` turns pydantic's English errors into a ``RuleViolation`` that names the
field (the model's own field name, never a CLI flag) and the rule, in Chinese.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, get_args

from annotated_types import Ge, Le, MaxLen
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from disclosure.errors import RuleViolation
from disclosure.workflow.application import parse_date
from disclosure.workflow.text import clean_text, printable

#: Most correction points one notice may list.
MAX_CORRECTION_ITEMS = 20
ITEM_MAX_LENGTH = 200


def _label(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    return (info.title if info is not None and info.title else None) or field


def _bound(info: FieldInfo, kind: type) -> Any:
    return next((m for m in info.metadata if isinstance(m, kind)), None)


def _integer(value: object, name: str, info: FieldInfo) -> int:
    label = info.title or name
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if text.isascii() and text.lstrip("-").isdigit() and len(text) <= 20:
            number = int(text)
    if number is None:
        raise RuleViolation(name, "type", f"{label}须为整数，实为“{printable(str(value))}”")
    low, high = _bound(info, Ge), _bound(info, Le)
    if (low is not None and number < low.ge) or (high is not None and number > high.le):
        raise RuleViolation(
            name,
            "range",
            f"{label}须在{low.ge if low else ''}至{high.le if high else ''}之间，实为{number}",
        )
    return number


def _items(value: object, name: str, info: FieldInfo) -> tuple[str, ...]:
    label = info.title or name
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise RuleViolation(name, "type", f"{label}须为事项的列表")
    if len(value) > MAX_CORRECTION_ITEMS:
        raise RuleViolation(
            name, "max_items", f"{label}：一次最多{MAX_CORRECTION_ITEMS}项（现为{len(value)}项）"
        )
    cleaned = (clean_text(item, name, label, ITEM_MAX_LENGTH) for item in value)
    return tuple(item for item in cleaned if item)


def _clean_field(name: str, info: FieldInfo, value: object) -> object:
    """One field as given, cleaned by what its declaration says (type, title, bounds)."""
    if value is None:
        return None
    if info.annotation == tuple[str, ...]:
        return _items(value, name, info)
    kinds = set(get_args(info.annotation)) or {info.annotation}
    label = info.title or name
    if str in kinds:
        max_len = _bound(info, MaxLen)
        multiline = bool((info.json_schema_extra or {}).get("multiline"))  # type: ignore[union-attr]
        text = clean_text(value, name, label, max_len.max_length, multiline=multiline)
        if not text and info.is_required():
            raise RuleViolation(name, "required", f"须填写{label}")
        return text or (None if type(None) in kinds else "")
    if int in kinds:
        return _integer(value, name, info)
    if date in kinds:
        return parse_date(value, name)
    return value


def _multiline() -> dict[str, Any]:
    return {"multiline": True}


class TriggerInput(BaseModel):
    """What every trigger takes: a reason or note, and why a late step is recorded late."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The trigger this model is the input of (a literal in each subclass).
    trigger: str
    reason: str = Field("", title="理由或备注", max_length=500, json_schema_extra=_multiline())
    #: Why a step is recorded later than the policy allows (补录理由), apart from ``reason``:
    #: a supervisor-only step's own reason must not double as the excuse for its date.
    backdate_reason: str = Field("", title="补录理由", max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise RuleViolation("input", "type", "操作内容须为字段与值的对象")
        fields = cls.model_fields
        return {
            name: _clean_field(name, fields[name], value) if name in fields else value
            for name, value in data.items()
        }

    def letter_fields(self) -> dict[str, Any]:
        """The trigger-specific fields, for the letters it issues."""
        return self.model_dump(exclude={"trigger", "reason", "backdate_reason"})


def input_model(trigger: str, fields: Mapping[str, tuple[Any, Any]]) -> type[TriggerInput]:
    """The input model of ``trigger``: the common fields, ``fields``, and the trigger as a
    literal (so a union of every trigger's model parses by ``trigger``)."""
    model: type[TriggerInput] = create_model(  # type: ignore[call-overload]
        f"{''.join(part.title() for part in trigger.split('_'))}Input",
        __base__=TriggerInput,
        trigger=(Literal[trigger], trigger),
        **fields,
    )
    return model


def text_field(
    label: str,
    max_length: int,
    *,
    multiline: bool = False,
    help: str | None = None,
    required: bool = False,
    choices: Mapping[str, str] | None = None,
) -> tuple[Any, Any]:
    """A text: cleaned, bounded; an optional one reads blank as absent. ``choices`` (code →
    Chinese label) lets a form offer a list; the trigger's guards still decide what is valid."""
    extra: JsonDict = {}
    if multiline:
        extra["multiline"] = True
    if choices:
        extra["choices"] = dict(choices)
    default = ... if required else None
    annotation = str if required else str | None
    return (
        annotation,
        Field(
            default,
            title=label,
            description=help,
            max_length=max_length,
            json_schema_extra=extra or None,
        ),
    )


def integer_field(
    label: str, low: int, high: int, *, help: str | None = None, required: bool = False
) -> tuple[Any, Any]:
    annotation = int if required else int | None
    default = ... if required else None
    return (annotation, Field(default, title=label, description=help, ge=low, le=high))


def date_field(label: str, *, help: str | None = None, required: bool = False) -> tuple[Any, Any]:
    annotation = date if required else date | None
    return (annotation, Field(... if required else None, title=label, description=help))


def items_field(label: str, *, help: str | None = None) -> tuple[Any, Any]:
    return (tuple[str, ...], Field((), title=label, description=help))


_RULES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "literal_error": "one_of",
}


def _as_violation(model: type[TriggerInput], error: ErrorDetails) -> RuleViolation:
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else "input"
    rule = _RULES.get(error["type"], "invalid")
    label = _label(model, field)
    if rule == "unknown_field":
        allowed = "、".join(
            f"{_label(model, name)}（{name}）" for name in model.model_fields if name != "trigger"
        )
        message = f"此操作不接受“{printable(field)}”，可填写：{allowed}"
    elif rule == "required":
        message = f"须填写{label}"
    else:
        message = f"{label}：格式不正确"
    return RuleViolation(field, rule, message)


def validate(model: type[TriggerInput], data: Mapping[str, Any]) -> TriggerInput:
    """``data`` as ``model``, or a RuleViolation naming the first wrong field."""
    try:
        return model.model_validate({"trigger": model.model_fields["trigger"].default, **data})
    except ValidationError as exc:
        raise _as_violation(model, exc.errors()[0]) from None
