"""Read-only views of tasks, shared by the CLI and (later) the web page and API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.core.models import AuditEvent, Measure, Person, Plan, Task
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
    state: str
    version: int
    overdue: bool
    detached: bool = False  # removed from its document, kept for its history

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start_date", "due_date"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def list_tasks(
    session: Session,
    workflow: WorkflowDef,
    today: date,
    *,
    state: str | None = None,
    person: Person | None = None,
    plan_id: int | None = None,
    overdue: bool = False,
) -> list[TaskRow]:
    """Tasks with their plan and people; ``person`` matches responsible or supervisor."""
    responsible = aliased(Person)
    supervisor = aliased(Person)
    query = (
        sa.select(Task, Measure, Plan, responsible, supervisor)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .outerjoin(responsible, col(responsible.id) == Task.responsible_id)
        .outerjoin(supervisor, col(supervisor.id) == Task.supervisor_id)
        .order_by(col(Task.due_date).asc().nulls_last(), col(Task.id))
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
            col(Task.due_date) < today,
            col(Task.state).in_(workflow.owing),
            col(Task.detached_at).is_(None),
        )
    rows = []
    for task, measure, plan, resp, sup in session.execute(query).all():
        assert task.id is not None and plan.id is not None
        rows.append(
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
                state=task.state,
                version=task.version,
                overdue=bool(
                    task.due_date
                    and task.due_date < today
                    and task.state in workflow.owing
                    and task.detached_at is None
                ),
                detached=task.detached_at is not None,
            )
        )
    return rows


def history(session: Session, task_id: int) -> list[tuple[AuditEvent, Person, Person | None]]:
    """The task's audit rows, oldest first, with actor and the person they stood in for."""
    principal = aliased(Person)
    query = (
        select(AuditEvent, Person, principal)
        .join(Person, col(Person.id) == AuditEvent.actor_id)
        .outerjoin(principal, col(principal.id) == AuditEvent.on_behalf_of_id)
        .where(AuditEvent.task_id == task_id)
        .order_by(col(AuditEvent.seq))
    )
    return [(row, actor, behalf) for row, actor, behalf in session.exec(query)]
