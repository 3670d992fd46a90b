"""``Task.next_step_at``: kept current in the transaction of every change that moves it.

The sweep reads only tasks whose next step has come (an index range), so the stored
moment must never be later than the truth. Rather than every use case remembering to
recompute it, one SQLAlchemy ``before_flush`` listener does, for every session on an
engine the application attached a :class:`~engine.escalation.timeline.Planner` to
(:func:`attach`; ``engine.app.App.engine`` does it):

- a new task, or a task whose state, state entry, dates, detachment, people or measure
  changed — an import or re-expansion, a re-dating, a transition, a clerk's correction, a
  granted deadline — gets its moment set in the same UPDATE/INSERT;
- the tasks of a measure whose ladder or schedule changed, of a plan whose ladder
  changed, and of a task whose ladder steps were written or removed by the ORM are
  recomputed after the flush with a plain UPDATE (no version bump: a ladder change must
  not invalidate the links in letters already sent).

On PostgreSQL the changed tasks' rows are locked before their recorded steps are read,
so a sweep committing steps for the same task at that moment is waited for, not missed.

What lives outside the database — the ladders file, the working hours, the calendar —
is fingerprinted (:func:`fingerprint`) in the ``schedule`` database flag; a start with
another fingerprint recomputes every task (:func:`refresh_if_changed`). :func:`recompute`
is also ``measures doctor``: every moment from scratch, the differences listed, repaired
with ``--fix``. Writers that bypass the ORM (bulk inserts of the data generator) call
:func:`recompute` for what they wrote.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, event, inspect, or_, select, update
from sqlalchemy import text as sa_text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from engine.core.flags import get_flag, set_flag
from engine.core.models import EscalationStep, Measure, Plan, Task
from engine.core.workcalendar import WorkCalendar
from engine.escalation.timeline import Planner, TaskFacts

log = logging.getLogger(__name__)

#: Task columns whose change can move the next step.
TASK_FIELDS = (
    "state",
    "state_since",
    "due_date",
    "start_date",
    "detached_at",
    "measure_id",
    "responsible_id",
    "supervisor_id",
)
#: Flag name of the fingerprint (engine.core.flags).
SCHEDULE_FLAG = "schedule"
_LATER = "measures.next_step.later"  # session.info: what after_flush recomputes
_PAGE = 2000
_REFRESH_LOCK = 0x6D6561_7374_6570  # PostgreSQL advisory lock of refresh_if_changed

_factories: WeakKeyDictionary[Engine, Callable[[], Planner]] = WeakKeyDictionary()
_task = Task.__table__  # type: ignore[attr-defined]
_measure = Measure.__table__  # type: ignore[attr-defined]
_plan = Plan.__table__  # type: ignore[attr-defined]
_step = EscalationStep.__table__  # type: ignore[attr-defined]


def attach(engine: Engine, planner: Callable[[], Planner]) -> None:
    """Sessions on ``engine`` keep ``next_step_at`` with this planner (made on first use)."""
    _factories[engine] = planner


def planner_of(bind: Engine | Connection) -> Planner | None:
    engine: Any = bind.engine if isinstance(bind, Connection) else bind
    while engine is not None:  # an engine with execution options proxies the attached one
        factory = _factories.get(engine)
        if factory is not None:
            return factory()
        engine = getattr(engine, "_proxied", None)
    return None


def _required(session: OrmSession) -> Planner:
    planner = planner_of(session.get_bind())
    if planner is None:
        raise RuntimeError(
            "tasks are written on an engine without a next-step planner: build the engine "
            "through engine.app.App (or call engine.escalation.nextstep.attach)"
        )
    return planner


def _changed(row: object, names: Iterable[str]) -> bool:
    attrs = inspect(row).attrs
    return any(attrs[name].history.has_changes() for name in names)


def facts_of(row: Any) -> TaskFacts:
    return TaskFacts(row.id or 0, row.state, row.start_date, row.due_date, row.state_since)


def _taken(connection: Connection, ids: Sequence[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {i: set() for i in ids}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = connection.execute(
            select(_step.c.task_id, _step.c.key).where(_step.c.task_id.in_(chunk))
        )
        for task_id, key in rows:
            found[task_id].add(key)
    return found


def _lock(connection: Connection, ids: Sequence[int]) -> None:
    """Row locks on the changed tasks before their steps are read (PostgreSQL; SQLite's
    immediate transaction holds the whole database already)."""
    if connection.dialect.name == "sqlite":
        return
    for start in range(0, len(ids), 1000):
        chunk = sorted(ids)[start : start + 1000]
        connection.execute(
            select(_task.c.id).where(_task.c.id.in_(chunk)).order_by(_task.c.id).with_for_update()
        ).all()


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, _context: object, _instances: object) -> None:
    tasks: list[Task] = [row for row in session.new if isinstance(row, Task)]
    later_tasks: set[int] = set()
    later_measures: set[int] = set()
    later_plans: set[int] = set()
    for row in session.dirty:
        if isinstance(row, Task):
            if _changed(row, TASK_FIELDS):
                tasks.append(row)
        elif isinstance(row, Measure):
            if row.id is not None and _changed(row, ("ladder", "schedule")):
                later_measures.add(row.id)
        elif isinstance(row, Plan) and row.id is not None and _changed(row, ("ladder",)):
            later_plans.add(row.id)
    for row in (*session.new, *session.deleted):
        if isinstance(row, EscalationStep) and row.task_id is not None:
            later_tasks.add(row.task_id)
    if later_tasks or later_measures or later_plans:
        later = session.info.setdefault(_LATER, (set(), set(), set()))
        later[0].update(later_tasks)
        later[1].update(later_measures)
        later[2].update(later_plans)
    if not tasks:
        return
    planner = _required(session)
    connection = session.connection()
    known = [row.id for row in tasks if row.id is not None]
    _lock(connection, known)
    taken = _taken(connection, known)
    ladders: dict[int, Any] = {}
    for row in tasks:
        if row.measure_id is None:
            continue  # the INSERT fails on its own
        ladder = ladders.get(row.measure_id)
        if ladder is None:
            measure = session.get(Measure, row.measure_id)
            plan = session.get(Plan, measure.plan_id) if measure is not None else None
            if measure is None or plan is None:
                continue
            ladder = planner.ladder_named(plan.ladder, measure.ladder, measure.schedule)
            ladders[row.measure_id] = ladder
        moment = planner.next_for(
            facts_of(row),
            row.detached_at is not None,
            ladder,
            taken.get(row.id or 0, ()),
        )
        if row.next_step_at != moment:
            row.next_step_at = moment


@event.listens_for(OrmSession, "after_flush")
def _after_flush(session: OrmSession, _context: object) -> None:
    later = session.info.pop(_LATER, None)
    if not later:
        return
    task_ids, measure_ids, plan_ids = later
    planner = _required(session)
    conditions: list[ColumnElement[bool]] = []
    if task_ids:
        conditions.append(_task.c.id.in_(sorted(task_ids)))
    if measure_ids:
        conditions.append(_task.c.measure_id.in_(sorted(measure_ids)))
    if plan_ids:
        conditions.append(_measure.c.plan_id.in_(sorted(plan_ids)))
    moved = {
        d.task_id: d.computed
        for d in recompute(session.connection(), planner, or_(*conditions), fix=True)
    }
    if not moved:
        return
    for row in list(session.identity_map.values()):
        if isinstance(row, Task) and row.id in moved:
            set_committed_value(row, "next_step_at", moved[row.id])


# -- from scratch: the doctor, a changed fingerprint, bulk writers ------------------------


@dataclass(frozen=True)
class Difference:
    task_id: int
    stored: datetime | None
    computed: datetime | None


def recompute(
    connection: Connection,
    planner: Planner,
    where: ColumnElement[bool] | None = None,
    *,
    fix: bool,
    page: int = _PAGE,
) -> Iterator[Difference]:
    """Every task (or those matching ``where``) computed anew, page by page in id order;
    yields each whose stored moment differs and, with ``fix``, corrects it (a plain
    UPDATE in the caller's transaction: no version bump; on PostgreSQL the rows read are
    locked until the caller commits)."""
    ladders: dict[int, Any] = {}
    after = 0
    while True:
        query = (
            select(
                _task.c.id,
                _task.c.state,
                _task.c.start_date,
                _task.c.due_date,
                _task.c.state_since,
                _task.c.detached_at,
                _task.c.next_step_at,
                _task.c.measure_id,
            )
            .join(_measure, _measure.c.id == _task.c.measure_id)
            .where(_task.c.id > after)
            .order_by(_task.c.id)
            .limit(page)
        )
        if where is not None:
            query = query.where(where)
        if fix and connection.dialect.name != "sqlite":
            # A transition committed between this read and the UPDATE would otherwise be
            # overwritten with the moment of the state before it (another daemon
            # recomputing at its start, a person acting meanwhile): they wait instead.
            query = query.with_for_update(of=_task)
        rows = connection.execute(query).all()
        if not rows:
            return
        after = rows[-1].id
        _ladders(connection, planner, {r.measure_id for r in rows} - ladders.keys(), ladders)
        watched = [r.id for r in rows if r.detached_at is None and r.state in planner.watched]
        taken = _taken(connection, watched)
        found: list[Difference] = []
        for row in rows:
            moment = planner.next_for(
                facts_of(row),
                row.detached_at is not None,
                ladders[row.measure_id],
                taken.get(row.id, ()),
            )
            if moment != row.next_step_at:
                found.append(Difference(row.id, row.next_step_at, moment))
        if fix and found:
            store(connection, [(d.task_id, d.computed) for d in found])
        yield from found
        if len(rows) < page:
            return


def _ladders(
    connection: Connection, planner: Planner, measure_ids: set[int], into: dict[int, Any]
) -> None:
    """The ladder of each measure (its own, its deadline kind's, its plan's)."""
    if not measure_ids:
        return
    rows = connection.execute(
        select(_measure.c.id, _measure.c.ladder, _measure.c.schedule, _plan.c.ladder)
        .join(_plan, _plan.c.id == _measure.c.plan_id)
        .where(_measure.c.id.in_(sorted(measure_ids)))
    )
    for measure_id, own, schedule, plan_ladder in rows:
        into[measure_id] = planner.ladder_named(plan_ladder, own, schedule or {})


def store(connection: Connection, moments: Sequence[tuple[int, datetime | None]]) -> None:
    """Write computed moments in one executemany (no version bump)."""
    if not moments:
        return
    connection.execute(
        update(_task).where(_task.c.id == bindparam("task")).values(next_step_at=bindparam("at")),
        [{"task": task_id, "at": moment} for task_id, moment in moments],
    )


#: The years whose working days the fingerprint covers: every plan's dates and steps.
FINGERPRINT_YEARS = (2018, 2035)


def fingerprint(planner: Planner) -> str:
    """What the stored moments depend on outside the database: the ladders, the working
    hours and which days are working days (over :data:`FINGERPRINT_YEARS`, a fixed range,
    so that a new plan does not change it)."""
    hours = planner.hours
    digest = hashlib.sha256()
    for name in sorted(planner.ladders):
        digest.update(repr(planner.ladders[name]).encode())
    digest.update(f"{hours.zone.key}|{hours.start}|{hours.end}|".encode())
    first, last = date(FINGERPRINT_YEARS[0], 1, 1), date(FINGERPRINT_YEARS[1], 12, 31)
    digest.update(_days(hours.calendar, first, last))
    return digest.hexdigest()


def _days(calendar: WorkCalendar, first: date, last: date) -> bytes:
    count = (last - first).days + 1
    return bytes(calendar.is_working_day(first + timedelta(days=i)) for i in range(count))


def refresh_if_changed(engine: Engine, planner: Planner, now: datetime) -> int | None:
    """Recompute every task's moment if the ladders, hours or calendar changed since they
    were computed (or they never were); how many moved, None when nothing had changed."""
    current = fingerprint(planner)
    with Session(engine) as session:
        if get_flag(session, SCHEDULE_FLAG) == current:
            return None
        if engine.dialect.name == "postgresql":
            # Daemons starting together: one recomputes, the others wait for it and find
            # the fingerprint current (rather than each locking every task in turn).
            session.execute(sa_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})
            session.expire_all()  # read the flag anew, not from the identity map
            if get_flag(session, SCHEDULE_FLAG) == current:
                return None
        moved = sum(1 for _ in recompute(session.connection(), planner, fix=True))
        set_flag(session, SCHEDULE_FLAG, current, now)
        session.commit()
    log.info("ladders, hours or calendar changed: next steps recomputed, %d moved", moved)
    return moved
