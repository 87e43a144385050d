"""Form fields derived from a trigger's input model: the page and the API share one model."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel


@dataclass(frozen=True)
class FormField:
    """One input of an action form."""

    name: str
    label: str
    kind: str  # text | textarea | date | number | items | select
    required: bool
    help: str | None
    max_length: int | None
    choices: Mapping[str, str] | None = None
    low: int | None = None
    high: int | None = None


def _base(annotation: Any) -> Any:
    """``X`` of ``X | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _bound(info: Any, attribute: str) -> Any:
    return next((getattr(m, attribute) for m in info.metadata if hasattr(m, attribute)), None)


def form_fields(model: type[BaseModel]) -> list[FormField]:
    """Every field of ``model`` but its ``trigger`` literal, in declaration order."""
    fields = []
    for name, info in model.model_fields.items():
        if name == "trigger":
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        base = _base(info.annotation)
        choices = extra.get("choices")
        if isinstance(choices, dict):
            kind = "select"
        elif base is date:
            kind = "date"
        elif base is int:
            kind = "number"
        elif get_origin(base) is tuple:
            kind = "items"
        elif extra.get("multiline"):
            kind = "textarea"
        else:
            kind = "text"
        fields.append(
            FormField(
                name=name,
                label=info.title or name,
                kind=kind,
                required=info.is_required(),
                help=info.description,
                max_length=_bound(info, "max_length"),
                choices={str(k): str(v) for k, v in choices.items()}
                if isinstance(choices, dict)
                else None,
                low=_bound(info, "ge"),
                high=_bound(info, "le"),
            )
        )
    return fields


def form_data(model: type[BaseModel], form: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``model`` found in a submitted form; blank ones are left out, and an
    items field takes one item per line."""
    data: dict[str, Any] = {}
    for spec in form_fields(model):
        value = form.get(spec.name)
        if not isinstance(value, str) or not value.strip():
            continue
        data[spec.name] = value.splitlines() if spec.kind == "items" else value
    return data
