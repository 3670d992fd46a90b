"""The daily digest and the weekly summary, queued in the outbox once per period.

Every working day, once working hours have begun, each person who has something to do
gets one letter: their overdue tasks, tasks due within three working days, and reports
waiting for them to verify. On the first working day of a week the head of the
committee gets the weekly summary, including what was verified the week before.
The outbox's unique ``dedupe_key`` (``digest:daily:DATE:PERSON``) makes the job
idempotent: the daemon may run it every minute and on several replicas.

Case decisions waiting for a person (an administrative measure to approve) join their
daily digest through ``decisions``, a hook the application layer passes in: this module
knows tasks, not cases, and lists what the hook returns per recipient.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.core.clock import Clock
from engine.core.db import session_scope
from engine.core.links import OPEN
from engine.core.models import AuditEvent, Measure, OutboxMessage, Person, Plan, School, Task, pk
from engine.core.workcalendar import WorkCalendar
from engine.escalation.sweep import Escalator, queue_message
from engine.queries import needs_attention
from notifications import AttentionLine, DecisionLine, Digest, DigestLine

log = logging.getLogger(__name__)

#: Decisions waiting per person id, with links already signed for that person:
#: ``decisions(session, today, now)``.
Decisions = Callable[[Session, date, datetime], Mapping[int, Sequence[DecisionLine]]]

DUE_SOON_WORKING_DAYS = 3


def _line(
    esc: Escalator, session: Session, task: Task, measure: Measure, plan: Plan, days: int
) -> DigestLine:
    responsible = session.get(Person, task.responsible_id) if task.responsible_id else None
    school = session.get(School, task.school_id) if task.school_id else None
    written = task.due_date or esc.hours.local_date(task.updated_at)
    due = esc.hours.calendar.effective_deadline(written)
    return DigestLine(
        task_id=pk(task),
        plan_title=plan.title,
        measure_number=measure.number,
        measure_title=measure.title,
        due=due,
        written_due=written if written != due else None,
        state_label=esc.workflow.label(task.state),
        responsible_name=responsible.name if responsible else "не назначен",
        url=f"{esc.base_url}/tasks/{pk(task)}",
        target=school.name if school else "",
        working_days=max(days, 0),
    )


def _attention(session: Session, esc: Escalator) -> tuple[int, tuple[AttentionLine, ...]]:
    """Open tasks without a responsible or a date, for the admins' digest."""
    count, found = needs_attention(session, esc.workflow, limit=50)
    return count, tuple(
        AttentionLine(
            task_id=a.task_id,
            plan_title=a.plan_title,
            measure_number=a.measure_number,
            measure_title=a.title,
            reason="; ".join(a.reasons),
            url=f"{esc.base_url}/tasks/{a.task_id}",
        )
        for a in found
    )


def _digest(
    esc: Escalator,
    person: Person,
    start: date,
    end: date,
    lines: dict[str, list[DigestLine]],
    completed: Sequence[DigestLine] = (),
) -> Digest:
    return Digest(
        recipient_name=person.name,
        recipient_email=person.email,
        committee_name=esc.committee,
        start=start,
        end=end,
        overdue=tuple(lines["overdue"]),
        due_soon=tuple(lines["due_soon"]),
        awaiting_verification=tuple(lines["awaiting_verification"]),
        completed=tuple(completed),
    )


def _enqueue(
    session: Session,
    esc: Escalator,
    person: Person,
    template: str,
    digest: Digest,
    dedupe: str,
    now: datetime,
) -> bool:
    if digest.is_empty or not person.email:
        return False
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe)).first():
        return False
    digest = _personal(esc, digest, person, now)
    queue_message(
        session,
        esc,
        dedupe=dedupe,
        template=template,
        context={"digest": digest},
        person=person,
        now=now,
        not_before=esc.hours.next_open(now),
    )
    return True


def _personal(esc: Escalator, digest: Digest, person: Person, now: datetime) -> Digest:
    """Each line's link becomes this recipient's signed link that opens the task."""

    def signed(lines: tuple[DigestLine, ...]) -> tuple[DigestLine, ...]:
        return tuple(
            replace(line, url=esc.link(line.task_id, OPEN, pk(person), now)) for line in lines
        )

    return replace(
        digest,
        overdue=signed(digest.overdue),
        due_soon=signed(digest.due_soon),
        awaiting_verification=signed(digest.awaiting_verification),
        completed=signed(digest.completed),
    )


def enqueue_digests(
    engine: Engine, esc: Escalator, clock: Clock, decisions: Decisions | None = None
) -> int:
    """Queue today's digests (and the weekly summary on a week's first working day)."""
    now = clock.now()
    hours = esc.hours
    today = hours.local_date(now)
    calendar = hours.calendar
    if not calendar.is_working_day(today) or not (
        hours.at(today, hours.start) <= now < hours.at(today, hours.end)
    ):
        return 0  # a digest of a day whose working hours are over would arrive stale
    soon = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS)
    awaiting = set(esc.workflow.awaiting)
    owing = set(esc.workflow.owing)
    queued = 0
    try:
        with session_scope(engine) as session:
            groups: dict[int, dict[str, list[DigestLine]]] = defaultdict(lambda: defaultdict(list))
            everything: dict[str, list[DigestLine]] = defaultdict(list)
            rows = session.exec(
                select(Task, Measure, Plan)
                .join(Measure, col(Measure.id) == Task.measure_id)
                .join(Plan, col(Plan.id) == Measure.plan_id)
                .where(
                    col(Task.state).in_(sorted(owing | awaiting)),
                    col(Task.detached_at).is_(None),
                )
                .order_by(col(Task.due_date), col(Task.id))
            )
            for task, measure, plan in rows:
                due = None if task.due_date is None else calendar.effective_deadline(task.due_date)
                if task.state in owing and due is not None and due <= soon:
                    late = due < today
                    group = "overdue" if late else "due_soon"
                    days = (
                        calendar.working_days_between(due, today)
                        if late
                        else (calendar.working_days_between(today, due))
                    )
                    line = _line(esc, session, task, measure, plan, days)
                    everything[group].append(line)
                    if task.responsible_id is not None:
                        groups[task.responsible_id][group].append(line)
                elif task.state in awaiting:
                    since = hours.local_date(task.state_since or task.updated_at)
                    line = _line(
                        esc,
                        session,
                        task,
                        measure,
                        plan,
                        calendar.working_days_between(since, today),
                    )
                    everything["awaiting_verification"].append(line)
                    if task.supervisor_id is not None:
                        groups[task.supervisor_id]["awaiting_verification"].append(line)
            count, attention = _attention(session, esc)
            admins = {
                pk(p)
                for p in session.exec(select(Person).where(Person.active))
                if "admin" in p.roles
            }
            waiting = decisions(session, today, now) if decisions else {}
            wanted = set(groups) | set(waiting) | (admins if attention else set())
            recipients = select(Person).where(col(Person.id).in_(sorted(wanted)), Person.active)
            for person in session.exec(recipients):
                lines = groups[pk(person)]
                digest = _digest(esc, person, today, today, lines)
                digest = replace(digest, decisions=tuple(waiting.get(pk(person), ())))
                if pk(person) in admins:
                    digest = replace(digest, attention=attention, attention_count=count)
                queued += _enqueue(
                    session,
                    esc,
                    person,
                    "daily_digest",
                    digest,
                    f"digest:daily:{today}:{pk(person)}",
                    now,
                )
            period = weekly_period(calendar, today)
            if period is not None:
                queued += _weekly(session, esc, everything, period, now)
            session.commit()
    except IntegrityError:  # another replica queued the same digest first
        return 0
    if queued:
        log.info("digests: %d letter(s) queued", queued)
    return queued


def weekly_period(calendar: WorkCalendar, today: date) -> tuple[date, date] | None:
    """The days the weekly summary sent today covers, or None if it is not sent today.

    The summary goes out on the first working day of a week and covers whole weeks, from
    the Monday of the week of the previous summary up to last Sunday: every day belongs to
    exactly one summary, also after a holiday Monday (sent on Tuesday, still 7 days) and
    after a week with no working day at all (the next one covers both weeks).
    """
    monday = today - timedelta(days=today.weekday())
    if today != calendar.add_working_days(monday, 0):
        return None
    previous = monday - timedelta(days=7)
    for _ in range(52):  # a week without a working day: its days go to this summary
        sunday = previous + timedelta(days=6)
        if calendar.add_working_days(previous, 0) <= sunday:
            break
        previous -= timedelta(days=7)
    return previous, monday - timedelta(days=1)


def _weekly(
    session: Session,
    esc: Escalator,
    everything: dict[str, list[DigestLine]],
    period: tuple[date, date],
    now: datetime,
) -> int:
    start, end = period
    completed = []
    verified = session.exec(
        select(AuditEvent, Task, Measure, Plan)
        .join(Task, col(Task.id) == AuditEvent.task_id)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .where(
            col(AuditEvent.to_state).in_(esc.workflow.done),
            col(AuditEvent.at) >= esc.hours.at(start, time(0)),
            col(AuditEvent.at) < esc.hours.at(end + timedelta(days=1), time(0)),
        )
    )
    for _, task, measure, plan in verified:
        completed.append(_line(esc, session, task, measure, plan, 0))
    today = esc.hours.local_date(now)
    year, week, _ = today.isocalendar()
    queued = 0
    for head in session.exec(select(Person).where(Person.active)):
        if "head" not in head.roles:
            continue
        digest = _digest(esc, head, start, end, everything, completed)
        queued += _enqueue(
            session,
            esc,
            head,
            "weekly_summary",
            digest,
            f"digest:weekly:{year}-W{week:02d}:{pk(head)}",
            now,
        )
    return queued
