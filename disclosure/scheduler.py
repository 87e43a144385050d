"""APScheduler wiring for ``disclosure scheduler run``: an interval job calling the scan service.

Each process has its own scheduler and keeps its job in memory: APScheduler 3's job stores
must never be shared between schedulers, and the job need not outlive the process. Every
start adds the job with its first run due at once, so a restarted node catches up straight
away; a scan evaluates every alert condition for today from the stored limits, so the runs
missed while no node was up need no replaying. Which node scans an interval is settled in
the database by the service, not by APScheduler (``disclosure.services.scheduling``).
"""

from __future__ import annotations

import logging
import signal
from datetime import datetime
from types import FrameType
from typing import Any

from disclosure.config import Settings
from disclosure.services.digest import send_digests
from disclosure.services.scheduling import interval_slot, node_name, run_scan
from disclosure.services.unit_of_work import App

__all__ = [
    "DIGEST_JOB_ID",
    "JOB_ID",
    "digest_job",
    "run_forever",
    "scan_job",
    "start_in_background",
]

log = logging.getLogger("disclosure.scheduler")

JOB_ID = "disclosure-time-limit-scan"
DIGEST_JOB_ID = "disclosure-daily-digest"


def scan_job(app: App) -> None:
    """The scheduled job: scan the current interval for the agency's today, and log the result.

    An exception is logged, not raised: the scheduler keeps running and the next interval
    tries again.
    """
    settings = app.settings
    slot = interval_slot(app.now(), settings.scan_interval_seconds)
    today = settings.agency_today()
    try:
        outcome = run_scan(app, today, slot=slot, node=node_name())
    except Exception:
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


def digest_job(app: App) -> None:
    """The daily job: send each user's digest (``services.digest``); errors are logged."""
    try:
        send_digests(app, app.settings.agency_today())
    except Exception:
        log.exception("daily digest failed")


def _with_scan_job(kind: Any, app: App) -> Any:
    """A scheduler of ``kind`` with its jobs in memory and ``scan_job`` due at once; with a
    mail server configured, ``digest_job`` every day at ``digest_hour`` (agency time)."""
    from apscheduler.jobstores.memory import MemoryJobStore

    settings = app.settings
    scheduler = kind(
        jobstores={"default": MemoryJobStore()},
        timezone=settings.agency_timezone,
        # Runs missed while the process was suspended make one run, however late; a
        # run falling due while the previous scan is still going is skipped.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    scheduler.add_job(
        scan_job,
        trigger="interval",
        args=(app,),
        seconds=settings.scan_interval_seconds,
        id=JOB_ID,
        next_run_time=datetime.now(scheduler.timezone),  # catch up at once on start
    )
    if settings.smtp_host:
        scheduler.add_job(
            digest_job, trigger="cron", args=(app,), hour=settings.digest_hour, id=DIGEST_JOB_ID
        )
    return scheduler


def start_in_background(app: App) -> Any:
    """Start the scan in a thread of this process (the web application's); returns the
    scheduler, whose ``shutdown()`` stops it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = _with_scan_job(BackgroundScheduler, app)
    scheduler.start()
    log.info("scheduler started in the background, every %d s", app.settings.scan_interval_seconds)
    return scheduler


def run_forever(settings: Settings) -> None:
    """Run ``scan_job`` at once and then every ``scan_interval_seconds``, until SIGINT/SIGTERM.

    Blocks the calling thread (``BlockingScheduler``); the job runs in a worker thread. A
    signal stops the scheduler without waiting for a scan under way, which still finishes
    before the process exits (Python joins the worker thread at exit).

    Raises:
        ConfigurationError: the database has no schema, or a newer one (``App.open``).
        DatabaseUnavailable: the database cannot be reached.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = App.open(settings)
    try:
        scheduler = _with_scan_job(BlockingScheduler, app)

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("stopping on signal %d", signum)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("scheduler started on %s, every %d s", node_name(), settings.scan_interval_seconds)
        scheduler.start()
    finally:
        app.close()
