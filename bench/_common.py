"""What the benchmarks share: a quiet progress bar, demo users and cases, PostgreSQL
plumbing (a fresh database per run, or a clear exit) and a statement counter."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date
    from typing import Any

    from disclosure.services.unit_of_work import App

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> URL:
    url = make_url(os.environ.get("DISCLOSURE_TEST_POSTGRES_URL", PG_DEFAULT))
    if url.drivername == "postgresql":  # psycopg 3 is the driver the product ships
        url = url.set(drivername="postgresql+psycopg")
    return url


@contextmanager
def postgres_database(admin_url: URL, prefix: str) -> Iterator[str]:
    """A fresh database for this run, dropped on the way out; yields its URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def require_postgres(admin_url: URL) -> None:
    """Exit 1 with the command that starts PostgreSQL: benchmarks never skip it."""
    engine = create_engine(admin_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        print(
            f"PostgreSQL is not reachable at {admin_url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0]}\n"
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
            " or set DISCLOSURE_TEST_POSTGRES_URL; this benchmark does not skip PostgreSQL.",
            file=sys.stderr,
        )
        sys.exit(1)
    finally:
        engine.dispose()


def new_progress() -> Progress:
    """A progress bar on stderr that leaves no stray lines when stderr is a file."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )


#: Rows per COPY statement.
COPY_CHUNK = 50_000


def copy_cases(
    app: App,
    columns: Sequence[str],
    row: Callable[[], Sequence[Any]],
    count: int,
    progress: Progress,
) -> None:
    """COPY ``count`` rows made by ``row()`` into ``cases`` (PostgreSQL, psycopg 3), in
    chunks, with a progress bar; one commit at the end."""
    sql = f"COPY cases ({', '.join(columns)}) FROM STDIN"
    task = progress.add_task("COPY cases", total=count)
    raw = app.engine.raw_connection()
    try:
        pg = raw.driver_connection  # the psycopg 3 connection, for cursor.copy()
        assert pg is not None
        with pg.cursor() as cursor:
            done = 0
            while done < count:
                size = min(COPY_CHUNK, count - done)
                with cursor.copy(sql) as copy:
                    for _ in range(size):
                        copy.write_row(row())
                done += size
                progress.advance(task, size)
        raw.commit()
    finally:
        raw.close()


def register_cases(
    app: App, count: int, application: dict[str, Any], today: date, progress: Progress
) -> list[int]:
    """Add a clerk (alice) and a supervisor (bob), register ``count`` applications, and
    gather the planner's statistics."""
    from disclosure.services import cases

    cases.add_user(app, "alice", "clerk", "王晓梅")
    cases.add_user(app, "bob", "supervisor", "李建国")
    task = progress.add_task("registering cases", total=count)
    ids = []
    for _ in range(count):
        ids.append(cases.register(app, application, "alice", today))
        progress.advance(task)
    # Fresh tables have no planner statistics; a running database has them (autovacuum
    # analyses a table soon after it grows), and without them PostgreSQL picks nested loops
    # that a fee notice's month count would pay for on every change.
    with app.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return ids


#: The benchmarks' applicant (Art. 29, a checksum-valid resident ID).
_APPLICATION = {
    "applicant_kind": "person",
    "name": "张三",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "phone": "13800000000",
    "address": "福建省福州市罗源县凤山镇1号",
    "description": "2025年度部门预算执行审计报告",
    "delivery_form": "paper",
    "delivery_method": "pickup",
    "channel": "in_person",
}


def application(received_on: str, **changes: str) -> dict[str, str]:
    """A valid application received on ``received_on``, with ``changes``."""
    return {**_APPLICATION, "received_on": received_on, **changes}
