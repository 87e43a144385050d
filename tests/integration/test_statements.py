"""SQL statements per change, counted with SQLAlchemy's events (issue #9); nothing is timed.

A statement is a cursor execution (``before_cursor_execute``) or a COMMIT (``commit``).
Not counted, because the code never writes them: the BEGIN psycopg sends by itself and the
pool's pre-ping on PostgreSQL, SQLite's implicit BEGIN.
"""

from __future__ import annotations

import pytest

from disclosure.errors import NotFound
from disclosure.models.db import count_statements
from disclosure.services import cases, notifications
from disclosure.services.audit import verify_snapshot
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, act, application
from tests.integration.test_case_service import FULL_CASE, D

#: A change that issues no letter: the user and the case (one SELECT), the case's UPDATE,
#: its clock event's INSERT if it records one, the audit event's INSERT and the COMMIT.
NO_LETTER_MAX = 5
#: What each letter adds: its 文号 counter (one INSERT … ON CONFLICT DO UPDATE … RETURNING)
#: and its row. (A fee by count's rank among the applicant's applications that month is a
#: column of the first SELECT.)
PER_LETTER = 2


def _outer_from(words: list[str]) -> str:
    """The table after a SELECT's own FROM (not a subquery's, as in a selected EXISTS)."""
    depth = 0
    for at, word in enumerate(words):
        depth += (word == "(") - (word == ")")
        if word == "FROM" and depth == 0:
            return words[at + 1]
    return ""


def _head(words: list[str]) -> str:
    """A statement's verb and table, e.g. ``UPDATE cases``; a WITH statement's data-modifying
    CTEs and main statement joined by `` + ``."""
    if words[0] == "WITH":
        parts, depth, start = [], 0, 0
        for at, word in enumerate(words):
            if word == "(":
                depth += 1
                if depth == 1:
                    start = at + 1
            elif word == ")":
                depth -= 1
                if depth == 0:
                    parts.append(_head(words[start:at]))
            elif depth == 0 and word in ("INSERT", "UPDATE", "DELETE", "SELECT"):
                parts.append(_head(words[at:]))
                break
        return " + ".join(parts)
    if words[0] == "SELECT":
        return f"SELECT {_outer_from(words)}"
    if words[0] == "INSERT":
        return f"INSERT {words[2]}"
    return f"{words[0]} {words[1] if len(words) > 1 else ''}".strip()


def _heads(statements: list[str]) -> list[str]:
    """Each statement's head (``_head``)."""
    return [_head(sql.replace("(", " ( ").replace(")", " ) ").split()) for sql in statements]


def _writes(app: App, *heads: str) -> list[str]:
    """What a change sends after its SELECT: on SQLite its rows (a letter's 文号 counter
    first), its UPDATE and the COMMIT; on PostgreSQL one statement (the rows and counters as
    data-modifying CTEs) that commits by itself."""
    if app.engine.dialect.name == "postgresql":
        return [" + ".join(heads)]
    return [*heads, "COMMIT"]


def test_a_review_is_one_select_one_insert_one_update_and_the_commit(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with count_statements(app.engine) as statements:
        act(app, case_id, "review", "alice", on="2026-06-05")
    # the acting user joined with the case and its clock events; the audit event; the case's
    # state, limits, version and audit chain head.
    writes = _writes(app, "INSERT audit_events", "UPDATE cases")
    assert _heads(statements) == ["SELECT users", *writes]
    assert len(statements) <= NO_LETTER_MAX
    assert verify_snapshot(app.engine, case_id) == (1, [])


#: Statements of the worked example's changes measured on each backend: PostgreSQL reads a
#: change's case (and its letters' next 文号 numbers) in one statement and writes its rows,
#: the numbers' counters and its case's UPDATE in one, each committing by itself.
MEASURED = {
    "sqlite": {"review": 4, "third_party_replied": 5, "consult_third_party": 7, "issue_fee": 7},
    "postgresql": {
        "review": 2, "third_party_replied": 2, "consult_third_party": 2, "issue_fee": 2
    },
}  # fmt: skip


def test_every_change_of_the_worked_example_stays_within_its_statement_bound(app: App) -> None:
    """No letter: at most 5 statements; each letter adds 2 (its number, its row); on each
    backend, four of the changes take what ``MEASURED`` says."""
    case_id = cases.register(app, application(), "alice", TODAY)
    counts: dict[str, int] = {}
    for trigger, actor, on, fields in FULL_CASE:
        with count_statements(app.engine) as statements:
            change = act(app, case_id, trigger, actor, on=D(on), **fields)
        bound = NO_LETTER_MAX + PER_LETTER * len(change.letters)
        assert len(statements) <= bound, (trigger, _heads(statements))
        counts[trigger] = len(statements)
    measured = MEASURED[app.engine.dialect.name]
    assert {trigger: counts[trigger] for trigger in measured} == measured
    assert verify_snapshot(app.engine, case_id) == (1, [])


def test_a_letter_its_clock_event_audit_event_and_update_are_one_statement_on_postgresql(
    app: App,
) -> None:
    """Consulting a third party: the letter's 文号 first (its text is in the letter), then
    the letter, the clock event, the audit event and the case's UPDATE. PostgreSQL reads the
    number with the case and claims it (its counter's compare-and-set) with the rest in one
    statement (data-modifying CTEs), neither needing a transaction around it; SQLite, which
    has no such CTEs, takes the number in its transaction and sends each row."""
    case_id = cases.register(app, application(), "alice", TODAY)
    act(app, case_id, "review", "alice", on="2026-06-05")
    act(app, case_id, "accept", "alice", on="2026-06-05")
    with count_statements(app.engine) as statements:
        act(app, case_id, "consult_third_party", "alice", on="2026-06-08", party="某公司")
    writes = ["INSERT letters", "INSERT clock_events", "INSERT audit_events", "UPDATE cases"]
    expected = ["SELECT users", *_writes(app, "INSERT letter_counters", *writes)]
    assert _heads(statements) == expected
    assert verify_snapshot(app.engine, case_id) == (1, [])


def test_an_urge_writes_its_notification_with_the_change(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)  # alice is its 承办人
    with count_statements(app.engine) as statements:
        act(app, case_id, "urge", "bob", on="2026-06-05", reason="申请人来电催问")
    writes = _writes(app, "INSERT notifications", "INSERT audit_events", "UPDATE cases")
    assert _heads(statements) == ["SELECT users", *writes]
    [item] = notifications.inbox(app, "alice")
    assert (item.kind, item.case_id, item.message, item.by) == (
        "urge", case_id, "申请人来电催问", "bob"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("actor", "case_offset", "field"),
    [("nobody", 0, "actor"), ("alice", 1000, "case"), ("nobody", 1000, "actor")],
    ids=["unknown-actor", "unknown-case", "both-unknown-actor-first"],
)
def test_an_unknown_actor_or_case_is_named_after_one_more_statement(
    app: App, actor: str, case_offset: int, field: str
) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with count_statements(app.engine) as statements, pytest.raises(NotFound) as caught:
        act(app, case_id + case_offset, "review", actor, on="2026-06-05")
    assert caught.value.field == field
    assert _heads(statements) == ["SELECT users", "SELECT users"]
