"""A clerk's corrections: dates, schedules, responsible persons; plans withdrawn, archived."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from engine.cli.base import TaskId, app, out, parse_day, print_json, state_of, table

if TYPE_CHECKING:
    from engine.app.clerk import Change

task_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Исправить одну задачу: сроки, ответственного.",
    no_args_is_help=True,
)
measure_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Исправить мероприятие: срок, ответственных, контроль.",
    no_args_is_help=True,
)
plan_app = typer.Typer(
    rich_markup_mode="markdown", help="Планы: список, отзыв, архив.", no_args_is_help=True
)
app.add_typer(task_app, name="task")
app.add_typer(measure_app, name="measure")
app.add_typer(plan_app, name="plan")

Actor = Annotated[str, typer.Option("--as", help="Кто исправляет: ключ или почта (роль admin).")]
Comment = Annotated[str, typer.Option("--comment", help="Основание: распоряжение, письмо.")]
PlanOption = Annotated[int, typer.Option("--plan", help="Номер плана (measures plan list).")]
MeasureOption = Annotated[str, typer.Option("--measure", help="Номер мероприятия в плане.")]


def _report(done: Change) -> None:
    from engine.core.words import TASKS, count_ru

    if not done.changes:
        out.print(f"{done.subject}: изменений нет.")
        return
    listed = "; ".join(
        f"{name}: {before if before is not None else '—'} → {after if after is not None else '—'}"
        for name, (before, after) in done.changes.items()
    )
    touched = f" ({count_ru(done.tasks, *TASKS)})" if done.tasks > 1 else ""
    out.print(f"{done.subject}{touched}: {listed}. Записано в журнал.")


@task_app.command("set")
def task_set(
    ctx: typer.Context,
    task: TaskId,
    actor: Actor,
    due: Annotated[str | None, typer.Option("--due", help="Срок (ГГГГ-ММ-ДД).")] = None,
    start: Annotated[str | None, typer.Option("--start", help="Начало (ГГГГ-ММ-ДД).")] = None,
    responsible: Annotated[
        str | None, typer.Option("--responsible", help="Ответственный: ключ или почта.")
    ] = None,
    supervisor: Annotated[
        str | None, typer.Option("--supervisor", help="Контролирующий: ключ или почта.")
    ] = None,
    comment: Comment = "",
) -> None:
    """Задать задаче срок, начало, ответственного или контролирующего.

    Заданное вручную сохраняется при повторной загрузке документа и перерасчёте сроков.
    """
    from engine.app.clerk import set_task

    done = set_task(
        state_of(ctx),
        task,
        actor,
        due=parse_day(due, "--due") if due else None,
        start=parse_day(start, "--start") if start else None,
        responsible=responsible,
        supervisor=supervisor,
        comment=comment,
    )
    _report(done)


@measure_app.command("set")
def measure_set(
    ctx: typer.Context,
    plan: PlanOption,
    measure: MeasureOption,
    actor: Actor,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help="Срок словами, как в плане: «до 20.12.2026», «Октябрь 2026», «ежемесячно».",
        ),
    ] = None,
    responsible: Annotated[
        str | None,
        typer.Option("--responsible", help="Ответственный всех задач мероприятия."),
    ] = None,
    co_responsible: Annotated[
        list[str] | None,
        typer.Option("--co-responsible", help="Соисполнитель (можно несколько)."),
    ] = None,
    supervisor: Annotated[
        str | None, typer.Option("--supervisor", help="Контролирующий мероприятие.")
    ] = None,
    comment: Comment = "",
) -> None:
    """Задать мероприятию срок, ответственного, соисполнителей или контролирующего.

    Срок читается так же, как в документе (проверить: measures schedule explain); задачи
    мероприятия получают новые даты.
    """
    from engine.app.clerk import set_measure

    done = set_measure(
        state_of(ctx),
        plan,
        measure,
        actor,
        schedule=schedule,
        responsible=responsible,
        co_responsible=co_responsible,
        supervisor=supervisor,
        comment=comment,
    )
    _report(done)


@plan_app.command("list")
def plan_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")] = False,
) -> None:
    """Показать планы: распоряжение, период, сколько мероприятий и открытых задач."""
    from dataclasses import asdict

    from engine.app.clerk import list_plans
    from engine.cli.base import shorten

    rows = list_plans(state_of(ctx))
    if as_json:
        print_json(
            [
                asdict(row) | {"period": [row.period[0].isoformat(), row.period[1].isoformat()]}
                for row in rows
            ]
        )
        return
    shown = table("№", "План", "Период", "Мер.", "Задачи")
    for row in rows:
        title = shorten(row.title, 70) + (f"\n{row.order}" if row.order else "")
        if row.archived:
            title += "\n(в архиве)"
        shown.add_row(
            str(row.id),
            title,
            f"{row.period[0]:%d.%m.%Y}–\n{row.period[1]:%d.%m.%Y}",
            str(row.measures),
            f"{row.tasks}\nоткрыто {row.open_tasks}",
        )
    out.print(shown)
    out.print(f"Планов: {len(rows)}.")


@plan_app.command("withdraw")
def plan_withdraw(
    ctx: typer.Context,
    plan: Annotated[int, typer.Argument(help="Номер плана.")],
    actor: Actor,
    comment: Comment = "",
) -> None:
    """Отозвать загруженный план целиком, пока по его задачам ничего не было.

    Если по задачам уже были действия, напоминания или исправления — только в архив.
    """
    from engine.app.clerk import withdraw_plan

    _report(withdraw_plan(state_of(ctx), plan, actor, comment))


@plan_app.command("archive")
def plan_archive(
    ctx: typer.Context,
    plan: Annotated[int, typer.Argument(help="Номер плана.")],
    actor: Actor,
    comment: Comment = "",
) -> None:
    """Отправить план в архив: напоминания прекращаются, история сохраняется."""
    from engine.app.clerk import archive_plan

    _report(archive_plan(state_of(ctx), plan, actor, comment))
