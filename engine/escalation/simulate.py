"""``measures simulate``: the reminders and escalations the current data would produce.

Uses the very functions the sweep uses (engine.escalation.timeline.plan_steps for the moments,
engine.escalation.sweep.recipients for who gets what, deputies as of each day), assuming the
daemon runs throughout and tasks stay in their present states. Steps already taken are
not shown again. This is how a committee checks a ladder before going live, and how the
tests check the daemon: what it enqueues day by day must equal this timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.core.models import EscalationStep, Measure, Plan, Task, pk
from engine.escalation.sweep import Escalator, facts, pointless, recipients
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
    taken = set(session.exec(select(EscalationStep.task_id, EscalationStep.key)))
    query = (
        select(Task, Measure, Plan)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .where(col(Task.state).in_(sorted(esc.watched_states)), col(Task.detached_at).is_(None))
        .order_by(col(Task.id))
    )
    timeline: list[TimelineEntry] = []
    for task, measure, plan in session.exec(query):
        for planned in plan_steps(facts(task), esc.ladder_for(plan, measure), esc.hours, end):
            if planned.fire_at < start or (pk(task), planned.key) in taken:
                continue
            day = esc.hours.local_date(planned.send_at)
            stale = pointless(planned.step, task, day, esc.hours.calendar) is not None
            people = [] if stale else recipients(session, planned.step, task, plan, day)
            timeline.append(
                TimelineEntry(
                    fire_at=planned.fire_at,
                    send_at=planned.send_at,
                    task_id=pk(task),
                    measure_number=measure.number,
                    step=planned.step.name,
                    key=planned.key,
                    template=planned.step.template,
                    recipients=tuple(p.key for p, _ in people if p.email),
                    without_email=tuple(p.key for p, _ in people if not p.email),
                    skipped=stale,
                )
            )
    timeline.sort(key=lambda e: (e.send_at, e.task_id, e.key))
    return timeline
