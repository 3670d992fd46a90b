"""When each step of a ladder falls due for a task — a pure computation.

The daemon's sweep and ``measures simulate`` both call :func:`plan_steps`, so what the
simulation promises is what the daemon does. Working-day steps fire at the start of
working hours on their day; hour steps fire at their moment and, outside working hours
or on a non-working day, are sent at the next opening (``send_at``).

Each planned step has a key ``name@anchor#n``: the anchor is the date (or moment) it
counts from, so when a due date moves the future steps get new keys — they are planned
anew — while the steps already taken stay recorded under the old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.core.workcalendar import WorkCalendar
from engine.escalation.ladder import Ladder, Step

_MAX_REPEATS = 1000  # a guard: a ladder repeating forever still ends


@dataclass(frozen=True)
class WorkingHours:
    zone: ZoneInfo
    start: time
    end: time
    calendar: WorkCalendar

    def at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.zone).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.calendar.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself if mail may go out then, else the next opening."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.calendar.is_working_day(day) and local.time() < self.start:
            return self.at(day, self.start)
        return self.at(self.calendar.next_working_day(day), self.start)


@dataclass(frozen=True)
class TaskFacts:
    """What planning needs to know about a task (read from its row)."""

    task_id: int
    state: str
    start_date: date | None
    due_date: date | None
    state_since: datetime | None


@dataclass(frozen=True)
class PlannedStep:
    task_id: int
    step: Step
    key: str
    fire_at: datetime  # UTC: when the step becomes due
    send_at: datetime  # UTC: when its mail may leave (quiet hours respected)

    @property
    def pre_due(self) -> bool:
        """A reminder before (or on) the due date: pointless once that date has passed."""
        return self.step.anchor == "due" and self.step.offset <= 0


def _anchor(step: Step, facts: TaskFacts, hours: WorkingHours) -> tuple[date, datetime] | None:
    """The anchor as a day (working-day steps) and as a moment (hour steps)."""
    if step.anchor == "due":
        if facts.due_date is None:
            return None
        # A due date on a day off counts from the last working day before it (the
        # effective deadline): "due today" must not arrive after the deadline.
        effective = hours.calendar.effective_deadline(facts.due_date)
        return effective, hours.at(effective, hours.end)
    if step.anchor == "start":
        if facts.start_date is None:
            return None
        return facts.start_date, hours.at(facts.start_date, hours.start)
    if facts.state_since is None:
        return None
    return hours.local_date(facts.state_since), facts.state_since


def plan_steps(
    facts: TaskFacts, ladder: Ladder, hours: WorkingHours, until: datetime
) -> list[PlannedStep]:
    """Every step of ``ladder`` for this task in its current state firing by ``until``."""
    planned: list[PlannedStep] = []
    for step in ladder.steps:
        if facts.state not in step.states:
            continue
        anchor = _anchor(step, facts, hours)
        if anchor is None:
            continue
        day, moment = anchor
        label = day.isoformat() if step.unit == "working_days" else moment.isoformat()
        if step.anchor == "due" and facts.due_date is not None:  # keys name the written date
            written = facts.due_date
            label = (
                written.isoformat()
                if step.unit == "working_days"
                else hours.at(written, hours.end).isoformat()
            )
        for n in range(_MAX_REPEATS):
            if step.unit == "working_days":
                due_day = hours.calendar.add_working_days(day, step.offset + n * step.repeat)
                fire_at = hours.at(due_day, hours.start)
            else:
                fire_at = moment + timedelta(hours=step.offset + n * step.repeat)
            if fire_at > until:
                break
            planned.append(
                PlannedStep(
                    facts.task_id,
                    step,
                    f"{step.name}@{label}#{n}",
                    fire_at,
                    hours.next_open(fire_at),
                )
            )
            if not step.repeat:
                break
    return planned
