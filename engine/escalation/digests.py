"""The daily digest and the weekly summary, queued in the outbox once per period.

Every working day, once working hours have begun, each person who has something to do
gets one letter: their overdue tasks, tasks due within three working days, and reports
waiting for them to verify. On the first working day of a week the head of the
committee gets the weekly summary, including what was verified the week before.

Computed once a day, with set queries: who gets a letter and how many lines each group
has is one ``GROUP BY`` per group; the lines themselves (the first
:data:`LINES` of each group per person, most urgent first) stream from one ranked query
per group, in person order, so a region's digests never hold every task at once. A
small marker (``daemonstate`` row ``digests``) says today's digests and this week's
summary are done: the daemon asks every minute, and an idle minute costs that one read.

The outbox's unique ``dedupe_key`` (``digest:daily:DATE:PERSON``) makes the job
idempotent: a batch skips the letters already queued (another replica, a run cut short)
and the unique key is the last safety net.

Case decisions waiting for a person (an administrative measure to approve) join their
daily digest through ``decisions``, a hook the application layer passes in: this module
knows tasks, not cases, and lists what the hook returns per recipient.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.core.clock import Clock
from engine.core.db import read_scope, session_scope
from engine.core.links import OPEN
from engine.core.models import (
    AuditEvent,
    DaemonState,
    Measure,
    OutboxMessage,
    Person,
    Plan,
    School,
    Task,
)
from engine.core.workcalendar import WorkCalendar
from engine.escalation.sweep import Escalator, letter_row, queue_letters
from engine.queries import needs_attention
from notifications import AttentionLine, DecisionLine, Digest, DigestLine

log = logging.getLogger(__name__)

#: Decisions waiting per person id, with links already signed for that person:
#: ``decisions(session, today, now)``.
Decisions = Callable[[Session, date, datetime], Mapping[int, Sequence[DecisionLine]]]

DUE_SOON_WORKING_DAYS = 3
#: Lines a letter lists per group (the most urgent); the group's total is said beside.
LINES = 100
#: Letters written per transaction.
BATCH = 500
MARKER = "digests"
GROUPS = ("overdue", "due_soon", "awaiting")


@dataclass(frozen=True)
class _Day:
    """The day's boundaries, as due-date comparisons (effective deadlines in SQL)."""

    today: date
    first_working: date  # overdue: due before it (its effective deadline has passed)
    after_soon: date  # due soon: due before it (effective deadline within three days)


def _day(calendar: WorkCalendar, today: date) -> _Day:
    soon = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS)
    return _Day(today, calendar.add_working_days(today, 0), calendar.next_working_day(soon))


def _group_filter(esc: Escalator, group: str, day: _Day) -> tuple[Any, Any]:
    """(the condition, the person column) of a group."""
    owing = col(Task.state).in_(sorted(esc.workflow.owing))
    open_ = col(Task.detached_at).is_(None)
    if group == "overdue":
        return sa.and_(owing, open_, col(Task.due_date) < day.first_working), Task.responsible_id
    if group == "due_soon":
        return (
            sa.and_(
                owing,
                open_,
                col(Task.due_date) >= day.first_working,
                col(Task.due_date) < day.after_soon,
            ),
            Task.responsible_id,
        )
    awaiting = col(Task.state).in_(sorted(esc.workflow.awaiting))
    return sa.and_(awaiting, open_), Task.supervisor_id


def _order(group: str) -> tuple[Any, ...]:
    if group == "awaiting":
        return (col(Task.state_since), col(Task.id))
    return (col(Task.due_date), col(Task.id))


def _totals(session: Session, esc: Escalator, day: _Day) -> dict[int, dict[str, int]]:
    """Person → group → how many lines: one GROUP BY per group."""
    found: dict[int, dict[str, int]] = {}
    for group in GROUPS:
        condition, person = _group_filter(esc, group, day)
        rows = session.execute(
            sa.select(person, sa.func.count())
            .where(condition, person.is_not(None))
            .group_by(person)
        )
        for person_id, count in rows:
            found.setdefault(person_id, {})[group] = count
    return found


_LINE_COLUMNS: tuple[Any, ...] = (
    col(Task.id),
    col(Task.due_date),
    col(Task.state),
    col(Task.state_since),
    col(Task.updated_at),
    col(Measure.number),
    col(Measure.title),
    col(Plan.title),
    col(School.name),
)


def _line_columns() -> list[Any]:
    """The columns a digest line reads, labelled c0…c8 (see :func:`_make_line`)."""
    return [c.label(f"c{i}") for i, c in enumerate(_LINE_COLUMNS)]


def _line_query(esc: Escalator, group: str, day: _Day, per_person: bool) -> Any:
    """The first :data:`LINES` lines of a group, per person (ranked), or committee-wide."""
    condition, person = _group_filter(esc, group, day)
    responsible = aliased(Person)
    order = _order(group)
    rank = sa.func.row_number().over(partition_by=person if per_person else None, order_by=order)
    inner = (
        sa.select(
            (person if per_person else sa.literal(0)).label("person"),
            rank.label("rank"),
            *_line_columns(),
            col(responsible.name).label("responsible_name"),
        )
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .outerjoin(School, col(School.id) == Task.school_id)
        .outerjoin(responsible, col(responsible.id) == Task.responsible_id)
        .where(condition)
    )
    if per_person:
        inner = inner.where(person.is_not(None))
    ranked = inner.subquery()
    return (
        sa.select(ranked)
        .where(ranked.c.rank <= LINES)
        .order_by(ranked.c.person, ranked.c.rank)
        .execution_options(yield_per=1000)  # streamed, never all at once
    )


def _make_line(esc: Escalator, group: str, row: Any, today: date) -> DigestLine:
    calendar = esc.hours.calendar
    task_id, due_date, state, state_since, updated_at = row.c0, row.c1, row.c2, row.c3, row.c4
    written = due_date or esc.hours.local_date(updated_at)
    due = calendar.effective_deadline(written)
    if group == "overdue":
        days = calendar.working_days_between(due, today)
    elif group == "due_soon":
        days = calendar.working_days_between(today, due)
    elif group == "completed":
        days = 0
    else:
        since = esc.hours.local_date(state_since or updated_at)
        days = calendar.working_days_between(since, today)
    return DigestLine(
        task_id=task_id,
        plan_title=row.c7,
        measure_number=row.c5,
        measure_title=row.c6,
        due=due,
        written_due=written if written != due else None,
        state_label=esc.workflow.label(state),
        responsible_name=row.responsible_name or "не назначен",
        url=f"{esc.base_url}/tasks/{task_id}",
        target=row.c8 or "",
        working_days=max(days, 0),
    )


#: Rows fetched at a time by each of the daily digests' line streams.
STREAM_ROWS = 2000


def _streams(
    session: Session, esc: Escalator, day: _Day
) -> Iterator[tuple[int, dict[str, list[DigestLine]]]]:
    """(person, group → lines) in person order, merged from one stream per group."""

    def stream(group: str) -> Iterator[tuple[int, str, DigestLine]]:
        # yield_per (a server-side cursor on PostgreSQL): psycopg's default cursor
        # receives a query's whole result at execute, so the four "streams" would hold
        # a country's lines at once there. SQLite steps rows lazily either way (measured
        # with tracemalloc: 12,000 and 48,000 lines held 1.1 and 1.4 MB before, 0.6 after).
        query = _line_query(esc, group, day, per_person=True).execution_options(
            yield_per=STREAM_ROWS
        )
        for row in session.execute(query):
            yield row.person, group, _make_line(esc, group, row, day.today)

    merged = heapq.merge(*(stream(g) for g in GROUPS), key=lambda item: item[0])
    for person, items in itertools.groupby(merged, key=lambda item: item[0]):
        lines: dict[str, list[DigestLine]] = {g: [] for g in GROUPS}
        for _, group, line in items:
            lines[group].append(line)
        yield person, lines


def _digest(
    esc: Escalator,
    person: Person,
    start: date,
    end: date,
    lines: dict[str, list[DigestLine]],
    totals: dict[str, int],
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
        awaiting_verification=tuple(lines["awaiting"]),
        completed=tuple(completed),
        totals=totals,
    )


def _personal(esc: Escalator, digest: Digest, person_id: int, now: datetime) -> Digest:
    """Each line's link becomes this recipient's signed link that opens the task."""

    def signed(lines: tuple[DigestLine, ...]) -> tuple[DigestLine, ...]:
        return tuple(
            replace(line, url=esc.link(line.task_id, OPEN, person_id, now)) for line in lines
        )

    return replace(
        digest,
        overdue=signed(digest.overdue),
        due_soon=signed(digest.due_soon),
        awaiting_verification=signed(digest.awaiting_verification),
        completed=signed(digest.completed),
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


@dataclass(frozen=True)
class _Letter:
    person: Person
    template: str
    digest: Digest
    dedupe: str


def _queue(engine: Engine, esc: Escalator, letters: Iterable[_Letter], now: datetime) -> int:
    """Render and insert letters batch by batch, skipping those already queued."""
    queued = 0
    batch: list[_Letter] = []
    for letter in itertools.chain(letters, [None]):
        if letter is not None:
            if letter.digest.is_empty or not letter.person.email:
                continue
            batch.append(letter)
            if len(batch) < BATCH:
                continue
        if batch:
            queued += _queue_batch(engine, esc, batch, now)
            batch = []
    return queued


def _queue_batch(engine: Engine, esc: Escalator, batch: Sequence[_Letter], now: datetime) -> int:
    for _ in range(2):
        try:
            with session_scope(engine) as session:
                done = set(
                    session.exec(
                        select(OutboxMessage.dedupe_key).where(
                            col(OutboxMessage.dedupe_key).in_([b.dedupe for b in batch])
                        )
                    )
                )
                rows = [
                    letter_row(
                        esc,
                        dedupe=b.dedupe,
                        template=b.template,
                        context={"digest": _personal(esc, b.digest, b.person.id or 0, now)},
                        person=b.person,
                        now=now,
                        not_before=esc.hours.next_open(now),
                    )
                    for b in batch
                    if b.dedupe not in done
                ]
                queue_letters(session, rows)
                session.commit()
                return len(rows)
        except IntegrityError:  # another replica queued some of them meanwhile
            continue
    return 0


def _marker(session: Session) -> dict[str, Any]:
    row = session.get(DaemonState, MARKER)
    return dict(row.value) if row is not None else {}


def _mark(engine: Engine, now: datetime, **done: str) -> None:
    from engine.escalation.sweep import record_state

    with read_scope(engine) as session:
        value = _marker(session)
    value.pop("at", None)
    record_state(engine, MARKER, now, {**value, **done})


def enqueue_digests(
    engine: Engine, esc: Escalator, clock: Clock, decisions: Decisions | None = None
) -> int:
    """Queue today's digests (and the weekly summary on a week's first working day),
    once: an idle call (already done today, or outside working hours) reads one row."""
    now = clock.now()
    hours = esc.hours
    today = hours.local_date(now)
    calendar = hours.calendar
    if not calendar.is_working_day(today) or not (
        hours.at(today, hours.start) <= now < hours.at(today, hours.end)
    ):
        return 0  # a digest of a day whose working hours are over would arrive stale
    period = weekly_period(calendar, today)
    year, week, _ = today.isocalendar()
    week_key = f"{year}-W{week:02d}"
    with read_scope(engine) as session:
        marker = _marker(session)
    daily_done = marker.get("daily") == today.isoformat()
    weekly_done = period is None or marker.get("weekly") == week_key
    if daily_done and weekly_done:
        return 0
    day = _day(calendar, today)
    queued = 0
    if not daily_done:
        queued += _daily(engine, esc, day, now, decisions)
        _mark(engine, now, daily=today.isoformat())
    if not weekly_done and period is not None:
        queued += _weekly(engine, esc, day, period, week_key, now)
        _mark(engine, now, weekly=week_key)
    if queued:
        log.info("digests: %d letter(s) queued", queued)
    return queued


def _daily(
    engine: Engine, esc: Escalator, day: _Day, now: datetime, decisions: Decisions | None
) -> int:
    with read_scope(engine) as session:
        totals = _totals(session, esc, day)
        count, attention = _attention(session, esc)
        # what waits for a decision (the hook reads only the requests waiting)
        waiting = dict(decisions(session, day.today, now)) if decisions else {}
        admins = {
            p.id: p
            for p in session.exec(
                select(Person).where(
                    Person.active, sa.cast(col(Person.roles), sa.String).like('%"admin"%')
                )
            )
            if "admin" in p.roles and p.id is not None
        }

    def letters() -> Iterator[_Letter]:
        # A read transaction (no write lock on SQLite) while the batches are written.
        with read_scope(engine) as session:
            people: dict[int | None, Person] = {}
            streams = _streams(session, esc, day)
            # admins with nothing of their own still get the attention list, deciders
            # their decisions
            others = set(waiting) | (set(admins) if attention else set())
            if others:
                extra: Iterator[tuple[int, dict[str, list[DigestLine]]]] = (
                    (pid, {g: [] for g in GROUPS}) for pid in sorted(others)
                )
                streams = _union(streams, extra)
            for chunk in _chunks(streams, BATCH):
                wanted = [pid for pid, _ in chunk if pid not in people]
                for person in session.exec(
                    select(Person).where(col(Person.id).in_(wanted), Person.active)
                ):
                    people[person.id] = person
                for person_id, lines in chunk:
                    if person_id not in people:
                        continue  # not active
                    person = people.pop(person_id)
                    digest = _digest(
                        esc, person, day.today, day.today, lines, totals.get(person_id, {})
                    )
                    if person_id in admins and attention:
                        digest = replace(digest, attention=attention, attention_count=count)
                    if person_id in waiting:
                        digest = replace(digest, decisions=tuple(waiting[person_id]))
                    yield _Letter(
                        person, "daily_digest", digest, f"digest:daily:{day.today}:{person_id}"
                    )

    return _queue(engine, esc, letters(), now)


def _union(
    first: Iterator[tuple[int, dict[str, list[DigestLine]]]],
    second: Iterator[tuple[int, dict[str, list[DigestLine]]]],
) -> Iterator[tuple[int, dict[str, list[DigestLine]]]]:
    """Two person-ordered streams as one; a person in both keeps the first's lines."""
    merged = heapq.merge(first, second, key=lambda item: item[0])
    for _, items in itertools.groupby(merged, key=lambda item: item[0]):
        yield next(items)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _weekly(
    engine: Engine,
    esc: Escalator,
    day: _Day,
    period: tuple[date, date],
    week_key: str,
    now: datetime,
) -> int:
    """The committee-wide summary for the heads: totals, the first lines of each group."""
    start, end = period
    with read_scope(engine) as session:
        lines: dict[str, list[DigestLine]] = {}
        totals: dict[str, int] = {}
        for group in GROUPS:
            condition, _ = _group_filter(esc, group, day)
            totals[group] = session.execute(
                sa.select(sa.func.count()).select_from(Task).where(condition)
            ).scalar_one()
            lines[group] = [
                _make_line(esc, group, row, day.today)
                for row in session.execute(_line_query(esc, group, day, per_person=False))
            ]
        verified = sa.and_(
            col(AuditEvent.task_id).is_not(None),
            col(AuditEvent.to_state).in_(sorted(esc.workflow.done)),
            col(AuditEvent.at) >= esc.hours.at(start, time(0)),
            col(AuditEvent.at) < esc.hours.at(end + timedelta(days=1), time(0)),
        )
        totals["completed"] = session.execute(
            sa.select(sa.func.count()).select_from(AuditEvent).where(verified)
        ).scalar_one()
        task_ids = list(
            session.exec(
                select(AuditEvent.task_id)
                .where(verified)
                .order_by(col(AuditEvent.seq))
                .limit(LINES)
            )
        )
        completed = [
            _make_line(esc, "completed", row, day.today)
            for row in session.execute(
                sa.select(*_line_columns(), col(Person.name).label("responsible_name"))
                .join(Measure, col(Measure.id) == Task.measure_id)
                .join(Plan, col(Plan.id) == Measure.plan_id)
                .outerjoin(School, col(School.id) == Task.school_id)
                .outerjoin(Person, col(Person.id) == Task.responsible_id)
                .where(col(Task.id).in_([t for t in task_ids if t is not None]))
                .order_by(col(Task.id))
            )
        ]
        heads = [
            p
            for p in session.exec(
                select(Person).where(
                    Person.active, sa.cast(col(Person.roles), sa.String).like('%"head"%')
                )
            )
            if "head" in p.roles
        ]
    letters = (
        _Letter(
            head,
            "weekly_summary",
            _digest(esc, head, start, end, lines, totals, completed),
            f"digest:weekly:{week_key}:{head.id}",
        )
        for head in heads
    )
    return _queue(engine, esc, letters, now)


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
