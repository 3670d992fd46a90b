"""The sweep: which ladder steps are due now, taken once each, their mail in the outbox.

Run every minute by the daemon (and by ``measures sweep``). For each open task it plans
the ladder's steps up to now (engine.escalation.timeline — the same computation ``measures
simulate`` shows), and for every step not yet recorded it writes the
:class:`EscalationStep` and one :class:`OutboxMessage` per recipient in the same
transaction. Nothing is sent here: the outbox sender does that.

Exactly once, also with several daemons on one PostgreSQL: tasks are claimed in batches
with ``SELECT … FOR UPDATE SKIP LOCKED`` — a batch another daemon holds is skipped, not
waited for — and the step keys are checked inside that lock; the unique (task, key)
constraint is the last safety net. Row locks rather than an advisory-lock lease: they
are released by the database at commit or when a killed daemon's connection drops, so
no lease can outlive its holder, and two daemons share the work instead of one idling.
On SQLite the immediate transaction holds the database's single write lock.

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

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.core.clock import Clock
from engine.core.db import session_scope
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
from engine.escalation.timeline import PlannedStep, TaskFacts, WorkingHours, plan_steps
from engine.lifecycle.workflow import WorkflowDef
from notifications import RenderedMessage, TaskNotice, deadline_calendar, make_message_id, render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Escalator:
    """What planning and rendering need, built once per process."""

    workflow: WorkflowDef
    ladders: dict[str, Ladder]
    hours: WorkingHours
    committee: str
    base_url: str
    mail_domain: str
    signer: Signer
    link_days: int = 14
    templates_dir: str | None = None  # the committee's own letter templates, if any

    def ladder_for(self, plan: Plan, measure: Measure) -> Ladder:
        """The measure's own ladder, else one serving its deadline kind, else the plan's."""
        if measure.ladder and measure.ladder in self.ladders:
            return self.ladders[measure.ladder]
        kind = measure.schedule.get("kind")
        for ladder in self.ladders.values():
            if kind in ladder.kinds:
                return ladder
        return self.ladders.get(plan.ladder) or self.ladders["default"]

    def task_links(
        self,
        task: Task,
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
                self.link(pk(task), action, pk(person), now, task.version)
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
    def watched_states(self) -> set[str]:
        return {s for ladder in self.ladders.values() for step in ladder.steps for s in step.states}


@dataclass
class SweepResult:
    tasks: int = 0
    steps: int = 0
    skipped: int = 0
    messages: int = 0
    missing_email: list[str] = field(default_factory=list)


def facts(task: Task) -> TaskFacts:
    return TaskFacts(pk(task), task.state, task.start_date, task.due_date, task.state_since)


def _persons(session: Session, ids: Iterable[int | None]) -> list[Person]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return []
    return list(session.exec(select(Person).where(col(Person.id).in_(wanted))))


def recipients(
    session: Session, step: Step, task: Task, plan: Plan, day: date
) -> list[tuple[Person, Person | None]]:
    """(person, the person they stand in for) for each recipient role, deputies of the day."""
    found: dict[int, tuple[Person, Person | None]] = {}

    def add(people: Iterable[Person], behalf: Person | None = None) -> None:
        for person in people:
            if person.active and person.id is not None:
                found.setdefault(person.id, (person, behalf))

    for role in step.recipients:
        if role == "responsible":
            add(_persons(session, [task.responsible_id]))
        elif role == "deputy" and task.responsible_id is not None:
            deputies = session.exec(
                select(Deputy.deputy_id).where(
                    Deputy.person_id == task.responsible_id,
                    col(Deputy.starts) <= day,
                    col(Deputy.ends) >= day,
                )
            )
            add(_persons(session, deputies), next(iter(_persons(session, [task.responsible_id]))))
        elif role == "supervisor":
            add(_persons(session, [task.supervisor_id]))
        elif role == "controller":
            add(_persons(session, [plan.controller_id]))
        elif role == "head":
            add(p for p in session.exec(select(Person)) if "head" in p.roles)
    return list(found.values())


def _notice(
    esc: Escalator,
    session: Session,
    step_name: str,
    task: Task,
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
    responsible = session.get(Person, task.responsible_id) if task.responsible_id else None
    supervisor = session.get(Person, task.supervisor_id) if task.supervisor_id else None
    school = session.get(School, task.school_id) if task.school_id else None
    written = task.due_date or today
    due = calendar.effective_deadline(written)
    since = esc.hours.local_date(task.state_since) if task.state_since else today
    return TaskNotice(
        task_id=pk(task),
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
        target=school.name if school else "",
        expected_result=measure.expected_result,
        supervisor_name=supervisor.name if supervisor else "",
        days_left=max(calendar.working_days_between(today, due), 0),
        days_overdue=max(calendar.working_days_between(due, today), 0),
        days_waiting=max(calendar.working_days_between(since, today), 0),
        reported_on=since if task.state in esc.workflow.awaiting else None,
        report=task.report,
    )


def pointless(step: Step, task: Task, day: date, calendar: WorkCalendar) -> str | None:
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


def queue_message(
    session: Session,
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
) -> None:
    """Render a letter and store it in the outbox under its unique ``dedupe`` key.

    The Message-ID is derived from the key, so any resend of this row is the same
    letter to the mail server and to the recipient's client. The letter speaks of the
    working day it can first leave on (``not_before``); past that day's working hours it
    is out of date (``valid_until``) and the sender rewrites or drops it.
    """
    rendered = render(template, context, esc.templates_dir)
    session.add(
        OutboxMessage(
            dedupe_key=dedupe,
            kind=template,
            task_id=task_id,
            step_id=step_id,
            person_id=pk(person),
            on_behalf_of_id=on_behalf_of_id,
            recipient_email=person.email,
            recipient_name=person.name,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            message_id=make_message_id(dedupe.replace(":", "."), esc.mail_domain),
            created_at=now,
            not_before=not_before,
            ics=ics,
            valid_until=esc.hours.at(esc.hours.local_date(not_before), esc.hours.end),
        )
    )


def take_step(
    esc: Escalator,
    session: Session,
    planned: PlannedStep,
    task: Task,
    measure: Measure,
    plan: Plan,
    now: datetime,
    result: SweepResult,
) -> None:
    """Record one step and enqueue its messages (the caller's transaction commits).

    The letters are written for the working day they can leave on — later than the step's
    own moment when the sweep finds it after hours (a Friday-evening catch-up leaves on
    Monday and must count the days from Monday).
    """
    leaves = max(planned.send_at, esc.hours.next_open(now))
    day = esc.hours.local_date(leaves)
    reason = pointless(planned.step, task, day, esc.hours.calendar)
    row = EscalationStep(
        task_id=pk(task),
        step=planned.step.name,
        key=planned.key,
        fire_at=planned.fire_at,
        taken_at=now,
        skipped=reason is not None,
        note=reason or "",
    )
    session.add(row)
    session.flush()
    result.steps += 1
    if reason is not None:
        result.skipped += 1
        return
    for person, behalf in recipients(session, planned.step, task, plan, day):
        if not person.email:
            result.missing_email.append(person.key)
            log.warning("task %s step %s: %s has no email", task.id, planned.key, person.key)
            continue
        notice = _notice(
            esc, session, planned.step.name, task, measure, plan, person, behalf, day, now
        )
        ics = ""
        if planned.step.calendar and task.due_date is not None:
            ics = deadline_calendar(
                notice,
                uid=f"task-{pk(task)}@{esc.mail_domain}",
                sequence=task.version,
                stamp=now,
                url=next(iter(notice.links.values())),
            )
        queue_message(
            session,
            esc,
            dedupe=f"step:{pk(row)}:{pk(person)}",
            template=planned.step.template,
            context={"notice": notice},
            person=person,
            now=now,
            not_before=leaves,
            task_id=pk(task),
            step_id=pk(row),
            on_behalf_of_id=behalf.id if behalf else None,
            ics=ics,
        )
        result.messages += 1


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
        notice = _notice(esc, session, step.name, task, measure, plan, person, behalf, day, now)
    return Refreshed(
        render(step.template, {"notice": notice}, esc.templates_dir),
        f"Текст обновлён на {day:%d.%m.%Y}: письмо не ушло в свой день.",
        esc.hours.at(day, esc.hours.end),
    )


def _batch(
    session: Session, after: int, states: Sequence[str], size: int
) -> list[tuple[Task, Measure, Plan]]:
    query = (
        select(Task, Measure, Plan)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .where(
            col(Task.id) > after,
            col(Task.state).in_(states),
            col(Task.detached_at).is_(None),
        )
        .order_by(col(Task.id))
        .limit(size)
        .with_for_update(skip_locked=True, of=Task)
    )
    return [(t, m, p) for t, m, p in session.exec(query)]


def sweep(
    engine: Engine,
    esc: Escalator,
    clock: Clock,
    batch_size: int = 200,
    stop: threading.Event | None = None,
) -> SweepResult:
    """One pass over all open tasks; each batch is its own transaction.

    ``stop`` is checked between batches: a daemon asked to stop finishes the batch in
    flight, commits it and leaves the rest to the next start.
    """
    started = time.monotonic()
    now = clock.now()
    result = SweepResult()
    states = sorted(esc.watched_states)
    after = 0
    while stop is None or not stop.is_set():
        with session_scope(engine) as session:
            batch = _batch(session, after, states, batch_size)
            if not batch:
                break
            ids = [pk(task) for task, _, _ in batch]
            taken = set(
                session.exec(
                    select(EscalationStep.task_id, EscalationStep.key).where(
                        col(EscalationStep.task_id).in_(ids)
                    )
                )
            )
            for task, measure, plan in batch:
                result.tasks += 1
                for planned in plan_steps(
                    facts(task), esc.ladder_for(plan, measure), esc.hours, now
                ):
                    if (pk(task), planned.key) not in taken:
                        take_step(esc, session, planned, task, measure, plan, now, result)
            session.commit()
            after = ids[-1]
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
    log.info(
        "sweep: %d task(s), %d step(s) taken (%d skipped), %d message(s) queued",
        result.tasks,
        result.steps,
        result.skipped,
        result.messages,
    )
    return result


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
