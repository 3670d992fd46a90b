"""The ``measures`` command.

Every command loads the configuration (``--config`` / ``MEASURES_CONFIG``), takes its
time from ``--now`` / ``MEASURES_NOW`` when given, and reports user mistakes as one clear
message on stderr with exit code 1 — never a traceback (see :func:`main`). The commands
live in one module per concern; importing them registers them on the root command.
"""

from __future__ import annotations

import importlib
import sys

from rich.text import Text

from engine.cli.base import app, err
from engine.core.errors import MeasuresError

__all__ = ["app", "main"]

# In the order `measures --help` lists them: setting up, plans, the directory, daily work,
# reports, the daemon and the web.
for _module in (
    "setup",
    "plans",
    "clerk",
    "directory",
    "calendar",
    "tasks",
    "cases",
    "reports",
    "operations",
    "web",
):
    importlib.import_module(f"engine.cli.{_module}")


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 1.

    Typer (standalone mode) handles usage errors itself with exit code 2; our own errors
    propagate out of it and are printed here without a traceback.
    """
    try:
        app()
    except MeasuresError as exc:
        err.print(Text("ошибка: ", style="bold red") + Text(str(exc)), highlight=False)
        sys.exit(1)
