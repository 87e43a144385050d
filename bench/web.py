"""Web latency at 100,000 cases: the clerk's filtered worklist and a case page against a
static file served by the same app.

The script creates a fresh PostgreSQL database ``disclosure_bench_web_<pid>`` (dropped at the
end, also on failure) and opens the application on it (which runs the migrations). It adds a
clerk (alice, with a password) and a supervisor and registers R cases through
``services.cases.register`` (each with its audit event and receipt letter), then loads the
other N - R as open cases with ``COPY … FROM STDIN`` the way ``bench/alerts.py`` does (every
open state, limits as the workflow stores them), runs one alert scan (so the header's alert
count has ~1.5 % of the cases to count, as in production) and ``VACUUM ANALYZE``.

Then ``disclosure web --no-scheduler`` (uvicorn, one process, as installed) serves that
database on a free port in a subprocess, with ``DISCLOSURE_TODAY`` fixed to the day the cases
were made for. One ``httpx2.Client`` (keep-alive) signs in through the real ``/login`` form
(the CSRF token from the page) as the clerk and, after WARMUP untimed requests of each kind,
times with ``time.perf_counter`` REQUESTS requests of each, interleaved (list, case, static,
list, …) so that a busy machine slows all three alike:

* list: ``GET /?scope=all&…``, the clerk's worklist of the whole agency, rotating over a few
  filters (state, reply limit range); every page must say the total a plain ``count(*)``
  finds;
* case: ``GET /cases/{id}``, every request a different case (half registered through the
  service, half loaded with COPY);
* static: ``GET /static/app.css`` from the same app (Starlette's ``StaticFiles``), the floor.

It prints p50 and p99 of each, and the ratio p99 list page / p99 static against the target
(within 10x); missing the target is reported, not an error. Every response must be 200
(exit 1 otherwise). PostgreSQL comes from ``DISCLOSURE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); if it cannot be reached the
script says so and exits 1.

Run::

    .venv/bin/python bench/web.py [--cases 100000] [--requests 1000]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, NoReturn

# Run as a script, this file's folder is sys.path[0], and bench/transitions.py there would
# shadow the ``transitions`` library that the workflow machine imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent) if Path(p or ".").resolve() == _HERE else p for p in sys.path]

import httpx2 as httpx  # noqa: E402
from rich.progress import Progress  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench._common import (  # noqa: E402
    application,
    new_progress,
    postgres_admin_url,
    postgres_database,
    register_cases,
    require_postgres,
)
from bench.alerts import TODAY, load_cases, maintenance, scan_once  # noqa: E402
from disclosure.config import Settings  # noqa: E402
from disclosure.services.auth import Channel, set_password  # noqa: E402
from disclosure.services.unit_of_work import App  # noqa: E402

SEED = 20261124
WARMUP = 50
REGISTERED = 500
TARGET = 10.0
CLERK = "alice"
PASSWORD = "bench-web-secret-2026"
STATIC = "/static/app.css"
START_TIMEOUT = 60.0
APPLICATION = application(TODAY.isoformat(), name="李四")
#: The worklist filters the list requests rotate over: (query string, SQL for the total).
FILTERS: list[tuple[str, str]] = [
    ("state=handling", "state = 'handling'"),
    (
        f"state=handling&due_from={TODAY}",
        f"state = 'handling' AND reply_due >= '{TODAY}'",
    ),
    (
        f"due_from={TODAY}&due_to={TODAY + timedelta(days=14)}",
        f"reply_due BETWEEN '{TODAY}' AND '{TODAY + timedelta(days=14)}'",
    ),
    ("state=reply_drafted", "state = 'reply_drafted'"),
]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TOTAL = re.compile(r"共 (\d+) 件")


def fail(message: str) -> NoReturn:
    raise SystemExit(f"benchmark check failed: {message}")


def setup(app: App, count: int, progress: Progress) -> tuple[list[int], list[int], int]:
    """Users, REGISTERED cases through the service and the rest with COPY, one alert scan;
    returns the ids of the registered and of the loaded cases, and the alerts raised."""
    registered = register_cases(app, REGISTERED, APPLICATION, TODAY, progress)
    set_password(app, CLERK, PASSWORD, by="bench", channel=Channel.CLI)
    load_cases(app, count - REGISTERED, progress)
    counts = scan_once(app)
    maintenance(app.engine, "VACUUM ANALYZE")
    with app.engine.connect() as conn:
        loaded = list(
            conn.execute(
                text("SELECT id FROM cases WHERE NOT (id = ANY(:ids)) ORDER BY id"),
                {"ids": registered},
            ).scalars()
        )
    return registered, loaded, counts.raised


def expected_totals(app: App) -> dict[str, int]:
    """What each worklist filter must report as its total (the clerk's agency is all)."""
    with app.engine.connect() as conn:
        return {
            query: conn.execute(text(f"SELECT count(*) FROM cases WHERE {where}")).scalar_one()
            for query, where in FILTERS
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def web_server(database_url: str, log: IO[bytes]) -> Iterator[str]:
    """``disclosure web`` on ``database_url`` in a subprocess; yields its base URL once it
    answers, and stops it on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "DISCLOSURE_DATABASE_URL": database_url,
        "DISCLOSURE_TODAY": TODAY.isoformat(),
    }
    command = [sys.executable, "-m", "disclosure", "web", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-scheduler"]
    # cwd: ``-m`` puts the working directory first on sys.path; from bench/, the
    # neighbouring transitions.py would shadow the ``transitions`` library.
    server = subprocess.Popen(command, env=env, cwd=_HERE.parent, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                fail(f"`disclosure web` exited {server.returncode}:\n{server_log(log)}")
            try:
                if httpx.get(base + STATIC, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                fail(f"`disclosure web` did not answer in {START_TIMEOUT:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def server_log(log: IO[bytes]) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-3000:]


def sign_in(client: httpx.Client) -> None:
    """Through the real form: the token the page carries, then the redirect to the list."""
    found = _CSRF.search(client.get("/login").text)
    if found is None:
        fail("the sign-in page has no form token")
    response = client.post(
        "/login",
        data={"csrf_token": found.group(1), "name": CLERK, "password": PASSWORD},
        follow_redirects=False,
    )
    if response.status_code != 303:
        fail(f"sign-in answered {response.status_code}: {response.text[:300]}")


def get(client: httpx.Client, path: str) -> httpx.Response:
    response = client.get(path)
    if response.status_code != 200:
        fail(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return response


def check_list(totals: dict[str, int]) -> Callable[[str, httpx.Response], None]:
    def check(query: str, response: httpx.Response) -> None:
        found = _TOTAL.search(response.text)
        shown = int(found.group(1)) if found else None
        if shown != totals[query]:
            fail(f"GET /?scope=all&{query} shows total {shown}, expected {totals[query]:,}")
        if totals[query] and "/cases/" not in response.text:
            fail(f"GET /?scope=all&{query} lists no case")

    return check


def percentile(samples: list[float], p: float) -> float:
    """Nearest rank: the smallest sample with at least p % of the samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def measure(
    client: httpx.Client,
    case_ids: list[int],
    totals: dict[str, int],
    requests: int,
    progress: Progress,
) -> dict[str, list[float]]:
    """Seconds per request of each kind; WARMUP untimed rounds first, then ``requests``."""
    check = check_list(totals)
    queries = [query for query, _ in FILTERS]
    times: dict[str, list[float]] = {"list": [], "case": [], "static": []}
    task = progress.add_task("requests", total=3 * (WARMUP + requests))
    for i in range(WARMUP + requests):
        query = queries[i % len(queries)]
        paths = {
            "list": f"/?scope=all&{query}",
            "case": f"/cases/{case_ids[i % len(case_ids)]}",
            "static": STATIC,
        }
        for kind, path in paths.items():
            started = time.perf_counter()
            response = get(client, path)
            seconds = time.perf_counter() - started
            if i >= WARMUP:
                times[kind].append(seconds)
            if kind == "list":
                check(query, response)
            progress.advance(task)
    return times


def run(url: str, count: int, requests: int) -> None:
    app = App.open(Settings.from_env(database_url=url, today=TODAY), create=True)
    try:
        with new_progress() as progress:
            started = time.perf_counter()
            registered, loaded, raised = setup(app, count, progress)
            print(
                f"{count:,} cases ({len(registered):,} registered through the service,"
                f" {len(loaded):,} loaded with COPY), {raised:,} open alerts;"
                f" set-up {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            totals = expected_totals(app)
            rng = random.Random(SEED)
            # Every timed case request asks for another case: half registered, half loaded.
            half = requests // 2
            case_ids = rng.sample(registered, min(half, len(registered)))
            case_ids += rng.sample(loaded, min(requests - len(case_ids), len(loaded)))
            rng.shuffle(case_ids)
            timed = set(case_ids)
            warm = rng.sample([i for i in loaded if i not in timed], WARMUP)
            with (
                tempfile.TemporaryFile() as log,
                web_server(url, log) as base,
                httpx.Client(base_url=base, timeout=30) as client,
            ):
                try:
                    sign_in(client)
                    times = measure(client, warm + case_ids, totals, requests, progress)
                except SystemExit:
                    print(f"`disclosure web` said:\n{server_log(log)}", file=sys.stderr)
                    raise
    finally:
        app.close()

    rows = [
        ("list", f"GET /?scope=all&… ({len(FILTERS)} filters)"),
        ("case", f"GET /cases/{{id}} ({len(set(case_ids)):,} ids)"),
        ("static", f"GET {STATIC}"),
    ]
    p50 = {kind: percentile(times[kind], 50) * 1000 for kind in times}
    p99 = {kind: percentile(times[kind], 99) * 1000 for kind in times}
    print("filters: " + " | ".join(f"?scope=all&{q} ({totals[q]:,})" for q, _ in FILTERS))
    width = max(len(label) for _, label in rows)
    print(f"{'request':<{width}}  {'p50 ms':>8}  {'p99 ms':>8}")
    for kind, label in rows:
        print(f"{label:<{width}}  {p50[kind]:>8.2f}  {p99[kind]:>8.2f}")
    ratio = p99["list"] / p99["static"]
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"{count:,} cases, {requests:,} requests each | list page p50 {p50['list']:.1f} ms"
        f" p99 {p99['list']:.1f} ms | case page p50 {p50['case']:.1f} ms"
        f" p99 {p99['case']:.1f} ms | static p50 {p50['static']:.1f} ms"
        f" p99 {p99['static']:.1f} ms | ratio (p99 list / p99 static) {ratio:.1f}"
        f" (target {TARGET:.0f}x: {verdict})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cases", type=int, default=100_000, help="cases in the database (default 100,000)"
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="timed requests of each kind (default 1,000)"
    )
    args = parser.parse_args()
    if args.cases < REGISTERED + WARMUP:
        parser.error(f"--cases must be at least {REGISTERED + WARMUP}")
    if args.requests < 1:
        parser.error("--requests must be at least 1")

    admin_url = postgres_admin_url()
    require_postgres(admin_url)
    with postgres_database(admin_url, "disclosure_bench_web") as url:
        run(url, args.cases, args.requests)


if __name__ == "__main__":
    main()
