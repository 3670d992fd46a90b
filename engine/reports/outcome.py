"""What a task's state at the report's moment means for discipline: in time, late, overdue.

The definitions every report shares (README, «Отчёты»):

- A task is *executed* when it stands in a ``done`` state. Its execution date is the day
  the accepted report was submitted (the newest entry into an ``awaiting_decision``
  state before it was accepted), or the day of acceptance where nobody reported first:
  the responsible is judged by when they delivered, not by how long the verifier took.
- Executed *in time*: on or before the due date; *late*: after it.
- *Overdue*: still owed (an ``owing`` state) and the due date is before the report's day
  — the same rule as ``measures tasks --overdue``.
- The *delay* of a late or overdue task is counted in working days of the production
  calendar, from the due date to the execution date (or the report's day), the due
  date itself not counted: executed on the next working day is one day late.
- Escalation: the highest ladder step taken by the report's moment for work still owed
  — level 1 when a step went to the supervisor or the plan's controller, level 2 when
  it went to the head of the committee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from engine.core.workcalendar import WorkCalendar
from engine.escalation.ladder import Ladder
from engine.lifecycle.workflow import WorkflowDef
from engine.reports.asof import TaskFact

Kind = Literal["on_time", "late", "done", "overdue", "owing", "awaiting", "closed"]

#: Escalation levels and who they reached, for people.
ESCALATION_LABELS = {0: "", 1: "контролирующему лицу", 2: "председателю комитета"}


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Kind
    executed_on: date | None  # done tasks: the execution date (see the module docstring)
    delay: int | None  # late or overdue: working days past the due date


@dataclass(frozen=True)
class Judge:
    """Classifies facts for one report day."""

    workflow: WorkflowDef
    calendar: WorkCalendar
    zone: ZoneInfo
    day: date
    # Working days between two dates, remembered: a measure fanned out to 1,000 schools
    # asks the same question 1,000 times, and the calendar counts day by day.
    _spans: dict[tuple[date, date], int] = field(default_factory=dict, repr=False)

    def working_days(self, first: date, last: date) -> int:
        found = self._spans.get((first, last))
        if found is None:
            found = self._spans[first, last] = self.calendar.working_days_between(first, last)
        return found

    def __call__(self, fact: TaskFact) -> Outcome:
        meaning = self.workflow.meaning(fact.state) if fact.state in self.workflow.states else None
        due = fact.due_date
        if meaning == "done":
            moment = fact.reported_at or fact.done_at
            if fact.done_at is not None and moment is not None and moment > fact.done_at:
                moment = fact.done_at
            executed = moment.astimezone(self.zone).date() if moment else None
            if due is None or executed is None:
                return Outcome("done", executed, None)
            if executed <= due:
                return Outcome("on_time", executed, None)
            return Outcome("late", executed, self.working_days(due, executed))
        if meaning == "owing":
            if due is not None and due < self.day:
                return Outcome("overdue", None, self.working_days(due, self.day))
            return Outcome("owing", None, None)
        if meaning == "awaiting_decision":
            return Outcome("awaiting", None, None)
        return Outcome("closed", None, None)


@dataclass
class Tally:
    """Discipline figures of a group of tasks (a plan, a person, a school)."""

    total: int = 0
    due: int = 0  # due on or before the report's day
    on_time: int = 0
    late: int = 0
    done: int = 0  # every executed task, with or without a due date
    overdue: int = 0
    owing: int = 0  # still owed, not yet due
    awaiting: int = 0
    closed: int = 0
    escalated: int = 0  # reached the supervisor or higher
    escalated_head: int = 0
    delay_sum: int = 0
    delays: int = 0
    worst: int | None = None
    worst_task: TaskFact | None = None

    def add(self, fact: TaskFact, outcome: Outcome, day: date, escalation: int = 0) -> None:
        self.total += 1
        if fact.due_date is not None and fact.due_date <= day:
            self.due += 1
        kind = outcome.kind
        if kind in ("on_time", "late", "done"):
            self.done += 1
        if kind != "done":  # every other outcome has a counter of its own name
            setattr(self, kind, getattr(self, kind) + 1)
        self.escalated += escalation >= 1
        self.escalated_head += escalation >= 2
        if outcome.delay is not None:
            self.delay_sum += outcome.delay
            self.delays += 1
            if self.worst is None or outcome.delay > self.worst:
                self.worst, self.worst_task = outcome.delay, fact

    @property
    def open(self) -> int:
        """Still expected of somebody: owed (due or not) or waiting for a decision."""
        return self.overdue + self.owing + self.awaiting

    @property
    def average_delay(self) -> float | None:
        return self.delay_sum / self.delays if self.delays else None


def step_levels(ladder: Ladder, owing: Iterable[str]) -> dict[str, int]:
    """Step name → escalation level, for steps about work still owed."""
    owed = set(owing)
    levels: dict[str, int] = {}
    for step in ladder.steps:
        if not set(step.states) <= owed:
            continue  # e.g. a reminder to verify a report: not an escalation of a debt
        if "head" in step.recipients:
            levels[step.name] = 2
        elif {"supervisor", "controller"} & set(step.recipients):
            levels[step.name] = 1
    return levels


def escalation(fact: TaskFact, levels: dict[str, int]) -> int:
    """The highest level the task's steps taken by the moment reached."""
    return max((levels.get(name, 0) for name, _ in fact.steps), default=0)
