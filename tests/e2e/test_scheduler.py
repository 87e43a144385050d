"""``disclosure scheduler run`` as real processes: restarts, and two nodes on one PostgreSQL.

Nothing here sleeps for a fixed time: every wait polls for a condition (scans recorded in
``scheduler_runs``, a line in a process's output) until a generous deadline, and fails
saying what it waited for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from disclosure.config import Settings
from disclosure.models.tables import Alert, SchedulerRun
from disclosure.services import cases
from disclosure.services.unit_of_work import App
from tests.conftest import TODAY, application

INTERVAL = 2
#: How long any wait may take before the test fails: far above the few seconds each needs.
DEADLINE = 60.0


def wait_until(
    condition: Callable[[], bool], what: Callable[[], str], timeout: float = DEADLINE
) -> None:
    """Poll ``condition`` until it holds; after ``timeout`` seconds fail, saying ``what()``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what()}", pytrace=False)
        time.sleep(0.02)


def environment(database_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")},
        "DISCLOSURE_DATABASE_URL": database_url,
        "DISCLOSURE_TODAY": TODAY.isoformat(),
        "DISCLOSURE_SCAN_INTERVAL_SECONDS": str(INTERVAL),
    }


class Node:
    """A child process whose output (stdout and stderr) is collected as it is printed."""

    def __init__(self, args: list[str], database_url: str) -> None:
        self.process = subprocess.Popen(
            args, env=environment(database_url), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:  # closed at end of output, when the process has ended
            for line in self.process.stdout:
                self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(list(self.lines))

    def wait_for_line(self, part: str) -> str:
        """The first line containing ``part``, once printed; fails if the process ends first."""

        def printed() -> bool:
            if any(part in line for line in list(self.lines)):
                return True
            if self.process.poll() is not None:
                self._reader.join(timeout=DEADLINE)
                if not any(part in line for line in self.lines):
                    pytest.fail(
                        f"the process exited ({self.process.returncode}) without printing"
                        f" {part!r}:\n{self.output}",
                        pytrace=False,
                    )
            return False

        wait_until(printed, lambda: f"a line with {part!r}; output so far:\n{self.output}")
        return next(line for line in list(self.lines) if part in line)

    def stop(self) -> str:
        """SIGTERM, wait for a clean exit, and return everything it printed."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=DEADLINE)
        self._reader.join(timeout=DEADLINE)
        output = self.output
        assert self.process.returncode == 0, output
        assert "Traceback" not in output
        return output

    def kill(self) -> None:
        """SIGKILL (it may be stopped: SIGKILL still ends it) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=DEADLINE)
        self._reader.join(timeout=DEADLINE)


@pytest.fixture
def start() -> Iterator[Callable[..., Node]]:
    """Start ``disclosure scheduler run`` (or ``python -c code``); kills leftovers at the end."""
    started: list[Node] = []

    def _start(database_url: str, code: str | None = None) -> Node:
        command = ["-c", code] if code else ["-m", "disclosure", "scheduler", "run"]
        node = Node([sys.executable, *command], database_url)
        started.append(node)
        return node

    yield _start
    for node in started:
        node.kill()


def runs(database_url: str) -> list[SchedulerRun]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = list(conn.execute(select(SchedulerRun).order_by(SchedulerRun.slot)))
    engine.dispose()
    return rows  # type: ignore[return-value]


def wait_for_runs(database_url: str, count: int, timeout: float = DEADLINE) -> None:
    """Wait until ``scheduler_runs`` holds at least ``count`` scans."""
    seen: list[SchedulerRun] = []

    def enough() -> bool:
        seen[:] = runs(database_url)
        return len(seen) >= count

    wait_until(enough, lambda: f"{count} scans in scheduler_runs (saw {len(seen)})", timeout)


@pytest.fixture
def overdue_case(app: App) -> Iterator[str]:
    cases.register(app, application(received_on="2026-09-07"), "alice", TODAY)
    yield app.settings.database_url


def test_the_scheduler_scans_logs_counts_and_survives_a_restart(
    overdue_case: str, start: Callable[..., Node]
) -> None:
    url = overdue_case
    first = start(url)
    first.wait_for_line("scan done")  # logged once the scan committed
    output = first.stop()
    assert "raised=2" in output and "张三" not in output and "11010519491231002X" not in output
    engine = create_engine(url)
    # Each process keeps its job in memory: APScheduler writes nothing to the database.
    assert not inspect(engine).has_table("apscheduler_jobs")
    before = len(runs(url))
    second = start(url)
    wait_for_runs(url, before + 1)
    second.stop()
    assert runs(url)[-1].node.endswith(f":{second.process.pid}")  # the restarted node scanned
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Alert)).scalar() == 2
    assert not inspect(engine).has_table("apscheduler_jobs")
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_nodes_on_postgresql_scan_once_per_interval_and_take_over(
    overdue_case: str, start: Callable[..., Node]
) -> None:
    url = overdue_case
    assert Settings.from_env(database_url=url).database_url.startswith("postgresql")
    a, b = start(url), start(url)
    wait_for_runs(url, 3)
    a.kill()  # node A dies without cleaning up
    killed_at = len(runs(url))
    wait_for_runs(url, killed_at + 2)  # node B carries on alone
    b.stop()
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
from disclosure.config import Settings
from disclosure.services import scheduling
from disclosure.services.unit_of_work import App

real_scan = scheduling.scan


def scan_then_freeze(*args, **kwargs):
    counts = real_scan(*args, **kwargs)
    print("frozen inside the scan", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)  # as if stopped, swapped out or hung
    return counts


scheduling.scan = scan_then_freeze
settings = Settings.from_env()
app = App.open(settings)
scheduling.run_scan(app, settings.agency_today(), slot=1, node="frozen")
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_frozen_node_does_not_stop_the_others(
    overdue_case: str, start: Callable[..., Node]
) -> None:
    """A node stopped inside its scan (SIGSTOP) keeps its session open; the server ends it
    after half an interval idle, so the other node misses at most one slot (#30)."""
    url = overdue_case
    node = start(url)
    wait_for_runs(url, 1)  # the other node is up and scanning
    engine = create_engine(url)
    # Connected beforehand: the lock must be seen before the server's 1 s idle limit ends it.
    with engine.connect() as conn:
        frozen = start(url, FREEZE)
        try:
            assert frozen.wait_for_line("frozen inside the scan").strip() == (
                "frozen inside the scan"
            )
            frozen_at = datetime.now(UTC)
            holders = conn.execute(  # it holds the scan lock, idle in its transaction
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            ).scalar()
            conn.rollback()
            assert holders == 1
            before = len(runs(url))
            wait_for_runs(url, before + 2, timeout=6 * INTERVAL)  # two more scans by the other node
            output = node.stop()
        finally:
            frozen.process.send_signal(signal.SIGCONT)
            frozen.kill()
    engine.dispose()
    after = [r for r in runs(url) if _aware(r.started_at) > frozen_at]
    assert after and all(r.node != "frozen" for r in runs(url))
    assert (_aware(after[0].started_at) - frozen_at).total_seconds() <= 2 * INTERVAL + 1
    assert output.count("another node is scanning") <= 1, output  # at most one slot missed


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
