"""Pieces every report builds from: its context, task lines, discipline tables.

A report module (plan, discipline, public; later the school case report) takes a
:class:`Context` and a :class:`~engine.reports.asof.Moment`, streams
:func:`~engine.reports.asof.task_facts` once, folds the facts into figures, and returns a
:class:`~engine.reports.model.Report`. What two reports show alike is built here, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlmodel import Session, SQLModel

from engine.core.models import Measure, Plan
from engine.escalation.sweep import Escalator
from engine.lifecycle.workflow import WorkflowDef
from engine.reports.asof import Moment, Scope, TaskFact, task_facts
from engine.reports.model import Column, Row, Value, day_text
from engine.reports.outcome import ESCALATION_LABELS, Judge, Kind, Outcome, Tally, escalation
from engine.reports.outcome import step_levels as ladder_levels

_Row = TypeVar("_Row", bound=SQLModel)

OUTCOME_LABELS: dict[Kind, str] = {
    "on_time": "Исполнено в срок",
    "late": "Исполнено с опозданием",
    "done": "Исполнено (срок не установлен)",
    "overdue": "Просрочено",
    "owing": "Срок не наступил",
    "awaiting": "Ожидает проверки",
    "closed": "Без исполнения",
}

DEFINITIONS = (
    "Исполнено в срок — отчёт, принятый при проверке, представлен не позднее срока "
    "(если отчёта не было — принято не позднее срока). Просрочено — срок прошёл, "
    "а задача не исполнена и отчёт по ней не представлен. Задержка считается в рабочих "
    "днях по производственному календарю со дня, следующего за сроком."
)
REPLAYED = (
    "Состояние на прошедшую дату восстановлено по журналу аудита и записям о "
    "направленных уведомлениях; сроки и ответственные указаны по действующей редакции плана."
)


@dataclass
class Context:
    """What every report needs besides the database: rules, calendar, clock, names."""

    escalator: Escalator  # the workflow, the ladders, the calendar and zone, the committee
    moment: Moment
    generated_at: datetime
    _measures: dict[int, Measure] = field(default_factory=dict)
    _plans: dict[int, Plan] = field(default_factory=dict)
    _levels: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def judge(self) -> Judge:
        hours = self.escalator.hours
        return Judge(self.escalator.workflow, hours.calendar, hours.zone, self.moment.day)

    def measure(self, session: Session, measure_id: int) -> Measure:
        return _cached(session, Measure, measure_id, self._measures)

    def plan(self, session: Session, plan_id: int) -> Plan:
        return _cached(session, Plan, plan_id, self._plans)

    def levels(self, session: Session, fact: TaskFact) -> dict[str, int]:
        """Escalation level of each step of the task's ladder (cached per measure)."""
        found = self._levels.get(fact.measure_id)
        if found is None:
            esc = self.escalator
            ladder = esc.ladder_for(
                self.plan(session, fact.plan_id), self.measure(session, fact.measure_id)
            )
            found = ladder_levels(ladder, esc.workflow.owing)
            self._levels[fact.measure_id] = found
        return found

    def title_block(self, *lines: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        zone = self.escalator.hours.zone
        day = day_text(self.moment.day)
        return (
            ("Орган", self.escalator.committee),
            *lines,
            ("Состояние на", day + (" (восстановлено по журналу)" if self.moment.past else "")),
            ("Сформирован", f"{self.generated_at.astimezone(zone):%d.%m.%Y %H:%M}"),
        )

    def notes(self) -> tuple[str, ...]:
        return (DEFINITIONS, REPLAYED) if self.moment.past else (DEFINITIONS,)


def _cached(session: Session, model: type[_Row], ident: int, cache: dict[int, _Row]) -> _Row:
    """A row read once per report (the session's identity map would still ask per call)."""
    found = cache.get(ident)
    if found is None:
        found = cache[ident] = session.get_one(model, ident)
    return found


@dataclass(frozen=True, slots=True)
class Judged:
    """A fact with its outcome and escalation level: what every fold consumes."""

    fact: TaskFact
    outcome: Outcome
    level: int


def judged(session: Session, ctx: Context, scope: Scope) -> Iterator[Judged]:
    """Every task of ``scope`` at the context's moment, classified."""
    judge = ctx.judge
    for fact in task_facts(session, ctx.escalator.workflow, ctx.moment, scope):
        yield Judged(fact, judge(fact), escalation(fact, ctx.levels(session, fact)))


# -- per task --------------------------------------------------------------------------

TASK_COLUMNS = (
    Column("№", 6),
    Column("Мероприятие", 50),
    Column("Задача", 8),
    Column("Школа", 28),
    Column("Ответственный", 26),
    Column("Начало", 11),
    Column("Срок", 11),
    Column("Состояние", 18),
    Column("Итог на дату", 22),
    Column("Задержка, раб. дн.", 10),
    Column("Отчёт представлен", 12),
    Column("Отчёт", 50),
    Column("Принято", 11),
    Column("Проверил", 26),
    Column("Эскалация", 22),
)


def task_row(session: Session, ctx: Context, item: Judged, group: str = "") -> Row:
    fact, outcome = item.fact, item.outcome
    zone = ctx.escalator.hours.zone
    measure = ctx.measure(session, fact.measure_id)
    reported = fact.reported_at.astimezone(zone).date() if fact.reported_at else None
    accepted = fact.done_at.astimezone(zone).date() if fact.done_at else None
    return Row(
        (
            measure.number,
            measure.title,
            fact.task_id,
            fact.school or None,
            fact.responsible or "не назначен",
            fact.start_date,
            fact.due_date,
            ctx.escalator.workflow.label(fact.state),
            OUTCOME_LABELS[outcome.kind],
            outcome.delay,
            reported,
            fact.report or None,
            accepted,
            fact.verifier or None,
            ESCALATION_LABELS[item.level] or None,
        ),
        highlight=outcome.kind == "overdue",
        group=group,
    )


# -- discipline tables -----------------------------------------------------------------

TALLY_COLUMNS = (
    Column("Задач", 8),
    Column("Срок наступил", 10),
    Column("Исполнено в срок", 10),
    Column("Исполнено с опозданием", 12),
    Column("Просрочено", 10),
    Column("Ожидает проверки", 10),
    Column("Средняя задержка, раб. дн.", 12),
    Column("Наибольшая задержка, раб. дн.", 12),
)


def tally_values(tally: Tally) -> tuple[Value, ...]:
    return (
        tally.total,
        tally.due,
        tally.on_time,
        tally.late,
        tally.overdue,
        tally.awaiting,
        tally.average_delay,
        tally.worst,
    )


def tally_rows(groups: dict[str, Tally]) -> list[Row]:
    """One row per group, by name; a group with overdue work is highlighted."""
    return [
        Row((name, *tally_values(tally)), highlight=tally.overdue > 0)
        for name, tally in sorted(groups.items(), key=lambda item: item[0].casefold())
    ]


def worst_text(session: Session, ctx: Context, tally: Tally) -> Value:
    fact = tally.worst_task
    if fact is None:
        return None
    measure = ctx.measure(session, fact.measure_id)
    where = f", {fact.school}" if fact.school else ""
    due = f", срок {day_text(fact.due_date)}" if fact.due_date else ""
    return f"мероприятие {measure.number} «{_short(measure.title)}»{where}{due}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ordered_states(workflow: WorkflowDef, present: Iterable[str]) -> list[str]:
    """The workflow's states in its order, then any a task still holds that it no longer
    declares (renamed in workflows/measure.toml): counted, never dropped."""
    return [*workflow.states, *sorted({s for s in present if s not in workflow.state_defs})]


def names(values: Iterable[str], limit: int = 3) -> str:
    """Distinct names, sorted; more than ``limit`` end in «и др.»."""
    found = sorted({v for v in values if v})
    if len(found) > limit:
        return ", ".join(found[:limit]) + " и др."
    return ", ".join(found)
