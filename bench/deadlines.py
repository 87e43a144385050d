"""Reply due dates per second: ``compute_limits`` against a naive day-by-day walk.

Both sides get the same N random but valid inputs (fixed seed): a received date in
2024-01-01..2026-09-30, optionally a correction (request + receipt), up to three
third-party / agency / fee pauses that are all closed again (sometimes overlapping,
sometimes answered after their window and therefore capped), and optionally one extension
decided on or before the due date it extends. The naive reference in this file trusts only
``WorkingCalendar.is_working_day``: it walks the calendar one day at a time and skips the
working days of every pause (S, E]. Every input must give the same due date on both sides
(exit 1 with the first mismatch otherwise); then each side is timed over all inputs, best
of 3 runs, with ``time.perf_counter``.

Run::

    .venv/bin/python bench/deadlines.py [--n 20000] [--seed 20261124]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from disclosure.calendar_source import load_calendar
from disclosure.workflow.calendar import WorkingCalendar
from disclosure.workflow.deadlines import ClockEvent, ClockKind, compute_limits

K = ClockKind
ONE_DAY = timedelta(days=1)
REPLY_DAYS = 20
MAX_EXTENSION = 20
FIRST_RECEIVED = date(2024, 1, 1)
LAST_RECEIVED = date(2026, 9, 30)
REPEATS = 3

#: opening event -> (closing event, window in working days after the opening date)
PAUSE_WINDOWS: dict[ClockKind, tuple[ClockKind, int]] = {
    K.CONSULT_THIRD_PARTY: (K.THIRD_PARTY_REPLIED, 15),
    K.CONSULT_AGENCY: (K.AGENCY_REPLIED, 15),
    K.ISSUE_FEE_NOTICE: (K.FEE_PAID, 20),
}
CLOSING: dict[ClockKind, ClockKind] = {close: opens for opens, (close, _) in PAUSE_WINDOWS.items()}


@dataclass(frozen=True)
class Input:
    received: date
    events: tuple[ClockEvent, ...]


# --- the naive reference ------------------------------------------------------------------


def naive_add(cal: WorkingCalendar, day: date, n: int) -> date:
    """The n-th working day after ``day``, one day at a time."""
    while n > 0:
        day += ONE_DAY
        if cal.is_working_day(day):
            n -= 1
    return day


def naive_walk(
    cal: WorkingCalendar, origin: date, target: int, pauses: Sequence[tuple[date, date]]
) -> date:
    """The day the ``target``-th counted working day after ``origin`` falls on.

    A working day d is not counted when S < d <= E for some pause (S, E].
    """
    day, counted = origin, 0
    while counted < target:
        day += ONE_DAY
        if cal.is_working_day(day) and not any(s < day <= e for s, e in pauses):
            counted += 1
    return day


def naive_due(cal: WorkingCalendar, received: date, events: Sequence[ClockEvent]) -> date:
    """The reply due date of a valid, fully closed event history, by walking the calendar."""
    origin = received
    opened: dict[ClockKind, date] = {}
    pauses: list[tuple[date, date]] = []
    extension = 0
    for event in events:
        kind = event.kind
        if kind is K.RECEIVE_CORRECTION:
            origin = event.on  # the count restarts from the corrected application
        elif kind in PAUSE_WINDOWS:
            opened[kind] = event.on
        elif kind in CLOSING:
            start = opened.pop(CLOSING[kind])
            window_end = naive_add(cal, start, PAUSE_WINDOWS[CLOSING[kind]][1])
            pauses.append((start, min(event.on, window_end)))  # a late answer is capped
        elif kind is K.EXTEND:
            extension = event.days or 0
    if opened:
        raise ValueError("naive_due only handles histories whose pauses are all closed")
    return naive_walk(cal, origin, REPLY_DAYS + extension, pauses)


def fast_due(cal: WorkingCalendar, received: date, events: Sequence[ClockEvent]) -> date:
    reply = compute_limits(cal, received, events).reply
    assert reply is not None
    return reply.due


# --- random valid inputs --------------------------------------------------------------------


def random_input(rng: random.Random, cal: WorkingCalendar) -> Input:
    received = FIRST_RECEIVED + timedelta(
        days=rng.randint(0, (LAST_RECEIVED - FIRST_RECEIVED).days)
    )
    events: list[ClockEvent] = []
    origin = last = received

    def at(gap: int) -> date:
        nonlocal last
        last = last + timedelta(days=rng.randint(0, gap))
        return last

    if rng.random() < 0.3:
        events.append(ClockEvent(K.REQUEST_CORRECTION, at(10)))
        events.append(ClockEvent(K.RECEIVE_CORRECTION, at(30)))
        origin = last

    opened: dict[ClockKind, date] = {}
    closed: list[tuple[date, date]] = []
    pauses_left = rng.randint(0, 3)
    extension_wanted = rng.random() < 0.4
    while pauses_left or opened or extension_wanted:
        moves: list[str] = []
        if pauses_left and len(opened) < len(PAUSE_WINDOWS):
            moves.append("open")
        if opened:
            moves += ["close", "close"]  # prefer sequential pauses, allow some overlap
        if extension_wanted:
            moves.append("extend")
        move = rng.choice(moves)
        if move == "open":
            kind = rng.choice([k for k in PAUSE_WINDOWS if k not in opened])
            opened[kind] = at(15)
            events.append(ClockEvent(kind, last))
            pauses_left -= 1
        elif move == "close":
            kind = rng.choice(list(opened))
            start = opened.pop(kind)
            close_kind, window = PAUSE_WINDOWS[kind]
            events.append(ClockEvent(close_kind, at(40)))
            closed.append((start, min(last, naive_add(cal, start, window))))
        else:
            extension_wanted = False
            # Still-open pauses count as running to the end of their window.
            assumed = [(s, naive_add(cal, s, PAUSE_WINDOWS[k][1])) for k, s in opened.items()]
            due_before = naive_walk(cal, origin, REPLY_DAYS, [*closed, *assumed])
            if last <= due_before:
                on = last + timedelta(days=rng.randint(0, (due_before - last).days))
                last = on
                events.append(ClockEvent(K.EXTEND, on, days=rng.randint(1, MAX_EXTENSION)))
    return Input(received, tuple(events))


# --- timing ---------------------------------------------------------------------------------


def best_rate(
    label: str,
    due: Callable[[WorkingCalendar, date, Sequence[ClockEvent]], date],
    cal: WorkingCalendar,
    inputs: Sequence[Input],
    progress: Progress,
) -> float:
    """Due dates per second, best of ``REPEATS`` full passes over ``inputs``."""
    task = progress.add_task(label, total=REPEATS)
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for item in inputs:
            due(cal, item.received, item.events)
        best = min(best, time.perf_counter() - started)
        progress.advance(task)
    return len(inputs) / best


def describe(item: Input) -> str:
    events = ", ".join(
        f"{e.kind.value}@{e.on.isoformat()}" + (f"+{e.days}" if e.days else "") for e in item.events
    )
    return f"received={item.received.isoformat()} events=[{events}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20000, help="number of inputs (default 20000)")
    parser.add_argument("--seed", type=int, default=20261124, help="random seed")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")

    cal = load_calendar()
    rng = random.Random(args.seed)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,  # no stray lines when stderr is a file
        transient=True,
    )
    with progress:
        task = progress.add_task("generating inputs", total=args.n)
        inputs: list[Input] = []
        for _ in range(args.n):
            inputs.append(random_input(rng, cal))
            progress.advance(task)

        task = progress.add_task("checking both agree", total=args.n)
        for i, item in enumerate(inputs):
            expected = naive_due(cal, item.received, item.events)
            try:
                got: date | str = fast_due(cal, item.received, item.events)
            except Exception as exc:  # a valid input must not be refused
                got = f"{type(exc).__name__}: {exc}"
            if got != expected:
                progress.stop()
                print(
                    f"MISMATCH at input {i}: {describe(item)}\n"
                    f"  compute_limits: {got}\n  naive day-walk: {expected.isoformat()}",
                    file=sys.stderr,
                )
                sys.exit(1)
            progress.advance(task)

        fast = best_rate("timing compute_limits", fast_due, cal, inputs, progress)
        naive = best_rate("timing naive day-walk", naive_due, cal, inputs, progress)

    print(
        f"compute_limits: {fast:,.0f} due dates/s | naive day-walk: {naive:,.0f} due dates/s"
        f" | ratio {fast / naive:.1f}x (n={args.n})"
    )


if __name__ == "__main__":
    main()
