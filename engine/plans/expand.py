"""Measures → the tasks they should have, and bringing stored tasks in line with that.

Used by the plan import (new and edited documents) and after the assessment calendar
changes. Tasks are matched by (occurrence number, school), so a moved due date updates
the task in place — its state and history stay. A task no longer wanted is deleted
only when nothing has happened to it yet (no transition, ladder step or letter);
otherwise it is *detached*: kept with its history, but no longer reminded about,
escalated or listed as open work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from engine.core.models import AuditEvent, EscalationStep, Measure, OutboxMessage, Task, pk
from engine.plans.resolve import Directory, Resolution
from engine.plans.schedule import Occurrence

#: Task.set_by_hand names → the columns a re-import or re-dating leaves alone.
HAND_SET_FIELDS: dict[str, tuple[str, ...]] = {
    "dates": ("start_date", "due_date"),
    "responsible": ("responsible_id",),
    "supervisor": ("supervisor_id",),
}


@dataclass(frozen=True)
class DesiredTask:
    occurrence: int
    school_id: int | None
    responsible_id: int | None
    supervisor_id: int | None
    when: Occurrence | None  # None: no dates (on demand / to be set by the operator)

    @property
    def identity(self) -> tuple[int, int | None]:
        return (self.occurrence, self.school_id)


@dataclass
class TaskChanges:
    created: int = 0
    updated: int = 0
    removed: int = 0
    kept: list[int] = field(default_factory=list)  # detached: unwanted but with history

    def add(self, other: TaskChanges) -> None:
        self.created += other.created
        self.updated += other.updated
        self.removed += other.removed
        self.kept.extend(other.kept)

    @property
    def any(self) -> bool:
        return bool(self.created or self.updated or self.removed or self.kept)


def desired_tasks(
    occurrences: Sequence[Occurrence],
    resolution: Resolution,
    directory: Directory,
    supervisor_id: int | None,
) -> tuple[list[DesiredTask], list[str]]:
    """One task per occurrence and target; problems in Russian for the review.

    A measure without dated occurrences (on demand, or dates to be set) still gets one
    undated task per target, so it is tracked and shows up in lists.
    """
    problems: list[str] = []
    targets: list[tuple[int | None, int | None]] = []  # (school id, responsible id)
    if resolution.fan_out:
        schools = directory.schools_for(resolution.flag)
        if not schools:
            which = {
                "non_objective": "с признаками необъективности",
                "low_results": "с низкими результатами",
            }.get(resolution.flag or "", "")
            problems.append(
                f"В справочнике нет школ {which}".rstrip()
                + ": задачи для ОО не созданы (measures schools import)."
            )
        for school in schools:
            if school.head_id is None:
                problems.append(f"У школы «{school.name}» не указан руководитель (head).")
            targets.append((school.id, school.head_id))
    elif resolution.persons:
        targets.append((None, pk(resolution.persons[0])))
    else:
        targets.append((None, None))
    dated: list[Occurrence | None] = list(occurrences) or [None]
    wanted = [
        DesiredTask(number, school, responsible, supervisor_id, when)
        for number, when in enumerate(dated, start=1)
        for school, responsible in targets
    ]
    return wanted, problems


def has_history(session: Session, task_id: int) -> bool:
    """Anything happened to the task: a transition, a ladder step, a letter."""
    for model in (AuditEvent, EscalationStep, OutboxMessage):
        column = col(model.task_id)
        if session.exec(select(func.count()).where(column == task_id)).one():
            return True
    return False


def sync_tasks(
    session: Session,
    measure: Measure,
    wanted: Sequence[DesiredTask],
    initial_state: str,
    now: datetime,
) -> TaskChanges:
    """Make the measure's stored tasks match ``wanted``; the caller commits."""
    changes = TaskChanges()
    existing = {
        (t.occurrence, t.school_id): t
        for t in session.exec(select(Task).where(Task.measure_id == measure.id))
    }
    for desired in wanted:
        start = desired.when.start if desired.when else None
        due = desired.when.due if desired.when else None
        fields: dict[str, object] = {
            "responsible_id": desired.responsible_id,
            "supervisor_id": desired.supervisor_id,
            "start_date": start,
            "due_date": due,
        }
        task = existing.pop(desired.identity, None)
        if task is not None:  # what a clerk set by hand stays as they set it
            for kept in task.set_by_hand:
                for name in HAND_SET_FIELDS.get(kept, ()):
                    fields.pop(name, None)
        if task is None:
            session.add(
                Task.model_validate(
                    {
                        "measure_id": pk(measure),
                        "occurrence": desired.occurrence,
                        "school_id": desired.school_id,
                        "state": initial_state,
                        "created_at": now,
                        "updated_at": now,
                        "state_since": now,
                        **fields,
                    }
                )
            )
            changes.created += 1
        elif task.detached_at is not None or any(getattr(task, k) != v for k, v in fields.items()):
            for name, value in fields.items():
                setattr(task, name, value)
            task.detached_at = None  # back in the document
            task.updated_at = now
            session.add(task)
            changes.updated += 1
    for task in existing.values():
        if not has_history(session, pk(task)):
            session.delete(task)
            changes.removed += 1
        elif task.detached_at is None:
            task.detached_at = now  # keep the history, stop reminding about it
            session.add(task)
            changes.kept.append(pk(task))
    return changes
