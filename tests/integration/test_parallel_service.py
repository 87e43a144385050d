"""Fifty clerks acting on fifty cases at once through the service layer, on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from disclosure.models.tables import Case
from disclosure.services import audit, cases
from disclosure.services.unit_of_work import App
from disclosure.workflow.triggers import parse_input
from tests.conftest import TODAY, application

CASES = 50
RECEIVED = date(2026, 11, 2)
STEPS = [("review", {}), ("accept", {}), ("consult_agency", {"party": "示例市财政局"})]


def _run(app: App, case_ids: list[int], threads: int) -> tuple[float, list[tuple[float, float]]]:
    """Every step on every case, spread over ``threads`` threads; the wall time and each
    act() call's (start, end)."""
    spans: list[tuple[float, float]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    chunks = [case_ids[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads)

    def work(chunk: list[int]) -> None:
        barrier.wait()
        for case_id in chunk:
            for trigger, fields in STEPS:
                started = time.perf_counter()
                try:
                    cases.act(
                        app, case_id, parse_input(trigger, fields), actor="alice",
                        on=RECEIVED, today=RECEIVED,
                    )  # fmt: skip
                except BaseException as exc:  # noqa: BLE001 - reported below
                    with lock:
                        errors.append(exc)
                    return
                with lock:
                    spans.append((started, time.perf_counter()))

    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors, errors[:3]
    return time.perf_counter() - started, spans


def _overlapping(spans: list[tuple[float, float]]) -> int:
    """The most act() calls that were under way at one moment."""
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_fifty_threads_act_on_fifty_cases_at_once_without_a_global_lock(app: App) -> None:
    data = application(received_on=RECEIVED.isoformat())
    parallel = [cases.register(app, data, "alice", TODAY) for _ in range(CASES)]
    serial = [cases.register(app, data, "alice", TODAY) for _ in range(CASES)]

    one_thread, _ = _run(app, serial, 1)
    fifty_threads, spans = _run(app, parallel, CASES)
    print(
        f"\n{CASES} cases × {len(STEPS)} steps: one thread {one_thread:.2f} s, "
        f"{CASES} threads {fifty_threads:.2f} s (ratio {one_thread / fifty_threads:.1f}x); "
        f"at most {_overlapping(spans)} act() calls under way at once"
    )
    assert len(spans) == CASES * len(STEPS)  # every change succeeded
    # Several changes were in flight together: nothing serialises them on one lock.
    assert _overlapping(spans) > 1
    with app.uow() as uow:
        for case_id in parallel:
            case = uow.session.get(Case, case_id)
            assert case is not None and case.state == "consulting_agency"
            assert audit.verify(uow.session, case_id, keys=app.settings.audit_keys) == (1, [])
