"""Read-only views of tasks, shared by the CLI and (later) the web page and API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.core.models import AuditEvent, Measure, Person, Plan, School, Task
from engine.core.workcalendar import WorkCalendar
from engine.lifecycle.workflow import WorkflowDef


@dataclass(frozen=True)
class TaskRow:
    id: int
    plan_id: int
    plan_title: str
    measure_number: str
    title: str
    responsible: str | None
    supervisor: str | None
    start_date: date | None
    due_date: date | None
    effective_due: date | None  # the working day the due date really falls on
    state: str
    version: int
    overdue: bool
    detached: bool = False  # removed from its document, kept for its history
    undated: str | None = None  # why there is no due date (see undated_reason)
    school: str | None = None
    responsible_name: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start_date", "due_date", "effective_due"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


#: Rows fetched from the database at a time when tasks are streamed.
STREAM_ROWS = 1000


def iter_tasks(
    session: Session,
    workflow: WorkflowDef,
    calendar: WorkCalendar,
    today: date,
    *,
    state: str | None = None,
    person: Person | None = None,
    plan_id: int | None = None,
    overdue: bool = False,
) -> Iterator[TaskRow]:
    """Tasks with their plan and people; ``person`` matches responsible or supervisor.

    Streamed (a server-side cursor on PostgreSQL, :data:`STREAM_ROWS` at a time): a
    listing of a million tasks starts at once and never holds them all.

    Overdue means past the *effective* deadline (WorkCalendar.effective_deadline): a task
    written for Sunday is overdue from Saturday on, once Friday has passed. In SQL: the
    due date lies before the first working day on or after today.
    """
    first_working = calendar.add_working_days(today, 0)
    responsible = aliased(Person)
    supervisor = aliased(Person)
    query = (
        sa.select(Task, Measure, Plan, responsible, supervisor, School)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .outerjoin(School, col(School.id) == Task.school_id)
        .outerjoin(responsible, col(responsible.id) == Task.responsible_id)
        .outerjoin(supervisor, col(supervisor.id) == Task.supervisor_id)
        .order_by(col(Task.due_date).asc().nulls_last(), col(Task.id))
        .execution_options(yield_per=STREAM_ROWS)
    )
    if state:
        query = query.where(col(Task.state) == state)
    if person is not None:
        query = query.where(
            (col(Task.responsible_id) == person.id) | (col(Task.supervisor_id) == person.id)
        )
    if plan_id is not None:
        query = query.where(col(Measure.plan_id) == plan_id)
    if overdue:
        query = query.where(
            col(Task.due_date) < first_working,
            col(Task.state).in_(workflow.owing),
            col(Task.detached_at).is_(None),
        )
    for task, measure, plan, resp, sup, school in session.execute(query):
        assert task.id is not None and plan.id is not None
        effective = None if task.due_date is None else calendar.effective_deadline(task.due_date)
        yield (
            TaskRow(
                id=task.id,
                plan_id=plan.id,
                plan_title=plan.title,
                measure_number=measure.number,
                title=measure.title,
                responsible=resp.key if resp else None,
                supervisor=sup.key if sup else None,
                start_date=task.start_date,
                due_date=task.due_date,
                effective_due=effective,
                state=task.state,
                version=task.version,
                overdue=bool(
                    effective
                    and effective < today
                    and task.state in workflow.owing
                    and task.detached_at is None
                ),
                detached=task.detached_at is not None,
                undated=undated_reason(measure.schedule) if task.due_date is None else None,
                school=school.short_name or school.name if school else None,
                responsible_name=resp.name if resp else None,
            )
        )


def history(session: Session, task_id: int) -> list[tuple[AuditEvent, Person, Person | None]]:
    """The task's audit rows, oldest first, with actor and the person they stood in for —
    and the clerk's changes to its measure or plan, which changed the task too."""
    principal = aliased(Person)
    task = session.get(Task, task_id)
    measure = session.get(Measure, task.measure_id) if task else None
    about = col(AuditEvent.task_id) == task_id
    if measure is not None:
        about = about | (
            col(AuditEvent.task_id).is_(None)
            & (
                (col(AuditEvent.measure_id) == measure.id)
                | (
                    col(AuditEvent.measure_id).is_(None)
                    & (col(AuditEvent.plan_id) == measure.plan_id)
                )
            )
        )
    query = (
        select(AuditEvent, Person, principal)
        .join(Person, col(Person.id) == AuditEvent.actor_id)
        .outerjoin(principal, col(principal.id) == AuditEvent.on_behalf_of_id)
        .where(about)
        .order_by(col(AuditEvent.seq))
    )
    return [(row, actor, behalf) for row, actor, behalf in session.exec(query)]


@dataclass(frozen=True)
class Attention:
    """An open task nobody will be reminded about until a person fixes it."""

    task_id: int
    plan_id: int
    plan_title: str
    measure_number: str
    title: str
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"reasons": list(self.reasons)}


def undated_reason(schedule: dict[str, Any]) -> str:
    """Why a task has no due date, for a person: what to do about it."""
    kind = schedule.get("kind")
    if kind == "event":
        event = schedule.get("event") or {}
        kinds = ", ".join(event.get("kinds") or []) or "оценочных процедур"
        return f"нет даты: в календаре нет событий ({kinds}) в периоде плана"
    if kind == "unscheduled":
        return "срок не распознан: задайте его вручную"
    return "срок не задан"


def needs_attention(
    session: Session, workflow: WorkflowDef, limit: int = 50
) -> tuple[int, list[Attention]]:
    """Open tasks without a responsible or without a due date (how many, the first ones).

    Measures «по мере необходимости» have no dates by nature and are listed only when
    they lack a responsible. Counted in SQL, and only the first ``limit`` read: the
    country's undated «по мере необходимости» tasks, loaded as whole rows to be
    skipped one by one, were the admins' digest's peak of 250 MiB (bench/RESULTS.md).
    """
    kind = sa.func.coalesce(Measure.schedule["kind"].as_string(), "")
    condition = sa.and_(
        col(Task.state).in_(workflow.owing),
        col(Task.detached_at).is_(None),
        col(Plan.archived_at).is_(None),
        col(Task.responsible_id).is_(None) | (col(Task.due_date).is_(None) & (kind != "on_demand")),
    )
    joined = (
        sa.select(sa.func.count())
        .select_from(Task)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .where(condition)
    )
    count = int(session.execute(joined).scalar_one())
    first = session.execute(
        sa.select(
            col(Task.id),
            col(Task.responsible_id),
            col(Task.due_date),
            col(Plan.id).label("plan_id"),
            col(Plan.title).label("plan_title"),
            col(Measure.number),
            col(Measure.title),
            col(Measure.schedule),
        )
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .where(condition)
        .order_by(col(Plan.id), col(Measure.position), col(Task.id))
        .limit(limit)
    )
    found = []
    for row in first:
        reasons = []
        if row.responsible_id is None:
            reasons.append("нет ответственного")
        if row.due_date is None and row.schedule.get("kind") != "on_demand":
            reasons.append(undated_reason(row.schedule))
        found.append(
            Attention(row.id, row.plan_id, row.plan_title, row.number, row.title, tuple(reasons))
        )
    return count, found
