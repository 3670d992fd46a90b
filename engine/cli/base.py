"""What every command shares: the root command, the consoles, the application per call.

Each module of this package adds its commands to :data:`app` (or a sub-command group of
its own); ``engine.cli`` imports them all and holds :func:`~engine.cli.main`.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from engine.app import App
from engine.core.errors import MeasuresError

app = typer.Typer(
    name="measures",
    help="Runs the committee's action plans: tasks, deadlines, approvals, audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def state_of(ctx: typer.Context) -> App:
    state: App | None = ctx.obj
    if state is None:
        params = ctx.find_root().params
        state = App.load(params.get("config"), params.get("now"))
        ctx.find_root().obj = state
    return state


def parse_day(text: str, option: str) -> date:
    """A calendar date typed by a person, within the years a plan can concern."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise MeasuresError(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None
    if not 1900 <= day.year <= 2200:
        raise MeasuresError(f"{option}: {text!r} is outside the years 1900–2200")
    return day


def parse_span(first: str, last: str, option: str) -> tuple[date, date]:
    start, end = parse_day(first, option), parse_day(last, option)
    if end < start:
        raise MeasuresError(f"{option}: the period ends ({end}) before it starts ({start})")
    return start, end


TaskId = Annotated[int, typer.Argument(help="Task id (see `measures tasks`).", min=1, max=2**62)]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Configuration file (default: $MEASURES_CONFIG or ./config.toml).",
            dir_okay=False,
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Pretend the current time is this (ISO date or date-time; committee "
            "time zone unless an offset is given). Also $MEASURES_NOW.",
        ),
    ] = None,
) -> None:
    """Runs the committee's action plans: tasks, deadlines, approvals, audit."""
