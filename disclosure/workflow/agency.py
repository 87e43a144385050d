"""An agency's own particulars, as data: one county platform serves many departments.

Each agency prints its own name, 文号 prefix, contact block and remedy bodies on its letters,
charges on its own fee scale and may override templates. ``validate_agency`` checks what a
clerk or an administrator types, field by field, before the database sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from disclosure.errors import RuleViolation
from disclosure.workflow.fees import FeeScale
from disclosure.workflow.text import clean_text, printable

#: Chinese labels of the agency fields, for messages and forms.
AGENCY_LABELS = {
    "code": "机关代码",
    "name": "机关名称",
    "short_name": "机关简称",
    "number_prefix": "文号前缀",
    "address": "机关地址",
    "contact": "联系人",
    "phone": "联系电话",
    "reconsideration_body": "行政复议机关",
    "court": "管辖法院",
    "fee_scale": "收费方式",
    "retention_years": "卷宗保存年限",
    "fee_payment": "缴费方式说明",
    "template_dir": "文书模板覆盖目录",
}

#: (most characters, required) of each text field.
_TEXT_FIELDS: dict[str, tuple[int, bool]] = {
    "name": (60, True),
    "short_name": (20, True),
    "number_prefix": (20, True),
    "address": (100, True),
    "contact": (30, True),
    "phone": (30, True),
    "reconsideration_body": (60, True),
    "court": (60, True),
    "fee_payment": (300, True),
    "template_dir": (500, False),
}
_CODE = re.compile(r"[a-z][a-z0-9-]{1,19}")


@dataclass(frozen=True)
class AgencyProfile:
    """What letters, numbering and fees need to know of an agency."""

    code: str
    name: str
    short_name: str
    number_prefix: str
    address: str
    contact: str
    phone: str
    reconsideration_body: str
    court: str
    fee_scale: FeeScale
    fee_payment: str
    template_dir: str | None = None
    #: Years an archived file is kept before it is due for disposal (or anonymisation).
    retention_years: int = 10


#: The range of ``retention_years`` (档案保管期限: 10 and 30 years are the usual terms).
RETENTION_YEARS = (1, 100)


def validate_agency(data: Mapping[str, Any]) -> AgencyProfile:
    """An agency from loose fields (CLI options, a form, a JSON body).

    Raises:
        RuleViolation: the first field that is missing, too long, holds invisible
            characters, or (``code``) is not 2–20 lower-case letters, digits and ``-``.
    """
    unknown = sorted(set(data) - set(AGENCY_LABELS))
    if unknown:
        raise RuleViolation(
            unknown[0], "unknown_field", f"机关信息不接受字段“{printable(unknown[0])[:40]}”"
        )
    code = data.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise RuleViolation(
            "code", "format", "机关代码须为2至20个小写英文字母、数字或“-”，以字母开头（如 shj）"
        )
    values: dict[str, Any] = {"code": code}
    for field, (max_len, required) in _TEXT_FIELDS.items():
        label = AGENCY_LABELS[field]
        text = clean_text(data.get(field, ""), field, label, max_len)
        if required and not text:
            raise RuleViolation(field, "required", f"须填写{label}")
        values[field] = (text or None) if field == "template_dir" else text
    try:
        values["fee_scale"] = FeeScale(data.get("fee_scale") or FeeScale.BY_VOLUME.value)
    except ValueError:
        raise RuleViolation(
            "fee_scale", "one_of", "收费方式须为 count（按件计收）或 volume（按量计收）"
        ) from None
    years = data.get("retention_years", 10)
    low, high = RETENTION_YEARS
    if isinstance(years, bool) or not isinstance(years, int) or not low <= years <= high:
        raise RuleViolation(
            "retention_years", "range", f"卷宗保存年限须为{low}至{high}之间的整数（年）"
        )
    values["retention_years"] = years
    return AgencyProfile(**values)
