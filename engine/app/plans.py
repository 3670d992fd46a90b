"""Use cases around plans: import with review, explain a deadline, choose a ladder.

The CLI and the web call these; each opens its own transaction and returns plain results
for the door to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from engine.app import App
from engine.app.calendar import remember_calendar
from engine.core.clock import local_date
from engine.core.db import session_scope
from engine.core.errors import InputError, MeasuresError, NotFound
from engine.core.models import Measure, Plan
from engine.plans.draft import DraftPerson, draft_csv, people_draft
from engine.plans.events import event_dates
from engine.plans.importing import Outcome, Review, commit, review
from engine.plans.readers.by_suffix import read_document
from engine.plans.schedule import Occurrence, Schedule, occurrences, parse_deadline


@dataclass(frozen=True)
class PlanImport:
    review: Review
    outcome: Outcome | None  # None for a dry run
    draft: list[DraftPerson] | None = None  # written to the --people-draft file


def import_plan(app: App, path: Path, *, dry_run: bool, draft_to: Path | None = None) -> PlanImport:
    """Read a plan document, review it and, unless ``dry_run``, commit it in one transaction.

    ``draft_to``: also write every unresolved responsible as a draft row of the people
    CSV there (engine.plans.draft), dry run or not. An existing file is never
    overwritten: it may hold a committee's filled-in draft.
    """
    if draft_to is not None and draft_to.exists():
        raise InputError(
            f"{draft_to}: файл уже существует; черновик справочника не перезаписывает "
            "файлы — укажите другое имя или удалите этот файл"
        )
    document = read_document(path)
    raw = path.read_bytes()
    engine = app.ready_engine() if dry_run else app.writable_engine()
    with session_scope(engine) as session:
        result = review(
            session,
            document,
            raw,
            app.calendar,
            event_dates(session),
            app.config.settings.schedule.continuous_cadence,
            local_date(app.clock, app.config.timezone),
        )
        outcome = (
            None if dry_run else commit(session, result, app.workflow.initial, app.clock.now())
        )
        if outcome is not None:  # the first plan's dates fix the calendar they follow
            remember_calendar(app, session, only_if_unset=True)
            session.commit()
    draft = None
    if draft_to is not None:
        draft = people_draft(result)
        try:
            draft_to.write_text(draft_csv(draft), encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"{draft_to}: не удалось записать черновик справочника ({exc.strerror})"
            ) from None
    return PlanImport(result, outcome, draft)


def explain_deadline(
    app: App, phrase: str, period: tuple[date, date]
) -> tuple[Schedule, list[Occurrence]]:
    """How a deadline phrase is understood in a plan's period, with its dates.

    Works without a database (no assessment calendar then): a person may try phrases
    before anything is set up.
    """
    try:
        with session_scope(app.ready_engine()) as session:
            events = event_dates(session)
    except MeasuresError:
        events = []
    schedule = parse_deadline(phrase, period)
    cadence = app.config.settings.schedule.continuous_cadence
    return schedule, occurrences(schedule, period, app.calendar, events, cadence)


def find_measure(session: Session, plan_id: int, number: str) -> Measure:
    """The measure numbered ``number`` in the plan; refused if the number repeats."""
    if session.get(Plan, plan_id) is None:
        raise NotFound("plan", plan_id)
    found = list(
        session.exec(select(Measure).where(Measure.plan_id == plan_id, Measure.number == number))
    )
    if not found:
        raise NotFound("measure", f"{number} в плане {plan_id}")
    if len(found) > 1:  # numbering restarts in each section of some plans
        sections = ", ".join(m.key.rpartition("#")[0] or "—" for m in found)
        raise MeasuresError(
            f"в плане {plan_id} {len(found)} мероприятия с номером {number} (в разделах: "
            f"{sections}); перенумеруйте документ или действуйте на весь план либо на "
            "отдельные задачи"
        )
    return found[0]


def set_ladder(app: App, ladder: str, plan_id: int, measure_number: str | None) -> None:
    """Choose the escalation ladder of a plan, or of one of its measures (by number)."""
    if ladder not in app.ladders:
        raise MeasuresError(
            f"нет лестницы {ladder!r}; есть: {', '.join(app.ladders)} (measures ladder show)"
        )
    with session_scope(app.writable_engine()) as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound("plan", plan_id)
        if measure_number is None:
            plan.ladder = ladder
            session.add(plan)
        else:
            measure = find_measure(session, plan_id, measure_number)
            measure.ladder = ladder
            session.add(measure)
        session.commit()
