"""``disclosure scheduler run`` as real processes: restarts, and two nodes on one PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select, text

from disclosure.config import Settings
from disclosure.models.tables import Alert, SchedulerRun
from disclosure.scheduler import JOB_ID
from disclosure.services import cases
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, application

INTERVAL = 2


def start(database_url: str) -> subprocess.Popen[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")},
        "DISCLOSURE_DATABASE_URL": database_url,
        "DISCLOSURE_TODAY": TODAY.isoformat(),
        "DISCLOSURE_SCAN_INTERVAL_SECONDS": str(INTERVAL),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "disclosure", "scheduler", "run"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def runs(database_url: str) -> list[SchedulerRun]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = list(conn.execute(select(SchedulerRun).order_by(SchedulerRun.slot)))
    engine.dispose()
    return rows  # type: ignore[return-value]


def wait_for_runs(database_url: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(runs(database_url)) < count:
        assert time.monotonic() < deadline, "the scheduler did not scan in time"
        time.sleep(0.2)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    return output


@pytest.fixture
def overdue_case(app: App) -> Iterator[str]:
    cases.register(app, application(received_on="2026-09-07"), "alice", TODAY)
    yield app.settings.database_url


def test_the_scheduler_scans_logs_counts_and_survives_a_restart(overdue_case: str) -> None:
    url = overdue_case
    first = start(url)
    wait_for_runs(url, 1)
    output = stop(first)
    assert "raised=2" in output and "张三" not in output and "11010519491231002X" not in output
    engine = create_engine(url)
    with engine.connect() as conn:
        jobs = conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
    assert jobs == [JOB_ID]  # the job is kept in the product's own database
    before = len(runs(url))
    second = start(url)
    wait_for_runs(url, before + 1)
    stop(second)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Alert)).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_nodes_on_postgresql_scan_once_per_interval_and_take_over(overdue_case: str) -> None:
    url = overdue_case
    assert Settings.from_env(database_url=url).database_url.startswith("postgresql")
    a, b = start(url), start(url)
    wait_for_runs(url, 3)
    a.kill()  # node A dies without cleaning up
    a.communicate(timeout=10)
    killed_at = len(runs(url))
    wait_for_runs(url, killed_at + 2)  # node B carries on alone
    stop(b)
    rows = runs(url)
    slots = [row.slot for row in rows]
    assert len(slots) == len(set(slots))  # never two scans of one interval
    assert len(rows) >= 5
    assert all(row.finished_at is not None for row in rows)
    engine = create_engine(url)
    with engine.connect() as conn:
        alerts = conn.execute(select(func.count()).select_from(Alert)).scalar()
    engine.dispose()
    assert alerts == 2  # overdue reply and correction notice, raised once by whichever node


FREEZE = """
import os, signal, sys
from disclosure import scheduler
from disclosure.config import Settings
from disclosure.services.unit_of_work import App

real_scan = scheduler.scan


def scan_then_freeze(*args, **kwargs):
    counts = real_scan(*args, **kwargs)
    print("frozen inside the scan", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)  # as if stopped, swapped out or hung
    return counts


scheduler.scan = scan_then_freeze
settings = Settings.from_env()
app = App.open(settings)
scheduler.run_scan(app, settings.agency_today(), slot=1, node="frozen")
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_frozen_node_does_not_stop_the_others(overdue_case: str) -> None:
    """A node stopped inside its scan (SIGSTOP) keeps its session open; the server ends it
    after half an interval idle, so the other node misses at most one slot (#30)."""
    url = overdue_case
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")},
        "DISCLOSURE_DATABASE_URL": url,
        "DISCLOSURE_TODAY": TODAY.isoformat(),
        "DISCLOSURE_SCAN_INTERVAL_SECONDS": str(INTERVAL),
    }
    node = start(url)
    wait_for_runs(url, 1)  # the other node is up and scanning
    frozen = subprocess.Popen(
        [sys.executable, "-c", FREEZE], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert frozen.stdout is not None
        assert frozen.stdout.readline().strip() == "frozen inside the scan"
        frozen_at = datetime.now(UTC)
        engine = create_engine(url)
        with engine.connect() as conn:  # it holds the scan lock, idle in its transaction
            holders = conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            ).scalar()
        engine.dispose()
        assert holders == 1
        before = len(runs(url))
        wait_for_runs(url, before + 2, timeout=6 * INTERVAL)  # two more scans by the other node
        output = stop(node)
    finally:
        frozen.send_signal(signal.SIGCONT)
        frozen.kill()
        frozen.communicate(timeout=10)
    after = [r for r in runs(url) if _aware(r.started_at) > frozen_at]
    assert after and all(r.node != "frozen" for r in runs(url))
    assert (_aware(after[0].started_at) - frozen_at).total_seconds() <= 2 * INTERVAL + 1
    assert output.count("another node is scanning") <= 1, output  # at most one slot missed


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
