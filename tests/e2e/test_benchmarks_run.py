"""Every benchmark (but the web server's, which needs minutes) still runs: each at a size that takes seconds, so that a change to what it
calls breaks the build here, not on the next `make bench`. Figures are not asserted (timing
targets live in the benchmarks' own output)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [
        ["bench/deadlines.py", "--n", "200"],
        ["bench/letters.py", "--letters", "3"],
        ["bench/transitions.py", "--cases", "2"],
        ["bench/alerts.py", "--cases", "300"],
        ["bench/report.py", "--cases", "300"],
        ["bench/archive.py", "--cases", "2"],
    ],
    ids=lambda argv: argv[0],
)
def test_the_benchmark_runs_and_prints_its_ratio(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "DISCLOSURE_TEST_POSTGRES_URL": PG_ADMIN_URL,
            "HOME": str(Path.home()),
        },  # fmt: skip
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ratio" in done.stdout
