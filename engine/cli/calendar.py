"""``measures calendar``: re-dating stored tasks after the working-day calendar changed,
and (engine.cli.reports) deadlines exported as iCalendar files — one command group."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engine.cli.base import app, out, state_of

calendar_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Календари: перерасчёт сроков после изменения производственного календаря, "
    "выгрузка сроков в .ics.",
    no_args_is_help=True,
)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("redate")
def calendar_redate(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Только показать, какие сроки сдвинутся.")
    ] = False,
) -> None:
    """Пересчитать вычисленные сроки по текущему календарю и показать, что сдвинулось.

    Нужна после того, как в календарь добавлен нерабочий день (новый указ в
    calendar.extra_holidays или новая версия программы): сроки периодических,
    постоянных и привязанных к процедурам мероприятий, попавшие на него, переносятся.
    """
    from engine.app.calendar import redate_calendar
    from engine.core.words import TASKS, count_ru

    done = redate_calendar(state_of(ctx), dry_run=dry_run)
    table = Table("Задача", "План", "Мероприятие", "Было", "Стало")
    for moved in done.moved:
        table.add_row(
            str(moved.task_id),
            str(moved.plan_id),
            f"{moved.measure_number}. {moved.title}",
            f"{moved.before:%d.%m.%Y}" if moved.before else "—",
            f"{moved.after:%d.%m.%Y}" if moved.after else "—",
        )
    if done.moved:
        out.print(table)
    verb = "сдвинется" if dry_run else "сдвинуто"
    out.print(f"Сроки {verb}: {count_ru(len(done.moved), *TASKS)}.")
    if dry_run:
        out.print("Проверка (--dry-run): в базу ничего не записано.")
