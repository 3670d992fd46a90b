"""Re-dating stored tasks when what their dates were computed from has changed.

Two things move computed due dates: the assessment calendar (event-bound measures) and
the working-day calendar itself (a decree day added to ``calendar_decrees.toml`` or to
``calendar.extra_holidays`` moves recurring unit ends, continuous progress reports and
event offsets that fell on it). Dates written in a plan stay as written: their effective
deadline is derived from the calendar whenever it is shown, so it follows by itself.

:func:`redate` recomputes the measures concerned and returns every task whose dates
moved, so a person sees what moved (``measures calendar redate --dry-run``) before it
does. The calendar the stored dates were computed with is remembered as a fingerprint
(:func:`fingerprint`) in the ``calendar`` database flag; ``measures status`` and the
daemon say when the current calendar differs from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from engine.core.models import Measure, Plan, Task, pk
from engine.core.workcalendar import WorkCalendar
from engine.plans.expand import DesiredTask, TaskChanges, sync_tasks
from engine.plans.schedule import Cadence, EventDate, occurrences, parse_deadline, schedule_json

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

    The caller commits (or rolls back, for a dry run). A measure's clerk-given phrase
    (``deadline_override``) wins over the document's; fields a clerk set on a task by hand
    stay (engine.plans.expand.sync_tasks).
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
        schedule = parse_deadline(measure.deadline_override or measure.deadline_phrase, period)
        dated = occurrences(schedule, period, calendar, events, continuous_cadence)
        existing = list(session.exec(select(Task).where(Task.measure_id == measure.id)))
        before = {pk(t): t.due_date for t in existing}
        targets = sorted({(t.school_id, t.responsible_id) for t in existing}, key=str)
        wanted = [
            DesiredTask(n, school, responsible, measure.supervisor_id, when)
            for n, when in enumerate(dated or [None], start=1)
            for school, responsible in targets
        ]
        result.changes.add(sync_tasks(session, measure, wanted, initial_state, now))
        measure.schedule = schedule_json(schedule, dated)
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
