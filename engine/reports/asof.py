"""The state of tasks as it was at a moment: one replay of the audit log for every report.

Every report asks the same question — what state was each task in at the end of the
report's day, since when, what had been reported and who had accepted it, which ladder
steps had been taken — and gets its answer from :func:`task_facts`. For today that is
simply the present; for a past day the answer is *replayed* from the append-only audit
log (``AuditEvent``: from_state, to_state, at) and the recorded escalation steps
(``EscalationStep.taken_at``), so a report for 10 November shows what was true on
10 November even if tasks moved afterwards.

The replay runs in SQL: per task, the newest audit row at or before the moment gives its
state (grouped ``max(seq)`` subqueries, joined back), the oldest row after it gives the
state of a task that had not moved yet. One row per task — plus one per ladder step taken,
folded here — is streamed to Python in batches (``yield_per``), so a report on 100k tasks
never holds the audit log in memory.

What is *not* replayed: due dates and the responsible person are today's (a re-imported
plan moves dates without an audit row); tasks created after the moment, or detached
from their document at or before it, are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from engine.core.clock import stored_utc
from engine.core.errors import MeasuresError
from engine.core.models import AuditEvent, EscalationStep, Measure, Person, School, Task
from engine.lifecycle.workflow import WorkflowDef

#: Rows fetched from the database per round trip while streaming.
BATCH = 2000


@dataclass(frozen=True)
class Moment:
    """The report's day and the last instant whose events count."""

    day: date  # committee time
    cutoff: datetime  # UTC; events at or before it count
    past: bool  # an earlier day than today: replayed from the audit log

    @classmethod
    def of(cls, now: datetime, zone: ZoneInfo, day: date | None = None) -> Moment:
        """Today (up to ``now``), or the end of an earlier ``day``; a future day is refused."""
        today = now.astimezone(zone).date()
        if day is None or day == today:
            return cls(today, now, past=False)
        if day > today:
            raise MeasuresError(
                f"--as-of: дата {day:%d.%m.%Y} ещё не наступила (сегодня {today:%d.%m.%Y}); "
                "отчёт строится на сегодня или на прошедшую дату."
            )
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        return cls(day, end.astimezone(UTC) - timedelta(microseconds=1), past=True)


@dataclass(frozen=True)
class Scope:
    """Which tasks a report covers; every condition given must hold."""

    plan_id: int | None = None
    due_from: date | None = None  # due dates within [due_from, due_to]
    due_to: date | None = None
    measure_ids: tuple[int, ...] | None = None
    school_id: int | None = None  # the tasks of one school (a help programme's)
    task_ids: tuple[int, ...] | None = None

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        if self.plan_id is not None:
            found.append(col(Measure.plan_id) == self.plan_id)
        if self.due_from is not None:
            found.append(col(Task.due_date) >= self.due_from)
        if self.due_to is not None:
            found.append(col(Task.due_date) <= self.due_to)
        if self.measure_ids is not None:
            found.append(col(Task.measure_id).in_(self.measure_ids))
        if self.school_id is not None:
            found.append(col(Task.school_id) == self.school_id)
        if self.task_ids is not None:
            found.append(col(Task.id).in_(self.task_ids))
        return found


@dataclass(frozen=True, slots=True)
class TaskFact:
    """One task as it stood at the moment (names are today's directory entries)."""

    task_id: int
    measure_id: int
    plan_id: int
    occurrence: int
    school_id: int | None
    school: str  # short name, else full name; "" for tasks without a school
    responsible_id: int | None
    responsible: str  # "" when nobody is assigned
    start_date: date | None
    due_date: date | None
    state: str  # at the moment
    since: datetime | None  # when it entered that state
    reported_at: datetime | None  # the newest report (entry into awaiting_decision) by then
    report: str
    reporter: str
    done_at: datetime | None  # the newest entry into a done state by then
    verifier: str  # who accepted it ("Петрова А.С. (за …)" when a deputy did)
    steps: tuple[tuple[str, datetime], ...]  # ladder steps taken by then, oldest first


def _in_scope(scope: Scope, moment: Moment) -> sa.Select[Any]:
    return (
        sa.select(col(Task.id))
        .join(Measure, col(Measure.id) == col(Task.measure_id))
        .where(*present(scope, moment))
    )


def present(scope: Scope, moment: Moment) -> list[Any]:
    """In scope, already created and not yet detached from its document at the moment."""
    return [
        *scope.conditions(),
        col(Task.created_at) <= moment.cutoff,
        sa.or_(col(Task.detached_at).is_(None), col(Task.detached_at) > moment.cutoff),
    ]


def _pick(ids: Any, newest: bool, *conditions: Any) -> Any:
    """Per task, the seq of its newest (or oldest) audit row meeting ``conditions``."""
    seq = sa.func.max(col(AuditEvent.seq)) if newest else sa.func.min(col(AuditEvent.seq))
    return (
        sa.select(col(AuditEvent.task_id).label("task_id"), seq.label("seq"))
        .where(col(AuditEvent.task_id).in_(ids), *conditions)
        .group_by(col(AuditEvent.task_id))
        .subquery()
    )


def _name(person: Any) -> Any:
    return sa.func.coalesce(person.name, "")


def task_facts(
    session: Session,
    workflow: WorkflowDef,
    moment: Moment,
    scope: Scope,
) -> Iterator[TaskFact]:
    """Every task of ``scope`` as it was at ``moment``, in the plan's document order."""
    ids = _in_scope(scope, moment)
    at = col(AuditEvent.at)
    before = _pick(ids, True, at <= moment.cutoff)
    after = _pick(ids, False, at > moment.cutoff)
    reported = _pick(
        ids, True, at <= moment.cutoff, col(AuditEvent.to_state).in_(workflow.awaiting)
    )
    done = _pick(ids, True, at <= moment.cutoff, col(AuditEvent.to_state).in_(workflow.done))
    # Aliases are typed Any: mypy would read their attributes as plain values.
    last, first_after, report, acceptance = (cast(Any, aliased(AuditEvent)) for _ in range(4))
    responsible, reporter, verifier, verified_for = (cast(Any, aliased(Person)) for _ in range(4))
    step = cast(Any, aliased(EscalationStep))
    query = (
        sa.select(
            col(Task.id),
            col(Task.measure_id),
            col(Measure.plan_id),
            col(Task.occurrence),
            col(Task.school_id),
            sa.func.coalesce(sa.func.nullif(School.short_name, ""), School.name, ""),
            col(Task.responsible_id),
            _name(responsible),
            col(Task.start_date),
            col(Task.due_date),
            sa.func.coalesce(last.to_state, first_after.from_state, Task.state),
            sa.func.coalesce(last.at, Task.state_since, Task.created_at),
            report.at,
            sa.func.coalesce(report.comment, ""),
            _name(reporter),
            acceptance.at,
            _name(verifier),
            _name(verified_for),
            step.step,
            step.taken_at,
        )
        .join(Measure, col(Measure.id) == col(Task.measure_id))
        .outerjoin(School, col(School.id) == col(Task.school_id))
        .outerjoin(responsible, responsible.id == col(Task.responsible_id))
        .outerjoin(before, before.c.task_id == col(Task.id))
        .outerjoin(last, last.seq == before.c.seq)
        .outerjoin(after, after.c.task_id == col(Task.id))
        .outerjoin(first_after, first_after.seq == after.c.seq)
        .outerjoin(reported, reported.c.task_id == col(Task.id))
        .outerjoin(report, report.seq == reported.c.seq)
        .outerjoin(reporter, reporter.id == report.actor_id)
        .outerjoin(done, done.c.task_id == col(Task.id))
        .outerjoin(acceptance, acceptance.seq == done.c.seq)
        .outerjoin(verifier, verifier.id == acceptance.actor_id)
        .outerjoin(verified_for, verified_for.id == acceptance.on_behalf_of_id)
        .outerjoin(
            step,
            sa.and_(
                step.task_id == col(Task.id),
                step.taken_at <= moment.cutoff,
                sa.not_(step.skipped),
            ),
        )
        .where(*present(scope, moment))
        .order_by(col(Measure.position), col(Task.occurrence), col(Task.id), step.taken_at)
        .execution_options(yield_per=BATCH)
    )
    pending: list[Any] | None = None
    steps: list[tuple[str, datetime]] = []
    for row in session.connection().execute(query):  # Core rows: no ORM loading per row
        if pending is not None and pending[0] != row[0]:
            yield _fact(pending, steps, workflow)
            steps = []
        pending = list(row)
        if row[-2] is not None:
            steps.append((row[-2], stored_utc(row[-1])))
    if pending is not None:
        yield _fact(pending, steps, workflow)


def _maybe(moment: datetime | None) -> datetime | None:
    return None if moment is None else stored_utc(moment)


def _fact(row: list[Any], steps: list[tuple[str, datetime]], workflow: WorkflowDef) -> TaskFact:
    (task_id, measure_id, plan_id, occurrence, school_id, school, responsible_id, responsible,
     start, due, state, since, reported_at, report, reporter, done_at, verifier, verified_for,
     *_) = row  # fmt: skip
    in_done = workflow.meaning(state) == "done" if state in workflow.state_defs else False
    return TaskFact(
        task_id=task_id,
        measure_id=measure_id,
        plan_id=plan_id,
        occurrence=occurrence,
        school_id=school_id,
        school=school,
        responsible_id=responsible_id,
        responsible=responsible,
        start_date=start,
        due_date=due,
        state=state,
        since=_maybe(since),
        reported_at=_maybe(reported_at),
        report=report,
        reporter=reporter,
        done_at=_maybe(done_at) if in_done else None,
        verifier=(verifier + (f" (за {verified_for})" if verified_for else "")) if in_done else "",
        steps=tuple(steps),
    )


def done_deltas(
    session: Session, workflow: WorkflowDef, moment: Moment, scope: Scope, zone: ZoneInfo
) -> dict[date, int]:
    """Per day (committee time): tasks that entered a done state minus those that left one.

    Streamed from the audit log; the running sum is how many tasks stood executed on
    each day — the progress line of the plan report's chart.
    """
    done = set(workflow.done)
    query = (
        sa.select(col(AuditEvent.at), col(AuditEvent.from_state), col(AuditEvent.to_state))
        .where(
            col(AuditEvent.task_id).in_(_in_scope(scope, moment)),
            col(AuditEvent.at) <= moment.cutoff,
            sa.or_(col(AuditEvent.to_state).in_(done), col(AuditEvent.from_state).in_(done)),
        )
        .execution_options(yield_per=BATCH)
    )
    deltas: dict[date, int] = {}
    for at, source, target in session.connection().execute(query):
        change = (target in done) - (source in done)
        if change:
            day = stored_utc(at).astimezone(zone).date()
            deltas[day] = deltas.get(day, 0) + change
    return deltas


def due_counts(session: Session, moment: Moment, scope: Scope) -> dict[date, int]:
    """Tasks per due date (grouped in SQL): the "due by then" line of the chart."""
    query = (
        sa.select(col(Task.due_date), sa.func.count())
        .join(Measure, col(Measure.id) == col(Task.measure_id))
        .where(*present(scope, moment), col(Task.due_date).is_not(None))
        .group_by(col(Task.due_date))
    )
    return {day: count for day, count in session.execute(query) if day is not None}
