"""``measures simulate``: the reminders and escalations the current data would produce.

Uses the very functions the sweep uses (engine.escalation.timeline.plan_steps for the moments,
engine.escalation.sweep.People for who gets what, deputies as of each day), assuming the
daemon runs throughout and tasks stay in their present states. Steps already taken are
not shown again. This is how a committee checks a ladder before going live, and how the
tests check the daemon: what it enqueues day by day must equal this timeline.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from engine.core.models import EscalationStep, Measure, Plan, Task, pk
from engine.escalation.sweep import Escalator, People, facts, pointless
from engine.escalation.timeline import plan_steps


@dataclass(frozen=True)
class TimelineEntry:
    fire_at: datetime
    send_at: datetime
    task_id: int
    measure_number: str
    step: str
    key: str
    template: str
    recipients: tuple[str, ...]  # person keys of those with an email address
    without_email: tuple[str, ...]  # person keys the daemon cannot write to
    skipped: bool  # a pre-due reminder that would be found only after the due date

    def as_json(self, esc: Escalator) -> dict[str, Any]:
        zone = esc.hours.zone
        return {
            "date": self.send_at.astimezone(zone).date().isoformat(),
            "fire_at": self.fire_at.astimezone(zone).isoformat(),
            "send_at": self.send_at.astimezone(zone).isoformat(),
            "task": self.task_id,
            "measure": self.measure_number,
            "step": self.step,
            "key": self.key,
            "template": self.template,
            "recipients": list(self.recipients),
            "without_email": list(self.without_email),
            "skipped": self.skipped,
        }


def simulate(
    session: Session, esc: Escalator, start: datetime, end: datetime
) -> list[TimelineEntry]:
    """The whole timeline in a list (tests and small windows; see :func:`iter_timeline`)."""
    return list(iter_timeline(session, esc, start, end))


def iter_timeline(
    session: Session, esc: Escalator, start: datetime, end: datetime, batch: int = 2000
) -> Generator[TimelineEntry]:
    """The timeline in order of sending, streamed: tasks are read ``batch`` at a time
    (their taken steps, people and deputies once per batch, as the sweep does), and the
    entries sorted through a temporary SQLite file, so that memory does not grow with
    the number of tasks. The file is removed when the stream ends or is closed."""
    with tempfile.TemporaryDirectory(prefix="measures-simulate-") as folder:
        store = sqlite3.connect(Path(folder) / "timeline.db")
        try:
            store.execute("CREATE TABLE entry (send_at INTEGER, task INTEGER, key TEXT, data TEXT)")
            for entries in _entries(session, esc, start, end, batch):
                store.executemany(
                    "INSERT INTO entry VALUES (?, ?, ?, ?)",
                    [(_micros(e.send_at), e.task_id, e.key, _dump(e)) for e in entries],
                )
            store.commit()
            for (data,) in store.execute("SELECT data FROM entry ORDER BY send_at, task, key"):
                yield _load(data)
        finally:
            store.close()


def _entries(
    session: Session, esc: Escalator, start: datetime, end: datetime, batch: int
) -> Iterator[list[TimelineEntry]]:
    people = People()
    after = 0
    while True:
        rows = session.exec(
            select(Task, Measure, Plan)
            .join(Measure, col(Measure.id) == Task.measure_id)
            .join(Plan, col(Plan.id) == Measure.plan_id)
            .where(
                col(Task.state).in_(sorted(esc.watched_states)),
                col(Task.detached_at).is_(None),
                col(Task.id) > after,
            )
            .order_by(col(Task.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        after = pk(rows[-1][0])
        ids = [pk(task) for task, _, _ in rows]
        taken = set(
            session.exec(
                select(EscalationStep.task_id, EscalationStep.key).where(
                    col(EscalationStep.task_id).in_(ids)
                )
            )
        )
        planned = [
            (task, measure, plan, step)
            for task, measure, plan in rows
            for step in plan_steps(facts(task), esc.ladder_for(plan, measure), esc.hours, end)
            if step.fire_at >= start and (pk(task), step.key) not in taken
        ]
        people.by_id.clear()
        people.load(
            session,
            (
                i
                for task, _, plan, _ in planned
                for i in (task.responsible_id, task.supervisor_id, plan.controller_id)
            ),
        )
        days = sorted({esc.hours.local_date(step.send_at) for _, _, _, step in planned})
        people.load_deputies(session, (task.responsible_id for task, _, _, _ in planned), days)
        found: list[TimelineEntry] = []
        for task, measure, plan, step in planned:
            day = esc.hours.local_date(step.send_at)
            stale = pointless(step.step, task, day, esc.hours.calendar) is not None
            to = [] if stale else people.recipients(session, step.step, task, plan, day)
            found.append(
                TimelineEntry(
                    fire_at=step.fire_at,
                    send_at=step.send_at,
                    task_id=pk(task),
                    measure_number=measure.number,
                    step=step.step.name,
                    key=step.key,
                    template=step.step.template,
                    recipients=tuple(p.key for p, _ in to if p.email),
                    without_email=tuple(p.key for p, _ in to if not p.email),
                    skipped=stale,
                )
            )
        yield found


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _dump(entry: TimelineEntry) -> str:
    data = asdict(entry)
    data["fire_at"], data["send_at"] = entry.fire_at.isoformat(), entry.send_at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _load(text: str) -> TimelineEntry:
    data = json.loads(text)
    data["fire_at"] = datetime.fromisoformat(data["fire_at"])
    data["send_at"] = datetime.fromisoformat(data["send_at"])
    data["recipients"] = tuple(data["recipients"])
    data["without_email"] = tuple(data["without_email"])
    return TimelineEntry(**data)
