"""The annual report's tables (annual-report.md): who counts in which row and column, the
form's arithmetic, and the drill-down to the cases behind a cell.

The reference is written out here from annual-report.md, independently of the module: the
rows with their exact wording (``FORM_ROWS``), the row of every outcome and reason
(``REASON_ROWS``) and a naive count (``naive_section3``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure.errors import RuleViolation
from disclosure.workflow import annual_report
from disclosure.workflow.annual_report import (
    ROWS,
    AnnualReport,
    CaseCount,
    Challenge,
    FeeRecord,
    ReportCase,
    build_annual_report,
    check_annual_report,
    count_annual_report,
    explain_cell,
    parse_column,
    parse_row,
)
from disclosure.workflow.application import ApplicantKind
from disclosure.workflow.states import CLOSED_STATES, OPEN_STATES, OUTCOMES

YEAR = 2026
D = date.fromisoformat

#: Section 三 as annual-report.md prints it: (key, label).
FORM_ROWS = [
    ("一", "一、本年新收政府信息公开申请数量"),
    ("二", "二、上年结转政府信息公开申请数量"),
    ("三.(一)", "（一）予以公开"),
    ("三.(二)", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("三.(三)", "（三）不予公开"),
    ("三.(三).1", "1.属于国家秘密"),
    ("三.(三).2", "2.其他法律行政法规禁止公开"),
    ("三.(三).3", "3.危及“三安全一稳定”"),
    ("三.(三).4", "4.保护第三方合法权益"),
    ("三.(三).5", "5.属于三类内部事务信息"),
    ("三.(三).6", "6.属于四类过程性信息"),
    ("三.(三).7", "7.属于行政执法案卷"),
    ("三.(三).8", "8.属于行政查询事项"),
    ("三.(四)", "（四）无法提供"),
    ("三.(四).1", "1.本机关不掌握相关政府信息"),
    ("三.(四).2", "2.没有现成信息需要另行制作"),
    ("三.(四).3", "3.补正后申请内容仍不明确"),
    ("三.(五)", "（五）不予处理"),
    ("三.(五).1", "1.信访举报投诉类申请"),
    ("三.(五).2", "2.重复申请"),
    ("三.(五).3", "3.要求提供公开出版物"),
    ("三.(五).4", "4.无正当理由大量反复申请"),
    ("三.(五).5", "5.要求行政机关确认或重新出具已获取信息"),
    ("三.(六)", "（六）其他处理"),
    ("三.(六).1", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("三.(六).2", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("三.(六).3", "3.其他"),
    ("三.(七)", "（七）总计"),
    ("四", "四、结转下年度继续办理"),
]
FORM_KEYS = [key for key, _ in FORM_ROWS]
COLUMN_OF = {
    "person": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "public_interest": "社会公益组织",
    "legal_services": "法律服务机构",
    "other_organisation": "其他",
}
APPLICANT_COLUMNS = list(COLUMN_OF.values())
ALL_COLUMNS = [*APPLICANT_COLUMNS, "总计"]
#: Each subtotal row: the outcome counted under it and its reasons in the form's order.
REASON_ROWS = {
    "三.(三)": ("withhold", ["state_secret", "law_prohibited", "three_safety_stability",
                            "third_party_rights", "internal_affairs", "process_info",
                            "enforcement_file", "administrative_query"]),
    "三.(四)": ("cannot_provide", ["not_held", "needs_creation", "still_unclear"]),
    "三.(五)": ("not_handled", ["petition", "repeat", "publication", "mass_requests",
                               "confirm_or_reissue"]),
    "三.(六)": ("other", ["no_correction", "fee_unpaid", "other"]),
}  # fmt: skip
ROW_OF_REASON = {
    (outcome, reason): f"{group}.{number}"
    for group, (outcome, reasons) in REASON_ROWS.items()
    for number, reason in enumerate(reasons, start=1)
}
ROW_OF_REASON |= {("disclose", r): "三.(一)" for r in ("provided", "published")}
ROW_OF_REASON |= {("partial", r): "三.(二)" for r in OUTCOMES["partial"].reasons}
OUTCOME_PAIRS = sorted(ROW_OF_REASON)


def case(
    case_id: int = 1,
    kind: str = "person",
    received: str = "2026-03-04",
    closed: str | None = None,
    outcome: str | None = None,
    reason: str | None = None,
    state: str | None = None,
) -> ReportCase:
    """A case; closed ones default to ``replied``, open ones to ``handling``."""
    return ReportCase(
        case_id=case_id,
        agency_id=1,
        applicant_kind=kind,
        received_on=D(received),
        closed_on=D(closed) if closed else None,
        state=state or ("replied" if closed else "handling"),
        outcome=outcome,
        outcome_reason=reason,
    )


def build(
    *cases: ReportCase,
    fees: list[FeeRecord] | None = None,
    challenges: list[Challenge] | None = None,
) -> AnnualReport:
    return build_annual_report(YEAR, "示例市审计局", cases, fees or [], challenges or [])


def counted_rows(report: AnnualReport, column: str = "自然人") -> dict[str, int]:
    """The non-zero cells of a column, by row key."""
    return {key: cells[column] for key, cells in report.section3.items() if cells[column]}


# -- the layout --------------------------------------------------------------------------


def test_rows_are_the_forms_rows_with_its_wording() -> None:
    assert [(row.key, row.label) for row in ROWS] == FORM_ROWS


def test_every_outcome_and_reason_has_a_row() -> None:
    pairs = {(code, reason) for code, outcome in OUTCOMES.items() for reason in outcome.reasons}
    assert pairs == set(ROW_OF_REASON)


# -- who counts in which row ----------------------------------------------------------------


def test_case_received_this_year_and_still_open_is_new_and_carried_forward() -> None:
    report = build(case(received="2026-03-04"))
    assert counted_rows(report) == {"一": 1, "四": 1}


def test_case_received_and_replied_this_year_is_new_and_a_result() -> None:
    report = build(case(received="2026-03-04", closed="2026-03-20", outcome="disclose",
                        reason="provided"))  # fmt: skip
    assert counted_rows(report) == {"一": 1, "三.(一)": 1, "三.(七)": 1}


def test_open_case_from_last_year_is_carried_over_and_carried_forward() -> None:
    report = build(case(received="2025-12-20"))
    assert counted_rows(report) == {"二": 1, "四": 1}


def test_case_from_last_year_replied_this_year_is_carried_over_and_a_result() -> None:
    report = build(case(received="2025-12-20", closed="2026-01-05", outcome="withhold",
                        reason="state_secret"))  # fmt: skip
    assert counted_rows(report) == {"二": 1, "三.(三).1": 1, "三.(三)": 1, "三.(七)": 1}


def test_case_replied_on_new_years_day_counts_in_the_new_year() -> None:
    report = build(case(received="2025-12-20", closed="2026-01-01", outcome="disclose",
                        reason="provided"))  # fmt: skip
    assert counted_rows(report) == {"二": 1, "三.(一)": 1, "三.(七)": 1}


def test_case_replied_next_year_is_carried_into_next_year() -> None:
    report = build(case(received="2026-12-20", closed="2027-01-04", outcome="disclose",
                        reason="provided"))  # fmt: skip
    assert counted_rows(report) == {"一": 1, "四": 1}


def test_case_replied_on_new_years_eve_is_not_carried_forward() -> None:
    report = build(case(received="2026-12-20", closed="2026-12-31", outcome="disclose",
                        reason="provided"))  # fmt: skip
    assert counted_rows(report) == {"一": 1, "三.(一)": 1, "三.(七)": 1}


@pytest.mark.parametrize(
    ("received", "closed"),
    [
        ("2025-03-01", "2025-12-31"),  # closed before the year
        ("2027-01-01", None),  # received after it
        ("2027-01-01", "2027-01-02"),
    ],
)
def test_case_outside_the_year_is_not_counted(received: str, closed: str | None) -> None:
    report = build(case(received=received, closed=closed, outcome="disclose", reason="provided"))
    assert counted_rows(report, "总计") == {}


@pytest.mark.parametrize(("outcome", "reason"), OUTCOME_PAIRS)
def test_each_outcome_and_reason_counts_in_its_row(outcome: str, reason: str) -> None:
    row = ROW_OF_REASON[(outcome, reason)]
    report = build(case(closed="2026-03-20", outcome=outcome, reason=reason))
    group = row.rsplit(".", 1)[0] if row.count(".") == 2 else None
    expected = {"一": 1, row: 1, "三.(七)": 1} | ({group: 1} if group else {})
    assert counted_rows(report) == expected


@pytest.mark.parametrize(
    ("state", "outcome", "reason"),
    [
        ("withdrawn", None, None),
        ("withdrawn", "withhold", "state_secret"),  # withdrawn after a draft: still 其他
        ("abandoned", None, None),  # closed without an outcome
        ("replied", None, None),
    ],
)
def test_withdrawn_or_closed_without_outcome_counts_as_other(
    state: str, outcome: str | None, reason: str | None
) -> None:
    report = build(case(closed="2026-05-03", state=state, outcome=outcome, reason=reason))
    assert counted_rows(report) == {"一": 1, "三.(六).3": 1, "三.(六)": 1, "三.(七)": 1}


def test_partial_disclosure_counts_only_as_partial() -> None:
    report = build(case(closed="2026-03-20", outcome="partial", reason="third_party_rights"))
    assert counted_rows(report) == {"一": 1, "三.(二)": 1, "三.(七)": 1}
    assert report.section3["三.(三).4"]["总计"] == 0


def test_each_applicant_kind_counts_in_its_column_and_the_total() -> None:
    cases = [case(n, kind) for n, kind in enumerate(COLUMN_OF, start=1)]
    cases.append(case(99, "commercial"))
    report = build(*cases)
    assert report.section3["一"] == {
        "自然人": 1, "商业企业": 2, "科研机构": 1, "社会公益组织": 1, "法律服务机构": 1,
        "其他": 1, "总计": 7,
    }  # fmt: skip


def test_clean_report_breaks_no_rule() -> None:
    report = build(
        case(1, received="2025-11-01"),
        case(2, "research", closed="2026-04-01", outcome="cannot_provide", reason="not_held"),
    )
    assert check_annual_report(report) == []


# -- cases that cannot be counted ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [("withhold", "provided"), ("withhold", None), ("approve", "x"), ("disclose", None)],
)
def test_case_whose_outcome_has_no_row_is_refused_by_id(outcome: str, reason: str | None) -> None:
    with pytest.raises(RuleViolation) as caught:
        build(case(17, closed="2026-03-20", outcome=outcome, reason=reason))
    assert (caught.value.field, caught.value.rule) == ("outcome", "outcome_not_placeable")
    assert "案件17" in caught.value.message


def test_unknown_applicant_kind_is_refused_by_id() -> None:
    with pytest.raises(RuleViolation) as caught:
        build(case(23, kind="company"))
    assert caught.value.field == "applicant_kind"
    assert "案件23" in caught.value.message and "company" in caught.value.message


def test_case_closed_before_it_was_received_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        build(case(5, received="2026-03-04", closed="2026-03-01", state="withdrawn"))
    assert (caught.value.field, caught.value.rule) == ("closed_on", "closed_before_received")
    assert "案件5" in caught.value.message


def test_the_same_case_twice_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        build(case(5), case(5, "research"))
    assert caught.value.rule == "duplicate_case"


# -- the form's arithmetic -----------------------------------------------------------------


def six_commercial_results() -> AnnualReport:
    """Six commercial cases replied this year, one in each result group (一)–(六)."""
    pairs = [("disclose", "provided"), ("partial", "process_info"),
             ("withhold", "internal_affairs"), ("cannot_provide", "needs_creation"),
             ("not_handled", "repeat"), ("other", "fee_unpaid")]  # fmt: skip
    return build(
        *(case(n, "commercial", closed="2026-06-01", outcome=o, reason=r)
          for n, (o, r) in enumerate(pairs, start=1))
    )  # fmt: skip


@pytest.mark.parametrize(
    ("corrupt", "rows", "column", "message"),
    [
        (("三.(七)", "商业企业", -1), ("三.(七)",), "商业企业",
         "第三项（七）总计“商业企业”列为5，应等于（一）至（六）之和6"),
        (("三.(三)", "商业企业", +1), ("三.(三)",), "商业企业",
         "第三项（三）不予公开“商业企业”列为2，应等于第1至8项之和1"),
        (("三.(三).5", "商业企业", +1), ("三.(三)",), "商业企业",
         "第三项（三）不予公开“商业企业”列为1，应等于第1至8项之和2"),
        (("三.(六).2", "总计", +3), ("三.(六).2",), "总计",
         "第三项（六）2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"
         "“总计”列为4，应等于六类申请人之和1"),
        (("一", "总计", +1), ("一",), "总计", "第一项“总计”列为7，应等于六类申请人之和6"),
        (("四", "自然人", +2), ("一", "二", "三.(七)", "四"), "自然人",
         "“自然人”列第一项与第二项之和为0，应等于第三项（七）总计与第四项之和2"),
        (("二", "商业企业", +1), ("一", "二", "三.(七)", "四"), "商业企业",
         "“商业企业”列第一项与第二项之和为7，应等于第三项（七）总计与第四项之和6"),
    ],
)  # fmt: skip
def test_corrupted_cell_is_named_by_the_check(
    corrupt: tuple[str, str, int], rows: tuple[str, ...], column: str, message: str
) -> None:
    report = six_commercial_results()
    row, corrupted_column, delta = corrupt
    report.section3[row][corrupted_column] += delta
    broken = check_annual_report(report)
    assert (rows, column, message) in [(d.rows, d.column, d.message) for d in broken]


def test_corrupted_section_four_total_is_named_by_the_check() -> None:
    report = build(challenges=[Challenge(1, "litigation_direct", D("2026-02-01"), None, None)])
    report.section4["litigation_direct"]["总计"] = 3
    [broken] = check_annual_report(report)
    assert (broken.rows, broken.column, broken.shown, broken.expected) == (
        ("litigation_direct",), "总计", 3, 1,
    )  # fmt: skip
    assert broken.message.startswith(
        "行政复议、行政诉讼情况中行政诉讼（未经复议直接起诉）“总计”列为3"
    )


def test_report_that_does_not_balance_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A counting slip (here: an open case never carried forward) stops the report."""
    counted = annual_report._section3_rows_of
    monkeypatch.setattr(
        annual_report,
        "_section3_rows_of",
        lambda c, year: [row for row in counted(c, year) if row != "四"],
    )
    with pytest.raises(RuleViolation) as caught:
        build(case(1))
    assert caught.value.rule == "annual_report_unbalanced"
    assert caught.value.message.startswith("年度报告校验未通过：")
    assert (
        "“自然人”列第一项与第二项之和为1，应等于第三项（七）总计与第四项之和0"
        in caught.value.message
    )


# -- section 四 and fees ---------------------------------------------------------------------


def test_challenges_filed_this_year_count_by_kind_and_result() -> None:
    report = build(
        challenges=[
            Challenge(1, "reconsideration", D("2026-02-01"), "upheld", D("2026-04-01")),
            Challenge(2, "reconsideration", D("2026-03-01"), "corrected", D("2026-05-01")),
            Challenge(3, "reconsideration", D("2026-11-01"), "other", D("2027-01-10")),
            Challenge(4, "litigation_direct", D("2026-06-01"), None, None),
            Challenge(5, "litigation_after_review", D("2026-07-01"), "other", D("2026-09-01")),
            Challenge(6, "reconsideration", D("2025-12-01"), "upheld", D("2026-02-01")),
        ]
    )
    assert report.section4 == {
        "reconsideration": {"结果维持": 1, "结果纠正": 1, "其他结果": 0, "尚未审结": 1, "总计": 3},
        "litigation_direct": {"结果维持": 0, "结果纠正": 0, "其他结果": 0, "尚未审结": 1, "总计": 1},
        "litigation_after_review": {"结果维持": 0, "结果纠正": 0, "其他结果": 1, "尚未审结": 0,
                                    "总计": 1},
    }  # fmt: skip
    assert report.challenge_cases_in("行政复议", "总计") == (1, 2, 3)
    assert report.challenge_cases_in("reconsideration", "尚未审结") == (3,)


@pytest.mark.parametrize(
    ("challenge", "field"),
    [
        (Challenge(8, "appeal", D("2026-02-01"), None, None), "kind"),
        (Challenge(8, "reconsideration", D("2026-02-01"), "won", D("2026-03-01")), "result"),
    ],
)
def test_unknown_challenge_kind_or_result_is_refused_by_id(
    challenge: Challenge, field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        build(challenges=[challenge])
    assert caught.value.field == field and "案件8" in caught.value.message


def test_fees_count_notices_issued_and_money_paid_this_year() -> None:
    report = build(
        fees=[
            FeeRecord(1, D("2025-12-28"), Decimal("100.00"), D("2026-01-04")),  # paid this year
            FeeRecord(2, D("2026-03-01"), Decimal("200.50"), D("2026-03-05")),
            FeeRecord(3, D("2026-04-01"), Decimal("300.00"), None),  # not paid
            FeeRecord(4, D("2026-12-30"), Decimal("400.00"), D("2027-01-02")),  # paid next year
        ]
    )
    assert report.fees.notices == 3
    assert report.fees.collected == Decimal("300.50")


# -- drill-down -----------------------------------------------------------------------------


def drill_down_report() -> AnnualReport:
    return build(
        case(12, "commercial", "2026-03-04", "2026-03-20", "withhold", "third_party_rights"),
        case(13, "commercial", "2025-12-01", "2026-02-10", "withhold", "third_party_rights"),
        case(14, "person", "2026-04-01", "2026-04-20", "withhold", "third_party_rights"),
        case(15, "commercial", "2026-04-01", "2026-04-20", "withhold", "state_secret"),
        case(16, "commercial", "2026-05-01", "2026-05-03", state="withdrawn"),
        case(17, "commercial", "2026-12-01"),
    )


def test_explain_lists_exactly_the_cases_of_a_cell_with_their_reason() -> None:
    lines = explain_cell(drill_down_report(), "三.（三）.4", "commercial")
    assert [(line.case_id, line.text) for line in lines] == [
        (12, "案件12：2026-03-04收到，2026-03-20答复，结果：不予公开—保护第三方合法权益"),
        (13, "案件13：2025-12-01收到，2026-02-10答复，结果：不予公开—保护第三方合法权益"),
    ]


def test_explain_says_why_a_withdrawn_case_and_a_carried_case_count() -> None:
    report = drill_down_report()
    [withdrawn] = explain_cell(report, "三.(六).3", "商业企业")
    assert withdrawn.text == (
        "案件16：2026-05-01收到，2026-05-03申请人撤回，结果：申请人撤回，计入其他处理—其他"
    )
    [carried] = explain_cell(report, "四", "总计")
    assert carried.text == "案件17：2026-12-01收到，尚未办结"


def test_cases_of_a_subtotal_or_the_total_column_are_the_union() -> None:
    report = drill_down_report()
    assert report.cases_in("三.(三)", "商业企业") == (12, 13, 15)
    assert report.cases_in("三.(三).4", "总计") == (12, 13, 14)
    assert report.cases_in("三.(七)", "总计") == (12, 13, 14, 15, 16)
    assert [line.case_id for line in explain_cell(report, "三.(七)", "总计")] == [
        12,
        13,
        14,
        15,
        16,
    ]


@pytest.mark.parametrize(("key", "expected"), [("三.(三).4", "三.(三).4"), ("三.（三）.4", "三.(三).4"),
                                               (" 三. (七) ", "三.(七)"), ("四", "四")])  # fmt: skip
def test_row_keys_accept_full_width_parentheses(key: str, expected: str) -> None:
    assert parse_row(key).key == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("commercial", "商业企业"), ("商业企业", "商业企业"), ("其他组织", "其他"),
     ("other_organisation", "其他"), ("total", "总计"), ("自然人", "自然人")],
)  # fmt: skip
def test_columns_accept_code_and_label(name: str, expected: str) -> None:
    assert parse_column(name) == expected


def test_unknown_row_is_refused_naming_the_valid_keys() -> None:
    with pytest.raises(RuleViolation) as caught:
        explain_cell(drill_down_report(), "三.(三).9", "总计")
    assert (caught.value.field, caught.value.rule) == ("row", "unknown_row")
    assert "三.(三).9" in caught.value.message and "三.(三).8" in caught.value.message


def test_unknown_column_is_refused_naming_the_valid_columns() -> None:
    with pytest.raises(RuleViolation) as caught:
        drill_down_report().cases_in("一", "company")
    assert (caught.value.field, caught.value.rule) == ("column", "unknown_column")
    assert "商业企业（commercial）" in caught.value.message


def test_unknown_challenge_group_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        drill_down_report().challenge_cases_in("appeal", "总计")
    assert caught.value.field == "kind"


# -- against a naive count -------------------------------------------------------------------


def naive_section3(cases: list[ReportCase], year: int) -> dict[str, dict[str, int]]:
    """Count case by case, straight from annual-report.md."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    table = {key: dict.fromkeys(ALL_COLUMNS, 0) for key in FORM_KEYS}
    for c in cases:
        rows = []
        if start <= c.received_on <= end:
            rows.append("一")
        if c.received_on < start and (c.closed_on is None or c.closed_on >= start):
            rows.append("二")
        if c.closed_on is not None and start <= c.closed_on <= end:
            if c.state == "withdrawn" or c.outcome is None:
                rows.append("三.(六).3")
            else:
                rows.append(ROW_OF_REASON[(c.outcome, c.outcome_reason or "")])
        if c.received_on <= end and (c.closed_on is None or c.closed_on > end):
            rows.append("四")
        for row in rows:
            table[row][COLUMN_OF[c.applicant_kind]] += 1
            table[row]["总计"] += 1
    for group, (_, reasons) in REASON_ROWS.items():
        for column in ALL_COLUMNS:
            table[group][column] = sum(
                table[f"{group}.{n}"][column] for n in range(1, len(reasons) + 1)
            )
    for column in ALL_COLUMNS:
        table["三.(七)"][column] = sum(table[f"三.({n})"][column] for n in "一二三四五六")
    return table


@st.composite
def report_cases(draw: st.DrawFn) -> list[ReportCase]:
    cases = []
    for case_id in range(1, draw(st.integers(0, 40)) + 1):
        received = draw(st.dates(date(YEAR - 1, 1, 1), date(YEAR + 1, 12, 31)))
        days_open = draw(st.none() | st.integers(0, 500))
        closed = None if days_open is None else received + timedelta(days=days_open)
        states = CLOSED_STATES if closed else OPEN_STATES
        outcome, reason = draw(st.none() | st.sampled_from(OUTCOME_PAIRS)) or (None, None)
        cases.append(
            ReportCase(
                case_id=case_id,
                agency_id=1,
                applicant_kind=draw(st.sampled_from(list(ApplicantKind))).value,
                received_on=received,
                closed_on=closed,
                state=draw(st.sampled_from(sorted(states))).value,
                outcome=outcome,
                outcome_reason=reason,
            )
        )
    return cases


@settings(max_examples=300, deadline=None)
@given(cases=report_cases())
def test_report_balances_and_equals_a_naive_count(cases: list[ReportCase]) -> None:
    report = build(*cases)
    assert check_annual_report(report) == []
    assert report.section3 == naive_section3(cases, YEAR)
    for key in ("一", "二", "三.(七)", "四"):
        assert len(report.cases_in(key, "总计")) == report.section3[key]["总计"]


@settings(max_examples=100, deadline=None)
@given(cases=report_cases())
def test_every_case_closed_in_the_year_is_counted_in_exactly_one_result_row(
    cases: list[ReportCase],
) -> None:
    report = build(*cases)
    closed = sorted(c.case_id for c in cases if c.closed_on and c.closed_on.year == YEAR)
    numbered = [key for key in FORM_KEYS if key.count(".") == 2 or key in ("三.(一)", "三.(二)")]
    found = sorted(i for key in numbered for i in report.cases_in(key, "总计"))
    assert found == closed


def _period(day: date | None, year: int) -> str:
    if day is None:
        return "open"
    return "before" if day.year < year else "during" if day.year == year else "after"


@settings(max_examples=200, deadline=None)
@given(cases=report_cases())
def test_counting_groups_gives_the_figures_of_counting_cases(cases: list[ReportCase]) -> None:
    """What a GROUP BY over the cases gives (``count_annual_report``) equals case by case."""
    groups = Counter(
        (c.applicant_kind, _period(c.received_on, YEAR), _period(c.closed_on, YEAR), c.state,
         c.outcome, c.outcome_reason)
        for c in cases
    )  # fmt: skip
    counted = count_annual_report(
        YEAR, "示例市审计局", [CaseCount(*key, count=n) for key, n in groups.items()]
    )
    assert counted.section3 == build(*cases).section3 == naive_section3(cases, YEAR)
    with pytest.raises(RuleViolation) as itemised:
        counted.cases_in("一", "总计")
    assert itemised.value.rule == "not_itemised"


def test_a_group_closed_before_it_was_received_is_refused() -> None:
    group = CaseCount("person", "during", "before", "replied", "disclose", "provided", 3)
    with pytest.raises(RuleViolation) as refused:
        count_annual_report(YEAR, "示例市审计局", [group])
    assert refused.value.rule == "closed_before_received"
