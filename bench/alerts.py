"""A full time-limit scan over 1,000,000 open cases against an indexed ``count(*)`` floor.

The script creates a fresh PostgreSQL database ``disclosure_bench_alerts_<pid>`` (dropped at
the end, also on failure), opens the application on it (which runs the migrations), adds one
applicant and loads N open cases with ``COPY … FROM STDIN`` (psycopg 3, in chunks, with a
progress bar), then runs ``VACUUM ANALYZE``. States are spread over every open state; each
case carries the limits its state stores (``reply_due`` except while a correction is
requested, ``correction_notice_due`` while registered or under review, the pause limit
while consulting or awaiting the fee) derived from a received date like the workflow does.
About 1.5 % of the cases alert on the benchmark day (2026-11-24): one limit is put in one
condition's date range; every other limit lies well beyond every alert window. The number of
alerts every condition must raise is counted while the rows are generated.

In the same run, best of 3 with ``time.perf_counter``:

* first scan: ``services.scheduling.run_scan`` on an empty ``alerts`` table (raises every alert);
* repeat scan: ``run_scan`` again (steady state: nothing raised, nothing cleared);
* baseline: for every condition of ``workflow.alerts.CONDITIONS`` one plain
  ``SELECT count(*) FROM cases WHERE state IN (…) AND <column> BETWEEN :first AND :last``
  with the ``date_range`` bounds the scan uses, i.e. over the same indexes; the per-condition
  times of a round are summed.

It prints the alerts raised per condition, the first line of the plan of the scan's
``reply_overdue`` SELECT, and one line with both times and the ratio. PostgreSQL comes from
``DISCLOSURE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); if it cannot be reached the
script says so and exits 1.

Run::

    .venv/bin/python bench/alerts.py [--cases 1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Run as a script, this file's folder is sys.path[0], and bench/transitions.py there would
# shadow the ``transitions`` library that the workflow machine imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent) if Path(p or ".").resolve() == _HERE else p for p in sys.path]

from rich.progress import Progress  # noqa: E402
from sqlalchemy import Engine, bindparam, text  # noqa: E402

from bench._common import (  # noqa: E402
    copy_cases,
    new_progress,
    postgres_admin_url,
    postgres_database,
    require_postgres,
)
from disclosure.config import Settings  # noqa: E402
from disclosure.services.alerts import ScanCounts  # noqa: E402
from disclosure.services.scheduling import run_scan  # noqa: E402
from disclosure.services.unit_of_work import App  # noqa: E402
from disclosure.workflow.alerts import CONDITIONS, Condition, date_range  # noqa: E402
from disclosure.workflow.rules import RULES_2019  # noqa: E402
from disclosure.workflow.states import OPEN_STATES, State  # noqa: E402

TODAY = date(2026, 11, 24)
SEED = 20261124
REPEATS = 3
ALERT_SHARE = 0.015
#: How many working days before today an overdue limit may lie.
MAX_OVERDUE = 20
EXPLAINED = "reply_overdue"

#: Open states and their weight in the generated mix.
STATE_WEIGHTS: dict[State, int] = {
    State.REGISTERED: 8,
    State.UNDER_REVIEW: 10,
    State.CORRECTION_REQUESTED: 8,
    State.HANDLING: 30,
    State.CONSULTING_THIRD_PARTY: 8,
    State.CONSULTING_AGENCY: 5,
    State.AWAITING_FEE: 6,
    State.REPLY_DRAFTED: 15,
    State.REPLY_APPROVED: 10,
}
#: The limit columns in COPY order, after the fixed columns.
LIMITS = (
    "reply_due",
    "correction_notice_due",
    "correction_period_due",
    "third_party_due",
    "agency_due",
    "fee_due",
)
COLUMNS = (
    "applicant_id", "description", "delivery_form", "delivery_method", "channel",
    "received_on", "registered_at", "registered_by", "state", "last_action_on",
    *LIMITS, "limits_provisional", "is_demo", "version",
)  # fmt: skip
FIRST_LIMIT = COLUMNS.index(LIMITS[0])
#: A paused state -> (the column of its pause limit, the window in working days).
PAUSES: dict[State, tuple[str, int]] = {
    State.CONSULTING_THIRD_PARTY: ("third_party_due", RULES_2019.consultation_days),
    State.CONSULTING_AGENCY: ("agency_due", RULES_2019.consultation_days),
    State.AWAITING_FEE: ("fee_due", RULES_2019.fee_payment_days),
}
DESCRIPTION = "本局2025年度部门预算及执行情况审计报告，含预算调整说明和项目支出明细"

Row = tuple[Any, ...]

BASELINE = "SELECT count(*) FROM cases WHERE state IN :states AND {column} BETWEEN :first AND :last"
SCAN_SELECT = (
    "SELECT id, {column} FROM cases WHERE state IN :states AND {column} BETWEEN :first AND :last"
)


def statement(template: str, condition: Condition) -> Any:
    # The column comes from the fixed CONDITIONS table, as in services.alerts.
    return text(template.format(column=condition.column)).bindparams(
        bindparam("states", expanding=True)
    )


def condition_params(settings: Settings, condition: Condition) -> dict[str, Any]:
    """The states and the date range the scan binds for ``condition`` on TODAY."""
    n = getattr(settings, condition.threshold) if condition.threshold else 0
    first, last = date_range(condition, settings.calendar, TODAY, n)
    return {"states": sorted(s.value for s in condition.states), "first": first, "last": last}


class CaseFactory:
    """Rows for ``COPY cases``, and how many alerts each condition must raise for them.

    Dates are picked as indexes into the list of working days around TODAY, so every limit
    falls on a working day and "k working days later" is ``index + k``.
    """

    def __init__(self, settings: Settings, applicant_id: int, seed: int) -> None:
        cal = settings.calendar
        start = TODAY - timedelta(days=400)
        span = (start + timedelta(days=i) for i in range(800))
        self.days = [d for d in span if cal.is_working_day(d)]
        self.t = self.days.index(TODAY)  # TODAY must be a working day
        tz = ZoneInfo(settings.agency_timezone)
        self.registered_at = [datetime.combine(d, clock_time(9, 30), tz) for d in self.days]
        self.rng = random.Random(seed)
        self.applicant_id = applicant_id
        self.states = list(STATE_WEIGHTS)
        self.weights = list(STATE_WEIGHTS.values())
        self.ranges = {c.key: condition_params(settings, c) for c in CONDITIONS}
        # Working-day indexes each condition's limit may take on an alerting case.
        self.alert_indexes: dict[str, list[int]] = {}
        for c in CONDITIONS:
            first, last = self.ranges[c.key]["first"], self.ranges[c.key]["last"]
            candidates = range(self.t - 1 - MAX_OVERDUE, self.t + 30)
            self.alert_indexes[c.key] = [i for i in candidates if first <= self.days[i] <= last]
        self.applicable = {s: [c for c in CONDITIONS if s in c.states] for s in OPEN_STATES}
        # For counting: per state, (position in the row, first, last, key) of each condition.
        self.checks = {
            s.value: [
                (
                    COLUMNS.index(c.column),
                    self.ranges[c.key]["first"],
                    self.ranges[c.key]["last"],
                    c.key,
                )
                for c in self.applicable[s]
            ]  # fmt: skip
            for s in OPEN_STATES
        }
        self.expected = dict.fromkeys((c.key for c in CONDITIONS), 0)

    def limits(self, state: State, alert: Condition | None) -> tuple[int, dict[str, int]]:
        """The received day and the stored limits of one case, as working-day indexes."""
        rng, t = self.rng, self.t
        at = rng.choice(self.alert_indexes[alert.key]) if alert else None
        column = alert.column if alert else None
        limits: dict[str, int] = {}
        if state in PAUSES:
            pause_column, window = PAUSES[state]
            used = rng.randint(0, 7)  # reply clock used before the pause began
            if column == pause_column:
                assert at is not None
                start = at - window  # the window has ended
            else:
                start = t - rng.randint(0, 12)  # the window is still running
            limits[pause_column] = start + window
            received = start - used
            # Paused: the reply limit is what is left of the clock, counted from today.
            limits["reply_due"] = t + RULES_2019.reply_days - used
            if column == "reply_due":
                assert at is not None
                limits["reply_due"] = at
                received = min(at - RULES_2019.reply_days, start)
            return received, limits
        if state is State.CORRECTION_REQUESTED:
            if column == "correction_period_due":
                assert at is not None
                notice = at - RULES_2019.correction_period_days
                received = notice - rng.randint(1, 7)
            else:
                received = t - rng.randint(1, 12)
                notice = min(received + rng.randint(1, 7), t)
            limits["correction_period_due"] = notice + RULES_2019.correction_period_days
            return received, limits
        if column == "reply_due":
            assert at is not None
            received = at - RULES_2019.reply_days
        elif column == "correction_notice_due":
            assert at is not None
            received = at - RULES_2019.correction_notice_days
        elif state in (State.REGISTERED, State.UNDER_REVIEW):
            received = t - rng.randint(0, 3)  # not yet reviewed: a recent application
        else:
            received = t - rng.randint(0, 12)
        limits["reply_due"] = received + RULES_2019.reply_days
        if state in (State.REGISTERED, State.UNDER_REVIEW):
            limits["correction_notice_due"] = received + RULES_2019.correction_notice_days
        return received, limits

    def row(self) -> Row:
        rng, days = self.rng, self.days
        state = rng.choices(self.states, self.weights)[0]
        alert = rng.choice(self.applicable[state]) if rng.random() < ALERT_SHARE else None
        received, limits = self.limits(state, alert)
        on = days[received]
        row = (
            self.applicant_id, DESCRIPTION, "paper", "pickup", "in_person",
            on, self.registered_at[received], "alice", state.value, on,
            *(days[limits[c]] if c in limits else None for c in LIMITS),
            False, False, 1,
        )  # fmt: skip
        for position, first, last, key in self.checks[state.value]:
            value = row[position]
            if value is not None and first <= value <= last:
                self.expected[key] += 1
        return row


def load_cases(app: App, count: int, progress: Progress) -> dict[str, int]:
    """COPY ``count`` open cases; returns the alerts each condition must raise."""
    with app.engine.begin() as conn:
        applicant_id = conn.execute(
            text(
                "INSERT INTO applicants (kind, name, id_type, id_number, phone, email, address,"
                " postal_code) VALUES ('person', '张三', 'resident_id', '11010519491231002X',"
                " '0591-26831234', '', '示例市人民路2号', '350001') RETURNING id"
            )
        ).scalar_one()
    factory = CaseFactory(app.settings, applicant_id, SEED)
    copy_cases(app, COLUMNS, factory.row, count, progress)
    return factory.expected


def maintenance(engine: Engine, sql: str) -> None:
    """VACUUM and TRUNCATE outside the pool's transactions."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(sql))


def best_of(
    label: str,
    run: Callable[[], ScanCounts],
    progress: Progress,
    before: Callable[[], None] | None = None,
) -> tuple[float, list[ScanCounts]]:
    """Best of REPEATS timed calls of ``run``; ``before`` (untimed) runs ahead of each."""
    task = progress.add_task(label, total=REPEATS)
    times, results = [], []
    for _ in range(REPEATS):
        if before is not None:
            before()
        started = time.perf_counter()
        results.append(run())
        times.append(time.perf_counter() - started)
        progress.advance(task)
    return min(times), results


def scan_once(app: App) -> ScanCounts:
    outcome = run_scan(app, TODAY, slot=None, node="bench")
    if outcome.counts is None:
        raise SystemExit(f"the scan was skipped: {outcome.skipped}")
    return outcome.counts


def time_counts(app: App, progress: Progress) -> tuple[float, list[dict[str, int]]]:
    """Best round of one plain count(*) per condition (per-condition times summed)."""
    queries = [
        (c.key, statement(BASELINE, c), condition_params(app.settings, c)) for c in CONDITIONS
    ]
    task = progress.add_task("indexed count(*)", total=REPEATS)
    rounds, results = [], []
    with app.engine.connect() as conn:
        for _ in range(REPEATS):
            seconds, counts = 0.0, {}
            for key, query, params in queries:
                started = time.perf_counter()
                counts[key] = conn.execute(query, params).scalar_one()
                seconds += time.perf_counter() - started
            conn.rollback()
            rounds.append(seconds)
            results.append(counts)
            progress.advance(task)
    return min(rounds), results


def explain(app: App, key: str) -> tuple[str, bool]:
    """First plan line of the scan's SELECT for one condition, and whether an index is used."""
    condition = next(c for c in CONDITIONS if c.key == key)
    query = statement("EXPLAIN " + SCAN_SELECT, condition)
    with app.engine.connect() as conn:
        plan = list(conn.execute(query, condition_params(app.settings, condition)).scalars())
    return plan[0], any("Index" in line for line in plan)


def fail(message: str) -> None:
    raise SystemExit(f"benchmark check failed: {message}")


def run(url: str, count: int) -> None:
    app = App.open(Settings.from_env(database_url=url, today=TODAY), create=True)
    try:
        with new_progress() as progress:
            started = time.perf_counter()
            expected = load_cases(app, count, progress)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            maintenance(app.engine, "VACUUM ANALYZE cases")
            analyzed = time.perf_counter() - started
            print(
                f"loaded {count:,} open cases with COPY in {loaded:.1f} s,"
                f" VACUUM ANALYZE {analyzed:.1f} s",
                flush=True,
            )
            app.settings.calendar  # noqa: B018 — build the cached calendar before timing

            first, first_counts = best_of(
                "first scan",
                lambda: scan_once(app),
                progress,
                # untimed: every round starts with no alerts
                before=lambda: maintenance(app.engine, "TRUNCATE alerts"),
            )
            for counts in first_counts:
                if counts.by_condition != expected or counts.cleared:
                    fail(f"first scan raised {counts.by_condition}, expected {expected}")
            # What autovacuum would have done by the next interval; untimed.
            maintenance(app.engine, "VACUUM ANALYZE alerts")
            repeat, repeat_counts = best_of("repeat scan", lambda: scan_once(app), progress)
            for counts in repeat_counts:
                if counts.raised or counts.cleared or counts.recomputed:
                    fail(f"repeat scan changed something: {counts}")
            baseline, count_results = time_counts(app, progress)
            for found in count_results:
                if found != expected:
                    fail(f"count(*) found {found}, expected {expected}")
        plan_line, uses_index = explain(app, EXPLAINED)
    finally:
        app.close()

    raised = first_counts[0].raised
    per_condition = ", ".join(f"{k} {n:,}" for k, n in expected.items())
    print(f"alerts raised by the first scan: {raised:,} ({per_condition})")
    print(
        f"EXPLAIN {EXPLAINED} SELECT: {plan_line.strip()}"
        f" -> {'index scan' if uses_index else 'NO index scan'}"
    )
    print(
        f"{count:,} open cases, {raised:,} alerts | first scan {first:.2f} s"
        f" | repeat scan {repeat:.2f} s | indexed count(*) over the same ranges {baseline:.2f} s"
        f" | ratio (repeat scan / count) {repeat / baseline:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cases", type=int, default=1_000_000, help="open cases to load (default 1,000,000)"
    )
    args = parser.parse_args()
    if args.cases < 1:
        parser.error("--cases must be at least 1")

    admin_url = postgres_admin_url()
    require_postgres(admin_url)
    with postgres_database(admin_url, "disclosure_bench_alerts") as url:
        run(url, args.cases)


if __name__ == "__main__":
    main()
