"""The ``disclosure`` command line: parses arguments, calls a service, prints Chinese output.

One module per command group; ``errors.py`` turns every expected error into a one-line
Chinese message (exit code 2), so nothing here prints a traceback to a clerk.
"""

from disclosure.cli import admin, alerts, archive, cases, letters, reports, web  # noqa: F401  (registers commands)
from disclosure.cli.app import app
from disclosure.cli.errors import main

__all__ = ["app", "main"]
