"""Every letter of the workflow, issued through the real triggers on SQLite and PostgreSQL,
printed to PDF and DOCX and read back as text."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import func, select

from disclosure.config import Settings
from disclosure.errors import ConflictError, NotFound, RuleViolation
from disclosure.letters.output import render_format
from disclosure.models.db import count_statements
from disclosure.models.tables import Case, ClockEventRow, Letter, LetterCounter
from disclosure.services import agencies, cases
from disclosure.services.audit import verify_snapshot
from disclosure.services.letters import (
    NUMBER_PLACEHOLDER,
    LetterRequest,
    find_letter,
    list_letters,
    prepare,
    preview,
)
from disclosure.services.unit_of_work import App
from disclosure.workflow.application import resident_id_is_valid
from disclosure.workflow.deadlines import Limits, compute_limits
from disclosure.workflow.letters import (
    BASES,
    REPLY_DECISIONS,
    REPLY_FINDINGS,
    REPLY_TITLES,
    LetterKind,
)
from disclosure.workflow.states import OUTCOMES, SYSTEM_OUTCOMES
from tests.conftest import TODAY, act, application

D = date.fromisoformat
RECEIVED = "2026-11-02"  # Monday; the reply is due 2026-11-30
MASKED = "110105********002X"
FULL_ID = "11010519491231002X"
OTHER_ID = "110108198001010015"  # another valid resident ID (checked below)


def pdf_text(data: bytes) -> str:
    """pdftotext's reading of the PDF, whitespace and page numbers (``— 1 —``, which fall
    between the pages' text) removed: lines and pages wrap anywhere in CJK text."""
    result = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    pages = result.stdout.decode("utf-8").split("\f")
    return "".join(re.sub(r"\s+", "", re.sub(r"—\s*\d+\s*—", "", page)) for page in pages)


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(p.text for p in document.paragraphs))


def letter(app: App, case_id: int, kind: str) -> Letter:
    with app.uow() as uow:
        return find_letter(uow.session, case_id, kind)


def assert_printed(found: Letter, *expected: str, to_applicant: bool = True) -> None:
    """The PDF and the DOCX both carry the letter's number, date and ``expected``; letters to
    the applicant show the masked ID, letters to third parties no applicant identity at all."""
    issued = f"{found.issued_on.year}年{found.issued_on.month}月{found.issued_on.day}日"
    for text in (
        pdf_text(render_format(found.html, "pdf")),
        docx_text(render_format(found.html, "docx")),
    ):
        identity = (MASKED,) if to_applicant else ()
        for needle in (found.number, issued, *identity, *expected):
            assert needle in text, (found.kind, needle)
        assert FULL_ID not in text
        if not to_applicant:
            assert MASKED not in text and "张三" not in text


def handled_case(app: App) -> int:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-11-02")
    act(app, case_id, "accept", "alice", "2026-11-03")
    return case_id


def test_receipt_states_how_receipt_was_determined_and_the_due_date(app: App) -> None:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    found = letter(app, case_id, "receipt")
    assert re.fullmatch(r"示审依申登〔2026〕[1-9]\d*号", found.number)  # GB/T 9704: no 第
    assert_printed(found, "政府信息公开申请登记回执", "2026年11月2日", "2026年11月30日", "第三十一条",
                   "当面", "第三十三条",
                   "答复期限自2026年11月2日起算20个工作日，至2026年11月30日届满")  # fmt: skip
    assert "→" not in found.html and "期限计算：" not in found.html


def test_correction_notice_lists_every_item_the_period_and_the_consequence(app: App) -> None:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-11-02")
    act(app, case_id, "request_correction", "alice", "2026-11-04",
        items=["请写明所需报告的年度", "请写明项目名称"])  # fmt: skip
    assert_printed(letter(app, case_id, "correction"), "补正申请告知书", "请写明所需报告的年度",
                   "请写明项目名称", "2026年11月25日", "第三十条", "视为放弃申请")  # fmt: skip


def test_extension_notice_gives_old_and_new_due_dates_length_and_reason(app: App) -> None:
    case_id = handled_case(app)
    act(app, case_id, "extend", "bob", "2026-11-20", days=10, reason="涉及多个年度的档案需调阅")
    assert_printed(letter(app, case_id, "extension"), "延长答复期限告知书", "2026年11月30日",
                   "2026年12月14日", "延长10个工作日", "涉及多个年度的档案需调阅", "第三十三条第二款")  # fmt: skip


def test_consultation_letters_name_the_party_and_the_fifteen_day_window(app: App) -> None:
    case_id = handled_case(app)
    act(app, case_id, "consult_third_party", "alice", "2026-11-04",
        party="福州闽江建设工程有限公司")  # fmt: skip
    assert_printed(letter(app, case_id, "third_party"), "征求第三方意见书", "福州闽江建设工程有限公司",
                   "15个工作日", "2026年11月25日", "第三十二条", "逾期未提出意见",
                   to_applicant=False)  # fmt: skip
    act(app, case_id, "third_party_replied", "alice", "2026-11-10", opinion="agree")
    act(app, case_id, "consult_agency", "alice", "2026-11-10",
        party="示例市财政局")  # fmt: skip
    assert_printed(letter(app, case_id, "agency_consult"), "征求意见函", "示例市财政局",
                   "第三十四条", "视为同意公开", to_applicant=False)  # fmt: skip


@pytest.mark.parametrize("consent", [None, "申请人于2026年11月19日书面同意"])
def test_an_agreed_reply_date_is_told_with_the_old_and_new_date_and_the_reason(
    app: App, consent: str | None
) -> None:
    case_id = handled_case(app)
    extra = {"consent": consent} if consent else {}
    act(app, case_id, "set_due", "bob", "2026-11-20", until=D("2027-01-29"),
        reason="申请公开的信息涉及七个年度的审计档案，需逐件调阅、审查。",
        **extra)  # fmt: skip
    found = letter(app, case_id, "agreed_due")
    assert re.fullmatch(r"示审依申定〔2026〕[1-9]\d*号", found.number)
    assert_printed(found, "另行确定答复期限告知书", "第三十五条", "第三十三条",
                   "原定于2026年11月30日前", "2027年1月29日前（含当日）",
                   "因申请公开的信息涉及七个年度的审计档案，需逐件调阅、审查，无法")  # fmt: skip
    assert ("对上述答复期限，申请人于2026年11月19日书面同意。" in found.html) is bool(consent)
    stored = json.loads(found.context)["agreed"]
    assert stored["old_due"] == "2026年11月30日" and stored["new_due"] == "2027年1月29日"
    assert ("consent" in stored) is bool(consent)


def test_fee_notice_shows_the_computation_and_stores_it_with_the_fee_event(app: App) -> None:
    case_id = handled_case(app)
    act(app, case_id, "issue_fee", "alice", "2026-11-05", pages=150)
    assert_printed(letter(app, case_id, "fee"), "信息处理费收费通知书", "31—100页部分70页×10元/页＝700元",
                   "101—200页部分50页×20元/页＝1000元", "1700.00元", "2026年12月3日", "第四十二条")  # fmt: skip
    with app.uow() as uow:
        event = uow.session.scalar(
            select(ClockEventRow).where(ClockEventRow.kind == "issue_fee_notice")
        )
    assert event is not None
    assert (str(event.fee_amount), event.fee_scale, event.fee_quantity) == (
        "1700.00",
        "volume",
        150,
    )
    assert event.fee_basis is not None and "按量计收" in event.fee_basis


def test_fee_by_count_uses_the_applicants_rank_in_the_calendar_month(database_url: str) -> None:
    assert resident_id_is_valid(OTHER_ID)
    service = App.open(Settings.from_env(database_url=database_url), create=True)
    agencies.update_agency(service, "audit", {"fee_scale": "count"})  # fees are per agency
    cases.add_user(service, "alice", "clerk", "王晓梅")
    ids = [
        cases.register(service, application(received_on=RECEIVED), "alice", TODAY)
        for _ in range(10)
    ]
    # Another applicant's application in the same month does not count towards the rank.
    cases.register(service, application(received_on=RECEIVED, id_number=OTHER_ID), "alice", TODAY)
    # Nor does the same applicant's application in another month, or in that month a year
    # before.
    cases.register(service, application(received_on="2026-10-30"), "alice", TODAY)
    cases.register(service, application(received_on="2025-11-03"), "alice", TODAY)
    ids.append(cases.register(service, application(received_on=RECEIVED), "alice", TODAY))
    for case_id in (ids[9], ids[10]):
        act(service, case_id, "review", "alice", "2026-11-02")
        act(service, case_id, "accept", "alice", "2026-11-03")
    # The tenth application this month is still free: no fee notice may stop its clock.
    with pytest.raises(RuleViolation) as caught:
        act(service, ids[9], "issue_fee", "alice", "2026-11-05")
    assert (caught.value.field, caught.value.rule) == ("month_rank", "no_fee_due")
    act(service, ids[10], "issue_fee", "alice", "2026-11-05")
    assert (
        "第11件" in letter(service, ids[10], "fee").html
        and "100.00元" in letter(service, ids[10], "fee").html
    )
    service.close()


def _draftable() -> list[tuple[str, str]]:
    return [
        (o.code, r)
        for o in OUTCOMES.values()
        for r in o.reasons
        if (o.code, r) not in SYSTEM_OUTCOMES
    ]


@pytest.mark.parametrize(("outcome", "reason"), _draftable())
def test_every_reply_cites_its_article_and_the_remedy(app: App, outcome: str, reason: str) -> None:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-11-02")
    if reason == "still_unclear":
        act(app, case_id, "request_correction", "alice", "2026-11-03",
            items=["请写明所需信息的名称"])  # fmt: skip
        act(app, case_id, "receive_correction", "alice", "2026-11-10")
    else:
        act(app, case_id, "accept", "alice", "2026-11-03")
    act(app, case_id, "draft_reply", "alice", "2026-11-20", outcome=outcome, reason_code=reason,
        detail="答复正文示例。", refer_to="示例市自然资源局")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-11-23")
    act(app, case_id, "send", "carol", "2026-11-24")
    found = letter(app, case_id, "reply")
    assert re.fullmatch(r"示审依申答〔2026〕[1-9]\d*号", found.number)
    article = BASES[(outcome, reason)].article.split("、")[0]
    assert_printed(found, REPLY_TITLES[outcome], "2026年11月24日", article, "答复正文示例。",
                   "申请行政复议", "示例市人民政府", "提起行政诉讼", "示例市人民法院",
                   REPLY_FINDINGS[(outcome, reason)], REPLY_DECISIONS[(outcome, reason)])  # fmt: skip
    # One natural sentence per outcome: no reason label in brackets after the decision.
    assert f"（{OUTCOMES[outcome].reasons[reason]}）" not in found.html


def test_disclosing_over_an_objection_tells_the_third_party(app: App) -> None:
    case_id = handled_case(app)
    act(app, case_id, "consult_third_party", "alice", "2026-11-04",
        party="福州闽江建设工程有限公司")  # fmt: skip
    act(app, case_id, "third_party_replied", "alice", "2026-11-10", opinion="object",
        reason="第三方不同意公开")  # fmt: skip
    act(app, case_id, "draft_reply", "alice", "2026-11-20", outcome="disclose", reason_code="provided",
        detail="现予提供。")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-11-23")
    act(app, case_id, "send", "carol", "2026-11-24",
        public_interest="涉及公共资金使用，公开有利于社会监督")  # fmt: skip
    assert_printed(letter(app, case_id, "third_party_decision"), "决定公开告知书（第三方）",
                   "福州闽江建设工程有限公司", "你方不同意公开", "涉及公共资金使用", "第三十二条",
                   to_applicant=False)  # fmt: skip


@pytest.mark.parametrize(("trigger", "on", "setup", "reason"), [
    ("abandon_correction", "2026-11-24", "correction", "申请人无正当理由逾期不补正"),
    ("abandon_fee", "2026-11-24", "fee", "申请人逾期未按收费通知要求缴纳费用"),
])  # fmt: skip
def test_abandoned_cases_get_a_closing_notice(
    app: App, trigger: str, on: str, setup: str, reason: str
) -> None:
    case_id = cases.register(app, application(received_on="2026-10-08"), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-10-08")
    if setup == "correction":
        act(app, case_id, "request_correction", "alice", "2026-10-09",
            items=["请写明年度"])  # fmt: skip
    else:
        act(app, case_id, "accept", "alice", "2026-10-09")
        act(app, case_id, "issue_fee", "alice", "2026-10-12", pages=40)
    act(app, case_id, trigger, "alice", on)
    assert_printed(letter(app, case_id, "closing"), "终止处理告知书", reason, "2026年11月24日")


def test_a_letter_lacking_a_field_is_refused_by_name_and_nothing_is_recorded(app: App) -> None:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-11-02")
    with app.uow() as uow:
        before = (
            len(list_letters(uow.session, case_id)),
            uow.session.scalar(select(func.count()).select_from(ClockEventRow)),
        )
    with pytest.raises(RuleViolation) as caught:
        act(app, case_id, "request_correction", "alice", "2026-11-03")
    assert (caught.value.field, caught.value.rule) == ("item", "letter_field_missing")
    assert caught.value.message == (
        "补正申请告知书缺少必填内容：需要补正的事项；未生成文书，本次操作未保存"
    )
    with app.uow() as uow:
        after = (
            len(list_letters(uow.session, case_id)),
            uow.session.scalar(select(func.count()).select_from(ClockEventRow)),
        )
    assert after == before
    assert cases.get_case(app, case_id).version == 2
    # The number was not consumed either: the next correction notice is number 1.
    act(
        app,
        case_id,
        "request_correction",
        "alice",
        "2026-11-03",
        items=["x"],
    )
    assert letter(app, case_id, "correction").number == "示审依申补〔2026〕1号"


@pytest.mark.parametrize(
    "typed",
    [
        "示审依申登〔2026〕{n}号",
        "示审依申登〔2026〕第{n}号",
        "示审依申登[2026]{n}号",
        "示审依申登【2026】第{n}号",
        "示审依申登(2026){n}号",
        "示审依申登（２０２６）第{n}号",
    ],
)
def test_a_letter_is_found_by_its_number_however_the_clerk_types_it(app: App, typed: str) -> None:
    # A letter issued while the agency printed 第 keeps its number, and is still found.
    with_di = App.open(Settings.from_env(database_url=app.settings.database_url,
                                         number_with_di=True))  # fmt: skip
    old = cases.register(with_di, application(received_on=RECEIVED), "alice", TODAY)
    with_di.close()
    new = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    for case_id, n, number in (
        (old, 1, "示审依申登〔2026〕第1号"),
        (new, 2, "示审依申登〔2026〕2号"),
    ):
        text = typed.format(n=n)
        if "２０２６" in text:
            text = text.translate(full_width)
        assert letter(app, case_id, text).number == number


@pytest.mark.parametrize("kind", ["receipt", "政府信息公开申请登记回执"])
def test_a_letter_is_found_by_its_kind_or_its_chinese_title(app: App, kind: str) -> None:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    assert letter(app, case_id, kind).number == "示审依申登〔2026〕1号"


def test_an_unknown_letter_is_refused_naming_the_letters_issued(app: App) -> None:
    case_id = cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
    with pytest.raises(NotFound) as caught:
        letter(app, case_id, "示审依申登〔2026〕2号")
    assert (caught.value.field, caught.value.rule) == ("kind", "not_issued")
    assert "政府信息公开申请登记回执（示审依申登〔2026〕1号）" in caught.value.message


def _drafted(app: App, detail: str | None) -> int:
    case_id = handled_case(app)
    act(app, case_id, "draft_reply", "alice", "2026-11-20", outcome="disclose",
        reason_code="provided", detail=detail)  # fmt: skip
    return case_id


def _limits(app: App, case: Case) -> Limits:
    return compute_limits(app.settings.calendar, case.received_on, [], app.settings.rules)


def test_a_preview_renders_the_reply_without_taking_a_number(app: App) -> None:
    case_id = _drafted(app, "现将该报告复印件随本答复书提供给您。")
    with app.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        html, context = preview(app.settings, case, LetterKind.REPLY,
                                LetterRequest(_limits(app, case), _limits(app, case),
                                              D("2026-11-23")))  # fmt: skip
        assert context["letter"]["number"] == NUMBER_PLACEHOLDER == "（发文时编号）"
        assert NUMBER_PLACEHOLDER in html and "现将该报告复印件随本答复书提供给您。" in html
        assert uow.session.scalar(select(func.count()).select_from(LetterCounter).where(
            LetterCounter.kind == "reply")) == 0  # fmt: skip
        # The letter sent is the one approved: rendered from the stored context, whatever
        # happened to the case since; only the number and the date of issue are new.
        stored = json.loads(json.dumps(context, ensure_ascii=False))
        case.reply_detail = "后来改动的答复内容。"
        case.description = "后来改动的描述"
        issued = prepare(uow.session.connection(), app.settings, case, LetterKind.REPLY,
                       LetterRequest(_limits(app, case), _limits(app, case), D("2026-11-24")),
                       issued_by="carol", audit_seq=99, at=app.now(), context=stored)  # fmt: skip
        assert issued.number == "示审依申答〔2026〕1号"
        assert html.replace(NUMBER_PLACEHOLDER, issued.number).replace(
            "2026年11月23日", "2026年11月24日") == issued.html  # fmt: skip
        assert "后来改动" not in issued.html
        assert json.loads(issued.context)["letter"] == {
            "kind": "reply", "title": "政府信息公开申请答复书（予以公开）",
            "number": "示审依申答〔2026〕1号", "issued_on": "2026年11月24日",
        }  # fmt: skip


MISSING_DETAIL = (
    "政府信息公开申请答复书（予以公开）缺少必填内容：答复内容（提供的信息或获取方式）；"
    "未生成文书，本次操作未保存"
)


def test_a_preview_refuses_a_missing_field_as_issuing_would(app: App) -> None:
    case_id = handled_case(app)
    with app.uow() as uow:  # never committed
        case = uow.session.get(Case, case_id)
        assert case is not None
        case.outcome, case.outcome_reason, case.reply_detail = "disclose", "provided", None
        limits = _limits(app, case)
        with pytest.raises(RuleViolation) as previewed:
            preview(app.settings, case, LetterKind.REPLY,
                    LetterRequest(limits, limits, D("2026-11-23")))  # fmt: skip
        with pytest.raises(RuleViolation) as issued:
            prepare(uow.session.connection(), app.settings, case, LetterKind.REPLY,
                  LetterRequest(limits, limits, D("2026-11-24")), issued_by="carol",
                  audit_seq=9, at=app.now())  # fmt: skip
    for caught in (previewed, issued):
        assert (caught.value.field, caught.value.rule) == ("detail", "letter_field_missing")
        assert caught.value.message == MISSING_DETAIL


def test_reprinting_gives_the_same_text_after_templates_and_agency_change(
    app: App, tmp_path: Path
) -> None:
    case_id = handled_case(app)
    original = letter(app, case_id, "receipt")
    assert hashlib.sha256(original.html.encode()).hexdigest() == original.content_sha256
    (tmp_path / "receipt.html.j2").write_text(
        "<p>{{ agency.name }} 新模板 {{ letter.number }}</p>", encoding="utf-8"
    )
    agencies.update_agency(app, "audit", {"name": "改名后的审计局"})
    changed = App.open(Settings.from_env(database_url=app.settings.database_url,
                                         template_dir=tmp_path))  # fmt: skip
    changed.now = app.now
    again = letter(changed, case_id, "receipt")
    assert again.html == original.html
    assert pdf_text(render_format(again.html, "pdf")) == pdf_text(
        render_format(original.html, "pdf")
    )
    # New letters do use the override and the new name.
    newer = cases.register(changed, application(received_on=RECEIVED), "alice", TODAY)
    assert "改名后的审计局 新模板" in letter(changed, newer, "receipt").html
    changed.close()


def test_letter_numbers_are_gapless_and_unique_under_concurrent_issuers(app: App) -> None:
    issuers, per_issuer = 8, 5
    barrier = threading.Barrier(issuers)
    errors: list[BaseException] = []

    def issuer() -> None:
        barrier.wait()
        for _ in range(per_issuer):
            try:
                cases.register(app, application(received_on=RECEIVED), "alice", TODAY)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=issuer) for _ in range(issuers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.uow() as uow:
        numbers = sorted(uow.session.scalars(select(Letter.seq_no).where(Letter.kind == "receipt")))
    assert errors == []
    assert numbers == list(range(1, len(numbers) + 1))  # no gap, no duplicate
    assert len(numbers) == issuers * per_issuer - len(errors)


def test_a_letter_step_refused_after_its_number_was_taken_gives_the_number_back(
    app: App,
) -> None:
    """A refused fee notice leaves its number to the next: still number 1 (on PostgreSQL the
    number is only read with the case; the write that would claim it never runs)."""
    case_id = handled_case(app)
    with pytest.raises(RuleViolation):
        act(app, case_id, "issue_fee", "alice", "2026-11-05", pages=30)  # nothing is due
    act(app, case_id, "issue_fee", "alice", "2026-11-05", pages=120)
    assert letter(app, case_id, "fee").seq_no == 1


def test_concurrent_letter_steps_number_their_letters_without_gap_or_duplicate(
    app: App,
) -> None:
    issuers = 6
    case_ids = [handled_case(app) for _ in range(issuers)]
    barrier = threading.Barrier(issuers)
    errors: list[BaseException] = []

    def issuer(case_id: int) -> None:
        barrier.wait()
        try:
            act(app, case_id, "consult_agency", "alice", "2026-11-04", party="示例市财政局")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=issuer, args=(case_id,)) for case_id in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(letter(app, case_id, "agency_consult").seq_no for case_id in case_ids)
    assert numbers == list(range(1, issuers + 1))


def _meanwhile(monkeypatch: pytest.MonkeyPatch, then: Callable[[], object]) -> None:
    """Run ``then`` once, between the next change's read and its write (as its ``fire``)."""
    fire, pending = cases.fire, [then]

    def fire_after(*args: Any) -> Any:
        while pending:
            pending.pop()()
        return fire(*args)

    monkeypatch.setattr(cases, "fire", fire_after)


def test_a_number_another_change_took_after_it_was_read_is_not_issued_twice(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another case's consultation takes 文号 1 while this one's consultation, having read 1
    as next, is deciding: this one writes nothing, runs again taking its number under the
    counter's lock (PostgreSQL; SQLite takes it in its transaction) and issues 2."""
    first, second = handled_case(app), handled_case(app)
    _meanwhile(
        monkeypatch,
        lambda: act(app, first, "consult_agency", "alice", "2026-11-04", party="示例市财政局"),
    )
    with count_statements(app.engine) as statements:
        act(app, second, "consult_agency", "alice", "2026-11-04", party="示例市财政局")
    assert [letter(app, c, "agency_consult").seq_no for c in (first, second)] == [1, 2]
    if app.engine.dialect.name == "postgresql":  # the claim lost, the number then taken
        taking = [sql for sql in statements if "ON CONFLICT" in sql and "SELECT users" in sql]
        assert len(taking) == 1
    for case_id in (first, second):
        assert verify_snapshot(app.engine, case_id) == (1, [])
        assert cases.get_case(app, case_id).version == 4  # one event for the consultation


def test_a_case_and_its_number_both_taken_meanwhile_is_a_conflict_that_takes_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same case's consultation, by another clerk, takes 文号 1 and moves the case while
    this one is deciding: this one is a conflict and leaves the counter at 1."""
    case_id = handled_case(app)
    _meanwhile(
        monkeypatch,
        lambda: act(app, case_id, "consult_agency", "carol", "2026-11-04", party="示例市财政局"),
    )
    with pytest.raises(ConflictError):
        act(app, case_id, "consult_agency", "alice", "2026-11-04", party="示例市财政局")
    with app.uow() as uow:
        issued = list(
            uow.session.scalars(select(Letter.seq_no).where(Letter.kind == "agency_consult"))
        )
        counted = uow.session.scalar(
            select(LetterCounter.last_no).where(LetterCounter.kind == "agency_consult")
        )
    assert (issued, counted) == ([1], 1)
    assert verify_snapshot(app.engine, case_id) == (1, [])


def test_a_fee_of_nothing_is_refused_and_leaves_the_clock_running(app: App) -> None:
    case_id = handled_case(app)
    with pytest.raises(RuleViolation) as caught:
        act(app, case_id, "issue_fee", "alice", "2026-11-05", pages=30)
    assert (caught.value.field, caught.value.rule) == ("pages", "no_fee_due")
    assert cases.get_case(app, case_id).state.value == "handling"


@pytest.mark.parametrize("outcome", ["withhold", "disclose_without_consultation"])
def test_the_public_interest_letter_needs_a_disclosure_over_a_consultation(
    app: App, outcome: str
) -> None:
    case_id = handled_case(app)
    if outcome == "withhold":
        act(app, case_id, "consult_third_party", "alice", "2026-11-04",
            party="福州闽江建设工程有限公司")  # fmt: skip
        act(app, case_id, "third_party_replied", "alice", "2026-11-10", opinion="agree")
        draft = {"outcome": "withhold", "reason_code": "third_party_rights"}
    else:
        draft = {"outcome": "disclose", "reason_code": "provided"}
    act(app, case_id, "draft_reply", "alice", "2026-11-20", detail="x", **draft)
    act(app, case_id, "approve", "bob", "2026-11-23")
    with pytest.raises(RuleViolation) as caught:
        act(
            app,
            case_id,
            "send",
            "carol",
            "2026-11-24",
            public_interest="x",
        )
    assert (caught.value.field, caught.value.rule) == (
        "public_interest",
        "no_objection_to_override",
    )
    assert cases.get_case(app, case_id).state.value == "reply_approved"
