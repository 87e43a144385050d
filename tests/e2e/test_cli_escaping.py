"""Hostile text already on file must print literally and never act on the terminal (issue #8).

The rows are written straight into the database (input validation may refuse such text
today; data from older versions, imports or another client may still hold it), then every
reading command runs and must exit 0, show the text as typed, and emit no ESC byte.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from disclosure.config import Settings
from disclosure.models.tables import Applicant, Case, Letter, User
from disclosure.services import cases
from disclosure.services.audit import append_event
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, application
from tests.e2e import test_cli as base

#: Rich markup (an unmatched closing tag too), HTML, a template expression and an ANSI colour.
HOSTILE = "[/] [bold red]x[/] <b>x</b> {{ 7*7 }} \x1b[31m :smile:"
SHORT = "[/]<b>\x1b[31m"  # for narrow columns (phone, user name)
SHOWN, SHORT_SHOWN = (t.replace("\x1b", "\\x1b") for t in (HOSTILE, SHORT))


def _plant(database_url: str) -> int:
    """A long-overdue case whose every text field is hostile, with a trail event and a letter."""
    app = App.open(Settings.from_env(database_url=database_url))
    cases.add_user(app, "alice", "clerk", "王晓梅")
    cases.add_user(app, "bob", "supervisor", "李建国")
    case_id = cases.register(
        app, application(received_on="2026-09-01", applicant_kind="commercial",
                         id_type="credit_code", id_number="91350123MA2Y8K1W3U"),
        "alice", TODAY,
    )  # fmt: skip
    with app.uow() as uow:
        session = uow.session
        session.add(User(name=SHORT, display_name=HOSTILE, role="clerk",
                         created_at=datetime.now(UTC)))  # fmt: skip
        case = session.get(Case, case_id)
        assert case is not None
        applicant = session.get(Applicant, case.applicant_id)
        assert applicant is not None
        applicant.name, applicant.phone = HOSTILE, SHORT
        applicant.email = applicant.address = HOSTILE
        case.description = case.reply_detail = case.refer_to = HOSTILE
        case.version += 1
        append_event(
            session, case, keys=app.settings.audit_keys, seq=case.version,
            at=datetime.now(UTC), actor=SHORT,
            actor_role="clerk", trigger="review", from_state="registered",
            to_state="registered", reason=HOSTILE, payload={"on": HOSTILE, "note": HOSTILE},
        )  # fmt: skip
        receipt = session.scalars(select(Letter).where(Letter.case_id == case_id)).one()
        session.add(Letter(
            case_id=case_id, kind="receipt", template=receipt.template, prefix=receipt.prefix,
            year=receipt.year, seq_no=9999, number=HOSTILE, issued_on=date(2026, 9, 1),
            issued_at=datetime.now(UTC), issued_by=SHORT, audit_seq=case.version,
            content_sha256="0" * 64, context="{}", html="<p>x</p>",
        ))  # fmt: skip
        uow.commit()
    app.close()
    return case_id


@pytest.fixture
def cli(database_url: str) -> base.Cli:
    run = base.Cli(database_url)
    run.env["COLUMNS"] = "1000"  # nothing wraps: the texts can be found whole
    run("db", "upgrade")
    return run


def test_hostile_text_on_file_prints_literally_everywhere(cli: base.Cli, database_url: str) -> None:
    case = str(_plant(database_url))
    cli("scheduler", "scan-once")
    commands = [
        ("case", "show", case),
        ("case", "list"),
        ("overview",),
        ("alerts", "--as", "bob"),
        ("letter", "list", case),
        ("user", "list"),
        ("scheduler", "scan-once", "--today", "2026-10-01"),
    ]
    for command in commands:
        result = cli(*command)
        output = result.stdout + result.stderr
        assert "\x1b" not in output, command
        assert SHOWN in result.stdout, command
        assert "😄" not in output, command
    shown = cli("case", "show", case).stdout
    assert SHORT_SHOWN in shown and shown.count(SHOWN) >= 4  # name, contact, description, …
    assert SHORT_SHOWN in cli("user", "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("case", "list", "--state", HOSTILE), "状态“[/] [bold red]x[/]"),
        (("letter", "batch", "--state", "[/]", "--out", "/tmp"), "状态“[/]”无效"),
        (("case", "review", "1", "--as", "alice", "--on", "[/]"), "办理日期：“[/]”"),
        (("case", "review", "1", "--as", "alice", "--on", "[/]\x1b[2J"), "办理日期："),
        (("user", "add", "[bold]x[/]", "--role", "clerk"), "用户名须为"),
        (("case", "list", "--[/]"), "没有选项 --[/]"),
        (("case", "[/]"), "没有命令“[/]”"),
        (("case", "register", "--as", "alice", "--from-file", "/no/[/]\x1b[31m.json"),
         "/no/[/]\\u001b[31m.json"),
    ],
)  # fmt: skip
def test_errors_that_quote_user_input_print_cleanly(
    cli: base.Cli, args: tuple[str, ...], message: str
) -> None:
    cli("user", "add", "alice", "--role", "clerk")
    result = cli(*args, expect=2)
    assert message in result.stderr
    assert "\x1b" not in result.stdout + result.stderr and "MarkupError" not in result.stderr
