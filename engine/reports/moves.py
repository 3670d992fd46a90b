"""Deadline moves requested and granted — the discipline report's one outside source.

Counted from the deadline requests (engine.app.work: a responsible person asks, the
supervisor grants or refuses) of the tasks present at the report's moment: requests made
by then, and of them those granted by then — a request granted after an "as of" day
counts as requested, not granted, on that day. Grouped in SQL by the task's responsible
person and school, so the cost does not grow with the number of tasks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col

from engine.core.models import DeadlineRequest, Measure, Task
from engine.reports.asof import Moment, Scope, present


@dataclass(frozen=True)
class Moves:
    requested: int = 0
    granted: int = 0

    def __add__(self, other: Moves) -> Moves:
        return Moves(self.requested + other.requested, self.granted + other.granted)


@dataclass(frozen=True)
class MoveCounts:
    total: Moves = Moves()
    by_person: dict[int, Moves] = field(default_factory=dict)
    by_school: dict[int, Moves] = field(default_factory=dict)


def deadline_moves(session: Session, scope: Scope, moment: Moment) -> MoveCounts:
    """Requests to move a deadline, per responsible person and per school."""
    granted = sa.func.sum(
        sa.case(
            (
                sa.and_(
                    col(DeadlineRequest.status) == "granted",
                    col(DeadlineRequest.decided_at) <= moment.cutoff,
                ),
                1,
            ),
            else_=0,
        )
    )
    rows = session.execute(
        sa.select(col(Task.responsible_id), col(Task.school_id), sa.func.count(), granted)
        .select_from(DeadlineRequest)
        .join(Task, col(Task.id) == DeadlineRequest.task_id)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .where(*present(scope, moment), col(DeadlineRequest.created_at) <= moment.cutoff)
        .group_by(col(Task.responsible_id), col(Task.school_id))
    )
    total = Moves()
    by_person: dict[int, Moves] = defaultdict(Moves)
    by_school: dict[int, Moves] = defaultdict(Moves)
    for person_id, school_id, requested, accepted in rows:
        moves = Moves(int(requested), int(accepted or 0))
        total += moves
        if person_id is not None:
            by_person[person_id] += moves
        if school_id is not None:
            by_school[school_id] += moves
    return MoveCounts(total, dict(by_person), dict(by_school))
