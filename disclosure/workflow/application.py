"""What an application must contain (Art. 29) and how it was received (Art. 31): validation, pure.

Every problem becomes a ``RuleViolation`` naming the field and the rule in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from disclosure.errors import RuleViolation
from disclosure.workflow.calendar import cn_date


class ApplicantKind(StrEnum):
    """The seven columns of the annual report: a natural person or one of five organisations."""

    PERSON = "person"
    COMMERCIAL = "commercial"
    RESEARCH = "research"
    PUBLIC_INTEREST = "public_interest"
    LEGAL_SERVICES = "legal_services"
    OTHER_ORGANISATION = "other_organisation"


APPLICANT_KIND_LABELS = {
    ApplicantKind.PERSON: "自然人",
    ApplicantKind.COMMERCIAL: "商业企业",
    ApplicantKind.RESEARCH: "科研机构",
    ApplicantKind.PUBLIC_INTEREST: "社会公益组织",
    ApplicantKind.LEGAL_SERVICES: "法律服务机构",
    ApplicantKind.OTHER_ORGANISATION: "其他组织",
}


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    CREDIT_CODE = "credit_code"


ID_TYPE_LABELS = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.PASSPORT: "护照",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.CREDIT_CODE: "统一社会信用代码",
}


class Channel(StrEnum):
    """Art. 31: how the application arrived decides which day counts as received."""

    IN_PERSON = "in_person"
    REGISTERED_POST = "registered_post"
    ORDINARY_LETTER = "ordinary_letter"
    ONLINE = "online"
    FAX = "fax"


#: Art. 31: each channel's name and the day that counts as received.
CHANNEL_RULES = {
    Channel.IN_PERSON: ("当面", "提交之日"),
    Channel.REGISTERED_POST: ("邮寄", "本机关签收之日"),
    Channel.ORDINARY_LETTER: ("平常信函", "与申请人确认之日"),
    Channel.ONLINE: ("互联网", "双方确认之日"),
    Channel.FAX: ("传真", "双方确认之日"),
}
CHANNEL_LABELS = {channel: f"{name}（{rule}）" for channel, (name, rule) in CHANNEL_RULES.items()}


class DeliveryForm(StrEnum):
    PAPER = "paper"
    ELECTRONIC = "electronic"


class DeliveryMethod(StrEnum):
    PICKUP = "pickup"
    POST = "post"
    EMAIL = "email"
    ONLINE = "online"


FIELD_LABELS = {
    "applicant_kind": "申请人类型",
    "name": "申请人姓名或名称",
    "id_type": "身份证明类型",
    "id_number": "身份证明号码",
    "phone": "联系电话",
    "email": "电子邮箱",
    "address": "通信地址",
    "postal_code": "邮政编码",
    "description": "所需政府信息的名称、文号或特征性描述",
    "delivery_form": "获取信息的载体形式",
    "delivery_method": "获取信息的方式",
    "channel": "提交方式",
    "received_on": "收到申请日期",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The working-day calendar's span: a received date outside it cannot be counted from.
EARLIEST_RECEIVED = date(2000, 1, 1)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_is_valid(number: str) -> bool:
    """GB 11643-1999: 17 digits, a valid birth date, and the ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def mask_id(number: str) -> str:
    """An 18-character ID or credit code shows its first 6 and last 4 (letters.md); shorter
    numbers (passports, permits) show at most a third of their characters."""
    if len(number) >= 18:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    keep = len(number) // 6
    if keep == 0:
        return "*" * len(number)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


@dataclass(frozen=True)
class Application:
    """A validated application, ready to register."""

    applicant_kind: ApplicantKind
    name: str
    id_type: IdType
    id_number: str
    phone: str
    email: str
    address: str
    postal_code: str
    description: str
    delivery_form: DeliveryForm
    delivery_method: DeliveryMethod
    channel: Channel
    received_on: date


def _bad(field: str, rule: str, detail: str) -> RuleViolation:
    return RuleViolation(field=field, rule=rule, message=f"{FIELD_LABELS[field]}：{detail}")


def _choice(
    data: Mapping[str, Any], field: str, enum: type[StrEnum], labels: Mapping[Any, str]
) -> Any:
    value = str(data.get(field) or "").strip()
    try:
        return enum(value)
    except ValueError:
        options = "、".join(f"{m.value}（{labels.get(m, m.value)}）" for m in enum)
        raise _bad(field, "one_of", f"“{value}”不是可选值，可选：{options}") from None


def _text(data: Mapping[str, Any], field: str, max_len: int, required: bool = True) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        raise _bad(field, "required", "必须填写")
    if len(value) > max_len:
        raise _bad(field, "max_length", f"不得超过{max_len}个字符（现为{len(value)}个）")
    if _CONTROL.search(value):
        raise _bad(field, "control_character", "含有不可见的控制字符，请删除后重试")
    return value


def validate_application(data: Mapping[str, Any], today: date) -> Application:
    """Check an application against Art. 29 / 31 and return it normalised.

    Args:
        data: raw field values (from CLI options, a JSON file or a web form).
        today: the agency's current date (a received date cannot lie in the future).

    Raises:
        RuleViolation: the first field that breaks a rule.
    """
    unknown = set(data) - set(FIELD_LABELS)
    if unknown:
        raise RuleViolation(
            field=sorted(unknown)[0],
            rule="unknown_field",
            message=f"未知字段：{'、'.join(sorted(unknown))}；可用字段：{'、'.join(FIELD_LABELS)}",
        )
    kind = _choice(data, "applicant_kind", ApplicantKind, APPLICANT_KIND_LABELS)
    name = _text(data, "name", 100)
    id_type = _choice(data, "id_type", IdType, ID_TYPE_LABELS)
    id_number = _text(data, "id_number", 40).upper().replace(" ", "")
    if kind is ApplicantKind.PERSON and id_type is IdType.CREDIT_CODE:
        raise _bad(
            "id_type", "person_needs_personal_id", "自然人应提供个人身份证件，而非统一社会信用代码"
        )
    if kind is not ApplicantKind.PERSON and id_type is not IdType.CREDIT_CODE:
        raise _bad(
            "id_type", "organisation_needs_credit_code", "法人或其他组织应提供统一社会信用代码"
        )
    if id_type is IdType.RESIDENT_ID and not resident_id_is_valid(id_number):
        raise _bad(
            "id_number",
            "resident_id_checksum",
            f"居民身份证号码{mask_id(id_number)}无效（应为18位，出生日期有效且校验位正确）",
        )
    if id_type is IdType.CREDIT_CODE and not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", id_number):
        raise _bad(
            "id_number",
            "credit_code_format",
            "统一社会信用代码应为18位数字或大写字母（不含 I、O、Z、S、V）",
        )
    phone = _text(data, "phone", 30, required=False)
    email = _text(data, "email", 100, required=False)
    address = _text(data, "address", 200, required=False)
    if not (phone or email or address):
        raise _bad(
            "phone", "contact_required", "联系电话、电子邮箱、通信地址至少填写一项（第二十九条）"
        )
    if phone and not re.fullmatch(r"[\d\-+ ()]{5,30}", phone):
        raise _bad("phone", "phone_format", f"“{phone}”不是有效的电话号码")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise _bad("email", "email_format", f"“{email}”不是有效的电子邮箱")
    postal_code = _text(data, "postal_code", 6, required=False)
    if postal_code and not re.fullmatch(r"\d{6}", postal_code):
        raise _bad("postal_code", "postal_code_format", "邮政编码应为6位数字")
    description = _text(data, "description", 4000)
    delivery_form = _choice(
        data,
        "delivery_form",
        DeliveryForm,
        {DeliveryForm.PAPER: "纸质", DeliveryForm.ELECTRONIC: "电子"},
    )
    delivery_method = _choice(
        data,
        "delivery_method",
        DeliveryMethod,
        {
            DeliveryMethod.PICKUP: "自行领取",
            DeliveryMethod.POST: "邮寄",
            DeliveryMethod.EMAIL: "电子邮件",
            DeliveryMethod.ONLINE: "网上获取",
        },
    )
    if delivery_method is DeliveryMethod.EMAIL and not email:
        raise _bad("email", "required_for_email_delivery", "选择电子邮件方式获取信息时必须填写")
    if delivery_method is DeliveryMethod.POST and not address:
        raise _bad("address", "required_for_post_delivery", "选择邮寄方式获取信息时必须填写")
    channel = _choice(data, "channel", Channel, CHANNEL_LABELS)
    received_on = parse_date(data.get("received_on"), "received_on")
    if received_on < EARLIEST_RECEIVED:
        raise _bad(
            "received_on",
            "too_early",
            f"{cn_date(received_on)}早于系统可计算的最早日期2000年1月1日",
        )
    if received_on > today:
        raise _bad(
            "received_on", "not_in_future", f"{cn_date(received_on)}晚于今天（{cn_date(today)}）"
        )
    return Application(
        kind,
        name,
        id_type,
        id_number,
        phone,
        email,
        address,
        postal_code,
        description,
        delivery_form,
        delivery_method,
        channel,
        received_on,
    )


def parse_date(value: object, field: str) -> date:
    """An ISO date (``2026-11-24``) or a RuleViolation naming the field."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        if not _ISO_DATE.fullmatch(text):  # fromisoformat also takes 20261124 and week dates
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        label = FIELD_LABELS.get(field, field)
        raise RuleViolation(
            field=field,
            rule="date_format",
            message=f"{label}：“{text}”不是有效日期，应写作 YYYY-MM-DD（如 2026-11-24）",
        ) from None
