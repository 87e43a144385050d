"""What an application must contain (Art. 29) and how it was received (Art. 31): validation, pure.

Every problem becomes a ``RuleViolation`` naming the field and the rule in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from stdnum.cn import ric, uscc

from disclosure.errors import RuleViolation
from disclosure.workflow.calendar import cn_date
from disclosure.workflow.text import clean_code, clean_text, printable


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


DELIVERY_FORM_LABELS = {DeliveryForm.PAPER: "纸质", DeliveryForm.ELECTRONIC: "电子"}
DELIVERY_METHOD_LABELS = {
    DeliveryMethod.PICKUP: "自行领取",
    DeliveryMethod.POST: "邮寄",
    DeliveryMethod.EMAIL: "电子邮件",
    DeliveryMethod.ONLINE: "网上获取",
}

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

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The description is a Text column; this keeps a letter quoting it printable.
MAX_DESCRIPTION = 4000
#: Longer than every choice value; a longer value is refused before it is quoted.
_CHOICE_MAX_LEN = 40
#: The working-day calendar's span: a received date outside it cannot be counted from.
EARLIEST_RECEIVED = date(2000, 1, 1)
#: GB/T 2260 province-level codes of the mainland: 11–15 North, 21–23 North-east, 31–37
#: East, 41–46 South-central, 50–54 South-west, 61–65 North-west.
MAINLAND_PROVINCES = frozenset(
    {*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66)}
)
#: The first two digits a resident ID may start with: a mainland province, 71 Taiwan, and
#: 81 / 82 / 83, the residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民
#: 居住证, same layout and check character).
RESIDENT_ID_REGIONS = MAINLAND_PROVINCES | {71, 81, 82, 83}
#: The earliest birth year a resident ID is accepted with.
EARLIEST_BIRTH_YEAR = 1900
#: GB 32100-2015: the 31 characters of a unified social credit code (no I, O, S, V, Z).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_FORMAT = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


@dataclass(frozen=True)
class IdProblem:
    """Why an identity number is refused: a stable ``rule`` and a Chinese ``detail``.

    ``detail`` never quotes the number or its masked digits (the birth date), so it is
    safe to print next to ``mask_id(number)``.
    """

    rule: str
    detail: str


def resident_id_check_character(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID.

    Computed by ``stdnum.cn.ric``, which expects the whole number and ignores its last
    character: a placeholder stands in for the check character not yet known.
    """
    if not re.fullmatch(r"[0-9]{17}", body[:17]):
        raise ValueError(f"a resident ID begins with 17 digits, not {body[:17]!r}")
    return ric.calc_check_digit(body[:17] + "?")


def resident_id_problem(number: str, today: date) -> IdProblem | None:
    """The first reason GB 11643-1999 refuses ``number``, or None if it is valid.

    Also accepted: the residence permits of Hong Kong, Macao and Taiwan residents (81, 82,
    83) and the foreigners' permanent residence ID card of 2023 (外国人永久居留身份证): it
    starts with 9 and the accepting province's two digits, and has the same birth date
    and check character.

    Checked in order: 17 digits and a digit or X (``resident_id_format``), a province-level
    region code (``resident_id_region``), a real birth date in [1900-01-01, today]
    (``resident_id_birth_date``), and the check character (``resident_id_checksum``, by
    ``stdnum.cn.ric``). ``ric.validate`` itself is not used: it also looks the six-digit
    county code up in its own table, which refuses the residence permits (81–83) and the
    foreigners' cards (9…), and its one error per failure could not say which rule broke.

    Args:
        number: the normalised number (ASCII, upper case, no spaces).
        today: the agency's current date; a birth date after it is refused.
    """
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return IdProblem("resident_id_format", "应为18位：17位数字加1位数字或X")
    if number[0] == "9":  # foreigner: 9, then the accepting province's code
        if int(number[1:3]) not in MAINLAND_PROVINCES:
            return IdProblem(
                "resident_id_region", f"第2至3位“{number[1:3]}”不是有效的省级行政区划代码"
            )
    elif int(number[:2]) not in RESIDENT_ID_REGIONS:
        return IdProblem("resident_id_region", f"前两位“{number[:2]}”不是有效的省级行政区划代码")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdProblem("resident_id_birth_date", "第7至14位不是有效的出生日期")
    if birth.year < EARLIEST_BIRTH_YEAR:
        return IdProblem("resident_id_birth_date", f"出生年份早于{EARLIEST_BIRTH_YEAR}年")
    if birth > today:
        return IdProblem("resident_id_birth_date", "出生日期晚于今天")
    if ric.calc_check_digit(number) != number[17]:
        return IdProblem("resident_id_checksum", "校验位（第18位）不正确，请核对号码")
    return None


def resident_id_is_valid(number: str, today: date | None = None) -> bool:
    """True if ``resident_id_problem`` finds nothing.

    Without ``today`` a birth date in the future is not detected: pass it whenever the
    current date is known.
    """
    return resident_id_problem(number, today or date.max) is None


def credit_code_check_character(body: str) -> str:
    """GB 32100-2015 check character of the first 17 characters of a credit code.

    Computed by ``stdnum.cn.uscc``.
    """
    if not re.fullmatch(f"[{CREDIT_CODE_ALPHABET}]{{17}}", body[:17]):
        raise ValueError(
            f"a credit code begins with 17 of {CREDIT_CODE_ALPHABET}, not {body[:17]!r}"
        )
    return uscc.calc_check_digit(body[:17])


def credit_code_problem(number: str) -> IdProblem | None:
    """The first reason GB 32100-2015 refuses a unified social credit code, or None.

    The layout is 1 registration-authority character, 1 organisation-type character, the
    6-digit region code of the registering authority, the 9-character organisation code
    and the check character, all from ``CREDIT_CODE_ALPHABET`` (``credit_code_format``);
    the check character is ``31 - (Σ value·weight mod 31)`` (``credit_code_checksum``, by
    ``stdnum.cn.uscc``). ``uscc.validate`` itself is not used for the format: it wants
    digits in the first two places, where GB 32100 allows the letters of other
    registration authorities (e.g. Y, "other").
    """
    if not _CREDIT_FORMAT.fullmatch(number):
        return IdProblem(
            "credit_code_format",
            "应为18位数字或大写字母（不含 I、O、Z、S、V），第3至8位为行政区划代码（数字）",
        )
    if uscc.calc_check_digit(number) != number[17]:
        return IdProblem("credit_code_checksum", "校验位（第18位）不正确，请核对代码")
    return None


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
    value = clean_code(data.get(field), field, FIELD_LABELS[field], _CHOICE_MAX_LEN)
    try:
        return enum(value)
    except ValueError:
        options = "、".join(f"{m.value}（{labels.get(m, m.value)}）" for m in enum)
        raise _bad(field, "one_of", f"“{value}”不是可选值，可选：{options}") from None


def _text(
    data: Mapping[str, Any],
    field: str,
    max_len: int,
    *,
    required: bool = True,
    multiline: bool = False,
) -> str:
    return clean_text(
        data.get(field),
        field,
        FIELD_LABELS[field],
        max_len,
        required=required,
        multiline=multiline,
    )


def _code(data: Mapping[str, Any], field: str, max_len: int, *, required: bool = True) -> str:
    return clean_code(data.get(field), field, FIELD_LABELS[field], max_len, required=required)


_NUMBER_LABELS = {IdType.RESIDENT_ID: "居民身份证号码", IdType.CREDIT_CODE: "统一社会信用代码"}


def _id_problem(id_type: IdType, id_number: str, today: date) -> IdProblem | None:
    if id_type is IdType.RESIDENT_ID:
        return resident_id_problem(id_number, today)
    if id_type is IdType.CREDIT_CODE:
        return credit_code_problem(id_number)
    return None


def validate_application(data: Mapping[str, Any], today: date) -> Application:
    """Check an application against Art. 29 / 31 and return it normalised.

    Every text goes through ``clean_text`` (NFC: names, address, description) or
    ``clean_code`` (NFKC: ID number, phone, e-mail, postal code, choices, date), so a
    value of the wrong JSON type is refused with rule ``type`` and full-width digits typed
    with a Chinese input method count as ASCII. Limits are the database columns'
    (``models/tables.py``); the description, a ``Text`` column, is limited to
    ``MAX_DESCRIPTION`` characters.

    Args:
        data: raw field values (from CLI options, a JSON file or a web form).
        today: the agency's current date (a received date cannot lie in the future, nor a
            birth date in a resident ID).

    Raises:
        RuleViolation: the first field that breaks a rule.
    """
    unknown = sorted(printable(str(key)) for key in data if key not in FIELD_LABELS)
    if unknown:
        raise RuleViolation(
            field=unknown[0],
            rule="unknown_field",
            message=f"未知字段：{'、'.join(unknown)}；可用字段：{'、'.join(FIELD_LABELS)}",
        )
    kind = _choice(data, "applicant_kind", ApplicantKind, APPLICANT_KIND_LABELS)
    name = _text(data, "name", 100)
    id_type = _choice(data, "id_type", IdType, ID_TYPE_LABELS)
    id_number = _code(data, "id_number", 40).upper().replace(" ", "")
    if kind is ApplicantKind.PERSON and id_type is IdType.CREDIT_CODE:
        raise _bad(
            "id_type", "person_needs_personal_id", "自然人应提供个人身份证件，而非统一社会信用代码"
        )
    if kind is not ApplicantKind.PERSON and id_type is not IdType.CREDIT_CODE:
        raise _bad(
            "id_type", "organisation_needs_credit_code", "法人或其他组织应提供统一社会信用代码"
        )
    problem = _id_problem(id_type, id_number, today)
    if problem is not None:
        raise _bad(
            "id_number",
            problem.rule,
            f"{_NUMBER_LABELS[id_type]}{mask_id(id_number)}无效：{problem.detail}",
        )
    phone = _code(data, "phone", 30, required=False)
    email = _code(data, "email", 100, required=False)
    address = _text(data, "address", 200, required=False)
    if not (phone or email or address):
        raise _bad(
            "phone", "contact_required", "联系电话、电子邮箱、通信地址至少填写一项（第二十九条）"
        )
    if phone and not re.fullmatch(r"[0-9\-+ ()]{5,30}", phone):
        raise _bad("phone", "phone_format", f"“{phone}”不是有效的电话号码")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise _bad("email", "email_format", f"“{email}”不是有效的电子邮箱")
    postal_code = _code(data, "postal_code", 6, required=False)
    if postal_code and not re.fullmatch(r"[0-9]{6}", postal_code):
        raise _bad("postal_code", "postal_code_format", "邮政编码应为6位数字")
    description = _text(data, "description", MAX_DESCRIPTION, multiline=True)
    delivery_form = _choice(
        data,
        "delivery_form",
        DeliveryForm,
        DELIVERY_FORM_LABELS,
    )
    delivery_method = _choice(
        data,
        "delivery_method",
        DeliveryMethod,
        DELIVERY_METHOD_LABELS,
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
    """An ISO date (``2026-11-24``) or a RuleViolation naming the field.

    The text is NFKC-normalised first, so ``２０２６－１１－２４`` typed with a Chinese input
    method is the same date. A ``datetime`` is cut to its date. Any year from 1 to 9999 is
    accepted: callers bound the range they can count with.

    Raises:
        RuleViolation: rule ``type`` for a value that is neither text nor a date (a JSON
            number, list, object or true/false), ``date_format`` for text that is not an
            ISO date, ``control_character`` for invisible characters.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    label = FIELD_LABELS.get(field, field)
    # Wide enough for any date with stray spaces; anything longer is not a date either.
    text = clean_code(value, field, label, 10_000)
    try:
        if not _ISO_DATE.fullmatch(text):  # fromisoformat also takes 20261124 and week dates
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        problem = f"“{printable(text)}”不是有效日期" if text else "未填写日期"
        raise RuleViolation(
            field=field,
            rule="date_format",
            message=f"{label}：{problem}，应写作 YYYY-MM-DD（如 2026-11-24）",
        ) from None
