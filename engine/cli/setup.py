"""Looking after an installation: database, configuration, workflows, audit, backups."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from engine.cli.base import app, err, out, state_of

workflow_app = typer.Typer(help="The workflow definitions in workflows/.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of every transition.", no_args_is_help=True)
config_app = typer.Typer(help="The configuration file.", no_args_is_help=True)
app.add_typer(workflow_app, name="workflow")
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")


@app.command()
def init(
    ctx: typer.Context,
    simulation: Annotated[
        bool,
        typer.Option(
            "--simulation",
            help="Учебная база: разрешить изменения при переведённых часах (--now). "
            "Для рабочей базы не указывать.",
        ),
    ] = False,
) -> None:
    """Create the database, or upgrade it to this version's schema. Safe to repeat."""
    from engine.app.operations import init as set_up

    state = state_of(ctx)
    before, after = set_up(state, simulation=simulation)
    url = state.engine.url.render_as_string(hide_password=True)
    if before == after:
        out.print(f"Database {url} is up to date (schema {after}).")
    else:
        out.print(f"Database {url}: schema {before or 'empty'} → {after}.")


@workflow_app.command("show")
def workflow_show(
    ctx: typer.Context,
    rules: Annotated[
        bool,
        typer.Option("--rules", help="Print the table of events, roles and requirements instead."),
    ] = False,
) -> None:
    """Print the task lifecycle as a Mermaid state diagram (paste into any Mermaid viewer)."""
    from engine.lifecycle.workflow import mermaid

    definition = state_of(ctx).workflow
    if not rules:
        sys.stdout.write(mermaid(definition))
        return
    table = Table("Event", "Label", "From", "To", "Roles", "Requires", "Four eyes")
    for e in definition.events.values():
        table.add_row(
            e.name,
            e.label,
            ", ".join(e.source),
            e.dest,
            ", ".join(e.roles),
            ", ".join(e.requires) or "—",
            "yes" if e.four_eyes else "no",
        )
    out.print(table)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the hash chain of the audit log; report the first broken link."""
    from engine.app.operations import verify_audit

    result = verify_audit(state_of(ctx))
    if not result.ok:
        err.print(
            Text("Audit log BROKEN", style="red")
            + Text(f" after {result.checked} intact row(s): {result.problem}")
        )
        raise typer.Exit(1)
    out.print(f"Audit log intact: {result.checked} row(s) verified.")


@config_app.command("template")
def config_template() -> None:
    """Print a config.toml with every key, its default and its meaning."""
    from engine.core.settings import render_template

    sys.stdout.write(render_template())


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the configuration and the workflow files, then say where data lives."""
    state = state_of(ctx)
    _ = state.workflow
    cfg = state.config
    out.print(f"Configuration: {cfg.source or 'defaults (no config file)'}")
    out.print(f"Database: {state.engine.url.render_as_string(hide_password=True)}")
    out.print(f"Data folder: {cfg.data_dir}")
    out.print(f"Workflows: {cfg.workflows_dir}")


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="New file to write the backup to.")],
) -> None:
    """Copy the SQLite database while it is in use (PostgreSQL: prints pg_dump advice)."""
    from engine.app.operations import backup

    path = backup(state_of(ctx), target)
    out.print(f"Backup written to {path}.")


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A file made by `measures backup`.")],
) -> None:
    """Replace the SQLite database with a backup. Stop the daemon first."""
    from engine.app.operations import restore

    restore(state_of(ctx), source)
    out.print(f"Database restored from {source}.")
