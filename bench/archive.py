"""Archive export: 卷宗 files per second, against rendering the same PDFs alone.

The script creates a fresh PostgreSQL database ``disclosure_bench_archive_<pid>`` (dropped at
the end), registers N applications through the service layer, withdraws and archives each
(so every file holds the 登记回执, the trail of four events and the case's PDF summary) and
takes a checkpoint, so each file carries its Merkle proof.

In the same run, timed with ``time.perf_counter``:

* export: ``services.archive.export_many`` of the N cases into a temporary folder (each file
  rendered, hashed, zipped and written atomically, owner-only);
* baseline: the same N 登记回执 rendered to PDF from their stored HTML (``html_to_pdf``),
  the one step of an export no code of ours can make cheaper.

Every exported file is then verified offline (``archive.verify_file``, untimed). It prints
files per second for both and the ratio. PostgreSQL comes from
``DISCLOSURE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); if it cannot be reached the
script says so and exits 1.

Run::

    .venv/bin/python bench/archive.py [--cases 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

# Run as a script, this file's folder is sys.path[0], and bench/transitions.py there would
# shadow the ``transitions`` library that the workflow machine imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent) if Path(p or ".").resolve() == _HERE else p for p in sys.path]

from sqlalchemy import select  # noqa: E402

from bench._common import (  # noqa: E402
    application,
    new_progress,
    postgres_admin_url,
    postgres_database,
    register_cases,
    require_postgres,
)
from disclosure.config import Settings  # noqa: E402
from disclosure.letters.output import html_to_pdf  # noqa: E402
from disclosure.models.tables import Letter  # noqa: E402
from disclosure.services import archive, cases, checkpoints  # noqa: E402
from disclosure.services.unit_of_work import App  # noqa: E402
from disclosure.workflow.triggers import parse_input  # noqa: E402

TODAY = date(2026, 11, 24)


def run(url: str, count: int) -> None:
    app = App.open(Settings.from_env(database_url=url), create=True)
    try:
        with new_progress() as progress:
            ids = register_cases(app, count, application("2026-11-02"), TODAY, progress)
            task = progress.add_task("withdraw and archive", total=count)
            withdraw = parse_input("withdraw", {"reason": "申请人书面撤回"})
            for case_id in ids:
                cases.act(app, case_id, withdraw, actor="alice", on=TODAY, today=TODAY)
                cases.act(
                    app, case_id, parse_input("archive", {}), actor="alice", on=TODAY, today=TODAY
                )
                progress.advance(task)
            checkpoints.take(app)
            with app.uow() as uow:
                receipts = list(
                    uow.session.scalars(
                        select(Letter.html).where(Letter.kind == "receipt").order_by(Letter.id)
                    )
                )
            with tempfile.TemporaryDirectory(prefix="disclosure-bench-archive-") as tmp:
                export_task = progress.add_task("export", total=count)
                started = time.perf_counter()
                written = archive.export_many(
                    app, ids, Path(tmp), advance=lambda: progress.advance(export_task)
                )
                export_s = time.perf_counter() - started
                pdf_task = progress.add_task("PDF only", total=len(receipts))
                started = time.perf_counter()
                for html in receipts:
                    html_to_pdf(html)
                    progress.advance(pdf_task)
                pdf_s = time.perf_counter() - started
                broken = [p.name for p in written if not archive.verify_file(p.read_bytes()).intact]
    finally:
        app.close()
    if len(written) != count or broken:
        raise SystemExit(f"{len(written)} files written, {len(broken)} do not verify: {broken[:3]}")
    print(
        f"archive export: {count / export_s:.1f} files/s | the same receipts as PDF only:"
        f" {len(receipts) / pdf_s:.1f} PDFs/s | ratio {(count / export_s) / (len(receipts) / pdf_s):.2f}"
        f" (n={count}, every file verified offline)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=1000, help="cases to export (default 1000)")
    args = parser.parse_args()
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    admin_url = postgres_admin_url()
    require_postgres(admin_url)
    with postgres_database(admin_url, "disclosure_bench_archive") as url:
        run(url, args.cases)


if __name__ == "__main__":
    main()
