"""Re-dating stored tasks when what their dates were computed from has changed.

Two things move computed due dates: the assessment calendar (event-bound measures) and
the working-day calendar itself (a decree day added to ``calendar_decrees.toml`` or to
``calendar.extra_holidays`` moves recurring unit ends, continuous progress reports and
event offsets that fell on it). Dates written in a plan stay as written: their effective
deadline is derived from the calendar whenever it is shown, so it follows by itself.
Measures are expanded again from their stored schedule (:func:`stored_schedule`), never
from a new parse of their phrase: a later grammar's reading of a phrase moves tasks only
after a person saw it in an import review.

:func:`redate` recomputes the measures concerned and returns every task whose dates
moved, so a person sees what moved (``measures calendar redate --dry-run``) before it
does. The calendar the stored dates were computed with is remembered as a fingerprint
(:func:`fingerprint`) in the ``calendar`` database flag; ``measures status`` and the
daemon say when the current calendar differs from it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from engine.core.models import Measure, Plan, Task, pk
from engine.core.workcalendar import WorkCalendar
from engine.plans.expand import TaskChanges, sync_tasks, wanted_tasks
from engine.plans.schedule import (
    GRAMMAR_VERSION,
    Cadence,
    EventDate,
    Occurrence,
    Schedule,
    StoredScheduleError,
    occurrences,
    parse_deadline,
    schedule_from_json,
    schedule_json,
    schedule_to_json,
)

logger = logging.getLogger(__name__)

#: Deadline kinds whose dates the program computes (and a calendar change can move).
COMPUTED_KINDS = ("recurring", "continuous", "event")


@dataclass(frozen=True)
class Moved:
    task_id: int
    plan_id: int
    measure_number: str
    title: str
    before: date | None
    after: date | None


@dataclass
class Redated:
    changes: TaskChanges = field(default_factory=TaskChanges)
    moved: list[Moved] = field(default_factory=list)


def redate(
    session: Session,
    calendar: WorkCalendar,
    events: Sequence[EventDate],
    continuous_cadence: Cadence,
    initial_state: str,
    now: datetime,
    kinds: Collection[str] = COMPUTED_KINDS,
) -> Redated:
    """Recompute the tasks of every measure of ``kinds`` in plans that are not archived.

    Each measure is expanded again from its stored schedule (:func:`stored_schedule`:
    the clerk's phrase when one was given, else the document's), never from a new parse
    of its phrase. The caller commits (or rolls back, for a dry run). Fields a clerk set
    on a task by hand stay (engine.plans.expand.sync_tasks).
    """
    result = Redated()
    rows = session.exec(
        select(Measure, Plan)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .where(col(Plan.archived_at).is_(None))
        .order_by(col(Measure.id))
    )
    for measure, plan in rows:
        if measure.schedule.get("kind") not in kinds:
            continue
        period = (plan.period_start, plan.period_end)
        schedule = stored_schedule(session, measure, period)
        if schedule is None:
            continue
        dated = occurrences(schedule, period, calendar, events, continuous_cadence)
        existing = list(session.exec(select(Task).where(Task.measure_id == measure.id)))
        before = {pk(t): t.due_date for t in existing}
        targets = sorted({(t.school_id, t.responsible_id) for t in existing}, key=str)
        wanted = wanted_tasks(dated, targets, measure.supervisor_id)
        result.changes.add(sync_tasks(session, measure, wanted, initial_state, now))
        store_schedule(measure, schedule, dated)
        session.add(measure)
        session.flush()
        for task in session.exec(select(Task).where(Task.measure_id == measure.id)):
            if task.id in before and before[task.id] != task.due_date:
                result.moved.append(
                    Moved(
                        pk(task),
                        pk(plan),
                        measure.number,
                        measure.title,
                        before[task.id],
                        task.due_date,
                    )
                )
    return result


def phrase_in_force(measure: Measure) -> str:
    """The deadline phrase that decides: a clerk's (``measures measure set --schedule``),
    else the document's."""
    return measure.deadline_override or measure.deadline_phrase


def store_schedule(measure: Measure, schedule: Schedule, dated: Sequence[Occurrence]) -> None:
    """Keep on the measure the schedule its tasks are made from (the stored, versioned
    form, expanded again by :func:`redate`) and what it shows (its dates, problems)."""
    measure.schedule = schedule_json(schedule, dated)
    measure.schedule_spec = schedule_to_json(schedule)
    measure.schedule_version = GRAMMAR_VERSION


def stored_form(measure: Measure) -> Schedule | None:
    """The schedule stored on the measure by this grammar version, else None."""
    if measure.schedule_version != GRAMMAR_VERSION:
        return None
    try:
        return schedule_from_json(measure.schedule_spec)
    except StoredScheduleError:
        logger.warning("measure %s: stored schedule unreadable", measure.id)
        return None


def stored_schedule(
    session: Session, measure: Measure, period: tuple[date, date]
) -> Schedule | None:
    """The schedule the measure's tasks were made from, to expand them again.

    A schedule stored by another grammar version (or before schedules were kept) is
    read again only if the new reading agrees with what was stored on everything the
    stored form shows; otherwise None, and the measure gets a problem asking for the
    plan to be imported again — where the new reading is a reviewed line of the diff.
    """
    kept = stored_form(measure)
    if kept is not None:
        return kept
    schedule = parse_deadline(phrase_in_force(measure), period)
    shown = measure.schedule
    event = shown.get("event") or {}
    agrees = shown.get("kind") == schedule.kind and (
        schedule.event is None
        or (
            event.get("offset_working_days") == schedule.event.offset_working_days
            and event.get("offset_calendar_days", 0) == schedule.event.offset_calendar_days
            and event.get("kinds", list(schedule.event.kinds)) == list(schedule.event.kinds)
        )
    )
    if agrees:
        measure.schedule_spec = schedule_to_json(schedule)
        measure.schedule_version = GRAMMAR_VERSION
        return schedule
    note = (
        "Срок сохранён прежней версией программы и теперь читается иначе: задачи не "
        "перенесены; загрузите план ещё раз и проверьте изменения в обзоре."
    )
    if note not in measure.problems:
        measure.problems = [*measure.problems, note]
        session.add(measure)
    return None


def plans_span(session: Session) -> tuple[date, date] | None:
    """The days the stored plans cover (the part of the calendar their dates depend on)."""
    first, last = session.exec(select(func.min(Plan.period_start), func.max(Plan.period_end))).one()
    return None if first is None or last is None else (first, last)


def fingerprint(calendar: WorkCalendar, span: tuple[date, date]) -> str:
    """``FIRST..LAST:DIGEST`` — which days of ``span`` (with a month of margin: an event
    offset may reach just outside a plan's period) are working days.

    The span is part of the value so a stored fingerprint can be checked again over the
    days it covered (:func:`fingerprint_span`), whatever plans were added since.
    """
    first, last = span[0] - timedelta(days=31), span[1] + timedelta(days=31)
    digest = hashlib.sha256(f"{first}..{last}:".encode())
    day = first
    while day <= last:
        digest.update(b"1" if calendar.is_working_day(day) else b"0")
        day += timedelta(days=1)
    return f"{span[0]}..{span[1]}:{digest.hexdigest()}"


def fingerprint_span(value: str) -> tuple[date, date] | None:
    """The span a stored fingerprint covers (None: a value of an older release)."""
    head, sep, _ = value.partition(":")
    first, dots, last = head.partition("..")
    if not (sep and dots):
        return None
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return None
