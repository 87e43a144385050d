"""Time-limit scans as the scheduler runs them: at most one per interval, however many nodes.

Several ``disclosure scheduler run`` processes may share one PostgreSQL database. A scan's
transaction first takes a transaction-level advisory lock (``ADVISORY_LOCK_KEY``): a node
that finds it taken skips. It then claims the interval's slot in ``scheduler_runs``, whose
``slot`` column is unique: a node that finds the slot claimed skips. The claim commits with
the alerts it raised and cleared, so each interval is scanned at most once. If the scanning
node dies first, its lock and its claim vanish with its transaction, and a later attempt (at
the latest, the next interval's) scans again.

SQLite has no advisory lock. It is meant for one scheduler process; should two share a file,
the unique slot still lets only one of them scan an interval.

A node that is frozen rather than dead (stopped with SIGSTOP, swapped out) would keep the
lock, and every other node would skip. So on PostgreSQL the scan's transaction carries
server-side limits (``scan_timeouts``): the server ends a session left idle in its
transaction, which releases the lock, and cancels a statement or a lock wait that runs too
long, each after about half an interval. Another node then scans at the next interval.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from disclosure.models.tables import SchedulerRun
from disclosure.services import checkpoints
from disclosure.services.alerts import ScanCounts, recompute_after_calendar_change, scan
from disclosure.services.unit_of_work import App

#: The one advisory-lock key of the whole product (reads "disclos(e)").
ADVISORY_LOCK_KEY = 0x0D15C105

#: ``ScanOutcome.skipped`` values; the CLI shows them in Chinese.
SKIPPED_LOCKED = "another node is scanning"
SKIPPED_SLOT_TAKEN = "this interval was already scanned"


@dataclass(frozen=True)
class ScanOutcome:
    """What one attempt did.

    Attributes:
        counts: what the scan raised, cleared and recomputed; None if it skipped.
        skipped: why it skipped (``SKIPPED_LOCKED`` or ``SKIPPED_SLOT_TAKEN``); None if it
            scanned.
        checkpoint: the number of the checkpoint taken after the scan, if any.
    """

    counts: ScanCounts | None
    skipped: str | None = None
    #: The checkpoint the scan took (``services.checkpoints``); None if nothing changed.
    checkpoint: int | None = None


def interval_slot(moment: datetime, interval_seconds: int) -> int:
    """The number of the scan interval ``moment`` falls in, counted from the Unix epoch.

    Every node gets the same number for the same interval whenever it started, which is
    what lets the unique ``scheduler_runs.slot`` admit one scan per interval.

    Args:
        moment: a timezone-aware time (a naive one would be read as the machine's local time).
        interval_seconds: ``Settings.scan_interval_seconds``.
    """
    return int(moment.timestamp() // interval_seconds)


def scan_timeouts(interval_seconds: int) -> dict[str, int]:
    """Server-side limits, in milliseconds, for one scan's transaction on PostgreSQL.

    Each is half the interval and at least 1 s, so for intervals of 2 s or more a node
    frozen in its scan loses its session, and the lock with it, before the next interval
    begins. The idle and lock-wait limits are capped at 60 s and the statement limit at
    5 min, so with long intervals a frozen node is let go sooner; a scan of a million open
    cases takes well under a second (``bench/alerts.py``).
    """
    half = interval_seconds * 1000 // 2
    return {
        "idle_in_transaction_session_timeout": max(1000, min(half, 60_000)),
        "lock_timeout": max(1000, min(half, 60_000)),
        "statement_timeout": max(1000, min(half, 300_000)),
    }


def node_name() -> str:
    """This process as ``scheduler_runs.node`` records it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_scan(
    app: App, today: date, *, slot: int | None, node: str, dry_run: bool = False
) -> ScanOutcome:
    """Scan for ``today`` unless another node holds the lock or has claimed ``slot``.

    First, if the working calendar changed since the stored limits were computed, the limits
    of open cases are recomputed in transactions of their own
    (``recompute_after_calendar_change``). Every attempt does this, even one that then
    skips. Then one transaction sets ``scan_timeouts`` and takes the advisory lock (both on
    PostgreSQL only), inserts the ``scheduler_runs`` row, raises and clears the alerts
    (``alerts.scan``), records the counts on the row, and commits. Last, a checkpoint of the
    trail (``checkpoints.take``) in a transaction of its own.

    Args:
        app: the application context.
        today: the day the alerts are judged for.
        slot: the interval being scanned (``interval_slot``), or None for a manual scan.
            A NULL slot never conflicts, so a manual scan always runs unless a node holds the
            lock.
        node: who scans, recorded on the row (``node_name()``).
        dry_run: skip the recomputation (``counts.recomputed`` is 0) and roll the scan's
            transaction back: the counts say what a scan would raise and clear against the
            limits as stored, and nothing is kept, not even the run row.

    Returns:
        The counts, or why the attempt skipped.
    """
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
                return ScanOutcome(None, SKIPPED_LOCKED)
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
            return ScanOutcome(None, SKIPPED_SLOT_TAKEN)
        counts = scan(session, app.settings, today, now, recomputed)
        run = session.scalars(select(SchedulerRun).where(SchedulerRun.id == run_id)).one()
        run.finished_at = app.now()
        run.raised, run.cleared, run.recomputed = counts.raised, counts.cleared, counts.recomputed
        if dry_run:
            return ScanOutcome(counts)
        uow.commit()
    # The checkpoint after the scan's commit: a failing folder never loses the alerts.
    made = checkpoints.take(app)
    return ScanOutcome(counts, checkpoint=made.seq if made is not None else None)
