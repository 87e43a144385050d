"""State changes with audit per second: ``services.cases.act`` against a raw-SQL floor.

For each backend (SQLite in a temporary file, then PostgreSQL in a fresh database
``disclosure_bench_<pid>`` that is dropped at the end) the script opens the application
(which runs the migrations), adds a clerk and a supervisor and registers 3 × M + 2 cases.

* ``act()``: M cases go review → accept → consult_third_party → third_party_replied →
  issue_fee → fee_paid through ``services.cases.act``, one unit of work each (load, guards,
  limits, clock event, audit event, optimistic-lock UPDATE; two of the six steps issue a
  letter).
* raw: M other cases get the same number of transactions through one SQLAlchemy
  ``Connection`` and ``text()``: per change exactly one ``UPDATE cases SET state = ?,
  version = version + 1, audit_head = ? WHERE id = ? AND version = ?`` and one
  ``INSERT INTO audit_events`` (seq = the new version) whose SHA-256 chain hash and HMAC
  were computed beforehand, then COMMIT.

* raw + SELECT: M more cases get the raw transactions, each preceded by the SELECT that
  ``act()`` loads the user and the case with: how much of the gap the reading explains.

The three run in alternating blocks of ``BLOCK`` cases, so a machine busy with something else
slows both alike and the ratio stays comparable. Statements per change are counted on the
two extra cases, untimed, with SQLAlchemy's events: every cursor execution
(``before_cursor_execute``) and every COMMIT (``commit``); PostgreSQL's BEGIN, which psycopg
sends by itself, and the pool's pre-ping are not counted on either side. They are counted
before the timing, which so starts warm on both sides: each statement compiled, the letters'
templates loaded, the workflow machine built.

Both sides are checked afterwards (every ``act()`` audit chain verifies, every case ends in
``handling``). PostgreSQL comes from ``DISCLOSURE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); if it cannot be reached the
script says so and exits 1.

Run::

    .venv/bin/python bench/transitions.py [--cases 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# Run as a script, this file's folder is sys.path[0] and this file, being named
# transitions.py, would shadow the ``transitions`` library that the workflow machine imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent) if Path(p or ".").resolve() == _HERE else p for p in sys.path]

from rich.progress import Progress, TaskID  # noqa: E402
from sqlalchemy import Connection, DateTime, bindparam, func, select, text  # noqa: E402

from bench._common import (  # noqa: E402
    new_progress,
    postgres_admin_url,
    postgres_database,
    register_cases,
    require_postgres,
)
from disclosure.config import Settings  # noqa: E402
from disclosure.models.db import count_statements  # noqa: E402
from disclosure.models.tables import AuditEvent, Case  # noqa: E402
from disclosure.services import audit, cases  # noqa: E402
from disclosure.services.unit_of_work import App  # noqa: E402
from disclosure.workflow.states import State  # noqa: E402
from disclosure.workflow.triggers import TRIGGERS_BY_NAME, parse_input  # noqa: E402

TODAY = date(2026, 11, 24)
RECEIVED = date(2026, 11, 2)
CLERK = "alice"
#: The path every case follows: trigger and business date as days after RECEIVED.
STEPS: tuple[tuple[str, int], ...] = (
    ("review", 1),
    ("accept", 2),
    ("consult_third_party", 3),
    ("third_party_replied", 8),
    ("issue_fee", 9),
    ("fee_paid", 14),
)
FINAL_STATE = State.HANDLING
APPLICATION = {
    "applicant_kind": "person",
    "name": "张三",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "phone": "0591-26831234",
    "description": "本局2025年度部门预算及执行情况审计报告",
    "delivery_form": "paper",
    "delivery_method": "pickup",
    "channel": "in_person",
    "received_on": RECEIVED.isoformat(),
}

RAW_UPDATE = text(
    "UPDATE cases SET state = :to_state, version = version + 1, audit_head = :hash "
    "WHERE id = :case_id AND version = :version"
)
RAW_INSERT = text(
    'INSERT INTO audit_events (case_id, seq, at, actor, actor_role, "trigger", from_state, '
    "to_state, reason, payload, prev_hash, hash, scheme, key_id, mac) VALUES (:case_id, :seq, "
    ":at, :actor, :actor_role, :trigger, :from_state, :to_state, :reason, :payload, :prev_hash, "
    ":hash, :scheme, :key_id, :mac)"
).bindparams(bindparam("at", type_=DateTime(timezone=True)))


#: Cases per block of the alternation (see the module docstring).
BLOCK = 10


@dataclass(frozen=True)
class Result:
    backend: str
    act_rate: float
    raw_rate: float
    select_rate: float
    changes: int
    #: Statements of each STEPS change through act(), in order.
    act_statements: tuple[int, ...]
    #: Statements of one raw change.
    raw_statements: int

    def lines(self) -> list[str]:
        steps = dict(zip((trigger for trigger, _ in STEPS), self.act_statements, strict=True))
        mean = sum(self.act_statements) / len(self.act_statements)
        return [
            f"{self.backend}: act() {self.act_rate:,.0f} changes/s"
            f" | raw UPDATE+INSERT {self.raw_rate:,.0f} changes/s"
            f" | ratio {self.act_rate / self.raw_rate:.2f} (n={self.changes})",
            f"{self.backend}: raw with act()'s SELECT first {self.select_rate:,.0f} changes/s"
            f" | ratio to raw {self.select_rate / self.raw_rate:.2f}",
            f"{self.backend}: statements per change (COMMIT included): act() review"
            f" {steps['review']}, mean {mean:.1f} over the steps"
            f" ({' '.join(str(n) for n in self.act_statements)})"
            f" | raw {self.raw_statements}",
        ]


def setup(app: App, count: int, progress: Progress) -> list[int]:
    return register_cases(app, count, APPLICATION, TODAY, progress)


#: What the triggers' letters need: consulting a third party and a fee notice each issue one
#: (rendered and numbered in the same change), so the act() figure includes them.
ACT_INPUTS: dict[str, dict[str, object]] = {
    "consult_third_party": {"party": "福州闽江建设工程有限公司"},
    "third_party_replied": {"opinion": "agree"},
    "issue_fee": {"pages": 120},
}


def act_steps(app: App, case_id: int) -> Iterator[None]:
    """Every STEPS trigger on one case through ``cases.act``, yielding after each."""
    for trigger, offset in STEPS:
        day = RECEIVED + timedelta(offset)
        command = parse_input(trigger, ACT_INPUTS.get(trigger, {}))
        cases.act(app, case_id, command, actor=CLERK, on=day, today=day)
        yield


def time_act(app: App, case_ids: list[int], progress: Progress, task: TaskID) -> float:
    """Seconds for every STEPS trigger on every case through ``cases.act``."""
    started = time.perf_counter()
    for case_id in case_ids:
        for _ in act_steps(app, case_id):
            progress.advance(task)
    return time.perf_counter() - started


def raw_payload(on: date, trigger: str) -> dict[str, object]:
    """A payload shaped and sized like the one ``act()`` records (on, limits, clock event)."""
    clock = TRIGGERS_BY_NAME[trigger].clock
    payload: dict[str, object] = {
        "on": on.isoformat(),
        "limits": {"reply": {"due": (on + timedelta(28)).isoformat(), "provisional": False}},
    }
    if clock is not None:
        payload["clock_event"] = {"kind": clock.value, "on": on.isoformat(), "days": None}
    return payload


def plan_raw(app: App, case_ids: list[int]) -> list[dict[str, object]]:
    """Bind parameters of every raw transaction, chain hashes included (not timed).

    As in ``act()``, the event a change appends has ``seq`` = the case version it commits
    and ``prev_hash`` = the hash of the event before it.
    """
    with app.uow() as uow:
        heads = {
            case_id: (version, head, State(state))
            for case_id, version, head, state in uow.session.execute(
                select(Case.id, Case.version, Case.audit_head, Case.state).where(
                    Case.id.in_(case_ids)
                )
            )
        }
    plan: list[dict[str, object]] = []
    for case_id in case_ids:
        version, head, state = heads[case_id]
        for trigger, offset in STEPS:
            dest = TRIGGERS_BY_NAME[trigger].dest or state
            event = AuditEvent(
                case_id=case_id,
                seq=version + 1,
                at=datetime.now(UTC),
                actor=CLERK,
                actor_role="clerk",
                trigger=trigger,
                from_state=state.value,
                to_state=dest.value,
                reason="",
                payload=audit.canonical_json(raw_payload(RECEIVED + timedelta(offset), trigger)),
                prev_hash=head,
                scheme=audit.SCHEME,
            )
            event.hash = audit.event_hash(event)
            event.key_id, event.mac = app.settings.audit_keys.sign(event.hash)
            plan.append(
                {
                    "case_id": case_id,
                    "version": version,
                    "seq": event.seq,
                    "at": event.at,
                    "actor": event.actor,
                    "actor_role": event.actor_role,
                    "trigger": trigger,
                    "from_state": event.from_state,
                    "to_state": event.to_state,
                    "reason": event.reason,
                    "payload": event.payload,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                    "scheme": event.scheme,
                    "key_id": event.key_id,
                    "mac": event.mac,
                }
            )
            version, head, state = version + 1, event.hash, dest
    return plan


def _update_and_insert(conn: Connection, params: dict[str, object]) -> None:
    """The planned UPDATE (optimistic lock) and INSERT, in the caller's transaction."""
    if conn.execute(RAW_UPDATE, params).rowcount != 1:
        raise RuntimeError(f"optimistic lock lost on case {params['case_id']}")
    conn.execute(RAW_INSERT, params)


def raw_change(conn: Connection, params: dict[str, object]) -> None:
    """One planned UPDATE + INSERT pair in its own transaction (commit)."""
    with conn.begin():
        _update_and_insert(conn, params)


def select_and_raw_change(conn: Connection, params: dict[str, object]) -> None:
    """act()'s SELECT of the user and the case, then the planned raw change."""
    with conn.begin():
        load = {"user_name": CLERK, "case_id": params["case_id"]}
        conn.execute(cases.LOAD_STATEMENT, load).all()
        _update_and_insert(conn, params)


def time_raw(
    conn: Connection,
    plan: list[dict[str, object]],
    progress: Progress,
    task: TaskID,
    change: Callable[[Connection, dict[str, object]], None] = raw_change,
) -> float:
    """Seconds for the planned changes."""
    started = time.perf_counter()
    for params in plan:
        change(conn, params)
        progress.advance(task)
    return time.perf_counter() - started


def time_all(
    app: App,
    act_ids: list[int],
    raw_plan: list[dict[str, object]],
    select_plan: list[dict[str, object]],
    progress: Progress,
) -> tuple[float, float, float]:
    """Seconds of act(), of the raw loop and of the raw loop with act()'s SELECT, run in
    alternating blocks of BLOCK cases."""
    act_task = progress.add_task("act()", total=len(act_ids) * len(STEPS))
    raw_task = progress.add_task("raw UPDATE+INSERT", total=len(raw_plan))
    select_task = progress.add_task("raw with act()'s SELECT", total=len(select_plan))
    act_seconds = raw_seconds = select_seconds = 0.0
    with app.engine.connect() as conn:
        for start in range(0, len(act_ids), BLOCK):
            block = act_ids[start : start + BLOCK]
            act_seconds += time_act(app, block, progress, act_task)
            span = slice(start * len(STEPS), (start + len(block)) * len(STEPS))
            raw_seconds += time_raw(conn, raw_plan[span], progress, raw_task)
            select_seconds += time_raw(
                conn, select_plan[span], progress, select_task, select_and_raw_change
            )
    return act_seconds, raw_seconds, select_seconds


def count_both(app: App, act_id: int, raw_id: int) -> tuple[tuple[int, ...], int]:
    """Statements of each STEPS change of one case through act(), and per raw change."""
    act_counts = []
    with count_statements(app.engine) as counted:
        for _ in act_steps(app, act_id):
            act_counts.append(len(counted))
            counted.clear()
    plan = plan_raw(app, [raw_id])
    with app.engine.connect() as conn, count_statements(app.engine) as counted:
        for params in plan:
            raw_change(conn, params)
    return tuple(act_counts), len(counted) // len(plan)


def check(app: App, act_ids: list[int], expected_cases: int) -> None:
    """act() cases must pass the full audit verification (chain, snapshots, clock events);
    the raw loop writes no clock events or snapshots, so its cases are checked for state only."""
    with app.uow() as uow:
        breaks = [
            b
            for i in act_ids
            for b in audit.verify(uow.session, i, keys=app.settings.audit_keys)[1]
        ]
        states = set(uow.session.scalars(select(Case.state).distinct()))
        total = uow.session.scalar(select(func.count()).select_from(Case))
    if total != expected_cases or breaks or states != {FINAL_STATE.value}:
        raise SystemExit(
            f"benchmark database is inconsistent: {total} cases, "
            f"chain breaks {breaks[:3]}, final states {sorted(states)}"
        )


def run_backend(backend: str, url: str, count: int) -> Result:
    app = App.open(Settings.from_env(database_url=url), create=True)
    try:
        with new_progress() as progress:
            ids = setup(app, 3 * count + 2, progress)
            act_ids, raw_ids = ids[:count], ids[count : 2 * count]
            select_ids = ids[2 * count : 3 * count]
            # Counting first also warms both sides up (see the module docstring).
            act_statements, raw_statements = count_both(app, ids[-2], ids[-1])
            act_seconds, raw_seconds, select_seconds = time_all(
                app, act_ids, plan_raw(app, raw_ids), plan_raw(app, select_ids), progress
            )
        check(app, [*act_ids, ids[-2]], 3 * count + 2)
    finally:
        app.close()
    changes = count * len(STEPS)
    return Result(
        backend,
        changes / act_seconds,
        changes / raw_seconds,
        changes / select_seconds,
        changes,
        act_statements,
        raw_statements,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cases", type=int, default=200, help="cases per path (default 200; x6 changes)"
    )
    args = parser.parse_args()
    if args.cases < 1:
        parser.error("--cases must be at least 1")

    admin_url = postgres_admin_url()
    require_postgres(admin_url)  # fail before spending time on SQLite

    with tempfile.TemporaryDirectory(prefix="disclosure-bench-") as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(*run_backend("sqlite", sqlite_url, args.cases).lines(), sep="\n", flush=True)

    with postgres_database(admin_url, "disclosure_bench") as pg_url:
        print(*run_backend("postgresql", pg_url, args.cases).lines(), sep="\n", flush=True)


if __name__ == "__main__":
    main()
