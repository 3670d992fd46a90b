"""When each step of a ladder falls due for a task — a pure computation.

The daemon's sweep, ``measures simulate`` and the stored ``Task.next_step_at`` all come
from :func:`walk`, so what the simulation promises is what the daemon does, and the
moment stored on a task is the one the sweep will find due. Working-day steps fire at the
start of working hours on their day; hour steps fire at their moment and, outside working
hours or on a non-working day, are sent at the next opening (``send_at``).

Each planned step has a key ``name@anchor#n``: the anchor is the date (or moment) it
counts from, so when a due date moves the future steps get new keys — they are planned
anew — while the steps already taken stay recorded under the old ones. A task's next
step is the earliest step of its ladder, in its state, not recorded yet: one pass over
the ladder's steps (a repeating step walks past its own recorded repeats), whatever the
task's history elsewhere.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
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
    # Each day's opening and closing moment, remembered (a sweep asks for the same days
    # thousands of times; a time-zone conversion is most of a step's planning cost).
    _moments: dict[tuple[date, time], datetime] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def at(self, day: date, moment: time) -> datetime:
        key = (day, moment)
        found = self._moments.get(key)
        if found is None:
            found = datetime.combine(day, moment, tzinfo=self.zone).astimezone(UTC)
            if len(self._moments) < 100_000:
                self._moments[key] = found
        return found

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


def _anchor(
    step: Step, facts: TaskFacts, hours: WorkingHours, effective: date | None
) -> tuple[date, datetime, str] | None:
    """The anchor as a day (working-day steps), as a moment (hour steps), and the label
    its keys carry; ``effective`` is the task's effective deadline (None: no due date)."""
    if step.anchor == "due":
        if facts.due_date is None or effective is None:
            return None
        # A due date on a day off counts from the last working day before it (the
        # effective deadline): "due today" must not arrive after the deadline. Keys name
        # the written date.
        written = facts.due_date
        label = (
            written.isoformat()
            if step.unit == "working_days"
            else hours.at(written, hours.end).isoformat()
        )
        return effective, hours.at(effective, hours.end), label
    if step.anchor == "start":
        if facts.start_date is None:
            return None
        moment = hours.at(facts.start_date, hours.start)
        label = facts.start_date.isoformat() if step.unit == "working_days" else moment.isoformat()
        return facts.start_date, moment, label
    if facts.state_since is None:
        return None
    day = hours.local_date(facts.state_since)
    label = day.isoformat() if step.unit == "working_days" else facts.state_since.isoformat()
    return day, facts.state_since, label


def walk(
    facts: TaskFacts,
    ladder: Ladder,
    hours: WorkingHours,
    until: datetime | None,
    taken: Container[str] = (),
) -> tuple[list[PlannedStep], datetime | None]:
    """The steps due by ``until`` and not in ``taken``, and when the next one falls due.

    The second value is the earliest fire moment, after ``until``, of a step not in
    ``taken`` — what ``Task.next_step_at`` stores (``until=None``: the earliest step not
    taken at all). Taking every returned step and recording it makes that the next
    moment the task needs the sweep. The cost is a few calendar look-ups per step of the
    ladder (and per recorded repeat of a repeating one), whatever the task's history.
    """
    due: list[PlannedStep] = []
    following: datetime | None = None
    calendar = hours.calendar
    effective = None if facts.due_date is None else calendar.effective_deadline(facts.due_date)
    check = bool(taken)
    for step in ladder.steps:
        if facts.state not in step.states:
            continue
        anchor = _anchor(step, facts, hours, effective)
        if anchor is None:
            continue
        day, moment, label = anchor
        for n in range(_MAX_REPEATS if step.repeat else 1):
            shift = step.offset + n * step.repeat
            if step.unit == "working_days":
                fire_at = hours.at(calendar.add_working_days(day, shift), hours.start)
            else:
                fire_at = moment + timedelta(hours=shift)
            if until is not None and fire_at <= until:
                key = f"{step.name}@{label}#{n}"
                if key not in taken:
                    due.append(
                        PlannedStep(facts.task_id, step, key, fire_at, hours.next_open(fire_at))
                    )
                continue
            if following is not None and fire_at >= following:
                break  # later occurrences of this step come later still
            if not check or f"{step.name}@{label}#{n}" not in taken:
                following = fire_at
                break
    return due, following


def plan_steps(
    facts: TaskFacts, ladder: Ladder, hours: WorkingHours, until: datetime
) -> list[PlannedStep]:
    """Every step of ``ladder`` for this task in its current state firing by ``until``."""
    return walk(facts, ladder, hours, until)[0]


def next_step_at(
    facts: TaskFacts, ladder: Ladder, hours: WorkingHours, taken: Container[str]
) -> datetime | None:
    """When the earliest step not in ``taken`` falls due; None: nothing is planned."""
    return walk(facts, ladder, hours, None, taken)[1]


@dataclass(frozen=True)
class Planner:
    """The ladders and working hours: which ladder a task follows and when its next step
    falls due. Built once per process (engine.app.App.planner)."""

    ladders: Mapping[str, Ladder]
    hours: WorkingHours
    watched: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        states = {
            s for ladder in self.ladders.values() for step in ladder.steps for s in step.states
        }
        object.__setattr__(self, "watched", frozenset(states))

    def ladder_named(
        self, plan_ladder: str, measure_ladder: str | None, schedule: Mapping[str, Any]
    ) -> Ladder:
        """The measure's own ladder, else one serving its deadline kind, else the plan's."""
        if measure_ladder and measure_ladder in self.ladders:
            return self.ladders[measure_ladder]
        kind = schedule.get("kind")
        for ladder in self.ladders.values():
            if kind in ladder.kinds:
                return ladder
        return self.ladders.get(plan_ladder) or self.ladders["default"]

    def next_for(
        self, facts: TaskFacts, detached: bool, ladder: Ladder, taken: Container[str]
    ) -> datetime | None:
        """``Task.next_step_at``: None for a detached task or a state no ladder watches."""
        if detached or facts.state not in self.watched:
            return None
        return next_step_at(facts, ladder, self.hours, taken)
