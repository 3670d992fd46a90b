"""Plan documents and their deadlines: import with review, explain a phrase."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from engine.cli.base import app, err, out, parse_span, print_json, state_of
from engine.core.errors import MeasuresError
from engine.core.words import CALENDAR_DAYS, LINES, WORKING_DAYS, count_ru

if TYPE_CHECKING:
    from engine.plans.schedule import EventBinding


def event_offset(binding: EventBinding) -> str:
    """«за 2 календарных дня до процедуры» — the offset as the plan means it."""
    days, forms = binding.offset_working_days, WORKING_DAYS
    if binding.offset_calendar_days:
        days, forms = binding.offset_calendar_days, CALENDAR_DAYS
    if days == 0:
        return "в день процедуры (если он нерабочий — в первый рабочий день после)"
    side = "до процедуры" if days < 0 else "после процедуры"
    lead = "за" if days < 0 else "через"
    note = (
        " (от даты самой процедуры; срок на нерабочий день — в рабочий день раньше)"
        if binding.offset_calendar_days
        else ""
    )
    return f"{lead} {count_ru(abs(days), *forms)} {side}{note}"


schedule_app = typer.Typer(
    rich_markup_mode="markdown", help="Формулировки сроков и их даты.", no_args_is_help=True
)
app.add_typer(schedule_app, name="schedule")


@app.command("import")
def import_plan(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="Документ плана: таблица .txt, .docx, .odt, .pdf, .xlsx или .csv."),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Только показать разбор; ничего не писать.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Разбор в JSON (для программ).")] = False,
    people_draft: Annotated[
        Path | None,
        typer.Option(
            "--people-draft",
            help="Записать не найденных в справочнике ответственных черновиком "
            "справочника (CSV для measures people import; адреса пустые).",
        ),
    ] = None,
) -> None:
    """Загрузить план: каждое мероприятие со сроком, ответственными и задачами.

    Показывает разбор (мероприятия, как понят срок, ближайшие даты, ответственные,
    замечания). Без --dry-run план записывается одной транзакцией; тот же документ ещё
    раз ничего не меняет, исправленный — обновляет план, сохраняя состояния задач.
    """
    from engine.app.plans import import_plan
    from engine.cli.review_view import render_review

    done = import_plan(state_of(ctx), file, dry_run=dry_run, draft_to=people_draft)
    result, outcome = done.review, done.outcome
    if as_json:
        data = result.as_json()
        if done.draft is not None:
            data["people_draft"] = {"path": str(people_draft), "rows": len(done.draft)}
        if outcome is not None:
            data["imported"] = {
                "plan_id": outcome.plan.id,
                "created": outcome.created,
                "tasks_created": outcome.tasks.created,
                "tasks_updated": outcome.tasks.updated,
                "tasks_removed": outcome.tasks.removed,
                "tasks_kept": outcome.tasks.kept,
            }
        print_json(data)
        return
    render_review(out, result, dry_run)
    if done.draft is not None:
        rows = len(done.draft)
        out.print(
            f"Черновик справочника: {count_ru(rows, *LINES)} в "
            f"{people_draft} — заполните имена и адреса, затем measures people import "
            f"{people_draft}."
        )
    if outcome is not None and (not result.unchanged or outcome.tasks.any):
        t = outcome.tasks
        verb = "загружен как план" if outcome.created else "обновлён: план"
        out.print(
            f"{file}: {verb} {outcome.plan.id}; задач создано {t.created}, "
            f"изменено {t.updated}, удалено {t.removed}"
            + (f", оставлено с историей {len(t.kept)}" if t.kept else "")
            + "."
        )


@schedule_app.command("explain")
def schedule_explain(
    ctx: typer.Context,
    phrase: Annotated[
        str, typer.Argument(help="Формулировка срока, например «Октябрь-ноябрь 2021».")
    ],
    period: Annotated[str, typer.Option("--period", help="Период плана: ГГГГ-ММ-ДД:ГГГГ-ММ-ДД.")],
    as_json: Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")] = False,
) -> None:
    """Показать, как понимается срок: вид, периодичность, привязка к процедурам, даты."""
    from engine.app.plans import explain_deadline
    from engine.cli.review_view import CADENCE_NAMES, KIND_NAMES
    from engine.plans.schedule import schedule_json

    parts = period.split(":")
    if len(parts) != 2:
        raise MeasuresError(f"--period: ожидается ГГГГ-ММ-ДД:ГГГГ-ММ-ДД, а не {period!r}")
    schedule, dated = explain_deadline(
        state_of(ctx), phrase, parse_span(parts[0], parts[1], "--period")
    )
    data = schedule_json(schedule, dated)
    if as_json:
        print_json(data)
        return
    out.print(f"Вид срока: {KIND_NAMES.get(schedule.kind, schedule.kind)} ({schedule.kind})")
    if schedule.cadence:
        out.print(f"Периодичность: {CADENCE_NAMES.get(schedule.cadence, schedule.cadence)}")
    if schedule.event:
        kinds = ", ".join(schedule.event.kinds) or "любые"
        out.print(f"Привязка к процедурам ({kinds}): {event_offset(schedule.event)}")
    for occurrence in dated:
        start = f"{occurrence.start:%d.%m.%Y} – " if occurrence.start else "до "
        out.print(f"  {start}{occurrence.due:%d.%m.%Y}")
    for note in schedule.notes:
        out.print(f"Примечание: {note}")
    for problem in data["problems"]:
        err.print(Text(f"Замечание: {problem}", style="red"))
