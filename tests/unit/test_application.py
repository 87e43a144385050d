"""What an application must contain (Art. 29 / 31): one row per rule, plus ID-number checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disclosure.errors import RuleViolation
from disclosure.workflow.application import (
    CREDIT_CODE_ALPHABET,
    FIELD_LABELS,
    MAX_DESCRIPTION,
    ApplicantKind,
    IdProblem,
    IdType,
    credit_code_check_character,
    credit_code_problem,
    parse_date,
    resident_id_check_character,
    resident_id_is_valid,
    resident_id_problem,
    validate_application,
)
from tests.conftest import application

TODAY = date(2026, 11, 24)
VALID_ID = "11010519491231002X"
VALID_CODE = "91350100MA2XN8QY3G"


def with_check(body: str) -> str:
    """A resident ID whose check character is right, so only the other rules can fail."""
    return body + resident_id_check_character(body)


def organisation(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "applicant_kind": "commercial",
        "name": "福州闽江建设工程有限公司",
        "id_type": "credit_code",
        "id_number": VALID_CODE,
    }
    return application(**{**data, **overrides})


def refused(data: dict[str, Any]) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        validate_application(data, TODAY)
    return caught.value


# --- the fixture and the happy path ----------------------------------------------------------


def test_the_shared_fixture_is_valid() -> None:
    app = validate_application(application(), TODAY)
    assert (app.id_number, app.received_on) == (VALID_ID, date(2026, 6, 5))


def test_an_organisation_with_a_valid_credit_code_is_accepted() -> None:
    app = validate_application(organisation(), TODAY)
    assert (app.applicant_kind, app.id_type) == (ApplicantKind.COMMERCIAL, IdType.CREDIT_CODE)


def test_full_width_input_from_a_chinese_ime_is_accepted_as_ascii() -> None:
    app = validate_application(
        application(
            id_number="１１０１０５１９４９１２３１００２ｘ",
            phone="（０５９１）８７６５４３２１",
            email="ｏｆｆｉｃｅ＠ｅｘａｍｐｌｅ．ｃｎ",
            postal_code="３５０６００",
            received_on="２０２６－０６－０５",
            channel="ｉｎ＿ｐｅｒｓｏｎ",
        ),
        TODAY,
    )
    assert (app.id_number, app.phone, app.email, app.postal_code) == (
        VALID_ID,
        "(0591)87654321",
        "office@example.cn",
        "350600",
    )
    assert app.received_on == date(2026, 6, 5)


def test_names_and_descriptions_keep_their_characters_but_are_nfc() -> None:
    app = validate_application(
        application(name="  Ｊｏｓé\u0301 ", description="第一段\r\n第二段"), TODAY
    )
    assert app.name == "Ｊｏｓé\u0301".replace("e\u0301", "\u00e9")  # NFC, not NFKC
    assert app.description == "第一段\n第二段"


def test_spaces_inside_an_id_number_are_removed_and_letters_upper_cased() -> None:
    app = validate_application(application(id_number="110105 19491231 002x"), TODAY)
    assert app.id_number == VALID_ID


# --- one row per rule ------------------------------------------------------------------------

LONG = "张" * 101
RULES: list[tuple[str, dict[str, Any], str, str]] = [
    # (id, overrides, field, rule)
    ("unknown-field", {"nickname": "x"}, "nickname", "unknown_field"),
    ("kind-one-of", {"applicant_kind": "alien"}, "applicant_kind", "one_of"),
    ("kind-missing", {"applicant_kind": None}, "applicant_kind", "one_of"),
    ("kind-list", {"applicant_kind": ["person"]}, "applicant_kind", "type"),
    ("kind-operator", {"applicant_kind": {"$ne": 1}}, "applicant_kind", "type"),
    ("id-type-bool", {"id_type": True}, "id_type", "type"),
    ("channel-number", {"channel": 1}, "channel", "type"),
    ("delivery-form-list", {"delivery_form": ["paper"]}, "delivery_form", "type"),
    ("delivery-method-one-of", {"delivery_method": "fax"}, "delivery_method", "one_of"),
    ("name-required", {"name": "  "}, "name", "required"),
    ("name-list", {"name": ["张三"]}, "name", "type"),
    ("name-true", {"name": True}, "name", "type"),
    ("name-number", {"name": 12345}, "name", "type"),
    ("name-length", {"name": LONG}, "name", "max_length"),
    ("name-bidi", {"name": "张\u202e三"}, "name", "control_character"),
    ("name-zero-width", {"name": "张\u200b三"}, "name", "control_character"),
    ("name-esc", {"name": "张\x1b[2J三"}, "name", "control_character"),
    ("name-newline", {"name": "张\n三"}, "name", "control_character"),
    ("name-surrogate", {"name": "张\ud800三"}, "name", "control_character"),
    ("id-number-number", {"id_number": 110105194912310020}, "id_number", "type"),
    ("id-number-length", {"id_number": "1" * 41}, "id_number", "max_length"),
    ("id-number-format", {"id_number": "11010519491231002"}, "id_number", "resident_id_format"),
    ("id-region", {"id_number": with_check("99012319800101123")}, "id_number", "resident_id_region"),
    ("id-future", {"id_number": "350123203001011239"}, "id_number", "resident_id_birth_date"),
    ("id-1899", {"id_number": with_check("35012318991231123")}, "id_number", "resident_id_birth_date"),
    ("id-feb-30", {"id_number": with_check("35012319800230123")}, "id_number", "resident_id_birth_date"),
    ("id-checksum", {"id_number": "110105194912310021"}, "id_number", "resident_id_checksum"),
    ("person-credit-code", {"id_type": "credit_code"}, "id_type", "person_needs_personal_id"),
    ("contact-required", {"phone": "", "address": ""}, "phone", "contact_required"),
    ("phone-format", {"phone": "call me"}, "phone", "phone_format"),
    ("phone-number", {"phone": 13800000000}, "phone", "type"),
    ("phone-length", {"phone": "1" * 31}, "phone", "max_length"),
    ("email-format", {"email": "a@b"}, "email", "email_format"),
    ("email-dict", {"email": {"$ne": 1}}, "email", "type"),
    ("email-length", {"email": "a" * 96 + "@b.cn"}, "email", "max_length"),
    ("address-length", {"address": "路" * 201}, "address", "max_length"),
    ("address-nul", {"address": "凤山镇\x001号"}, "address", "control_character"),
    ("postal-format", {"postal_code": "35060A"}, "postal_code", "postal_code_format"),
    ("postal-length", {"postal_code": "3506001"}, "postal_code", "max_length"),
    ("postal-number", {"postal_code": 350600}, "postal_code", "type"),
    ("description-required", {"description": ""}, "description", "required"),
    ("description-length", {"description": "字" * (MAX_DESCRIPTION + 1)}, "description", "max_length"),
    ("description-bidi", {"description": "报告\u2066.exe"}, "description", "control_character"),
    ("description-list", {"description": ["报告"]}, "description", "type"),
    ("email-delivery", {"delivery_method": "email"}, "email", "required_for_email_delivery"),
    ("post-delivery", {"delivery_method": "post", "address": ""}, "address", "required_for_post_delivery"),
    ("received-format", {"received_on": "2026/06/05"}, "received_on", "date_format"),
    ("received-number", {"received_on": 20260605}, "received_on", "type"),
    ("received-list", {"received_on": ["2026-06-05"]}, "received_on", "type"),
    ("received-true", {"received_on": True}, "received_on", "type"),
    ("received-early", {"received_on": "0001-01-01"}, "received_on", "too_early"),
    ("received-future", {"received_on": "9999-12-31"}, "received_on", "not_in_future"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "field", "rule"), [row[1:] for row in RULES], ids=[row[0] for row in RULES]
)
def test_each_rule_names_its_field_and_rule(
    overrides: dict[str, Any], field: str, rule: str
) -> None:
    exc = refused(application(**overrides))
    assert (exc.field, exc.rule) == (field, rule)
    if field in FIELD_LABELS:
        assert exc.message.startswith(FIELD_LABELS[field])
    exc.message.encode("utf-8")  # never a lone surrogate in a message


ORGANISATION_RULES = [
    ("credit-checksum", {"id_number": "91350100MA2XN8QY3K"}, "credit_code_checksum"),
    ("credit-letter-o", {"id_number": "91350100MA2XN8QYOG"}, "credit_code_format"),
    ("credit-short", {"id_number": "91350100MA2XN8QY3"}, "credit_code_format"),
    ("credit-region-letters", {"id_number": "9135A100MA2XN8QY3G"}, "credit_code_format"),
    ("organisation-resident-id", {"id_type": "resident_id"}, "organisation_needs_credit_code"),
]


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [row[1:] for row in ORGANISATION_RULES],
    ids=[row[0] for row in ORGANISATION_RULES],
)
def test_each_organisation_rule_names_its_field_and_rule(
    overrides: dict[str, Any], rule: str
) -> None:
    exc = refused(organisation(**overrides))
    assert exc.rule == rule and exc.field in {"id_number", "id_type"}


def test_a_wrong_type_is_named_in_chinese_and_not_quoted() -> None:
    exc = refused(application(name={"$ne": 1}))
    assert exc.message == "申请人姓名或名称：应为文字，实为对象"
    exc = refused(application(received_on=20260605))
    assert "收到申请日期" in exc.message and "20260605" not in exc.message


@pytest.mark.parametrize(
    "number",
    [
        "350123203001011239",  # born in 2030
        with_check("99012319800101123"),
        with_check("35012318991231123"),
        "110105194912310021",
        "11010519491231002",
    ],
)
def test_an_id_number_is_never_printed_in_full(number: str) -> None:
    exc = refused(application(id_number=number))
    assert number not in exc.message
    assert number[6:14] not in exc.message  # not even the birth date


def test_a_credit_code_is_never_printed_in_full() -> None:
    exc = refused(organisation(id_number="91350100MA2XN8QY3K"))
    assert "91350100MA2XN8QY3K" not in exc.message and "913501" in exc.message


# --- resident IDs (GB 11643-1999) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        (VALID_ID, None),
        ("350123203001011239", "resident_id_birth_date"),
        (with_check("35012320261125123"), "resident_id_birth_date"),  # tomorrow
        (with_check("35012320261124123"), None),  # born today
        (with_check("35012319000101123"), None),
        (with_check("35012318991231123"), "resident_id_birth_date"),
        (with_check("99012319800101123"), "resident_id_region"),
        (with_check("00012319800101123"), "resident_id_region"),
        (with_check("16012319800101123"), "resident_id_region"),
        (with_check("81000019800101123"), None),  # Hong Kong residence permit
        (with_check("83000019800101123"), None),  # Taiwan residence permit
        (with_check("71000019800101123"), None),
        (with_check("91115619800101123"), None),  # foreigner, accepted in Beijing (11)
        (with_check("92015619800101123"), "resident_id_region"),  # 9 + "20": no province
        ("11010519491231002x", "resident_id_format"),  # validate_application upper-cases
        ("1101051949123100２X", "resident_id_format"),  # validate_application applies NFKC
        ("", "resident_id_format"),
    ],
)
def test_resident_id_problem_reports_the_first_broken_rule(number: str, rule: str | None) -> None:
    problem = resident_id_problem(number, TODAY)
    assert (problem.rule if problem else None) == rule


#: Published numbers, not computed here: GB 11643-1999's own examples and python-stdnum's.
PUBLISHED_IDS = ["11010519491231002X", "360426199101010071"]


@pytest.mark.parametrize("number", PUBLISHED_IDS)
def test_a_published_resident_id_passes_and_every_other_check_character_fails(
    number: str,
) -> None:
    assert resident_id_problem(number, TODAY) is None
    for wrong in "0123456789X".replace(number[17], ""):
        problem = resident_id_problem(number[:17] + wrong, TODAY)
        assert problem is not None and problem.rule == "resident_id_checksum", wrong
        assert problem.detail == "校验位（第18位）不正确，请核对号码"


def test_a_resident_id_born_before_1900_is_refused_for_its_birth_date_not_its_checksum() -> None:
    problem = resident_id_problem("440524188001010014", TODAY)  # GB 11643's example: 1880
    assert problem == IdProblem("resident_id_birth_date", "出生年份早于1900年")


def test_resident_id_is_valid_still_answers_without_today() -> None:
    assert resident_id_is_valid(VALID_ID)
    assert not resident_id_is_valid("110105194912310021")
    assert not resident_id_is_valid("350123203001011239", TODAY)


province = st.sampled_from(["11", "35", "44", "65", "71", "81", "82", "83"])
births = st.dates(date(1900, 1, 1), TODAY)


@given(province, births, st.integers(0, 999))
def test_every_id_with_a_computed_check_character_is_valid(
    region: str, birth: date, sequence: int
) -> None:
    number = with_check(f"{region}0123{birth:%Y%m%d}{sequence:03d}")
    assert resident_id_problem(number, TODAY) is None


@given(province, births, st.integers(0, 999), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_changing_one_character_of_a_valid_id_invalidates_it(
    region: str, birth: date, sequence: int, position: int, replacement: str
) -> None:
    number = with_check(f"{region}0123{birth:%Y%m%d}{sequence:03d}")
    changed = number[:position] + replacement + number[position + 1 :]
    if changed != number:
        assert resident_id_problem(changed, TODAY) is not None


# --- unified social credit codes (GB 32100-2015) -------------------------------------------


#: Published codes, not computed here (python-stdnum's test data and issue examples): every
#: kind of check character, a digit, a letter and "0" (where 31 - Σ mod 31 is 31).
PUBLISHED_CODES = [
    "91350100MA2XN8QY3G",
    "91110000600037341L",
    "121200004013590816",
    "91310115MA1K3BTP2B",
    "9144030071526726XG",
    "91620105L015101280",
    "92340603MA2UK2002C",
]


@pytest.mark.parametrize("code", PUBLISHED_CODES)
def test_a_published_credit_code_passes_and_every_other_check_character_fails(
    code: str,
) -> None:
    assert credit_code_problem(code) is None
    assert credit_code_check_character(code[:17]) == code[17]
    for wrong in CREDIT_CODE_ALPHABET.replace(code[17], ""):
        problem = credit_code_problem(code[:17] + wrong)
        assert problem is not None and problem.rule == "credit_code_checksum", wrong
        assert problem.detail == "校验位（第18位）不正确，请核对代码"


def test_a_credit_code_of_another_registration_authority_is_checked_too() -> None:
    # GB 32100 allows letters first ("Y": other authorities), which stdnum's own
    # validate() refuses; the check character is still verified.
    body = "Y1350100MA2XN8QY3"
    right = credit_code_check_character(body)
    assert credit_code_problem(body + right) is None
    wrong = next(c for c in CREDIT_CODE_ALPHABET if c != right)
    assert credit_code_problem(body + wrong) == IdProblem(
        "credit_code_checksum", "校验位（第18位）不正确，请核对代码"
    )


def test_the_issue_example_has_check_character_g() -> None:
    assert credit_code_check_character("91350100MA2XN8QY3") == "G"
    assert credit_code_problem("91350100MA2XN8QY3G") is None
    problem = credit_code_problem("91350100MA2XN8QY3K")
    assert problem is not None and problem.rule == "credit_code_checksum"


code_char = st.sampled_from(CREDIT_CODE_ALPHABET)
credit_bodies = st.builds(
    lambda head, region, org: head + region + org,
    st.text(code_char, min_size=2, max_size=2),
    st.text(st.sampled_from("0123456789"), min_size=6, max_size=6),
    st.text(code_char, min_size=9, max_size=9),
)


@given(credit_bodies)
def test_every_code_with_a_computed_check_character_passes(body: str) -> None:
    assert credit_code_problem(body + credit_code_check_character(body)) is None


@given(credit_bodies, st.integers(0, 17), code_char)
def test_every_single_character_change_of_a_valid_code_fails(
    body: str, position: int, replacement: str
) -> None:
    code = body + credit_code_check_character(body)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        assert credit_code_problem(changed) is not None


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-05", date(2026, 6, 5)),
        (" ２０２６－０６－０５\u3000", date(2026, 6, 5)),
        (date(2026, 6, 5), date(2026, 6, 5)),
        (datetime(2026, 6, 5, 23, 59), date(2026, 6, 5)),
        ("9999-12-31", date(9999, 12, 31)),
        ("0001-01-01", date(1, 1, 1)),
    ],
)
def test_parse_date_accepts_iso_dates_typed_any_width(value: object, expected: date) -> None:
    parsed = parse_date(value, "received_on")
    assert parsed == expected and type(parsed) is date


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (None, "date_format"),
        ("", "date_format"),
        ("2026-02-30", "date_format"),
        ("20260605", "date_format"),
        ("2026-W23-5", "date_format"),
        ("٢٠٢٦-٠٦-٠٥", "date_format"),  # Arabic-Indic digits: NFKC keeps them
        ("2026-06-05" * 1000, "date_format"),
        ("2026-06-05\u202e", "control_character"),
        (20260605, "type"),
        (2026.0605, "type"),
        (True, "type"),
        (["2026-06-05"], "type"),
        ({"$gt": ""}, "type"),
    ],
)
def test_parse_date_refuses_cleanly(value: object, rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        parse_date(value, "received_on")
    assert (caught.value.field, caught.value.rule) == ("received_on", rule)
    assert caught.value.message.startswith("收到申请日期")
    assert len(caught.value.message) < 200
