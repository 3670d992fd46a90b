"""A clerk's corrections to imported plans: dates, schedule phrases, responsible persons,
supervisors; withdrawing or archiving a plan; every change audited.

The import review says «задайте даты вручную» where a deadline cannot be read; these are
the commands that do it. A change is made by a person with the directory role ``admin``
(the committee's clerk or administrator), in one transaction with its audit row: a task's
change names the task (its state unchanged in the row), a measure's or a plan's names
the measure or the plan, and every row lists its changes as field → [before, after].
What a clerk set on a task stays when the document is imported again or the calendar
re-dates (``Task.set_by_hand``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from engine.app import App
from engine.app.plans import find_measure
from engine.core.db import session_scope
from engine.core.errors import MeasuresError, NotFound, TransitionRefused
from engine.core.models import (
    AuditEvent,
    EscalationStep,
    Measure,
    OutboxMessage,
    Person,
    Plan,
    Section,
    Task,
    pk,
)
from engine.directory.people import find_person
from engine.lifecycle import audit
from engine.plans.events import event_dates
from engine.plans.expand import sync_tasks, wanted_tasks
from engine.plans.redate import store_schedule
from engine.plans.schedule import occurrences, parse_deadline

#: The directory role that may correct plans.
CLERK_ROLE = "admin"


def _clerk(session: Session, ident: str) -> Person:
    person = find_person(session, ident)
    if CLERK_ROLE not in person.roles:
        raise TransitionRefused(
            f"{person.name} ({person.key}) не может исправлять планы: это вправе "
            f"сотрудник с ролью {CLERK_ROLE} (администратор)."
        )
    return person


def _record(
    key: bytes,
    session: Session,
    actor: Person,
    event: str,
    changes: dict[str, Any],
    now: datetime,
    *,
    task: Task | None = None,
    measure_id: int | None = None,
    plan_id: int | None = None,
    comment: str = "",
) -> None:
    state = task.state if task is not None else ""
    audit.append(
        session,
        AuditEvent(
            task_id=pk(task) if task is not None else None,
            measure_id=measure_id,
            plan_id=plan_id,
            event=event,
            from_state=state,
            to_state=state,
            actor_id=pk(actor),
            at=now,
            comment=comment,
            changes=changes,
            seq=0,
            prev_hash="",
            hash="",
        ),
        key,
    )


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _key(session: Session, person_id: int | None) -> str | None:
    person = session.get(Person, person_id) if person_id else None
    return None if person is None else person.key


def _mark(task: Task, *names: str) -> None:
    task.set_by_hand = sorted(set(task.set_by_hand) | set(names))


@dataclass(frozen=True)
class Change:
    """What one command changed, for the door to show."""

    subject: str  # «задача 5», «мероприятие 3 плана 1», «план 2»
    changes: dict[str, Any]
    tasks: int = 0  # tasks touched


def set_task(
    app: App,
    task_id: int,
    actor: str,
    *,
    due: date | None = None,
    start: date | None = None,
    responsible: str | None = None,
    supervisor: str | None = None,
    comment: str = "",
) -> Change:
    """Set a task's dates, responsible or supervisor by hand (kept on re-import)."""
    with session_scope(app.writable_engine()) as session:
        clerk = _clerk(session, actor)
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound("task", task_id)
        changes: dict[str, Any] = {}
        new_start = start if start is not None else task.start_date
        new_due = due if due is not None else task.due_date
        if new_start is not None and new_due is not None and new_start > new_due:
            raise MeasuresError(
                f"--start {new_start:%d.%m.%Y} позже срока {new_due:%d.%m.%Y}: начало не может "
                "быть позже срока"
            )
        if due is not None or start is not None:
            if (task.start_date, task.due_date) != (new_start, new_due):
                changes["start_date"] = [_iso(task.start_date), _iso(new_start)]
                changes["due_date"] = [_iso(task.due_date), _iso(new_due)]
            task.start_date, task.due_date = new_start, new_due
            _mark(task, "dates")
        for role, ident in (("responsible", responsible), ("supervisor", supervisor)):
            if ident is None:
                continue
            person = find_person(session, ident)
            column = f"{role}_id"
            if getattr(task, column) != person.id:
                changes[role] = [_key(session, getattr(task, column)), person.key]
            setattr(task, column, person.id)
            _mark(task, role)
        if not changes:
            return Change(f"задача {task_id}", {})
        task.updated_at = app.clock.now()
        session.add(task)
        session.flush()
        _record(
            app.audit_key,
            session,
            clerk,
            "correct",
            changes,
            app.clock.now(),
            task=task,
            comment=comment,
        )
        session.commit()
    return Change(f"задача {task_id}", changes, 1)


def set_measure(
    app: App,
    plan_id: int,
    number: str,
    actor: str,
    *,
    schedule: str | None = None,
    responsible: str | None = None,
    co_responsible: Sequence[str] | None = None,
    supervisor: str | None = None,
    comment: str = "",
) -> Change:
    """Give a measure a deadline phrase, a responsible, co-responsible or a supervisor.

    A phrase is read by the same grammar as the document's (``measures schedule
    explain``) and must be understood; the measure's tasks are re-dated from it and keep
    those dates on re-import. A responsible or supervisor goes to every task.
    """
    now = app.clock.now()
    with session_scope(app.writable_engine()) as session:
        clerk = _clerk(session, actor)
        measure = find_measure(session, plan_id, number)
        plan = session.get(Plan, plan_id)
        assert plan is not None
        tasks = list(session.exec(select(Task).where(Task.measure_id == measure.id)))
        changes: dict[str, Any] = {}
        if schedule is not None:
            period = (plan.period_start, plan.period_end)
            parsed = parse_deadline(schedule, period)
            if parsed.kind == "unscheduled":
                raise MeasuresError(
                    f"срок «{schedule}» не распознан: {' '.join(parsed.problems)} "
                    "Попробуйте формулировку в measures schedule explain."
                )
            dated = occurrences(
                parsed,
                period,
                app.calendar,
                event_dates(session),
                app.config.settings.schedule.continuous_cadence,
            )
            changes["schedule"] = [measure.deadline_override or measure.deadline_phrase, schedule]
            measure.deadline_override = schedule
            store_schedule(measure, parsed, dated)  # the clerk's from now on
            for task in tasks:  # the measure's new phrase decides again
                task.set_by_hand = [n for n in task.set_by_hand if n != "dates"]
            targets = sorted({(t.school_id, t.responsible_id) for t in tasks}, key=str)
            wanted = wanted_tasks(dated, targets or [(None, None)], measure.supervisor_id)
            sync_tasks(session, measure, wanted, app.workflow.initial, now)
            session.flush()
            tasks = list(session.exec(select(Task).where(Task.measure_id == measure.id)))
            for task in tasks:
                _mark(task, "dates")
        for role, ident in (("responsible", responsible), ("supervisor", supervisor)):
            if ident is None:
                continue
            person = find_person(session, ident)
            before = sorted({k for t in tasks if (k := _key(session, getattr(t, f"{role}_id")))})
            changes[role] = [", ".join(before) or None, person.key]
            for task in tasks:
                setattr(task, f"{role}_id", person.id)
                _mark(task, role)
            if role == "supervisor":
                measure.supervisor_id = person.id
        if co_responsible is not None:
            people = [find_person(session, ident) for ident in co_responsible]
            before_keys = [_key(session, i) for i in measure.co_responsible_ids]
            changes["co_responsible"] = [
                ", ".join(k for k in before_keys if k) or None,
                ", ".join(p.key for p in people) or None,
            ]
            measure.co_responsible_ids = [pk(p) for p in people]
        if not changes:
            return Change(f"мероприятие {number} плана {plan_id}", {})
        for task in tasks:
            task.updated_at = now
            session.add(task)
        session.add(measure)
        session.flush()
        _record(
            app.audit_key,
            session,
            clerk,
            "correct",
            changes,
            now,
            measure_id=pk(measure),
            plan_id=plan_id,
            comment=comment,
        )
        session.commit()
    return Change(f"мероприятие {number} плана {plan_id}", changes, len(tasks))


def _plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    return plan


def _touched(session: Session, plan_id: int) -> int:
    """How many of the plan's tasks have a history (transition, change, step, letter)."""
    ids = select(Task.id).join(Measure).where(Measure.plan_id == plan_id)
    touched: set[int] = set()
    for model in (AuditEvent, EscalationStep, OutboxMessage):
        column = col(model.task_id)
        touched.update(
            t for t in session.exec(select(column).where(column.in_(ids)).distinct()) if t
        )
    return len(touched)


def withdraw_plan(app: App, plan_id: int, actor: str, comment: str = "") -> Change:
    """Remove an imported plan that nothing has happened to yet (a wrong file, a draft).

    Once any of its tasks has a history — a transition, a clerk's change, a reminder — it
    is refused: such a plan is archived instead, keeping what happened.
    """
    now = app.clock.now()
    with session_scope(app.writable_engine()) as session:
        clerk = _clerk(session, actor)
        plan = _plan(session, plan_id)
        touched = _touched(session, plan_id)
        changed = session.exec(
            select(func.count()).where(
                col(AuditEvent.plan_id) == plan_id, col(AuditEvent.task_id).is_(None)
            )
        ).one()
        if touched or changed:
            raise MeasuresError(
                f"план {plan_id} уже в работе (задач с историей: {touched}, исправлений: "
                f"{changed}): отозвать его нельзя, можно отправить в архив — measures plan "
                f"archive {plan_id}"
            )
        measures = list(session.exec(select(Measure).where(Measure.plan_id == plan_id)))
        count = 0
        for measure in measures:
            for task in session.exec(select(Task).where(Task.measure_id == measure.id)):
                session.delete(task)
                count += 1
        session.flush()
        for measure in measures:
            session.delete(measure)
        session.flush()
        sections = list(session.exec(select(Section).where(Section.plan_id == plan_id)))
        for section in sections:  # children before parents
            section.parent_id = None
            session.add(section)
        session.flush()
        for section in sections:
            session.delete(section)
        changes = {"plan": [f"{plan.title} ({plan.source_name})", None], "tasks": [count, 0]}
        session.delete(plan)
        session.flush()
        _record(
            app.audit_key,
            session,
            clerk,
            "withdraw",
            changes,
            now,
            plan_id=plan_id,
            comment=comment,
        )
        session.commit()
    return Change(f"план {plan_id}", changes, count)


def archive_plan(app: App, plan_id: int, actor: str, comment: str = "") -> Change:
    """Stop a plan: its open tasks are no longer reminded about; all history stays."""
    now = app.clock.now()
    with session_scope(app.writable_engine()) as session:
        clerk = _clerk(session, actor)
        plan = _plan(session, plan_id)
        if plan.archived_at is not None:
            return Change(f"план {plan_id}", {})
        plan.archived_at = now
        session.add(plan)
        count = 0
        query = (
            select(Task)
            .join(Measure)
            .where(Measure.plan_id == plan_id, col(Task.detached_at).is_(None))
        )
        for task in session.exec(query):
            task.detached_at = now
            session.add(task)
            count += 1
        changes = {"archived": [None, now.isoformat()], "tasks": [count, 0]}
        session.flush()
        _record(
            app.audit_key, session, clerk, "archive", changes, now, plan_id=plan_id, comment=comment
        )
        session.commit()
    return Change(f"план {plan_id}", changes, count)


@dataclass(frozen=True)
class PlanRow:
    id: int
    title: str
    order: str  # «№ 212 от 28.08.2026»
    period: tuple[date, date]
    measures: int
    tasks: int
    open_tasks: int
    archived: bool


def list_plans(app: App) -> list[PlanRow]:
    """Every plan with its order, period and how much of it is open."""
    owing = list(app.workflow.owing)
    with session_scope(app.ready_engine()) as session:
        measures: dict[int, int] = {
            plan_id: count
            for plan_id, count in session.exec(
                select(Measure.plan_id, func.count()).group_by(col(Measure.plan_id))
            )
        }
        tasks: dict[int, int] = {}
        open_tasks: dict[int, int] = {}
        for plan_id, state, detached, count in session.exec(
            select(Measure.plan_id, Task.state, Task.detached_at.is_(None), func.count())  # type: ignore[union-attr]
            .join(Task, col(Task.measure_id) == Measure.id)
            .group_by(col(Measure.plan_id), col(Task.state), Task.detached_at.is_(None))  # type: ignore[union-attr]
        ):
            tasks[plan_id] = tasks.get(plan_id, 0) + count
            if state in owing and detached:
                open_tasks[plan_id] = open_tasks.get(plan_id, 0) + count
        rows = []
        for plan in session.exec(select(Plan).order_by(col(Plan.id))):
            order = ""
            if plan.order_number or plan.order_date:
                when = f" от {plan.order_date:%d.%m.%Y}" if plan.order_date else ""
                order = f"№ {plan.order_number}{when}".strip()
            rows.append(
                PlanRow(
                    pk(plan),
                    plan.title,
                    order,
                    (plan.period_start, plan.period_end),
                    measures.get(pk(plan), 0),
                    tasks.get(pk(plan), 0),
                    open_tasks.get(pk(plan), 0),
                    plan.archived_at is not None,
                )
            )
        return rows
