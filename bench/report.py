"""The annual report over 1,000,000 cases against a single GROUP BY over the same rows.

The script creates a fresh PostgreSQL database ``disclosure_bench_report_<pid>`` (dropped at
the end, also on failure), opens the application on it (which runs the migrations), adds one
applicant of each of the six kinds and loads N cases with ``COPY … FROM STDIN`` spread over
2025-07 to 2026-12: about 80 % closed (replied with an outcome and reason drawn from the
closed set, withdrawn or abandoned) 3 to 60 days after receipt, the rest open; then
``VACUUM ANALYZE``. While the rows are generated, the report's 一 and 四 totals for 2026 are
counted in Python, and the report must print exactly those.

In the same run, best of 3 with ``time.perf_counter``:

* report: ``services.reports.annual_report(app, 2026)`` — the whole report, its sections
  四 and 六 and every check of the form's arithmetic included;
* baseline: one ``SELECT kind, state, outcome, outcome_reason, count(*) … GROUP BY`` over
  the same cases (received by the year's end, not closed before it), joined to the applicants.

It prints one line with both times and the ratio (goal: at most 2). PostgreSQL comes from
``DISCLOSURE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); if it cannot be reached the
script says so and exits 1.

Run::

    .venv/bin/python bench/report.py [--cases 1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's folder is sys.path[0], and bench/transitions.py there would
# shadow the ``transitions`` library that the workflow machine imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent) if Path(p or ".").resolve() == _HERE else p for p in sys.path]

from rich.progress import Progress  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench._common import (  # noqa: E402
    copy_cases,
    new_progress,
    postgres_admin_url,
    postgres_database,
    require_postgres,
)
from disclosure.config import Settings  # noqa: E402
from disclosure.services import reports  # noqa: E402
from disclosure.services.unit_of_work import App  # noqa: E402
from disclosure.workflow.application import ApplicantKind  # noqa: E402
from disclosure.workflow.states import OPEN_STATES, OUTCOMES, SYSTEM_OUTCOMES, State  # noqa: E402

YEAR = 2026
SEED = 20261206
REPEATS = 3
FIRST_DAY, LAST_DAY = date(2025, 7, 1), date(2026, 12, 31)
COLUMNS = (
    "applicant_id", "description", "delivery_form", "delivery_method", "channel",
    "received_on", "registered_at", "registered_by", "state", "last_action_on", "closed_on",
    "outcome", "outcome_reason", "limits_provisional", "is_demo", "version",
)  # fmt: skip
DRAFTABLE = [(o.code, r) for o in OUTCOMES.values() for r in o.reasons
             if (o.code, r) not in SYSTEM_OUTCOMES]  # fmt: skip
OPEN = sorted(OPEN_STATES)
BASELINE = text(
    "SELECT a.kind, c.state, c.outcome, c.outcome_reason, count(*) FROM cases c"
    " JOIN applicants a ON a.id = c.applicant_id"
    " WHERE c.received_on <= :end AND (c.closed_on IS NULL OR c.closed_on >= :start)"
    " GROUP BY a.kind, c.state, c.outcome, c.outcome_reason"
)


class CaseFactory:
    """Random cases, and the 一 and 四 totals of YEAR's report they make."""

    def __init__(self, applicants: dict[str, int]) -> None:
        self.rng = random.Random(SEED)
        self.applicants = list(applicants.values())
        self.span = (LAST_DAY - FIRST_DAY).days
        self.received_in_year = 0
        self.carried_forward = 0

    def row(self) -> tuple[Any, ...]:
        rng = self.rng
        received = FIRST_DAY + timedelta(rng.randrange(self.span + 1))
        closed: date | None = received + timedelta(rng.randint(3, 60))
        outcome = reason = None
        draw = rng.random()
        if draw < 0.2 or (closed is not None and closed > LAST_DAY):
            state, closed = rng.choice(OPEN), None
        elif draw < 0.25:
            state = State.WITHDRAWN
        elif draw < 0.28:
            state, (outcome, reason) = State.ABANDONED, ("other", "no_correction")
        else:
            state, (outcome, reason) = State.REPLIED, rng.choice(DRAFTABLE)
        if received.year == YEAR:
            self.received_in_year += 1
        if closed is None or closed.year > YEAR:
            self.carried_forward += 1
        at = datetime(received.year, received.month, received.day, 2, tzinfo=UTC)
        return (
            rng.choice(self.applicants), "2025年度部门预算执行审计报告", "paper", "pickup",
            "in_person", received, at, "alice", state.value, closed or received, closed,
            outcome, reason, False, False, 1,
        )  # fmt: skip


def load(app: App, count: int, progress: Progress) -> CaseFactory:
    with app.engine.begin() as conn:
        applicants = {
            kind.value: conn.execute(
                text(
                    "INSERT INTO applicants (kind, name, id_type, id_number, phone, email,"
                    " address, postal_code) VALUES (:kind, '张三', 'resident_id',"
                    " '11010519491231002X', '0591-26831234', '', '示例市人民路2号', '350001')"
                    " RETURNING id"
                ),
                {"kind": kind.value},
            ).scalar_one()
            for kind in ApplicantKind
        }
    factory = CaseFactory(applicants)
    copy_cases(app, COLUMNS, factory.row, count, progress)
    with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return factory


def best_of(label: str, run: Callable[[], Any], progress: Progress) -> tuple[float, Any]:
    task = progress.add_task(label, total=REPEATS)
    best, result = float("inf"), None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
        progress.advance(task)
    return best, result


def baseline(app: App) -> int:
    with app.engine.connect() as conn:
        rows = conn.execute(BASELINE, {"start": date(YEAR, 1, 1), "end": date(YEAR, 12, 31)})
        return sum(row[-1] for row in rows)


def run(url: str, count: int) -> None:
    app = App.open(Settings.from_env(database_url=url), create=True)
    try:
        with new_progress() as progress:
            started = time.perf_counter()
            factory = load(app, count, progress)
            print(f"loaded {count:,} cases with COPY and VACUUM ANALYZE in"
                  f" {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
            report_s, report = best_of(
                "annual report", lambda: reports.annual_report(app, YEAR), progress
            )
            group_s, grouped = best_of("GROUP BY", lambda: baseline(app), progress)
    finally:
        app.close()
    new, forward = report.section3["一"]["总计"], report.section3["四"]["总计"]
    if (new, forward) != (factory.received_in_year, factory.carried_forward):
        raise SystemExit(
            f"the report counts 一 {new:,} and 四 {forward:,}; the generator made"
            f" {factory.received_in_year:,} and {factory.carried_forward:,}"
        )
    print(
        f"{count:,} cases ({grouped:,} in the {YEAR} report) | annual report {report_s:.2f} s"
        f" | GROUP BY over the same rows {group_s:.2f} s | ratio {report_s / group_s:.2f}"
        f" (goal ≤ 2)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cases", type=int, default=1_000_000, help="cases to load (default 1,000,000)"
    )
    args = parser.parse_args()
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    admin_url = postgres_admin_url()
    require_postgres(admin_url)
    with postgres_database(admin_url, "disclosure_bench_report") as url:
        run(url, args.cases)


if __name__ == "__main__":
    main()
