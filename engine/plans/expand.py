"""Measures → the tasks they should have, and bringing stored tasks in line with that.

Used by the plan import (new and edited documents) and after the assessment calendar
changes. A task is identified by what anchors its occurrence — the written date or
window, the calendar unit, the assessment day (``Task.occurrence_key``) — and its
school, never by its position: an earlier assessment date or an earlier date added to
an edited plan is a new task, and the verified task of 13 April stays the task of 13
April. Occurrences whose anchor is gone are then paired with new ones by the nearest
due date (a date that truly moved: "Март" corrected to "Апрель"), so a moved date
updates the task in place — its state and history stay. A task no longer wanted is
deleted only when nothing has happened to it yet (no transition, ladder step or
letter); otherwise it is *detached*: kept with its history, but no longer reminded
about, escalated or listed as open work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from engine.core.models import AuditEvent, EscalationStep, Measure, OutboxMessage, Task, pk
from engine.plans.resolve import Directory, Resolution
from engine.plans.schedule import UNDATED_KEY, Occurrence, occurrence_key

#: Pairing an undated occurrence with a dated one is the last resort.
_FAR = 10**6

#: Task.set_by_hand names → the columns a re-import or re-dating leaves alone.
HAND_SET_FIELDS: dict[str, tuple[str, ...]] = {
    "dates": ("start_date", "due_date"),
    "responsible": ("responsible_id",),
    "supervisor": ("supervisor_id",),
}


@dataclass(frozen=True)
class DesiredTask:
    occurrence: int  # position among the measure's occurrences (display order)
    key: str  # what anchors the occurrence (engine.plans.schedule.occurrence_key)
    school_id: int | None
    responsible_id: int | None
    supervisor_id: int | None
    when: Occurrence | None  # None: no dates (on demand / to be set by the operator)


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


def keyed(occurrences: Sequence[Occurrence]) -> list[tuple[str, Occurrence | None]]:
    """Each occurrence with its key, unique within the list; one undated entry if none."""
    if not occurrences:
        return [(UNDATED_KEY, None)]
    seen: dict[str, int] = {}
    result: list[tuple[str, Occurrence | None]] = []
    for occurrence in occurrences:
        key = occurrence.key or occurrence_key("date", occurrence.start, occurrence.due)
        seen[key] = seen.get(key, 0) + 1
        result.append((key if seen[key] == 1 else f"{key}#{seen[key]}", occurrence))
    return result


def wanted_tasks(
    occurrences: Sequence[Occurrence],
    targets: Sequence[tuple[int | None, int | None]],
    supervisor_id: int | None,
) -> list[DesiredTask]:
    """One task per occurrence and target (school id, responsible id)."""
    return [
        DesiredTask(number, key, school, responsible, supervisor_id, when)
        for number, (key, when) in enumerate(keyed(occurrences), start=1)
        for school, responsible in targets
    ]


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
    return wanted_tasks(occurrences, targets, supervisor_id), problems


def has_history(session: Session, task_id: int) -> bool:
    """Anything happened to the task: a transition, a ladder step, a letter."""
    for model in (AuditEvent, EscalationStep, OutboxMessage):
        column = col(model.task_id)
        if session.exec(select(func.count()).where(column == task_id)).one():
            return True
    return False


def _distance(task: Task, desired: DesiredTask) -> int:
    due = desired.when.due if desired.when else None
    if due is None or task.due_date is None:
        return 0 if due is None and task.due_date is None else _FAR
    return abs((due - task.due_date).days)


def _pair(tasks: list[Task], wanted: list[DesiredTask]) -> list[tuple[DesiredTask, Task | None]]:
    """Each desired task with the stored task it continues (same school), or None.

    First the same anchor; the rest by the nearest due date — an occurrence whose anchor
    moved ("Март" → "Апрель", ВПР moved by a day) keeps its task.
    """
    by_key = {t.occurrence_key: t for t in tasks}
    pairs: dict[int, Task] = {}
    for index, desired in enumerate(wanted):
        task = by_key.pop(desired.key, None)
        if task is not None:
            pairs[index] = task
    left = [t for t in tasks if t.occurrence_key in by_key]
    open_ = [i for i in range(len(wanted)) if i not in pairs]
    candidates = sorted(
        (_distance(task, wanted[i]), n, i, task)
        for n, task in enumerate(left)
        for i in open_
    )  # fmt: skip
    taken: set[int] = set()
    for _distance_days, n, i, task in candidates:
        if i in pairs or n in taken:
            continue
        pairs[i] = task
        taken.add(n)
    return [(desired, pairs.get(i)) for i, desired in enumerate(wanted)]


def sync_tasks(
    session: Session,
    measure: Measure,
    wanted: Sequence[DesiredTask],
    initial_state: str,
    now: datetime,
) -> TaskChanges:
    """Make the measure's stored tasks match ``wanted``; the caller commits.

    ``updated`` counts tasks whose dates, persons or attachment changed; a task that
    only moved in the order of occurrences is saved but not counted.
    """
    changes = TaskChanges()
    stored: dict[int | None, list[Task]] = {}
    for row in session.exec(select(Task).where(Task.measure_id == measure.id)):
        stored.setdefault(row.school_id, []).append(row)
    by_school: dict[int | None, list[DesiredTask]] = {}
    for desired in wanted:
        by_school.setdefault(desired.school_id, []).append(desired)
    used: set[int] = set()
    for school, desired_here in by_school.items():
        for desired, task in _pair(stored.get(school, []), desired_here):
            start = desired.when.start if desired.when else None
            due = desired.when.due if desired.when else None
            fields: dict[str, object] = {
                "responsible_id": desired.responsible_id,
                "supervisor_id": desired.supervisor_id,
                "start_date": start,
                "due_date": due,
            }
            if task is not None:  # what a clerk set by hand stays as they set it
                for kept in task.set_by_hand:
                    for name in HAND_SET_FIELDS.get(kept, ()):
                        fields.pop(name, None)
            identity: dict[str, object] = {
                "occurrence": desired.occurrence,
                "occurrence_key": desired.key,
            }
            if task is None:
                session.add(
                    Task.model_validate(
                        {
                            "measure_id": pk(measure),
                            "school_id": desired.school_id,
                            "state": initial_state,
                            "created_at": now,
                            "updated_at": now,
                            "state_since": now,
                            **identity,
                            **fields,
                        }
                    )
                )
                changes.created += 1
                continue
            used.add(pk(task))
            changed = task.detached_at is not None or any(
                getattr(task, k) != v for k, v in fields.items()
            )
            if changed or any(getattr(task, k) != v for k, v in identity.items()):
                for name, value in (fields | identity).items():
                    setattr(task, name, value)
                if changed:
                    task.detached_at = None  # back in the document
                    task.updated_at = now
                    changes.updated += 1
                session.add(task)
    for gone in (t for tasks in stored.values() for t in tasks if pk(t) not in used):
        if not has_history(session, pk(gone)):
            session.delete(gone)
            changes.removed += 1
        elif gone.detached_at is None:
            gone.detached_at = now  # keep the history, stop reminding about it
            session.add(gone)
            changes.kept.append(pk(gone))
    return changes
