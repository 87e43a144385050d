"""送达回证: the applicant signed for the reply; the file keeps who, how and when.

The trigger is one declaration in ``workflow/triggers.py`` plus its template: these tests
show it works end to end without any other code knowing about it.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from disclosure.errors import RuleViolation, TransitionNotAllowed
from disclosure.letters.output import render_format
from disclosure.models.tables import AuditEvent
from disclosure.services import cases
from disclosure.services.audit import verify
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, act, application
from tests.integration.test_letters import assert_printed, letter

D = date.fromisoformat


def replied_case(app: App) -> int:
    case_id = cases.register(app, application(received_on="2026-11-02"), "alice", TODAY)
    act(app, case_id, "review", "alice", "2026-11-02")
    act(app, case_id, "accept", "alice", "2026-11-03")
    act(app, case_id, "draft_reply", "alice", "2026-11-20", outcome="disclose",
        reason_code="provided", detail="现提供该报告全文。")  # fmt: skip
    act(app, case_id, "approve", "bob", "2026-11-23")
    act(app, case_id, "send", "carol", "2026-11-24")
    return case_id


def test_the_delivery_receipt_is_recorded_printed_and_kept_in_the_trail(app: App) -> None:
    case_id = replied_case(app)
    change = act(app, case_id, "acknowledge_delivery", "alice", "2026-11-24",
                 receiver="张三", method="直接送达")  # fmt: skip
    assert (change.step.before, change.step.after) == ("replied", "replied")
    assert [x.kind for x in change.letters] == ["delivery_receipt"]
    found = letter(app, case_id, "delivery_receipt")
    assert re.fullmatch(r"示审依申回〔2026〕[1-9]\d*号", found.number)
    assert_printed(found, "送达回证", "签收人：张三", "送达方式：直接送达", "2026年11月24日")
    assert len(PdfReader(io.BytesIO(render_format(found.html, "pdf"))).pages) == 1
    with app.uow() as uow:
        last = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq.desc())
        ).first()
        assert last is not None and last.trigger == "acknowledge_delivery"
        payload = json.loads(last.payload)
        assert (payload["receiver"], payload["method"]) == ("张三", "直接送达")
        assert verify(uow.session, case_id, keys=app.settings.audit_keys) == (1, [])
    act(app, case_id, "archive", "alice", "2026-11-25", today=D("2026-11-25"))


def test_the_receipt_needs_who_signed_and_how(app: App) -> None:
    case_id = replied_case(app)
    with pytest.raises(RuleViolation) as exc:
        act(app, case_id, "acknowledge_delivery", "alice", "2026-11-24", method="邮寄送达")
    assert (exc.value.field, exc.value.rule) == ("receiver", "required")
    assert "签收人" in exc.value.message
    assert cases.get_case(app, case_id).version == 6


def test_there_is_no_receipt_before_the_reply_is_sent(app: App) -> None:
    case_id = cases.register(app, application(received_on="2026-11-02"), "alice", TODAY)
    with pytest.raises(TransitionNotAllowed):
        act(app, case_id, "acknowledge_delivery", "alice", "2026-11-24",
            receiver="张三", method="直接送达")  # fmt: skip
