"""Tasks: listing, firing events, history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from engine.cli.base import (
    TaskId,
    app,
    out,
    print_json,
    print_json_rows,
    print_pages,
    shorten,
    state_of,
    table,
)
from engine.core.words import initials

if TYPE_CHECKING:
    from engine.queries import TaskRow

#: Audit rows that are a clerk's change, not a transition (engine.app.clerk).
_CLERK_EVENTS = {"correct": "Исправление", "archive": "План в архив", "withdraw": "Отзыв плана"}

#: How much of a measure's title a task line shows (cut at a word, with «…»).
TITLE_WIDTH = 60


def deadline_cell(row: TaskRow) -> Text:
    """The effective deadline, the written one beside it when it is a day off, overdue red."""
    if row.due_date is None or row.effective_due is None:
        return Text(row.undated or "—", style="yellow" if row.undated else "")
    shown = Text(f"{row.effective_due:%d.%m.%Y}", style="bold red" if row.overdue else "")
    if row.effective_due != row.due_date:
        shown.append(f"\n(в плане {row.due_date:%d.%m})")
    if row.overdue:
        shown.append("\nпросрочено", style="red")
    return shown


@app.command()
def tasks(
    ctx: typer.Context,
    state_filter: Annotated[
        str | None,
        typer.Option("--state", help="Только задачи в этом состоянии (planned, reported, …)."),
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(
            "--person",
            help="Только задачи, где этот сотрудник (ключ или почта) ответственный или "
            "контролирует.",
        ),
    ] = None,
    plan: Annotated[
        int | None, typer.Option("--plan", help="Только задачи этого плана (номер).")
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option("--overdue", help="Только просроченные задачи, по которым ещё ждут работы."),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="Показать не больше стольких задач (первые по сроку).", min=1),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")] = False,
) -> None:
    """Показать задачи: срок (фактический — последний рабочий день), ответственный, состояние."""
    from itertools import islice

    from engine.app.tasks import stream_tasks
    from engine.core.words import TASKS, count_ru

    state = state_of(ctx)
    workflow = state.workflow
    with stream_tasks(
        state, state=state_filter, person=person, plan_id=plan, overdue=overdue
    ) as found:
        rows = islice(found, limit)
        if as_json:
            print_json_rows(row.as_json() for row in rows)
            return
        late = 0

        def cells(row: TaskRow) -> list[str | Text]:
            nonlocal late
            late += row.overdue
            title = f"{row.measure_number}. {shorten(row.title, TITLE_WIDTH)}"
            if row.school:
                title += f"\n{row.school}"
            if row.detached:
                title += "\n(исключено из документа)"
            return [
                str(row.id),
                f"{title}\nплан {row.plan_id}",
                initials(row.responsible_name) if row.responsible_name else Text("не назначен"),
                deadline_cell(row),
                workflow.label(row.state),
            ]

        shown = print_pages(rows, ("№", "Мероприятие", "Ответственный", "Срок", "Состояние"), cells)
    cut = " (первые по сроку: --limit)" if limit is not None and shown == limit else ""
    out.print(f"{count_ru(shown, *TASKS)}{cut}" + (f", просрочено: {late}" if late else "") + ".")


@app.command()
def fire(
    ctx: typer.Context,
    task: TaskId,
    event: Annotated[
        str, typer.Argument(help="Действие: start, report, verify, return, cancel, reopen.")
    ],
    actor: Annotated[str, typer.Option("--as", help="Кто действует: ключ или почта сотрудника.")],
    comment: Annotated[str, typer.Option("--comment", help="Текст отчёта или причина.")] = "",
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="Ссылка на подтверждающий документ (можно несколько)."),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option("--version", help="Отказать, если задача уже не в этой версии."),
    ] = None,
) -> None:
    """Выполнить действие по задаче от имени сотрудника; если нельзя — сказать почему."""
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
    behalf = f"; замещает: {initials(done.on_behalf_of.name)}" if done.on_behalf_of else ""
    out.print(
        f"Задача {task}: {state.workflow.label(done.audit.from_state)} → "
        f"{state.workflow.label(done.audit.to_state)}. Выполнил(а): "
        f"{initials(done.actor.name)}{behalf}."
    )


@app.command()
def history(
    ctx: typer.Context,
    task: TaskId,
    as_json: Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")] = False,
) -> None:
    """Показать все действия и изменения по задаче: кто, когда, что, отчёт, документы."""
    from engine.app.tasks import history as task_history

    state = state_of(ctx)
    zone = state.config.timezone
    rows = task_history(state, task)
    if as_json:
        print_json(
            [
                {
                    "seq": row.seq,
                    "at": row.at.astimezone(zone).isoformat(),
                    "event": row.event,
                    "from": row.from_state,
                    "to": row.to_state,
                    "actor": actor.key,
                    "on_behalf_of": behalf.key if behalf else None,
                    "comment": row.comment,
                    "evidence": row.evidence,
                    "changes": row.changes,
                }
                for row, actor, behalf in rows
            ]
        )
        return
    shown = table("Когда", "Действие", "Кто", "Комментарий и документы")
    for row, actor, behalf in rows:
        who = initials(actor.name) + (f"\nзамещает: {initials(behalf.name)}" if behalf else "")
        event = state.workflow.events.get(row.event)
        what = event.label if event else _CLERK_EVENTS.get(row.event, row.event)
        moved = (
            f"{state.workflow.label(row.from_state)} → {state.workflow.label(row.to_state)}"
            if row.from_state != row.to_state
            else ""
        )
        note = Text(row.comment)
        for name, (before, after) in row.changes.items():
            note.append(f"\n{name}: {before or '—'} → {after or '—'}")
        for item in row.evidence:
            note.append(f"\nдокумент: {item}")
        shown.add_row(
            row.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            f"{what}\n{moved}" if moved else what,
            who,
            note,
        )
    out.print(shown)
