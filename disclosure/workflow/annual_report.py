"""The annual report's tables (政府信息公开工作年度报告, Art. 49–50), counted from cases.

The layout is the State Council's form of 2021 (国办公开办函〔2021〕30号):

- Section 三 counts applications per applicant kind: received this year (一), carried over
  from last year (二), closed this year by outcome (三), carried into next year (四).
- Section 四 counts administrative reconsiderations and lawsuits filed this year by result.
- Section 六 counts the fee notices issued and the fees collected this year.

The report checks its own arithmetic (the form's 勾稽关系) and refuses to exist when it does
not add up. Every cell can say which cases make it (``AnnualReport.cases_in``) and why
(``explain_cell``). Pure: the caller reads the cases and passes them in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from disclosure.errors import RuleViolation
from disclosure.workflow.application import APPLICANT_KIND_LABELS, ApplicantKind
from disclosure.workflow.challenges import (
    CHALLENGE_RESULTS,
    PENDING,
    ChallengeKind,
    challenge_name,
)
from disclosure.workflow.states import OUTCOMES, STATE_LABELS, State
from disclosure.workflow.text import printable


@dataclass(frozen=True)
class ReportCase:
    """What the report needs to know of one application.

    Attributes:
        applicant_kind: an ``ApplicantKind`` value.
        closed_on: the day the case left the open states (reply sent, withdrawn,
            abandoned); None while it is open.
        state: a ``State`` value.
        outcome: an ``OUTCOMES`` code, None if the case closed without one.
        outcome_reason: the reason code within that outcome.
    """

    case_id: int
    agency_id: int
    applicant_kind: str
    received_on: date
    closed_on: date | None
    state: str
    outcome: str | None
    outcome_reason: str | None


@dataclass(frozen=True)
class FeeRecord:
    """One fee notice (收费通知); ``paid_on`` is None while unpaid."""

    case_id: int
    issued_on: date
    amount: Decimal
    paid_on: date | None


@dataclass(frozen=True)
class Challenge:
    """An administrative reconsideration or lawsuit about a case.

    Attributes:
        kind: a ``ChallengeKind`` value.
        result: ``upheld`` (维持), ``corrected`` (纠正), ``other`` (其他结果), or None while
            undecided (尚未审结).
    """

    case_id: int
    kind: str
    filed_on: date
    result: str | None
    decided_on: date | None


# -- section 三: columns and rows ---------------------------------------------------------

TOTAL = "总计"
#: The form heads the last organisation column 其他, where the application says 其他组织.
KIND_COLUMNS: dict[ApplicantKind, str] = {
    kind: "其他" if kind is ApplicantKind.OTHER_ORGANISATION else label
    for kind, label in APPLICANT_KIND_LABELS.items()
}
COLUMNS: tuple[str, ...] = (*KIND_COLUMNS.values(), TOTAL)


@dataclass(frozen=True)
class Row:
    """One row of section 三.

    Attributes:
        key: stable identifier, e.g. ``三.(三).4``.
        label: the form's text, with its number: ``4.保护第三方合法权益``.
        parts: the rows this one sums (a subtotal or the total); empty for a counted row.
    """

    key: str
    label: str
    parts: tuple[str, ...] = ()


#: (三)–(六): each subtotal's numeral, its outcome and the reason codes of its numbered rows
#: in the form's order (written out: the form's numbering must not follow a dict's order).
_NUMBERED_BLOCKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("三", "withhold", ("state_secret", "law_prohibited", "three_safety_stability",
                       "third_party_rights", "internal_affairs", "process_info",
                       "enforcement_file", "administrative_query")),
    ("四", "cannot_provide", ("not_held", "needs_creation", "still_unclear")),
    ("五", "not_handled", ("petition", "repeat", "publication", "mass_requests",
                          "confirm_or_reissue")),
    ("六", "other", ("no_correction", "fee_unpaid", "other")),
)  # fmt: skip
#: Where the form says more than the reason's label in ``OUTCOMES``.
_FORM_WORDING = {
    ("other", "no_correction"): "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ("other", "fee_unpaid"): "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
}  # fmt: skip


def _section3_layout() -> tuple[tuple[Row, ...], dict[tuple[str, str], str]]:
    """The rows of section 三 in the form's order, and the row of each (outcome, reason)."""
    disclose, partial = OUTCOMES["disclose"], OUTCOMES["partial"]
    rows = [
        Row("一", "一、本年新收政府信息公开申请数量"),
        Row("二", "二、上年结转政府信息公开申请数量"),
        Row("三.(一)", f"（一）{disclose.label}"),
        Row("三.(二)", f"（二）{partial.label}（区分处理的，只计这一情形，不计其他情形）"),
    ]
    placement = {("disclose", reason): "三.(一)" for reason in disclose.reasons}
    # Partly disclosed for any reason counts as (二) only: the form says 只计这一情形.
    placement |= {("partial", reason): "三.(二)" for reason in partial.reasons}
    for numeral, outcome, reasons in _NUMBERED_BLOCKS:
        group = f"三.({numeral})"
        keys = tuple(f"{group}.{number}" for number in range(1, len(reasons) + 1))
        rows.append(Row(group, f"（{numeral}）{OUTCOMES[outcome].label}", keys))
        for number, (key, reason) in enumerate(zip(keys, reasons, strict=True), start=1):
            text = _FORM_WORDING.get((outcome, reason), OUTCOMES[outcome].reasons[reason])
            rows.append(Row(key, f"{number}.{text}"))
            placement[(outcome, reason)] = key
    rows.append(Row("三.(七)", "（七）总计", tuple(f"三.({n})" for n in "一二三四五六")))
    rows.append(Row("四", "四、结转下年度继续办理"))
    return tuple(rows), placement


ROWS, _PLACEMENT = _section3_layout()
ROW_BY_KEY: dict[str, Row] = {row.key: row for row in ROWS}
#: Withdrawn by the applicant, or closed without an outcome: (六) 其他处理, 3.其他.
WITHDRAWN_ROW = _PLACEMENT[("other", "other")]


def parse_row(key: str) -> Row:
    """A row of section 三 from its key; full-width ``（三）`` and stray spaces are accepted.

    Raises:
        RuleViolation: field ``row``, rule ``unknown_row``, listing the valid keys.
    """
    text = "".join(unicodedata.normalize("NFKC", key).split())
    row = ROW_BY_KEY.get(text)
    if row is None:
        raise RuleViolation(
            "row",
            "unknown_row",
            f"年度报告第三部分没有“{printable(text)}”这一行；可用的行：{'、'.join(ROW_BY_KEY)}",
        )
    return row


def parse_column(name: str) -> str:
    """A column of section 三 from its heading (``商业企业``), the applicant kind's code
    (``commercial``) or label (``其他组织``), or ``total``.

    Raises:
        RuleViolation: field ``column``, rule ``unknown_column``, listing the valid names.
    """
    text = unicodedata.normalize("NFKC", name).strip()
    if text in (TOTAL, "total"):
        return TOTAL
    for kind, column in KIND_COLUMNS.items():
        if text in (column, kind.value, APPLICANT_KIND_LABELS[kind]):
            return column
    options = "、".join(f"{column}（{kind.value}）" for kind, column in KIND_COLUMNS.items())
    raise RuleViolation(
        "column",
        "unknown_column",
        f"年度报告没有“{printable(text)}”列；可用的列：{options}、{TOTAL}（total）",
    )


# -- section 四: reconsideration and litigation ------------------------------------------


CHALLENGE_COLUMNS: tuple[str, ...] = (*CHALLENGE_RESULTS.values(), PENDING, TOTAL)


def _parse_challenge_cell(kind: str, column: str) -> tuple[ChallengeKind, str]:
    text = unicodedata.normalize("NFKC", kind).strip()
    group = next((k for k in ChallengeKind if text in (k.value, challenge_name(k))), None)
    if group is None:
        options = "、".join(f"{challenge_name(k)}（{k.value}）" for k in ChallengeKind)
        raise RuleViolation(
            "kind", "unknown_challenge_kind", f"没有“{printable(text)}”这一类；可用：{options}"
        )
    if column not in CHALLENGE_COLUMNS:
        raise RuleViolation(
            "column",
            "unknown_column",
            f"行政复议、行政诉讼情况表没有“{printable(column)}”列；"
            f"可用的列：{'、'.join(CHALLENGE_COLUMNS)}",
        )
    return group, column


# -- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeSummary:
    """Section 六: fee notices issued in the year, and yuan collected in it."""

    notices: int
    collected: Decimal


@dataclass(frozen=True)
class AnnualReport:
    """The computed tables of one year, with the cases behind every cell.

    Attributes:
        section3: row key → column → count.
        section4: ``ChallengeKind`` value → column of ``CHALLENGE_COLUMNS`` → count.
        cases3: row key → column → the ids of the cases counted there (for a sum, the union).
        cases4: as ``section4``, the case ids of the challenges counted there.
        cases: the cases read, by id.
    """

    year: int
    agency_label: str
    section3: dict[str, dict[str, int]]
    section4: dict[str, dict[str, int]]
    fees: FeeSummary
    cases3: Mapping[str, Mapping[str, tuple[int, ...]]]
    cases4: Mapping[str, Mapping[str, tuple[int, ...]]]
    cases: Mapping[int, ReportCase]

    @property
    def title(self) -> str:
        return f"{self.agency_label}{self.year}年政府信息公开工作年度报告"

    def cases_in(self, row: str, column: str) -> tuple[int, ...]:
        """The ids of the cases counted in one cell of section 三, ascending.

        Raises:
            RuleViolation: unknown row or column (see ``parse_row``, ``parse_column``).
        """
        key, name = parse_row(row).key, parse_column(column)
        if not self.cases3:
            raise RuleViolation(
                "row", "not_itemised", "此报告按汇总计数生成，不列出案件；请逐格查看计入的案件"
            )
        return self.cases3[key][name]

    def challenge_cases_in(self, kind: str, column: str) -> tuple[int, ...]:
        """The case ids of the challenges counted in one cell of section 四 (one per
        challenge: a case challenged twice appears twice).

        Raises:
            RuleViolation: unknown group (field ``kind``) or column (field ``column``).
        """
        group, name = _parse_challenge_cell(kind, column)
        return self.cases4[group.value][name]


def _case_error(case_id: int, field: str, rule: str, problem: str) -> RuleViolation:
    return RuleViolation(field, rule, f"案件{case_id}{problem}，无法计入年度报告")


def _column_of(case: ReportCase) -> str:
    try:
        return KIND_COLUMNS[ApplicantKind(case.applicant_kind)]
    except ValueError:
        raise _case_error(
            case.case_id,
            "applicant_kind",
            "unknown_applicant_kind",
            f"的申请人类型“{printable(case.applicant_kind)}”无效",
        ) from None


def _state_of(case: ReportCase) -> State:
    try:
        return State(case.state)
    except ValueError:
        raise _case_error(
            case.case_id, "state", "unknown_state", f"的状态“{printable(case.state)}”无效"
        ) from None


def _is_withdrawn(case: ReportCase) -> bool:
    """Withdrawn by the applicant, or closed with no outcome recorded: (六) 3.其他."""
    return _state_of(case) is State.WITHDRAWN or case.outcome is None


def result_row(case: ReportCase) -> str:
    """The row of 三 a closed case is counted in, by its outcome and reason.

    Raises:
        RuleViolation: field ``outcome``, rule ``outcome_not_placeable``, naming the case.
    """
    if _is_withdrawn(case):
        return WITHDRAWN_ROW
    outcome, reason = case.outcome or "", case.outcome_reason or ""
    key = _PLACEMENT.get((outcome, reason))
    if key is None:
        raise _case_error(
            case.case_id,
            "outcome",
            "outcome_not_placeable",
            f"的办理结果“{printable(outcome)}”与理由“{printable(reason)}”不是年度报告第三部分中的情形",
        )
    return key


def _section3_rows_of(case: ReportCase, year: int) -> list[str]:
    """The counted rows of 三 a case falls in for ``year`` (none, one, or two)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    received, closed = case.received_on, case.closed_on
    if received > last:
        return []
    rows = []
    if received >= first:
        rows.append("一")
    elif closed is None or closed >= first:
        rows.append("二")
    if closed is not None and first <= closed <= last:
        rows.append(result_row(case))
    if closed is None or closed > last:
        rows.append("四")
    return rows


def _check_cases(cases: Iterable[ReportCase]) -> dict[int, ReportCase]:
    """The cases by id, refusing a repeated id and a case closed before it was received:
    either would break 一 + 二 = 三（七） + 四."""
    by_id: dict[int, ReportCase] = {}
    for case in cases:
        if case.case_id in by_id:
            raise _case_error(case.case_id, "case_id", "duplicate_case", "重复出现")
        if case.closed_on is not None and case.closed_on < case.received_on:
            raise _case_error(
                case.case_id,
                "closed_on",
                "closed_before_received",
                f"的办结日期{case.closed_on.isoformat()}早于收到日期{case.received_on.isoformat()}",
            )
        by_id[case.case_id] = case
    return by_id


def _count_section3(
    cases: Iterable[ReportCase], year: int
) -> dict[str, dict[str, tuple[int, ...]]]:
    counted: dict[str, dict[str, list[int]]] = {
        row.key: {column: [] for column in KIND_COLUMNS.values()} for row in ROWS if not row.parts
    }
    for case in cases:
        for key in _section3_rows_of(case, year):
            counted[key][_column_of(case)].append(case.case_id)

    def members(row: Row, column: str) -> frozenset[int]:
        # A sum is the union of its parts, so a case counted twice makes the check fail.
        if row.parts:
            return frozenset().union(*(members(ROW_BY_KEY[part], column) for part in row.parts))
        if column == TOTAL:
            return frozenset().union(*(counted[row.key][c] for c in KIND_COLUMNS.values()))
        return frozenset(counted[row.key][column])

    return {row.key: {c: tuple(sorted(members(row, c))) for c in COLUMNS} for row in ROWS}


def _challenge_column(challenge: Challenge, year: int) -> tuple[str, str]:
    try:
        kind = ChallengeKind(challenge.kind)
    except ValueError:
        raise _case_error(
            challenge.case_id,
            "kind",
            "unknown_challenge_kind",
            f"的复议诉讼类别“{printable(challenge.kind)}”无效",
        ) from None
    decided_later = challenge.decided_on is not None and challenge.decided_on.year > year
    if challenge.result is None or decided_later:
        return kind.value, PENDING
    if challenge.result not in CHALLENGE_RESULTS:
        raise _case_error(
            challenge.case_id,
            "result",
            "unknown_challenge_result",
            f"的复议诉讼结果“{printable(challenge.result)}”无效",
        )
    return kind.value, CHALLENGE_RESULTS[challenge.result]


def _count_section4(
    challenges: Iterable[Challenge], year: int
) -> dict[str, dict[str, tuple[int, ...]]]:
    counted: dict[str, dict[str, list[int]]] = {
        kind.value: {column: [] for column in CHALLENGE_COLUMNS} for kind in ChallengeKind
    }
    for challenge in challenges:
        if challenge.filed_on.year == year:
            kind, column = _challenge_column(challenge, year)
            counted[kind][column].append(challenge.case_id)
            counted[kind][TOTAL].append(challenge.case_id)
    return {
        kind: {c: tuple(sorted(ids)) for c, ids in cells.items()} for kind, cells in counted.items()
    }


def _fee_summary(fees: Iterable[FeeRecord], year: int) -> FeeSummary:
    fees = list(fees)
    return FeeSummary(
        notices=sum(1 for fee in fees if fee.issued_on.year == year),
        collected=sum(
            (fee.amount for fee in fees if fee.paid_on is not None and fee.paid_on.year == year),
            Decimal(0),
        ),
    )


def build_annual_report(
    year: int,
    agency_label: str,
    cases: Iterable[ReportCase],
    fees: Iterable[FeeRecord] = (),
    challenges: Iterable[Challenge] = (),
) -> AnnualReport:
    """Count the annual report of ``year`` and check it.

    Args:
        year: the calendar year reported on.
        agency_label: the agency's name, as the report's title prints it.
        cases: the agency's applications (any years: those outside the report are ignored).
        fees: its fee notices.
        challenges: the reconsiderations and lawsuits recorded on its cases.

    Raises:
        RuleViolation: a case that cannot be counted (named by id), or a table whose
            arithmetic does not hold (rule ``annual_report_unbalanced``).
    """
    by_id = _check_cases(cases)
    cases3 = _count_section3(by_id.values(), year)
    section3 = {row: {c: len(ids) for c, ids in cells.items()} for row, cells in cases3.items()}
    return _checked(year, agency_label, section3, cases3, by_id, fees, challenges)


@dataclass(frozen=True)
class CaseCount:
    """Applications alike for the report of one year, and how many: what one group of a
    ``GROUP BY`` gives, so that a million cases are counted without reading them one by one.

    Attributes:
        received: ``before``, ``during`` or ``after`` the year.
        closed: ``open`` (not closed), or ``before``, ``during`` or ``after`` the year.
    """

    applicant_kind: str
    received: str
    closed: str
    state: str
    outcome: str | None
    outcome_reason: str | None
    count: int


def _stand_in(group: CaseCount, year: int) -> ReportCase:
    """A case of ``group`` whose dates stand for its periods, each closing a day after the
    receipt of the same period (so only an impossible group closes before it is received)."""
    received = {"before": date(year - 1, 12, 30), "during": date(year, 7, 1),
                "after": date(year + 1, 1, 2)}  # fmt: skip
    closed = {"open": None, "before": date(year - 1, 12, 31), "during": date(year, 7, 2),
              "after": date(year + 1, 1, 3)}  # fmt: skip
    if group.received not in received or group.closed not in closed:
        raise RuleViolation(
            "received", "period", f"期间“{printable(group.received)}/{printable(group.closed)}”无效"
        )
    return ReportCase(
        0, 0, group.applicant_kind, received[group.received], closed[group.closed],
        group.state, group.outcome, group.outcome_reason,
    )  # fmt: skip


def count_annual_report(
    year: int,
    agency_label: str,
    groups: Iterable[CaseCount],
    fees: Iterable[FeeRecord] = (),
    challenges: Iterable[Challenge] = (),
) -> AnnualReport:
    """``build_annual_report`` from counted groups of cases instead of the cases: the same
    rules and checks, the same figures; the report lists no cases (``cases_in`` refuses).

    Raises:
        RuleViolation: as ``build_annual_report``; a group closed before it was received.
    """
    counted: dict[str, dict[str, int]] = {
        row.key: dict.fromkeys(KIND_COLUMNS.values(), 0) for row in ROWS if not row.parts
    }
    for group in groups:
        case = _stand_in(group, year)
        if case.closed_on is not None and case.closed_on < case.received_on:
            raise _case_error(0, "closed_on", "closed_before_received", "的办结早于收到")
        for key in _section3_rows_of(case, year):
            counted[key][_column_of(case)] += group.count

    def figure(row: Row, column: str) -> int:
        if row.parts:
            return sum(figure(ROW_BY_KEY[part], column) for part in row.parts)
        if column == TOTAL:
            return sum(counted[row.key].values())
        return counted[row.key][column]

    section3 = {row.key: {c: figure(row, c) for c in COLUMNS} for row in ROWS}
    return _checked(year, agency_label, section3, {}, {}, fees, challenges)


def _checked(
    year: int,
    agency_label: str,
    section3: dict[str, dict[str, int]],
    cases3: Mapping[str, Mapping[str, tuple[int, ...]]],
    by_id: Mapping[int, ReportCase],
    fees: Iterable[FeeRecord],
    challenges: Iterable[Challenge],
) -> AnnualReport:
    """The report with sections 四 and 六 added, refused unless its arithmetic holds."""
    cases4 = _count_section4(challenges, year)
    report = AnnualReport(
        year=year,
        agency_label=agency_label,
        section3=section3,
        section4={
            kind: {c: len(ids) for c, ids in cells.items()} for kind, cells in cases4.items()
        },
        fees=_fee_summary(fees, year),
        cases3=cases3,
        cases4=cases4,
        cases=by_id,
    )
    broken = check_annual_report(report)
    if broken:
        raise RuleViolation(
            "annual_report",
            "annual_report_unbalanced",
            "年度报告校验未通过：" + "；".join(d.message for d in broken),
        )
    return report


# -- the form's arithmetic ----------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    """One broken rule of the form's arithmetic.

    Attributes:
        rows: the row keys involved (section 三), or the ``ChallengeKind`` value (section 四).
        column: the column whose figure is wrong.
        shown: the figure in the table.
        expected: what the rule says it must be.
        message: the rule and both figures in Chinese.
    """

    rows: tuple[str, ...]
    column: str
    shown: int
    expected: int
    message: str


def _full_width(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")


def _row_name(row: Row) -> str:
    """``第一项``, ``第三项（七）总计``, ``第三项（三）4.保护第三方合法权益``."""
    section, *rest = row.key.split(".")
    if len(rest) == 2:
        return f"第{section}项{_full_width(rest[0])}{row.label}"
    return f"第{section}项{row.label if rest else ''}"


def _span(parts: tuple[str, ...]) -> str:
    """``（一）至（六）`` or ``第1至8项``: the rows a sum adds up."""
    first, last = (part.rsplit(".", 1)[-1] for part in (parts[0], parts[-1]))
    if first.isdigit():
        return f"第{first}至{last}项"
    return f"{_full_width(first)}至{_full_width(last)}"


def _rule(
    rows: tuple[str, ...], column: str, subject: str, shown: int, terms: str, expected: int
) -> Discrepancy:
    message = f"{subject}为{shown}，应等于{terms}之和{expected}"
    return Discrepancy(rows, column, shown, expected, message)


def check_annual_report(report: AnnualReport) -> list[Discrepancy]:
    """Every rule of the form's arithmetic that the report's tables break.

    - each subtotal (三.(三)…(六)) equals the sum of its numbered rows, and （七） the sum of
      （一）…（六）;
    - 一 + 二 = 三（七） + 四 in every column;
    - the 总计 column equals the sum of the six applicant columns in every row;
    - in section 四, each group's 总计 equals the sum of its four results.
    """
    table = report.section3
    rules = []
    for row in ROWS:
        cells, name = table[row.key], _row_name(row)
        for column in COLUMNS if row.parts else ():
            parts = sum(table[part][column] for part in row.parts)
            rules.append(
                _rule(
                    (row.key,),
                    column,
                    f"{name}“{column}”列",
                    cells[column],
                    _span(row.parts),
                    parts,
                )
            )
        applicants = sum(cells[column] for column in KIND_COLUMNS.values())
        rules.append(
            _rule((row.key,), TOTAL, f"{name}“{TOTAL}”列", cells[TOTAL], "六类申请人", applicants)
        )
    for column in COLUMNS:
        received = table["一"][column] + table["二"][column]
        settled = table["三.(七)"][column] + table["四"][column]
        subject = f"“{column}”列第一项与第二项之和"
        rules.append(
            _rule(
                ("一", "二", "三.(七)", "四"),
                column,
                subject,
                received,
                "第三项（七）总计与第四项",
                settled,
            )
        )
    for kind in ChallengeKind:
        cells = report.section4[kind.value]
        subject = f"行政复议、行政诉讼情况中{challenge_name(kind)}“{TOTAL}”列"
        results = CHALLENGE_COLUMNS[:-1]
        rules.append(
            _rule(
                (kind.value,),
                TOTAL,
                subject,
                cells[TOTAL],
                "、".join(results),
                sum(cells[c] for c in results),
            )
        )
    return [rule for rule in rules if rule.shown != rule.expected]


# -- drill-down ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """Why one case is counted in a cell: ``案件12：2026-03-04收到，2026-03-20答复，…``."""

    case_id: int
    text: str


def _closing(case: ReportCase) -> str:
    if case.closed_on is None:
        return "尚未办结"
    state = _state_of(case)
    how = STATE_LABELS[state] if state in (State.WITHDRAWN, State.ABANDONED) else "答复"
    return f"{case.closed_on.isoformat()}{how}"


def _result(case: ReportCase) -> str:
    if _is_withdrawn(case):
        other = OUTCOMES["other"]
        counted_as = f"{other.label}—{other.reasons['other']}"
        return f"{STATE_LABELS[_state_of(case)]}，计入{counted_as}"
    outcome = OUTCOMES[case.outcome or ""]
    return f"{outcome.label}—{outcome.reasons[case.outcome_reason or '']}"


def explain_cell(report: AnnualReport, row: str, column: str) -> tuple[Explanation, ...]:
    """One line per case counted in a cell of section 三, saying the dates and the result
    that put it there.

    Raises:
        RuleViolation: unknown row or column (see ``parse_row``, ``parse_column``).
    """
    key = parse_row(row).key
    lines = []
    for case_id in report.cases_in(key, column):
        case = report.cases[case_id]
        text = f"案件{case_id}：{case.received_on.isoformat()}收到，{_closing(case)}"
        if key.startswith("三."):
            text += f"，结果：{_result(case)}"
        lines.append(Explanation(case_id, text))
    return tuple(lines)
