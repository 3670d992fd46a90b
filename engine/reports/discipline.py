"""The executive discipline report («Исполнительская дисциплина»).

For tasks whose due date falls in a window: per responsible person and per school, how
many were due, executed in time, executed late, are still open (and of those overdue),
were cancelled, and how many deadline moves were requested and granted
(:mod:`engine.reports.moves`). The workbook lists every task of the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from engine.core.errors import MeasuresError, NotFound
from engine.core.models import Plan
from engine.reports.asof import Scope
from engine.reports.common import TASK_COLUMNS, Context, judged, task_row, worst_text
from engine.reports.model import Column, Figures, Report, Row, Rows, Table, Value, day_text
from engine.reports.moves import MoveCounts, Moves, deadline_moves
from engine.reports.outcome import Tally

_COLUMNS = (
    Column("Задач со сроком в периоде", 10),
    Column("Исполнено в срок", 10),
    Column("Исполнено с опозданием", 12),
    Column("Не исполнено", 10),
    Column("из них просрочено", 10),
    Column("Отменено", 9),
    Column("Средняя задержка, раб. дн.", 12),
    Column("Переносов срока запрошено", 11),
    Column("Переносов срока предоставлено", 11),
)


@dataclass
class _Group:
    name: str
    tally: Tally = field(default_factory=Tally)


def _moves(found: Moves | None) -> tuple[Value, Value]:
    found = found or Moves()
    return found.requested, found.granted


def _rows(
    groups: dict[int | None, _Group], counts: MoveCounts, moves: dict[int, Moves]
) -> list[Row]:
    rows = []
    for key, group in sorted(groups.items(), key=lambda item: item[1].name.casefold()):
        t = group.tally
        rows.append(
            Row(
                (
                    group.name,
                    t.total,
                    t.on_time,
                    t.late,
                    t.open,
                    t.overdue,
                    t.closed,
                    t.average_delay,
                    *_moves(moves.get(key) if key is not None else None),
                ),
                highlight=t.overdue > 0,
            )
        )
    return rows


def discipline_report(
    session: Session, ctx: Context, first: date, last: date, plan_id: int | None = None
) -> Report:
    if last < first:
        raise MeasuresError(
            f"--from/--to: период заканчивается ({day_text(last)}) раньше, чем начинается "
            f"({day_text(first)})"
        )
    plan = None
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound("plan", plan_id)
    scope = Scope(plan_id=plan_id, due_from=first, due_to=last)
    day = ctx.moment.day
    total = Tally()
    people: dict[int | None, _Group] = {}
    schools: dict[int | None, _Group] = {}
    for item in judged(session, ctx, scope):
        fact, outcome = item.fact, item.outcome
        total.add(fact, outcome, day, item.level)
        person = people.setdefault(fact.responsible_id, _Group(fact.responsible or "не назначен"))
        person.tally.add(fact, outcome, day, item.level)
        if fact.school_id is not None:
            school = schools.setdefault(fact.school_id, _Group(fact.school))
            school.tally.add(fact, outcome, day, item.level)
    counts = deadline_moves(session, scope, ctx.moment)
    requested, granted = _moves(counts.total)
    figures: tuple[tuple[str, Value], ...] = (
        ("Задач со сроком в периоде", total.total),
        ("Исполнено в срок", total.on_time),
        ("Исполнено с опозданием", total.late),
        ("Не исполнено на дату отчёта", total.open),
        ("из них просрочено", total.overdue),
        ("из них ожидает проверки", total.awaiting),
        ("Отменено", total.closed),
        ("Средняя задержка, рабочих дней", total.average_delay),
        ("Наибольшая задержка, рабочих дней", total.worst),
        ("Задача с наибольшей задержкой", worst_text(session, ctx, total)),
        ("Переносов срока запрошено", requested),
        ("Переносов срока предоставлено", granted),
    )

    def every_task() -> Iterator[Row]:
        for item in judged(session, ctx, scope):
            owner = ctx.plan(session, item.fact.plan_id)
            yield task_row(session, ctx, item, owner.title)

    window = f"сроки с {day_text(first)} по {day_text(last)}"
    lines = [("Период", window), ("План", plan.title if plan else "все планы")]
    return Report(
        title="Исполнительская дисциплина",
        subtitle=f"Задачи со сроком исполнения с {day_text(first)} по {day_text(last)}",
        meta=ctx.title_block(*lines),
        blocks=(
            Figures("Сводные показатели", figures),
            Table(
                "По исполнителям",
                (Column("Исполнитель", 32), *_COLUMNS),
                _rows(people, counts, counts.by_person),
                sheet="По исполнителям",
            ),
            Table(
                "По школам",
                (Column("Школа", 36), *_COLUMNS),
                _rows(schools, counts, counts.by_school),
                sheet="По школам",
                empty="Задач, назначенных школам, в периоде нет.",
            ),
            Table(
                "Задачи периода",
                TASK_COLUMNS,
                Rows(every_task),
                sheet="Задачи",
                where="workbook",
                group_title="План",
            ),
        ),
        filename=f"discipline-{first.isoformat()}-{last.isoformat()}-{day.isoformat()}",
        notes=ctx.notes(),
    )
