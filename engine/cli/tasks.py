"""Tasks: listing, firing events, history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engine.cli.base import TaskId, app, out, print_json, state_of


@app.command()
def tasks(
    ctx: typer.Context,
    state_filter: Annotated[
        str | None, typer.Option("--state", help="Only tasks in this state.")
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(
            "--person",
            help="Only tasks where this person (key or email) is responsible or supervisor.",
        ),
    ] = None,
    plan: Annotated[int | None, typer.Option("--plan", help="Only this plan's tasks.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only tasks past their due date that still owe work.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List tasks with their due dates and states."""
    from engine.app.tasks import list_tasks

    state = state_of(ctx)
    workflow = state.workflow
    rows = list_tasks(state, state=state_filter, person=person, plan_id=plan, overdue=overdue)
    if as_json:
        print_json([row.as_json() for row in rows])
        return
    table = Table("№", "План", "Мероприятие", "Ответственный", "Срок", "Состояние")
    for row in rows:
        due = row.due_date.strftime("%d.%m.%Y") if row.due_date else "—"
        table.add_row(
            str(row.id),
            str(row.plan_id),
            f"{row.measure_number}. {row.title[:60]}",
            row.responsible or "—",
            f"[red]{due}[/red]" if row.overdue else due,
            workflow.label(row.state),
        )
    out.print(table)
    out.print(f"{len(rows)} task(s).")


@app.command()
def fire(
    ctx: typer.Context,
    task: TaskId,
    event: Annotated[str, typer.Argument(help="Event name, e.g. start, report, verify.")],
    actor: Annotated[str, typer.Option("--as", help="Who acts: a person's key or email.")],
    comment: Annotated[str, typer.Option("--comment", help="Report text or reason.")] = "",
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="Reference to supporting material (repeatable)."),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option("--version", help="Refuse if the task is no longer at this version."),
    ] = None,
) -> None:
    """Fire an event on a task, as a person; refused with the reason if not allowed."""
    from engine.app.tasks import fire as fire_event

    state = state_of(ctx)
    done = fire_event(
        state,
        task,
        event,
        actor,
        comment=comment,
        evidence=evidence or (),
        expected_version=version,
    )
    behalf = f" (за {done.on_behalf_of.name})" if done.on_behalf_of else ""
    out.print(
        f"Задача {task}: {state.workflow.label(done.audit.from_state)} → "
        f"{state.workflow.label(done.audit.to_state)}; {done.actor.name}{behalf}."
    )


@app.command()
def history(
    ctx: typer.Context,
    task: TaskId,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show every transition of a task: who, when, from, to, comment, evidence."""
    from engine.app.tasks import history as task_history

    state = state_of(ctx)
    zone = state.config.timezone
    rows = task_history(state, task)
    if as_json:
        print_json(
            [
                {
                    "seq": row.seq,
                    "at": row.at.isoformat(),
                    "event": row.event,
                    "from": row.from_state,
                    "to": row.to_state,
                    "actor": actor.key,
                    "on_behalf_of": behalf.key if behalf else None,
                    "comment": row.comment,
                    "evidence": row.evidence,
                }
                for row, actor, behalf in rows
            ]
        )
        return
    table = Table("Когда", "Действие", "Из", "В", "Кто", "Комментарий")
    for row, actor, behalf in rows:
        who = actor.name + (f" (за {behalf.name})" if behalf else "")
        note = row.comment + (f" [{', '.join(row.evidence)}]" if row.evidence else "")
        table.add_row(
            row.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            row.event,
            state.workflow.label(row.from_state),
            state.workflow.label(row.to_state),
            who,
            note,
        )
    out.print(table)
