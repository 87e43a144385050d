"""SQL statements per change, counted with SQLAlchemy's events (issue #9); nothing is timed.

A statement is a cursor execution (``before_cursor_execute``) or a COMMIT (``commit``).
Not counted, because the code never writes them: the BEGIN psycopg sends by itself and the
pool's pre-ping on PostgreSQL, SQLite's implicit BEGIN.
"""

from __future__ import annotations

import pytest

from disclosure.errors import NotFound
from disclosure.models.db import count_statements
from disclosure.services import cases
from disclosure.services.audit import verify_snapshot
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, act, application
from tests.integration.test_case_service import FULL_CASE, D

#: A change that issues no letter: the user and the case (one SELECT), the case's UPDATE,
#: its clock event's INSERT if it records one, the audit event's INSERT and the COMMIT.
NO_LETTER_MAX = 5
#: What each letter adds: its 文号 counter (one INSERT … ON CONFLICT DO UPDATE … RETURNING)
#: and its row. A fee by count also counts the applicant's applications that
#: month (one SELECT).
PER_LETTER = 2
MONTH_RANK = 1


def _outer_from(words: list[str]) -> str:
    """The table after a SELECT's own FROM (not a subquery's, as in a selected EXISTS)."""
    depth = 0
    for at, word in enumerate(words):
        depth += (word == "(") - (word == ")")
        if word == "FROM" and depth == 0:
            return words[at + 1]
    return ""


def _heads(statements: list[str]) -> list[str]:
    """Each statement's verb and table, e.g. ``UPDATE cases``."""
    heads = []
    for sql in statements:
        words = sql.replace("(", " ( ").replace(")", " ) ").split()
        if words[0] == "SELECT":
            table = _outer_from(words)
        elif words[0] == "INSERT":
            table = words[2]
        else:
            table = words[1] if len(words) > 1 else ""
        heads.append(f"{words[0]} {table}".strip())
    return heads


def test_a_review_is_one_select_one_insert_one_update_and_the_commit(app: App) -> None:
    case_id = cases.register(app, application(), "alice", TODAY)
    with count_statements(app.engine) as statements:
        act(app, case_id, "review", "alice", on="2026-06-05")
    assert _heads(statements) == [
        "SELECT users",  # the acting user joined with the case and its clock events
        "INSERT audit_events",
        "UPDATE cases",  # state, limits, version and the audit chain's head
        "COMMIT",
    ]
    assert len(statements) <= NO_LETTER_MAX
    assert verify_snapshot(app.engine, case_id) == (1, [])


def test_every_change_of_the_worked_example_stays_within_its_statement_bound(app: App) -> None:
    """No letter: at most 5 statements; each letter adds 2 (its number, its row), a fee by
    count 1 (measured on this path: review 4, a clock event 5, consulting a third party 7,
    the fee notice 8)."""
    case_id = cases.register(app, application(), "alice", TODAY)
    counts: dict[str, int] = {}
    for trigger, actor, on, fields in FULL_CASE:
        with count_statements(app.engine) as statements:
            change = act(app, case_id, trigger, actor, on=D(on), **fields)
        bound = NO_LETTER_MAX + PER_LETTER * len(change.letters)
        if trigger == "issue_fee":
            bound += MONTH_RANK
        assert len(statements) <= bound, (trigger, _heads(statements))
        counts[trigger] = len(statements)
    assert counts["review"] == 4 and counts["third_party_replied"] == 5
    assert counts["consult_third_party"] == 7 and counts["issue_fee"] == 8
    assert verify_snapshot(app.engine, case_id) == (1, [])


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
