"""Render a letter template to HTML with Jinja2 — strictly: a missing field is an error.

Templates come from the package, or first from the agency's override folder (same file
names), so an office can change wording without touching code.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

from disclosure.errors import ConfigurationError, RuleViolation

#: What a clerk must supply (or the case must hold) for each context field, in Chinese.
FIELD_LABELS = {
    "detail": "答复内容（拟写答复时的 --detail）",
    "refer_to": "负责公开该信息的机关或应当前往的渠道（--refer-to）",
    "party": "被征求意见方名称（--party）",
    "points": "需要补正的事项（--item）",
    "public_interest": "决定公开的公共利益理由（--public-interest）",
    "reason": "理由（--reason）",
    "address": "申请人通信地址",
    "amount": "收费金额",
    "name": "名称",
}


@lru_cache(maxsize=8)
def _environment(template_dir: Path | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("disclosure.letters", "templates")]
    if template_dir is not None:
        loaders.insert(0, FileSystemLoader(str(template_dir)))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _missing_field(error: UndefinedError) -> str:
    text = str(error)
    match = re.search(r"has no attribute '([^']+)'", text) or re.search(
        r"'([^']+)' is undefined", text
    )
    return match.group(1) if match else "?"


def render_html(template: str, context: dict[str, Any], template_dir: Path | None = None) -> str:
    """Render one letter.

    Raises:
        RuleViolation: the case lacks a field the template needs (named in Chinese).
        ConfigurationError: an override template is missing or broken.
    """
    try:
        return _environment(template_dir).get_template(template).render(context)
    except UndefinedError as error:
        field = _missing_field(error)
        label = FIELD_LABELS.get(field, field)
        raise RuleViolation(
            field=field,
            rule="letter_field_missing",
            message=f"文书“{template}”缺少必填内容：{label}；未生成文书，本次操作未保存",
        ) from None
    except TemplateNotFound as error:
        raise ConfigurationError(
            "DISCLOSURE_TEMPLATE_DIR", f"找不到文书模板 {error.name}"
        ) from None
    except TemplateError as error:
        raise ConfigurationError(
            "DISCLOSURE_TEMPLATE_DIR", f"文书模板 {template} 有误：{error.message}"
        ) from None
