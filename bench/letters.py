"""PDF letters per second for a 200-letter batch, printed with the command.

The script opens the application on a temporary SQLite database (which runs the
migrations), adds a clerk and a supervisor and registers N cases (today 2026-11-24); each
registration issues and stores a receipt letter (受理回执). Then, on the N stored letters:

* pdf: ``render_format(letter.html, "pdf")`` (WeasyPrint, CJK font subset) and an atomic
  write (``.part`` then rename) to ``案件<id>_<文号>.pdf``, as ``disclosure letter batch``
  does. One warm-up render of the first letter, not timed, loads Pango and the font first.
* html: the same loop with ``render_format(letter.html, "html")`` (UTF-8 bytes of the
  stored HTML) — the floor: reading, encoding and writing without any layout.
* cli: ``python -m disclosure letter batch --state registered --out DIR`` once, end to
  end (interpreter start, imports, database read, rendering, writing), in a subprocess with
  ``DISCLOSURE_DATABASE_URL`` pointing at the same database.

Every PDF, in-process and from the command, must start with ``%PDF`` and be under 1 MB
(the font is embedded as a subset, not whole); otherwise the script exits 1.

Run::

    .venv/bin/python bench/letters.py [--letters 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Run as a script, this file's folder is sys.path[0], and bench/transitions.py would shadow
# the ``transitions`` library that the workflow machine (imported by services.cases) needs.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent) if Path(p or ".").resolve() == _HERE else p for p in sys.path]

from rich.progress import Progress  # noqa: E402

from bench._common import application, new_progress, register_cases  # noqa: E402
from disclosure.config import Settings  # noqa: E402
from disclosure.letters.output import render_format  # noqa: E402
from disclosure.services.letters import letters_in_state  # noqa: E402
from disclosure.services.unit_of_work import App  # noqa: E402
from disclosure.workflow.states import State  # noqa: E402

TODAY = date(2026, 11, 24)
MAX_PDF_BYTES = 1_000_000
APPLICATION = application("2026-11-02")


@dataclass(frozen=True)
class StoredLetter:
    case_id: int
    number: str
    html: str

    def filename(self, fmt: str) -> str:
        return f"案件{self.case_id}_{self.number}.{fmt}"


def setup(app: App, count: int, progress: Progress) -> list[StoredLetter]:
    """Register ``count`` cases and read back the receipt letters they issued."""
    register_cases(app, count, APPLICATION, TODAY, progress)
    with app.uow() as uow:
        letters = [
            StoredLetter(letter.case_id, letter.number, letter.html)
            for letter in letters_in_state(uow.session, State.REGISTERED.value)
        ]
    if len(letters) != count:
        sys.exit(f"expected {count} receipt letters, found {len(letters)}")
    return letters


def write_atomically(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def time_render(letters: list[StoredLetter], fmt: str, out_dir: Path, progress: Progress) -> float:
    """Seconds to render every letter to ``fmt`` and write it to ``out_dir``."""
    out_dir.mkdir()
    task = progress.add_task(fmt, total=len(letters))
    started = time.perf_counter()
    for letter in letters:
        write_atomically(out_dir / letter.filename(fmt), render_format(letter.html, fmt))
        progress.advance(task)
    return time.perf_counter() - started


def time_cli(database_url: str, out_dir: Path, workdir: Path) -> float:
    """Wall seconds of one ``disclosure letter batch`` run; exits 1 if the command fails."""
    env = {**os.environ, "DISCLOSURE_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "disclosure", "letter", "batch"]
    command += ["--state", State.REGISTERED.value, "--out", str(out_dir)]
    started = time.perf_counter()
    # cwd: ``-m`` puts the working directory first on sys.path; run from bench/, the
    # neighbouring transitions.py would shadow the ``transitions`` library.
    done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(
            f"`disclosure letter batch` exited {done.returncode}:\n{done.stdout}{done.stderr}",
            file=sys.stderr,
        )
        sys.exit(1)
    return seconds


def check_pdfs(out_dir: Path, letters: list[StoredLetter], source: str) -> list[str]:
    """Problems with the PDFs in ``out_dir``: missing, not a PDF, too large, or extra files."""
    problems = []
    expected = {letter.filename("pdf") for letter in letters}
    for name in sorted(expected):
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{source}: {name} missing")
            continue
        data = path.read_bytes()
        if not data.startswith(b"%PDF"):
            problems.append(f"{source}: {name} does not start with %PDF")
        if len(data) >= MAX_PDF_BYTES:
            problems.append(f"{source}: {name} is {len(data):,} bytes (font not subset?)")
    extra = sorted(p.name for p in out_dir.iterdir() if p.name not in expected)
    if extra:
        problems.append(f"{source}: unexpected files {extra[:3]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--letters", type=int, default=200, help="letters in the batch (default 200)"
    )
    args = parser.parse_args()
    if args.letters < 1:
        parser.error("--letters must be at least 1")
    count: int = args.letters

    with tempfile.TemporaryDirectory(prefix="disclosure-bench-") as tmp_name:
        tmp = Path(tmp_name)
        database_url = f"sqlite:///{tmp / 'bench.db'}"
        app = App.open(Settings.from_env(database_url=database_url), create=True)
        try:
            with new_progress() as progress:
                letters = setup(app, count, progress)
                render_format(letters[0].html, "pdf")  # warm-up: Pango, fontconfig, the font
                pdf_seconds = time_render(letters, "pdf", tmp / "pdf", progress)
                html_seconds = time_render(letters, "html", tmp / "html", progress)
        finally:
            app.close()
        pdf_rate, html_rate = count / pdf_seconds, count / html_seconds
        print(
            f"pdf: {pdf_rate:,.1f} letters/s | html: {html_rate:,.0f} letters/s"
            f" | ratio {pdf_rate / html_rate:.2g} (n={count})",
            flush=True,
        )

        cli_seconds = time_cli(database_url, tmp / "cli", tmp)
        print(
            f"cli `disclosure letter batch --state registered`: {count / cli_seconds:,.1f}"
            f" letters/s end to end ({cli_seconds:.1f} s, n={count})",
            flush=True,
        )

        problems = check_pdfs(tmp / "pdf", letters, "render_format")
        problems += check_pdfs(tmp / "cli", letters, "cli")
    if problems:
        print("\n".join(problems[:10]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
