"""The directory files: people, schools with risk flags, the assessment calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli.base import app, out, state_of

people_app = typer.Typer(help="The directory of persons.", no_args_is_help=True)
app.add_typer(people_app, name="people")
events_app = typer.Typer(help="The assessment calendar (ВПР, НИКО, ГИА).", no_args_is_help=True)
schools_app = typer.Typer(help="The schools directory and risk flags.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(schools_app, name="schools")


@events_app.command("import")
def events_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with columns name,kind,subject,grade,date.")],
) -> None:
    """Replace the assessment calendar (ВПР, НИКО, ГИА); event-bound tasks follow it."""
    from engine.app.directory import assessment_calendar

    done = assessment_calendar(state_of(ctx), file)
    summary, changes = done.events, done.tasks
    out.print(
        f"{file}: событий добавлено {summary.added}, удалено {summary.removed}, без изменений "
        f"{summary.unchanged}; задач создано {changes.created}, перенесено {changes.updated}, "
        f"удалено {changes.removed}."
    )


@schools_app.command("import")
def schools_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV with columns key,name,short_name,email,head,aliases,flags.")
    ],
) -> None:
    """Add or update schools (by key) with their heads, aliases and risk flags."""
    from engine.app.directory import schools

    summary = schools(state_of(ctx), file)
    out.print(
        f"{file}: {summary.created} new, {summary.updated} updated, {summary.flags} risk flags."
    )


@people_app.command("import")
def people_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns key,name,position,organisation,email,roles,aliases,deputies."
        ),
    ],
) -> None:
    """Add or update persons (by key) with roles, aliases and deputy periods."""
    from engine.app.directory import people

    summary = people(state_of(ctx), file)
    out.print(
        f"{file}: {summary.created} new, {summary.updated} updated, "
        f"{summary.deputy_periods} deputy periods."
    )
