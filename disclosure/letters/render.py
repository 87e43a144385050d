"""Render a letter template to HTML with Jinja2 — strictly: a missing field is an error.

Templates come from the package, or first from the agency's override folder (same file
names), so an office can change wording without touching code.

A template that prints a value the case lacks stops the letter: the error names the letter
by its Chinese title and the missing item by its Chinese label, and carries the name of the
input field the user supplies (``item``, ``party``, ``detail`` …), because a clerk at the
command line and a client of the HTTP API both read it. A template that refers to something
the system never provides, or that cannot be parsed, is the agency's configuration error.
"""

from __future__ import annotations

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
    TemplateSyntaxError,
    UndefinedError,
    select_autoescape,
)
from jinja2.utils import missing

from disclosure.errors import ConfigurationError, RuleViolation

#: The context item (block, key) a template prints → (the input field that supplies it,
#: its Chinese label). ``None`` as block: a whole block (or top-level value) is absent.
FIELDS: dict[tuple[str | None, str], tuple[str, str]] = {
    ("correction", "points"): ("item", "需要补正的事项"),
    ("correction", "period_due"): ("correction_period", "补正期限"),
    ("correction", "period_days"): ("correction_period", "补正期限的工作日数"),
    ("consultation", "party"): ("party", "被征求意见方名称"),
    ("consultation", "window_due"): ("on", "提出意见的期限"),
    ("consultation", "days"): ("on", "提出意见的工作日数"),
    ("decision", "party"): ("party", "被征求意见的第三方名称"),
    ("decision", "public_interest"): ("public_interest", "决定公开的公共利益理由"),
    ("extension", "reason"): ("reason", "延长答复期限的理由"),
    ("extension", "days"): ("days", "延长的工作日数"),
    ("extension", "old_due"): ("reply_due", "原答复期限"),
    ("extension", "new_due"): ("days", "延长后的答复期限"),
    ("agreed", "reason"): ("reason", "另行确定答复期限的理由"),
    ("agreed", "old_due"): ("reply_due", "原答复期限"),
    ("agreed", "new_due"): ("until", "另行确定的答复期限"),
    ("agreed", "consent"): ("consent", "申请人同意的情况"),
    ("fee", "amount"): ("pages", "收费金额"),
    ("fee", "basis"): ("pages", "计费方式"),
    ("fee", "lines"): ("pages", "收费计算过程"),
    ("fee", "scale"): ("pages", "收费标准"),
    ("fee", "pay_due"): ("fee", "缴费期限"),
    ("fee", "payment"): ("fee_payment", "缴费方式说明"),
    ("reply", "detail"): ("detail", "答复内容"),
    ("reply", "refer_to"): ("refer_to", "负责公开该信息的机关或应当前往的渠道"),
    ("reply", "reason"): ("reason", "答复理由"),
    ("reply", "code"): ("reason", "答复理由"),
    ("reply", "finding"): ("reason", "答复理由"),
    ("reply", "phrase"): ("reason", "不予公开的理由"),
    ("reply", "article"): ("reason", "答复依据的条款"),
    ("reply", "basis"): ("reason", "答复依据的条款内容"),
    ("closing", "reason"): ("reason", "终止处理的理由"),
    ("closing", "article"): ("reason", "终止处理依据的条款"),
    ("closing", "basis"): ("reason", "终止处理依据的条款内容"),
    ("agency", "name"): ("agency_name", "机关名称"),
    ("agency", "address"): ("agency_address", "机关地址"),
    ("agency", "contact"): ("agency_contact", "联系人"),
    ("agency", "phone"): ("agency_phone", "联系电话"),
    ("agency", "reconsideration_body"): ("reconsideration_body", "行政复议机关"),
    ("agency", "court"): ("court", "管辖法院"),
    ("applicant", "name"): ("name", "申请人姓名或名称"),
    ("applicant", "id_masked"): ("id_number", "申请人证件号码"),
    ("applicant", "id_type"): ("id_type", "申请人证件类型"),
    ("case", "description"): ("description", "所需政府信息的内容描述"),
    ("case", "received_on"): ("received_on", "收到申请日期"),
    ("case", "channel_name"): ("channel", "申请方式"),
    ("case", "channel_rule"): ("channel", "收到申请日期的确定方式"),
    ("case", "reply_due"): ("reply_due", "答复期限"),
    ("case", "reply_due_note"): ("reply_due", "答复期限的计算"),
    (None, "correction"): ("item", "需要补正的事项"),
    (None, "consultation"): ("party", "被征求意见方名称"),
    (None, "decision"): ("public_interest", "决定公开的公共利益理由"),
    (None, "extension"): ("days", "延长答复期限的内容"),
    (None, "agreed"): ("until", "另行确定的答复期限"),
    (None, "fee"): ("pages", "收费内容"),
    (None, "reply"): ("outcome", "答复内容"),
    (None, "closing"): ("reason", "终止处理的理由"),
}

#: What the reply text (``detail``) must say, by outcome template.
DETAIL_LABELS = {
    "reply_disclose.html.j2": "答复内容（提供的信息或获取方式）",
    "reply_partial.html.j2": "答复内容（提供的部分信息或获取方式）",
    "reply_withhold.html.j2": "答复内容（不予公开的具体说明）",
    "reply_cannot_provide.html.j2": "答复内容（检索或审查情况的说明）",
    "reply_not_handled.html.j2": "答复内容（不予处理的具体说明）",
    "reply_other.html.j2": "答复内容（处理情况的说明）",
}

_SEP = "\x1f"  # inside our own undefined-error messages only; never shown to anyone


class _Missing(StrictUndefined):
    """StrictUndefined whose error records *which* context block lacked *which* key.

    Jinja2 says only "'dict object' has no attribute 'reason'"; ``reason`` lives in five
    blocks, so the message carries the id of the dict it was looked up in.
    """

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        owner = "" if self._undefined_obj is missing else str(id(self._undefined_obj))
        return f"{_SEP}{owner}{_SEP}{self._undefined_name}"


@lru_cache(maxsize=8)
def _environment(template_dir: Path | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("disclosure.letters", "templates")]
    if template_dir is not None:
        loaders.insert(0, FileSystemLoader(str(template_dir)))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=_Missing,
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _missing_item(error: UndefinedError, context: dict[str, Any]) -> tuple[str | None, str]:
    """(block, key) of the value a template asked for and the context lacks."""
    parts = str(error).split(_SEP)
    if len(parts) != 3:
        return None, "?"
    _, owner, name = parts
    blocks = {str(id(value)): key for key, value in context.items() if isinstance(value, dict)}
    return (blocks.get(owner) if owner else None), name


def _title(context: dict[str, Any]) -> str:
    letter = context.get("letter")
    title = letter.get("title") if isinstance(letter, dict) else None
    return str(title) if title else "文书"


def _template_error(template: str, detail: str) -> ConfigurationError:
    return ConfigurationError(
        "DISCLOSURE_TEMPLATE_DIR",
        f"文书模板“{template}”{detail}，请检查文书模板覆盖目录（DISCLOSURE_TEMPLATE_DIR）中的该文件",
    )


def render_html(template: str, context: dict[str, Any], template_dir: Path | None = None) -> str:
    """Render one letter.

    Raises:
        RuleViolation: the case lacks a value the template prints (rule
            ``letter_field_missing``; the field the user supplies, its Chinese label and the
            letter's title in the message).
        ConfigurationError: an override template is missing, broken, or refers to something
            the system never provides.
    """
    try:
        return _environment(template_dir).get_template(template).render(context)
    except UndefinedError as error:
        block, key = _missing_item(error, context)
        known = FIELDS.get((block, key))
        if known is None:
            where = f"{block}.{key}" if block else key
            raise _template_error(template, f"引用了系统不提供的内容“{where}”") from None
        field, label = known
        if (block, key) == ("reply", "detail"):
            label = DETAIL_LABELS.get(template, label)
        raise RuleViolation(
            field=field,
            rule="letter_field_missing",
            message=f"{_title(context)}缺少必填内容：{label}；未生成文书，本次操作未保存",
        ) from None
    except TemplateNotFound as error:
        raise ConfigurationError(
            "DISCLOSURE_TEMPLATE_DIR", f"找不到文书模板“{error.name}”"
        ) from None
    except TemplateSyntaxError as error:
        name = error.name or template
        raise _template_error(name, f"第{error.lineno}行有语法错误") from None
    except TemplateError:
        raise _template_error(template, "无法生成文书") from None
    except (TypeError, ValueError, ArithmeticError, LookupError):
        raise _template_error(template, "中的运算或取值有误") from None
