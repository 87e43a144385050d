"""APScheduler wiring: a persistent job that scans for time-limit alerts, once per interval.

The job store lives in the product's own database, so a restart keeps the job and its next
run; the first run after start-up catches up on everything that fell due meanwhile (a scan
always evaluates "today", so nothing depends on having run yesterday).

Several ``disclosure scheduler run`` processes may share one PostgreSQL database. Each scan
happens in one transaction that (1) takes a transaction-level advisory lock — a second node
finds it taken and skips — and (2) claims the interval's slot in ``scheduler_runs`` (unique),
so exactly one node scans per interval; if that node dies its lock and claim vanish with its
transaction and any other node scans at the next interval. SQLite serializes writers itself,
and is meant for one process.

A node that is not dead but frozen (stopped with SIGSTOP, swapped out, a client whose
session lingers) would keep the lock for ever and every other node would skip. So the
scan's transaction bounds itself on the server (``scan_timeouts``): idle in its transaction
longer than half an interval, the server ends the session and the lock is released; a
statement or a lock wait longer than that is cancelled. Another node therefore takes over
at the next interval.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from datetime import date, datetime
from types import FrameType

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from disclosure.config import Settings
from disclosure.models.tables import SchedulerRun
from disclosure.services.alerts import ScanCounts, recompute_after_calendar_change, scan
from disclosure.services.unit_of_work import App

log = logging.getLogger("disclosure.scheduler")

ADVISORY_LOCK_KEY = 0x0D15C105  # one key for the whole product: "disclos(e)"
JOB_ID = "disclosure-time-limit-scan"


@dataclass(frozen=True)
class ScanOutcome:
    """What one attempt did: scanned (with counts), or skipped and why."""

    counts: ScanCounts | None
    skipped: str | None = None


def scan_timeouts(interval_seconds: int) -> dict[str, int]:
    """Server-side limits (milliseconds) for one scan's transaction on PostgreSQL.

    Half an interval (at least 1 s), so a frozen node's lock is gone before the next slot;
    capped at 60 s idle / lock wait and 5 min per statement for long intervals (a scan of a
    million cases takes well under a second, see README).
    """
    half = interval_seconds * 1000 // 2
    return {
        "idle_in_transaction_session_timeout": max(1000, min(half, 60_000)),
        "lock_timeout": max(1000, min(half, 60_000)),
        "statement_timeout": max(1000, min(half, 300_000)),
    }


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_scan(
    app: App, today: date, *, slot: int | None, node: str, dry_run: bool = False
) -> ScanOutcome:
    """One scan in one transaction; ``slot`` None means a manual scan outside the schedule;
    ``dry_run`` computes the counts and rolls everything back."""
    now = app.now()
    # A holiday update first: limits must be right before alerts are judged on them.
    recomputed = 0 if dry_run else recompute_after_calendar_change(app, now)
    with app.uow() as uow:
        session = uow.session
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            # Local to this transaction: the pooled connection keeps its defaults.
            for name, ms in scan_timeouts(app.settings.scan_interval_seconds).items():
                session.execute(
                    text("SELECT set_config(:name, :value, true)"),
                    {"name": name, "value": f"{ms}ms"},
                )
            locked = session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            if not locked:
                return ScanOutcome(None, "another node is scanning")
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {"slot": slot, "node": node, "today": today, "started_at": now,
                  "raised": 0, "cleared": 0, "recomputed": 0}  # fmt: skip
        run_id = session.execute(
            insert(SchedulerRun)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(SchedulerRun.id)
        ).scalar()
        if run_id is None:
            return ScanOutcome(None, "this interval was already scanned")
        counts = scan(session, app.settings, today, now, recomputed)
        run = session.scalars(select(SchedulerRun).where(SchedulerRun.id == run_id)).one()
        run.finished_at = app.now()
        run.raised, run.cleared, run.recomputed = counts.raised, counts.cleared, counts.recomputed
        if not dry_run:
            uow.commit()
        return ScanOutcome(counts)


_app: App | None = None


def scan_job() -> None:
    """The scheduled job (referenced by name in the job store, so it survives restarts)."""
    global _app
    if _app is None:
        _app = App.open(Settings.from_env())
    settings = _app.settings
    slot = int(time.time() // settings.scan_interval_seconds)
    today = settings.agency_today()
    try:
        outcome = run_scan(_app, today, slot=slot, node=node_name())
    except Exception:  # the scheduler must keep running; the next interval retries
        log.exception("scan failed (slot %s)", slot)
        return
    if outcome.counts is None:
        log.info("scan skipped: %s (slot %s)", outcome.skipped, slot)
    else:
        c = outcome.counts
        log.info(
            "scan done: today=%s slot=%s raised=%d cleared=%d recomputed=%d",
            today.isoformat(),
            slot,
            c.raised,
            c.cleared,
            c.recomputed,
        )


def run_forever(settings: Settings) -> None:
    """``disclosure scheduler run``: a blocking APScheduler until SIGINT/SIGTERM."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = App.open(settings)  # migrates before the job store creates its own table
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=app.engine, tablename="apscheduler_jobs")},
        timezone=settings.agency_timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    scheduler.add_job(
        "disclosure.scheduler:scan_job",
        trigger="interval",
        seconds=settings.scan_interval_seconds,
        id=JOB_ID,
        replace_existing=True,
        next_run_time=datetime.now(scheduler.timezone),  # catch up at once after downtime
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started on %s, every %d s", node_name(), settings.scan_interval_seconds)
    scheduler.start()
