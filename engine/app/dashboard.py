"""План: a plan's dashboard — progress per section and per responsible, measures with
their tasks' states, filters, and progress over time.

Everything is counted by the database (GROUP BY), never by loading every task: a plan
fanned out to a thousand schools has tens of thousands of tasks, and the page must cost
what it shows. Who may see a plan: the directory roles that see every task (supervisor,
head, admin) and the plan's controller; anybody else gets NotFound.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from engine.app import App
from engine.app.work import WIDE_ROLES, HistoryLine, TaskLine, history_lines, task_lines, task_query
from engine.core.clock import local_date
from engine.core.errors import NotFound
from engine.core.models import AuditEvent, AuditHead, Measure, Person, Plan, Section, Task, pk

log = logging.getLogger(__name__)

TASK_LIST_LIMIT = 50
#: Responsibles listed with their progress, those with most overdue first.
RESPONSIBLES_SHOWN = 30


@dataclass
class Progress:
    """Counts of one group (a section, a responsible, a measure, the plan)."""

    label: str
    key: int | None = None
    by_state: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    total: int = 0
    done: int = 0  # in an approved state

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def as_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "id": self.key,
            "total": self.total,
            "done": self.done,
            "overdue": self.overdue,
            "percent": self.percent,
            "by_state": self.by_state,
        }


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    responsible: int | None = None
    section: int | None = None
    measure: int | None = None
    overdue: bool = False


@dataclass
class Dashboard:
    plan: Plan
    overall: Progress
    sections: list[Progress]
    responsibles: list[Progress]
    measures: list[tuple[Measure, Progress]]
    tasks: list[TaskLine]
    tasks_total: int
    timeline: list[tuple[date, int, int]]  # (week, verified so far, due so far)
    filters: Filters
    states: list[tuple[str, str]]  # (state, label), for the filter


def may_see_plan(session: Session, person: Person, plan: Plan) -> bool:
    return bool(WIDE_ROLES & set(person.roles)) or plan.controller_id == person.id


def visible_plans(app: App, person: Person) -> list[tuple[Plan, Progress]]:
    with app.reading() as session:
        query = select(Plan).order_by(col(Plan.id).desc())
        if not WIDE_ROLES & set(person.roles):
            query = query.where(Plan.controller_id == pk(person))
        plans = list(session.exec(query))
        today = local_date(app.clock, app.config.timezone)
        counts = _grouped(app, session, [pk(p) for p in plans], Measure.plan_id, Filters(), today)
        return [(p, counts.get(pk(p), Progress(p.title, pk(p)))) for p in plans]


def _filtered(query: sa.Select, filters: Filters, today: date, owing: list[str]) -> sa.Select:  # type: ignore[type-arg]
    if filters.state:
        query = query.where(col(Task.state) == filters.state)
    if filters.responsible is not None:
        query = query.where(col(Task.responsible_id) == filters.responsible)
    if filters.section is not None:
        query = query.where(col(Measure.section_id) == filters.section)
    if filters.measure is not None:
        query = query.where(col(Task.measure_id) == filters.measure)
    if filters.overdue:
        query = query.where(col(Task.due_date) < today, col(Task.state).in_(owing))
    return query


def _grouped(
    app: App,
    session: Session,
    plan_ids: list[int],
    key: object,
    filters: Filters,
    today: date,
) -> dict[int | None, Progress]:
    """Progress per value of ``key`` (a column) over the plans' attached tasks."""
    workflow = app.workflow
    owing = list(workflow.owing)
    approved = set(workflow.done)
    late = sa.case((sa.and_(col(Task.due_date) < today, col(Task.state).in_(owing)), 1), else_=0)
    query = (
        sa.select(key, Task.state, func.count(), func.sum(late))  # type: ignore[call-overload]
        .select_from(Task)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .where(col(Measure.plan_id).in_(plan_ids), col(Task.detached_at).is_(None))
        .group_by(key, Task.state)
    )
    query = _filtered(query, filters, today, owing)
    found: dict[int | None, Progress] = {}
    for group, state, count, overdue in session.execute(query):
        progress = found.setdefault(group, Progress("", group))
        progress.by_state[state] = progress.by_state.get(state, 0) + count
        progress.total += count
        progress.overdue += int(overdue or 0)
        if state in approved:
            progress.done += count
    return found


#: Seconds a computed dashboard is reused while nothing was fired meanwhile (the audit
#: chain's head did not move): many people watch one plan, and its counts scan every
#: task of it. An import (which fires nothing) shows within this time, or on the view
#: after it: an expired board is shown once more while a thread recomputes it.
CACHE_SECONDS = 10.0
_cache: dict[tuple[object, ...], tuple[float, Dashboard]] = {}
_refreshing: set[tuple[object, ...]] = set()
_cache_lock = threading.Lock()


def plan_dashboard(app: App, person: Person, plan_id: int, filters: Filters) -> Dashboard:
    today = local_date(app.clock, app.config.timezone)
    with app.reading() as session:
        plan = session.get(Plan, plan_id)
        if plan is None or not may_see_plan(session, person, plan):
            raise NotFound("plan", plan_id)
        head = session.get(AuditHead, 1)
        key = (id(app), plan_id, filters, today, head.seq if head else 0)
        now = time.monotonic()
        with _cache_lock:
            cached = _cache.get(key)
            stale = cached is not None and cached[0] <= now and key not in _refreshing
            if stale:
                _refreshing.add(key)
        if cached is not None:
            if stale:
                threading.Thread(
                    target=_refresh, args=(app, plan_id, filters, today, key), daemon=True
                ).start()
            return cached[1]
        board = _compute(app, session, plan, filters, today)
    _store(key, board, now)
    return board


def _refresh(
    app: App, plan_id: int, filters: Filters, today: date, key: tuple[object, ...]
) -> None:
    """Recompute an expired board while its readers go on with the last one: a region's
    plan takes 0.2 s to count, and every page view that found the board expired waited
    for it (the p95 of bench/web.py's План). Nothing was fired meanwhile — the key holds
    the audit chain's head — so the old board differs at most by an import's changes."""
    try:
        with app.reading() as session:
            plan = session.get(Plan, plan_id)
            if plan is not None:
                _store(key, _compute(app, session, plan, filters, today), time.monotonic())
    except Exception:  # the next view tries again; the page already has its board
        log.exception("recomputing the dashboard of plan %s", plan_id)
    finally:
        with _cache_lock:
            _refreshing.discard(key)


def _store(key: tuple[object, ...], board: Dashboard, now: float) -> None:
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = (now + CACHE_SECONDS, board)


def _compute(app: App, session: Session, plan: Plan, filters: Filters, today: date) -> Dashboard:
    workflow = app.workflow
    plan_id = pk(plan)
    ids = [plan_id]
    overall = _grouped(app, session, ids, sa.literal(0), filters, today).get(
        0, Progress(plan.title)
    )
    overall.label = plan.title
    section_titles = {
        s.id: s.title for s in session.exec(select(Section).where(Section.plan_id == plan_id))
    }
    sections = _grouped(app, session, ids, Measure.section_id, filters, today)
    for key, progress in sections.items():
        progress.label = section_titles.get(key, "Без раздела") if key else "Без раздела"
    by_person = _grouped(app, session, ids, Task.responsible_id, filters, today)
    names = dict(  # columns, not rows: a region has a thousand heads of schools
        session.exec(
            select(Person.id, Person.name).where(col(Person.id).in_([k for k in by_person if k]))
        ).all()
    )
    for key, progress in by_person.items():
        progress.label = names.get(key, "не назначен") if key else "не назначен"
    per_measure = _grouped(app, session, ids, Task.measure_id, filters, today)
    measures = list(
        session.exec(
            select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.position))
        )
    )
    measure_rows = [(m, per_measure[m.id]) for m in measures if m.id in per_measure]
    query = _filtered(
        task_query().where(col(Measure.plan_id) == plan_id),
        filters,
        today,
        list(workflow.owing),
    )
    query = query.order_by(col(Task.due_date).asc().nulls_last(), col(Task.id)).limit(
        TASK_LIST_LIMIT
    )
    tasks = task_lines(app, session, query, today)
    return Dashboard(
        plan=plan,
        overall=overall,
        sections=sorted(sections.values(), key=lambda p: p.label),
        responsibles=sorted(by_person.values(), key=lambda p: (-p.overdue, p.label)),
        measures=measure_rows,
        tasks=tasks,
        tasks_total=overall.total,
        timeline=_timeline(app, session, plan, today),
        filters=filters,
        states=[(s, workflow.label(s)) for s in workflow.states],
    )


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _timeline(app: App, session: Session, plan: Plan, today: date) -> list[tuple[date, int, int]]:
    """Per week of the plan's period up to today: tasks approved so far (entries into an
    approved state minus exits from it, from the audit log) and tasks due so far."""
    approved = list(app.workflow.done)
    zone = app.config.timezone
    moves: dict[date, int] = defaultdict(int)
    entering = (
        select(AuditEvent.at, AuditEvent.from_state, AuditEvent.to_state)
        .join(Task, col(Task.id) == AuditEvent.task_id)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .where(
            Measure.plan_id == pk(plan),
            sa.or_(
                col(AuditEvent.to_state).in_(approved), col(AuditEvent.from_state).in_(approved)
            ),
            col(AuditEvent.from_state) != col(AuditEvent.to_state),
        )
    )
    for at, from_state, to_state in session.exec(entering):
        moves[_week(at.astimezone(zone).date())] += (to_state in approved) - (
            from_state in approved
        )
    due: dict[date, int] = defaultdict(int)
    for week, count in session.execute(
        sa.select(col(Task.due_date), func.count())
        .join(Measure, col(Measure.id) == Task.measure_id)
        .where(
            col(Measure.plan_id) == pk(plan),
            col(Task.detached_at).is_(None),
            col(Task.due_date).is_not(None),
        )
        .group_by(col(Task.due_date))
    ):
        due[_week(week)] += count
    start = _week(plan.period_start)
    end = _week(min(max(today, plan.period_start), plan.period_end))
    points = []
    done = planned = 0
    week = start
    done += sum(v for k, v in moves.items() if k < start)
    planned += sum(v for k, v in due.items() if k < start)
    while week <= end:
        done += moves.get(week, 0)
        planned += due.get(week, 0)
        points.append((week, done, planned))
        week += timedelta(days=7)
    return points


HISTORY_LIMIT = 1000


def plan_history(app: App, person: Person, plan_id: int) -> tuple[list[HistoryLine], Plan]:
    """The newest audit rows of a plan's tasks, each checked against the keyed chain."""
    with app.reading() as session:
        plan = session.get(Plan, plan_id)
        if plan is None or not may_see_plan(session, person, plan):
            raise NotFound("plan", plan_id)
        rows = list(
            session.exec(
                select(AuditEvent)
                .join(Task, col(Task.id) == AuditEvent.task_id)
                .join(Measure, col(Measure.id) == Task.measure_id)
                .where(Measure.plan_id == plan_id)
                .order_by(col(AuditEvent.seq).desc())
                .limit(HISTORY_LIMIT)
            )
        )
        return history_lines(app, session, rows), plan
