"""Plan documents and their deadlines: import with review, explain a phrase."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from engine.cli.base import app, err, out, parse_span, print_json, state_of
from engine.core.errors import MeasuresError

schedule_app = typer.Typer(help="Deadline phrases and their dates.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


@app.command("import")
def import_plan(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Plan document: .txt table, .docx, .pdf, .xlsx or .csv.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the review only; write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The review as JSON (for machines).")
    ] = False,
    people_draft: Annotated[
        Path | None,
        typer.Option(
            "--people-draft",
            help="Записать не найденных в справочнике ответственных черновиком "
            "справочника (CSV для measures people import; адреса пустые).",
        ),
    ] = None,
) -> None:
    """Import a plan: every measure with its parsed deadline, responsible and tasks.

    Shows a review in Russian (every measure, its schedule, first due dates, responsible
    persons, problems). Without --dry-run the plan is written in one transaction; the same
    document again changes nothing, an edited one updates the plan keeping task states.
    """
    from engine.app.plans import import_plan
    from engine.cli.review_view import plural, render_review

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
            f"Черновик справочника: {rows} {plural(rows, ('строка', 'строки', 'строк'))} в "
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
    phrase: Annotated[str, typer.Argument(help="A deadline phrase, e.g. 'Октябрь-ноябрь 2021'.")],
    period: Annotated[
        str, typer.Option("--period", help="The plan's period: YYYY-MM-DD:YYYY-MM-DD.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show how a deadline phrase is understood: kind, cadence, event offset, dates."""
    from engine.app.plans import explain_deadline
    from engine.cli.review_view import CADENCE_NAMES, KIND_NAMES, event_offset
    from engine.plans.schedule import schedule_json

    parts = period.split(":")
    if len(parts) != 2:
        raise MeasuresError(f"--period: expected YYYY-MM-DD:YYYY-MM-DD, got {period!r}")
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
        out.print(f"Привязка к процедурам: {event_offset(schedule.event)}")
    for occurrence in dated:
        start = f"{occurrence.start:%d.%m.%Y} – " if occurrence.start else "до "
        out.print(f"  {start}{occurrence.due:%d.%m.%Y}")
    for note in schedule.notes:
        out.print(f"Примечание: {note}")
    for problem in data["problems"]:
        err.print(Text(f"Замечание: {problem}", style="red"))
