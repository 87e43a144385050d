"""``python -m disclosure`` runs the CLI."""

from disclosure.cli import main

main()
