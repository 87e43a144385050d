"""Holes a new clerk found (issue #8), through the service layer on SQLite and PostgreSQL.

Each test failed on the code before the fix: a draft that could be approved but never sent,
unbounded back-dating, a second fee notice, an unbounded and letterless agreed date,
unbounded texts, a third party's answer without its opinion, silent repeat applications.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from disclosure.errors import PermissionDenied, RuleViolation
from disclosure.models.tables import AuditEvent, Case, ClockEventRow, Letter
from disclosure.services import cases
from disclosure.services.audit import verify_snapshot
from disclosure.services.unit_of_work import App
from disclosure.workflow.states import State
from tests.conftest import act, application

D = date.fromisoformat


def counts(app: App) -> dict[str, int]:
    with app.uow() as uow:
        return {
            model.__tablename__: uow.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, AuditEvent, ClockEventRow, Letter)
        }


def handling(app: App, received: str = "2026-10-12") -> int:
    case_id = cases.register(app, application(received_on=received), "alice", D(received))
    act(app, case_id, "review", "alice", received)
    act(app, case_id, "accept", "alice", received)
    return case_id


def trail(app: App, case_id: int) -> list[AuditEvent]:
    with app.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
            )
        )


# -- 1. a draft that cannot be sent is refused when drafted; approvals can be taken back --


@pytest.mark.parametrize(
    ("outcome", "reason"), [("disclose", "published"), ("partial", "process_info")]
)
def test_a_draft_whose_letter_lacks_its_text_is_refused_when_drafted(
    app: App, outcome: str, reason: str
) -> None:
    case_id = handling(app)
    before = counts(app)
    with pytest.raises(RuleViolation) as exc:
        act(app, case_id, "draft_reply", "alice", "2026-10-14", outcome=outcome, reason_code=reason)
    assert exc.value.field == "detail"
    assert counts(app) == before
    assert cases.get_case(app, case_id).state is State.HANDLING


def test_the_approved_draft_is_exactly_what_is_sent(app: App) -> None:
    case_id = handling(app)
    act(
        app, case_id, "draft_reply", "alice", "2026-10-14", outcome="disclose",
        reason_code="published", detail="该报告已在本机关门户网站“政府信息公开”栏目公布。",
    )  # fmt: skip
    with app.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None and case.draft_context is not None
        drafted = json.loads(case.draft_context)
    approved = act(app, case_id, "approve", "bob", "2026-10-15")
    assert approved.step.after is State.REPLY_APPROVED
    # The agency renames itself between approval and sending: the letter keeps the approved text.
    app.settings = app.settings.model_copy(update={"agency_name": "示例市审计局（新）"})
    act(app, case_id, "send", "alice", "2026-10-16")
    with app.uow() as uow:
        letter = uow.session.scalars(
            select(Letter).where(Letter.case_id == case_id, Letter.kind == "reply")
        ).one()
    sent = json.loads(letter.context)
    assert {k: v for k, v in sent.items() if k != "letter"} == {
        k: v for k, v in drafted.items() if k != "letter"
    }
    assert "示例市审计局（新）" not in letter.html
    assert "门户网站" in letter.html
    events = trail(app, case_id)
    draft_hash = json.loads(events[-3].payload)["draft_sha256"]
    assert json.loads(events[-2].payload)["draft_sha256"] == draft_hash  # approve = that draft
    assert verify_snapshot(app.engine, case_id)[1] == []


def test_a_supervisor_takes_back_an_approval_and_the_clerk_redrafts(app: App) -> None:
    case_id = handling(app)
    act(
        app, case_id, "draft_reply", "alice", "2026-10-14", outcome="disclose",
        reason_code="provided", detail="现提供该报告全文。",
    )  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-10-15")
    step = act(app, case_id, "return_draft", "bob", "2026-10-15", reason="附件不全")
    assert (step.step.before, step.step.after) == (State.REPLY_APPROVED, State.HANDLING)
    view = cases.get_case(app, case_id)
    assert view.approved_by is None and view.outcome is None
    act(
        app, case_id, "draft_reply", "alice", "2026-10-16", outcome="disclose",
        reason_code="provided", detail="现提供该报告全文及附件。",
    )  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-10-16")
    act(app, case_id, "send", "alice", "2026-10-19")
    with app.uow() as uow:
        html = uow.session.scalars(
            select(Letter.html).where(Letter.case_id == case_id, Letter.kind == "reply")
        ).one()
    assert "及附件" in html


# -- 2. back-dating ------------------------------------------------------------------------


def test_a_clerk_cannot_backdate_an_extension_weeks_after_the_due_date(app: App) -> None:
    case_id = handling(app)
    before = counts(app)
    with pytest.raises(PermissionDenied) as exc:
        act(app, case_id, "consult_agency", "alice", "2026-10-14", today=D("2026-11-24"),
            party="示例市财政局")  # fmt: skip
    assert exc.value.rule == "backdated_needs_supervisor"
    with pytest.raises(RuleViolation) as exc2:
        act(app, case_id, "extend", "bob", "2026-11-02", today=D("2026-11-24"), days=5,
            reason="档案量大")  # fmt: skip
    assert exc2.value.field == "backdate_reason"
    assert counts(app) == before


def test_a_supervisors_late_entry_keeps_business_date_and_reason_in_the_trail(app: App) -> None:
    case_id = handling(app)
    act(app, case_id, "extend", "bob", "2026-11-06", today=D("2026-11-24"), days=5,
        reason="档案量大", backdate_reason="纸质审批单当日已签发，系统录入延迟")  # fmt: skip
    last = trail(app, case_id)[-1]
    payload = json.loads(last.payload)
    assert payload["on"] == "2026-11-06"
    assert payload["backdated"] is True
    assert payload["backdate_reason"] == "纸质审批单当日已签发，系统录入延迟"
    assert last.at.date() != date(2026, 11, 6)  # recorded when it was typed in


# -- 3. one fee notice ---------------------------------------------------------------------


def test_a_second_fee_notice_after_payment_is_refused(app: App) -> None:
    case_id = handling(app)
    act(app, case_id, "issue_fee", "alice", "2026-10-13", pages=150)
    act(app, case_id, "fee_paid", "alice", "2026-10-20")
    before = counts(app)
    with pytest.raises(RuleViolation) as exc:
        act(app, case_id, "issue_fee", "alice", "2026-10-21", pages=150)
    assert exc.value.rule == "fee_notice_once"
    assert counts(app) == before


# -- 4. an agreed date issues its letter ---------------------------------------------------


def test_an_agreed_due_date_issues_a_letter_recording_the_agreement(app: App) -> None:
    case_id = handling(app)
    act(app, case_id, "set_due", "bob", "2026-10-20", until=D("2027-01-29"),
        reason="申请涉及近十年全部审计档案，数量巨大",
        consent="申请人于2026年10月19日书面同意")  # fmt: skip
    with app.uow() as uow:
        letter = uow.session.scalars(
            select(Letter).where(Letter.case_id == case_id, Letter.kind == "agreed_due")
        ).one()
    assert "2027年1月29日" in letter.html
    assert "书面同意" in letter.html
    assert "第三十五条" in letter.html


# -- 6 / 25. every text is bounded and clean, the same on both databases -------------------

HUGE = "长" * 100_000


@pytest.mark.parametrize(
    ("trigger", "state_steps", "kwargs", "field"),
    [
        ("withdraw", [], {"reason": HUGE}, "reason"),
        ("consult_third_party", [], {"party": (HUGE)}, "party"),
        ("consult_third_party", [], {"party": ("公司\u202e")}, "party"),
        ("extend", [], {"days": 5, "reason": "档案\x1b[31m"}, "reason"),
        (
            "draft_reply",
            [],
            {"outcome": "disclose", "reason_code": "provided", "detail": HUGE},
            "detail",
        ),
        (
            "draft_reply",
            [],
            {
                "outcome": "cannot_provide",
                "reason_code": "not_held",
                "detail": "无",
                "refer_to": "某" * 101,
            },
            "refer_to",
        ),  # fmt: skip
        (
            "draft_reply",
            [],
            {"outcome": HUGE, "reason_code": "provided", "detail": "x"},
            "outcome",
        ),
    ],
)
def test_over_long_or_invisible_texts_are_refused_by_field_and_nothing_is_recorded(
    app: App, trigger: str, state_steps: list[str], kwargs: dict[str, Any], field: str
) -> None:
    case_id = handling(app)
    actor = "bob" if trigger == "extend" else "alice"
    before = counts(app)
    with pytest.raises(RuleViolation) as exc:
        act(app, case_id, trigger, actor, "2026-10-13", **kwargs)
    assert exc.value.field == field
    assert len(exc.value.message) < 200  # the message never echoes 100,000 characters
    assert counts(app) == before


def test_correction_items_are_bounded_in_number_and_length(app: App) -> None:
    case_id = cases.register(app, application(received_on="2026-10-12"), "alice", D("2026-10-12"))
    act(app, case_id, "review", "alice", "2026-10-12")
    with pytest.raises(RuleViolation) as exc:
        act(app, case_id, "request_correction", "alice", "2026-10-13",
            items=[f"事项{i}" for i in range(21)])  # fmt: skip
    assert (exc.value.field, exc.value.rule) == ("items", "max_items")
    with pytest.raises(RuleViolation) as exc:
        act(app, case_id, "request_correction", "alice", "2026-10-13",
            items=["请写明年度", HUGE])  # fmt: skip
    assert (exc.value.field, exc.value.rule) == ("items", "max_length")


# -- 12. fee and reply timing in the case view ---------------------------------------------


def test_the_case_view_shows_the_fee_and_whether_the_reply_was_in_time(app: App) -> None:
    case_id = handling(app)
    act(app, case_id, "issue_fee", "alice", "2026-10-13", pages=150)
    view = cases.get_case(app, case_id)
    assert view.fee is not None and view.fee.amount == Decimal("1700.00")
    assert view.fee.paid_on is None
    act(app, case_id, "fee_paid", "alice", "2026-10-16")
    act(app, case_id, "draft_reply", "alice", "2026-10-19", outcome="disclose",
        reason_code="provided", detail="现提供该报告全文。")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-10-19")
    act(app, case_id, "send", "alice", "2026-10-20")
    view = cases.get_case(app, case_id)
    assert view.fee is not None and view.fee.paid_on == D("2026-10-16")
    assert view.reply is not None
    assert view.reply.replied_on == D("2026-10-20")
    # Received 10-12 (20 wd → 11-09), fee pause (10-13, 10-16] adds 3 → 11-12; replied
    # 10-20: 17 working days early.
    assert view.reply.due == D("2026-11-12")
    assert view.reply.margin == 17


# -- 13. the third party's opinion ---------------------------------------------------------


def test_the_public_interest_letter_needs_an_objection_not_just_a_consultation(
    app: App,
) -> None:
    case_id = handling(app)
    act(app, case_id, "consult_third_party", "alice", "2026-10-13",
        party="福州闽江建设工程有限公司")  # fmt: skip
    act(app, case_id, "third_party_replied", "alice", "2026-10-15", opinion="agree")
    with app.uow() as uow:
        row = uow.session.scalars(
            select(ClockEventRow).where(
                ClockEventRow.case_id == case_id, ClockEventRow.kind == "third_party_replied"
            )
        ).one()
        assert row.opinion == "agree"
    act(app, case_id, "draft_reply", "alice", "2026-10-16", outcome="disclose",
        reason_code="provided", detail="现提供该合同文本。")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-10-16")
    with pytest.raises(RuleViolation) as exc:
        act(app, case_id, "send", "alice", "2026-10-19",
            public_interest="涉及公共资金使用")  # fmt: skip
    assert exc.value.rule == "no_objection_to_override"


# -- 16. repeat applications ---------------------------------------------------------------


def test_the_same_application_again_is_linked_to_the_first(app: App) -> None:
    first = cases.register(app, application(received_on="2026-10-12"), "alice", D("2026-10-12"))
    other = cases.register(
        app,
        application(received_on="2026-10-13", description="2024年度部门决算"),
        "alice",
        D("2026-10-13"),
    )
    again = cases.register(
        app,
        application(received_on="2026-10-20", description=" 2025年度部门预算执行审计报告。"),
        "alice",
        D("2026-10-20"),
    )
    assert cases.get_case(app, first).duplicate_of is None
    assert cases.get_case(app, other).duplicate_of is None
    assert cases.get_case(app, again).duplicate_of == first
    payload = json.loads(trail(app, again)[0].payload)
    assert payload["duplicate_of"] == first
    stranger = cases.register(
        app,
        application(received_on="2026-10-20", id_number="350102198001010011"),
        "alice",
        D("2026-10-20"),
    )
    assert cases.get_case(app, stranger).duplicate_of is None
