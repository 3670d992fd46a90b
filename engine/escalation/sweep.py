"""The sweep: which ladder steps are due now, taken once each, their mail in the outbox.

Run every minute by the daemon (and by ``measures sweep``). It reads only the tasks whose
``next_step_at`` has come — an index range, kept current by engine.escalation.nextstep —
so an idle sweep is one indexed query and writes nothing, whatever the number of tasks.
For each such task it plans the ladder's steps up to now (engine.escalation.timeline —
the same computation ``measures simulate`` shows), and for every step not yet recorded it
writes the :class:`EscalationStep` and one :class:`OutboxMessage` per recipient, then the
task's following ``next_step_at``, in the same transaction. Nothing is sent here: the
outbox sender does that.

A batch is loaded once: the tasks, their recorded step keys, measures and plans, people
(responsible, supervisors, controllers, deputies of the day, the heads), schools; its
steps and letters are inserted in bulk, its tasks' next moments in one executemany.

Exactly once, also with several daemons on one PostgreSQL: due tasks are claimed in
batches with ``SELECT … FOR UPDATE SKIP LOCKED`` — a batch another daemon holds is
skipped, not waited for — and the step keys are checked inside that lock; the unique
(task, key) constraint is the last safety net (a batch that hits it is rolled back and
read again). Row locks rather than an advisory-lock lease: they are released by the
database at commit or when a killed daemon's connection drops, so no lease can outlive
its holder, and several daemons share the work instead of one idling. On SQLite the
immediate transaction holds the database's single write lock; the idle check before it
is a deferred read that takes no lock.

A reminder due *before* the due date that is only found after the due date has passed
(the daemon was down) is recorded as skipped: telling somebody "three days left" about a
task that is already late is worse than saying nothing; the overdue steps follow.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Engine, String, cast
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.core.clock import Clock
from engine.core.db import read_scope, session_scope
from engine.core.links import OPEN, Claim, Signer, new_nonce
from engine.core.models import (
    DaemonState,
    Deputy,
    EscalationStep,
    Measure,
    OutboxMessage,
    Person,
    Plan,
    School,
    Task,
    pk,
)
from engine.core.workcalendar import WorkCalendar
from engine.escalation.ladder import Ladder, Step
from engine.escalation.nextstep import facts_of, store
from engine.escalation.timeline import PlannedStep, Planner, TaskFacts, WorkingHours, walk
from engine.lifecycle.workflow import WorkflowDef
from notifications import RenderedMessage, TaskNotice, deadline_calendar, make_message_id, render

log = logging.getLogger(__name__)

_task = Task.__table__  # type: ignore[attr-defined]


class TaskView(Protocol):
    """What letters and links read of a task: a :class:`Task` or a row of its columns."""

    @property
    def id(self) -> int | None: ...
    @property
    def state(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def state_since(self) -> datetime | None: ...
    @property
    def responsible_id(self) -> int | None: ...
    @property
    def supervisor_id(self) -> int | None: ...
    @property
    def school_id(self) -> int | None: ...
    @property
    def report(self) -> str: ...
    @property
    def version(self) -> int: ...


@dataclass(frozen=True)
class Escalator:
    """What planning and rendering need, built once per process."""

    workflow: WorkflowDef
    planner: Planner
    committee: str
    base_url: str
    mail_domain: str
    signer: Signer
    link_days: int = 14
    templates_dir: str | None = None  # the committee's own letter templates, if any

    @property
    def ladders(self) -> Mapping[str, Ladder]:
        return self.planner.ladders

    @property
    def hours(self) -> WorkingHours:
        return self.planner.hours

    def ladder_for(self, plan: Plan, measure: Measure) -> Ladder:
        """The measure's own ladder, else one serving its deadline kind, else the plan's."""
        return self.planner.ladder_named(plan.ladder, measure.ladder, measure.schedule)

    def task_links(
        self,
        task: TaskView,
        person: Person,
        behalf: Person | None,
        now: datetime,
    ) -> dict[str, str]:
        """Signed links for one recipient: open the task, then each action the workflow
        lets their role take from the task's state (report, verify, return, ...).

        Each link binds task, action, person, expiry and the task's version, and
        carries a nonce that makes a state-changing link single-use (engine.core.links).
        """
        held = set(person.roles)
        if task.responsible_id is not None and task.responsible_id in (
            person.id,
            behalf and behalf.id,
        ):
            held.add("responsible")
        if task.supervisor_id is not None and task.supervisor_id in (
            person.id,
            behalf and behalf.id,
        ):
            held.add("supervisor")
        actions = [OPEN] + [
            name
            for name in self.workflow.allowed_from(task.state)
            if held & set(self.workflow.events[name].roles)
        ]
        return {
            "Открыть задачу" if action == OPEN else self.workflow.events[action].label: (
                self.link(pk(task), action, pk(person), now, task.version)  # type: ignore[arg-type]
            )
            for action in actions
        }

    def link(
        self, task_id: int, action: str, person_id: int, now: datetime, version: int | None = None
    ) -> str:
        """One signed link to ``/l/<token>`` valid for ``link_days``."""
        claim = Claim(
            person_id=person_id,
            expires=now + timedelta(days=self.link_days),
            nonce=new_nonce(),
            task_id=task_id,
            action=action,
            version=version,
        )
        return f"{self.base_url}/l/{self.signer.make('action', claim)}"

    @property
    def watched_states(self) -> frozenset[str]:
        return self.planner.watched


@dataclass
class SweepResult:
    tasks: int = 0
    steps: int = 0
    skipped: int = 0
    messages: int = 0
    missing_email: list[str] = field(default_factory=list)


def facts(task: TaskView) -> TaskFacts:
    return facts_of(task)


class People:
    """The people a batch of steps writes to, read once per batch (the heads once per
    sweep): by id, the deputies of each day, the heads of the committee."""

    def __init__(self) -> None:
        self.by_id: dict[int, Person] = {}
        self._heads: list[Person] | None = None
        self._deputies: dict[tuple[int, date], list[int]] = {}

    def load(self, session: Session, ids: Iterable[int | None]) -> None:
        wanted = sorted({i for i in ids if i is not None} - self.by_id.keys())
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for person in session.exec(select(Person).where(col(Person.id).in_(chunk))):
                self.by_id[pk(person)] = person

    def load_deputies(
        self, session: Session, ids: Iterable[int | None], days: Sequence[date]
    ) -> None:
        """The deputies of ``ids`` on each of ``days`` (and load those people)."""
        wanted = sorted({i for i in ids if i is not None})
        if not wanted or not days:
            return
        first, last = min(days), max(days)
        found: list[tuple[int, int, date, date]] = []
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            found.extend(
                session.execute(
                    sa.select(
                        col(Deputy.person_id),
                        col(Deputy.deputy_id),
                        col(Deputy.starts),
                        col(Deputy.ends),
                    ).where(
                        col(Deputy.person_id).in_(chunk),
                        col(Deputy.starts) <= last,
                        col(Deputy.ends) >= first,
                    )
                )
            )
        for person in wanted:
            for day in days:
                self._deputies[(person, day)] = []
        for person, deputy, starts, ends in found:
            for day in days:
                if starts <= day <= ends:
                    self._deputies[(person, day)].append(deputy)
        self.load(session, (deputy for _, deputy, _, _ in found))

    def heads(self, session: Session) -> list[Person]:
        """People with the directory role ``head``: read once, by a text match on the
        roles list narrowed in Python (not the whole directory per step)."""
        if self._heads is None:
            candidates = session.exec(
                select(Person).where(cast(col(Person.roles), String).like('%"head"%'))
            )
            self._heads = [p for p in candidates if "head" in p.roles]
        return self._heads

    def get(self, person_id: int | None) -> Person | None:
        return None if person_id is None else self.by_id.get(person_id)

    def recipients(
        self, session: Session, step: Step, task: TaskView, plan: Plan, day: date
    ) -> list[tuple[Person, Person | None]]:
        """(person, the person they stand in for) for each recipient role, deputies of
        ``day``; everybody must have been loaded (:meth:`load`, :meth:`load_deputies`)."""
        found: dict[int, tuple[Person, Person | None]] = {}

        def add(people: Iterable[Person | None], behalf: Person | None = None) -> None:
            for person in people:
                if person is not None and person.active and person.id is not None:
                    found.setdefault(person.id, (person, behalf))

        for role in step.recipients:
            if role == "responsible":
                add([self.get(task.responsible_id)])
            elif role == "deputy" and task.responsible_id is not None:
                if (task.responsible_id, day) not in self._deputies:
                    self.load_deputies(session, [task.responsible_id], [day])
                deputies = self._deputies[(task.responsible_id, day)]
                add((self.get(d) for d in deputies), self.get(task.responsible_id))
            elif role == "supervisor":
                add([self.get(task.supervisor_id)])
            elif role == "controller":
                add([self.get(plan.controller_id)])
            elif role == "head":
                add(self.heads(session))
        return list(found.values())


def _notice(
    esc: Escalator,
    people: People,
    schools: Mapping[int, str],
    step_name: str,
    task: TaskView,
    measure: Measure,
    plan: Plan,
    person: Person,
    behalf: Person | None,
    today: date,
    now: datetime,
) -> TaskNotice:
    """The letter's facts as of ``today`` — the working day on which it will leave.

    ``now`` signs the links (their expiry counts from it)."""
    calendar = esc.hours.calendar
    responsible = people.get(task.responsible_id)
    supervisor = people.get(task.supervisor_id)
    written = task.due_date or today
    due = calendar.effective_deadline(written)
    since = esc.hours.local_date(task.state_since) if task.state_since else today
    return TaskNotice(
        task_id=pk(task),  # type: ignore[arg-type]
        plan_title=plan.title,
        measure_number=measure.number,
        measure_title=measure.title,
        due=due,
        written_due=written if written != due else None,
        state_label=esc.workflow.label(task.state),
        responsible_name=responsible.name if responsible else "не назначен",
        recipient_name=person.name,
        recipient_email=person.email,
        committee_name=esc.committee,
        step=step_name,
        links=esc.task_links(task, person, behalf, now),
        target=schools.get(task.school_id, "") if task.school_id is not None else "",
        expected_result=measure.expected_result,
        supervisor_name=supervisor.name if supervisor else "",
        days_left=max(calendar.working_days_between(today, due), 0),
        days_overdue=max(calendar.working_days_between(due, today), 0),
        days_waiting=max(calendar.working_days_between(since, today), 0),
        reported_on=since if task.state in esc.workflow.awaiting else None,
        report=task.report,
    )


def pointless(step: Step, task: TaskView, day: date, calendar: WorkCalendar) -> str | None:
    """Why a reminder before the deadline would say nothing useful if it left on ``day``.

    "Three days left" on the due day, or "due today" after it, is worse than silence; the
    overdue steps follow. The reason is recorded on the step (or the dropped letter).
    """
    if step.anchor != "due" or step.offset > 0 or task.due_date is None:
        return None
    due = calendar.effective_deadline(task.due_date)
    if day > due or (step.offset < 0 and day >= due):
        return f"Устарело: срок {due:%d.%m.%Y} уже наступил, напоминание не отправлено."
    return None


def letter_row(
    esc: Escalator,
    *,
    dedupe: str,
    template: str,
    context: Mapping[str, object],
    person: Person,
    now: datetime,
    not_before: datetime,
    task_id: int | None = None,
    step_id: int | None = None,
    on_behalf_of_id: int | None = None,
    ics: str = "",
) -> dict[str, Any]:
    """A letter rendered for the outbox (the columns of one row), under its unique
    ``dedupe`` key.

    The Message-ID is derived from the key, so any resend of this row is the same
    letter to the mail server and to the recipient's client. The letter speaks of the
    working day it can first leave on (``not_before``); past that day's working hours it
    is out of date (``valid_until``) and the sender rewrites or drops it.
    """
    rendered = render(template, context, esc.templates_dir)
    return {
        "dedupe_key": dedupe,
        "kind": template,
        "task_id": task_id,
        "step_id": step_id,
        "person_id": pk(person),
        "on_behalf_of_id": on_behalf_of_id,
        "recipient_email": person.email,
        "recipient_name": person.name,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "message_id": make_message_id(dedupe.replace(":", "."), esc.mail_domain),
        "created_at": now,
        "not_before": not_before,
        "status": "pending",
        "attempts": 0,
        "lease_until": None,
        "last_error": "",
        "sent_at": None,
        "ics": ics,
        "valid_until": esc.hours.at(esc.hours.local_date(not_before), esc.hours.end),
        "note": "",
    }


def queue_letters(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rendered letters (:func:`letter_row`) in one statement per thousand.

    Into the table, not through the ORM's bulk insert, which also fetched every new
    row's key for objects nobody builds (11 % of a sweep, py-spy)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    for start in range(0, len(rows), 1000):
        connection.execute(table.insert(), list(rows[start : start + 1000]))


def queue_message(session: Session, esc: Escalator, **letter: Any) -> None:
    """Render one letter and store it in the outbox (see :func:`letter_row`)."""
    queue_letters(session, [letter_row(esc, **letter)])


@dataclass
class _Due:
    """One task of a batch: its row, measure, plan and the steps to take now."""

    task: Any  # a Row of the task table (TaskView)
    measure: Measure
    plan: Plan
    steps: list[PlannedStep]
    following: datetime | None


class _Rows:
    """Measures and plans of a sweep, read once (few against the tasks)."""

    def __init__(self) -> None:
        self.measures: dict[int, Measure] = {}
        self.plans: dict[int, Plan] = {}

    def load(self, session: Session, measure_ids: Iterable[int]) -> None:
        missing = sorted(set(measure_ids) - self.measures.keys())
        if not missing:
            return
        for measure in session.exec(select(Measure).where(col(Measure.id).in_(missing))):
            self.measures[pk(measure)] = measure
        plans = sorted({m.plan_id for m in self.measures.values()} - self.plans.keys())
        for plan in session.exec(select(Plan).where(col(Plan.id).in_(plans))):
            self.plans[pk(plan)] = plan


def _claim(session: Session, now: datetime, size: int) -> list[Any]:
    """Due tasks, oldest moment first, locked (others' locked rows skipped)."""
    query = (
        sa.select(_task)
        .where(_task.c.next_step_at <= now)
        .order_by(_task.c.next_step_at, _task.c.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(query).all())


def due_probe(now: datetime) -> sa.Select[Any]:
    """The earliest due task, by the ``next_step_at`` index.

    ``ORDER BY`` is what keeps it on the index: right after a sweep has moved every due
    task forward, PostgreSQL's statistics still count them as due, and for a bare
    ``LIMIT 1`` it then prefers a sequential scan of the whole table (627 ms instead of
    0.7 ms at three million tasks, bench/RESULTS.md).
    """
    return (
        sa.select(_task.c.id)
        .where(_task.c.next_step_at <= now)
        .order_by(_task.c.next_step_at)
        .limit(1)
    )


def anything_due(engine: Engine, now: datetime) -> bool:
    """One indexed read, no lock, no write: is any task's next step due?"""
    with read_scope(engine) as session:
        found = session.execute(due_probe(now)).first()
        session.rollback()
    return found is not None


def take_batch(
    esc: Escalator,
    session: Session,
    batch: Sequence[Any],
    rows: _Rows,
    people: People,
    now: datetime,
    result: SweepResult,
) -> None:
    """Take every due step of ``batch`` (locked task rows) and set their next moments;
    the caller commits.

    The letters are written for the working day they can leave on — later than the
    step's own moment when the sweep finds it after hours (a Friday-evening catch-up
    leaves on Monday and must count the days from Monday).
    """
    hours = esc.hours
    ids = [row.id for row in batch]
    taken: dict[int, set[str]] = {i: set() for i in ids}
    for task_id, key in session.execute(
        select(EscalationStep.task_id, EscalationStep.key).where(
            col(EscalationStep.task_id).in_(ids)
        )
    ):
        taken[task_id].add(key)
    rows.load(session, (row.measure_id for row in batch))
    opening = hours.next_open(now)
    work: list[_Due] = []
    for row in batch:
        measure = rows.measures[row.measure_id]
        plan = rows.plans[measure.plan_id]
        if row.detached_at is not None or row.state not in esc.planner.watched:
            work.append(_Due(row, measure, plan, [], None))
            continue
        steps, following = walk(
            facts_of(row), esc.ladder_for(plan, measure), hours, now, taken[row.id]
        )
        work.append(_Due(row, measure, plan, steps, following))
    # Record the steps (ids come back in order), then the letters they send.
    recorded: list[tuple[_Due, PlannedStep, date, str | None]] = []
    step_rows: list[dict[str, Any]] = []
    for due in work:
        for planned in due.steps:
            leaves = max(planned.send_at, opening)
            day = hours.local_date(leaves)
            reason = pointless(planned.step, due.task, day, hours.calendar)
            recorded.append((due, planned, day, reason))
            step_rows.append(
                {
                    "task_id": due.task.id,
                    "step": planned.step.name,
                    "key": planned.key,
                    "fire_at": planned.fire_at,
                    "taken_at": now,
                    "skipped": reason is not None,
                    "note": reason or "",
                }
            )
    step_ids: list[int] = []
    steps_table = EscalationStep.__table__  # type: ignore[attr-defined]
    connection = session.connection()  # the table, not the ORM's bulk insert (see queue_letters)
    for start in range(0, len(step_rows), 1000):
        step_ids.extend(
            connection.execute(
                steps_table.insert().returning(steps_table.c.id, sort_by_parameter_order=True),
                step_rows[start : start + 1000],
            ).scalars()
        )
    result.tasks += len(batch)
    result.steps += len(recorded)
    sending = [(r, i) for r, i in zip(recorded, step_ids, strict=True) if r[3] is None]
    result.skipped += len(recorded) - len(sending)
    if sending:
        schools = _schools(session, {r[0].task.school_id for r, _ in sending})
        people.load(
            session,
            (
                person
                for (due, _, _, _), _ in sending
                for person in (
                    due.task.responsible_id,
                    due.task.supervisor_id,
                    due.plan.controller_id,
                )
            ),
        )
        days = sorted({day for (_, _, day, _), _ in sending})
        people.load_deputies(session, (r[0].task.responsible_id for r, _ in sending), days)
    letters: list[dict[str, Any]] = []
    for (due, planned, day, _), step_id in sending:
        task = due.task
        leaves = max(planned.send_at, opening)
        for person, behalf in people.recipients(session, planned.step, task, due.plan, day):
            if not person.email:
                result.missing_email.append(person.key)
                log.warning("task %s step %s: %s has no email", task.id, planned.key, person.key)
                continue
            notice = _notice(
                esc,
                people,
                schools,
                planned.step.name,
                task,
                due.measure,
                due.plan,
                person,
                behalf,
                day,
                now,
            )
            ics = ""
            if planned.step.calendar and task.due_date is not None:
                ics = deadline_calendar(
                    notice,
                    uid=f"task-{task.id}@{esc.mail_domain}",
                    sequence=task.version,
                    stamp=now,
                    url=next(iter(notice.links.values())),
                )
            letters.append(
                letter_row(
                    esc,
                    dedupe=f"step:{step_id}:{pk(person)}",
                    template=planned.step.template,
                    context={"notice": notice},
                    person=person,
                    now=now,
                    not_before=leaves,
                    task_id=task.id,
                    step_id=step_id,
                    on_behalf_of_id=behalf.id if behalf else None,
                    ics=ics,
                )
            )
    queue_letters(session, letters)
    result.messages += len(letters)
    store(session.connection(), [(due.task.id, due.following) for due in work])


def _schools(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return {
        school_id: name
        for school_id, name in session.execute(
            select(School.id, School.name).where(col(School.id).in_(wanted))
        )
        if school_id is not None
    }


@dataclass(frozen=True)
class Refreshed:
    """What becomes of a letter that could not leave on its day."""

    letter: RenderedMessage | None  # None: drop it
    note: str
    valid_until: datetime | None = None


def refresh_letter(engine: Engine, esc: Escalator, row: OutboxMessage, now: datetime) -> Refreshed:
    """Rewrite a stale letter for the day it leaves on, or say why it must be dropped.

    A digest is superseded by the next day's own. A task letter is written anew for
    today (the days left or overdue have changed) unless its task has left the step's
    states or a reminder now comes too late.
    """
    day = esc.hours.local_date(now)
    written = esc.hours.local_date(row.not_before)
    if row.step_id is None or row.task_id is None or row.person_id is None:
        return Refreshed(
            None,
            f"Устарело: сводка на {written:%d.%m.%Y} не ушла в свой день; её заменяет "
            "следующая сводка.",
        )
    with session_scope(engine) as session:
        taken = session.get(EscalationStep, row.step_id)
        task = session.get(Task, row.task_id)
        person = session.get(Person, row.person_id)
        measure = session.get(Measure, task.measure_id) if task else None
        plan = session.get(Plan, measure.plan_id) if measure else None
        if not (taken and task and person and measure and plan):
            return Refreshed(None, "Устарело: задачи или получателя больше нет.")
        step = next((s for s in esc.ladder_for(plan, measure).steps if s.name == taken.step), None)
        if step is None or task.state not in step.states or task.detached_at is not None:
            return Refreshed(
                None,
                f"Устарело: задача уже в состоянии «{esc.workflow.label(task.state)}».",
            )
        reason = pointless(step, task, day, esc.hours.calendar)
        if reason is not None:
            return Refreshed(None, reason)
        behalf = session.get(Person, row.on_behalf_of_id) if row.on_behalf_of_id else None
        people = People()
        people.load(session, [task.responsible_id, task.supervisor_id])
        schools = _schools(session, [task.school_id])
        notice = _notice(
            esc, people, schools, step.name, task, measure, plan, person, behalf, day, now
        )
    return Refreshed(
        render(step.template, {"notice": notice}, esc.templates_dir),
        f"Текст обновлён на {day:%d.%m.%Y}: письмо не ушло в свой день.",
        esc.hours.at(day, esc.hours.end),
    )


def sweep(
    engine: Engine,
    esc: Escalator,
    clock: Clock,
    batch_size: int = 500,
    stop: threading.Event | None = None,
) -> SweepResult:
    """Take every step due now, batch by batch (each its own transaction).

    Nothing due: one indexed read, nothing written. ``stop`` is checked between
    batches: a daemon asked to stop finishes the batch in flight, commits it and leaves
    the rest to the next start.
    """
    started = time.monotonic()
    now = clock.now()
    result = SweepResult()
    if not anything_due(engine, now):  # the usual minute: nothing written
        _log(result)
        return result
    rows, people = _Rows(), People()
    conflicts = 0
    while stop is None or not stop.is_set():
        try:
            with session_scope(engine) as session:
                batch = _claim(session, now, batch_size)
                if not batch:
                    break
                take_batch(esc, session, batch, rows, people, now, result)
                session.commit()
                people.by_id.clear()  # the next batch has other people; the heads stay
        except IntegrityError:
            # Another writer recorded one of these steps first (the unique (task, key)):
            # read the batch again, its steps are now among the taken ones.
            conflicts += 1
            if conflicts > 3:
                raise
            log.warning("sweep: a step was recorded concurrently; the batch is read again")
    record_state(
        engine,
        "sweep",
        now,
        {
            "tasks": result.tasks,
            "steps": result.steps,
            "skipped": result.skipped,
            "messages": result.messages,
            "seconds": round(time.monotonic() - started, 3),
        },
    )
    _log(result)
    return result


def _log(result: SweepResult) -> None:
    log.info(
        "sweep: %d task(s), %d step(s) taken (%d skipped), %d message(s) queued",
        result.tasks,
        result.steps,
        result.skipped,
        result.messages,
    )


def record_state(engine: Engine, name: str, now: datetime, value: dict[str, object]) -> None:
    """Remember what a job last did, for ``measures status``; last writer wins."""
    for _ in range(2):  # two daemons creating the row at once: the loser updates it
        try:
            with session_scope(engine) as session:
                row = session.get(DaemonState, name) or DaemonState(name=name, updated_at=now)
                row.value = {"at": now.isoformat(), **value}
                row.updated_at = now
                session.add(row)
                session.commit()
                return
        except IntegrityError:
            continue
