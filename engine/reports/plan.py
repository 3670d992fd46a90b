"""The plan execution report («Отчёт об исполнении плана мероприятий»).

Title block, key figures (tasks by state; executed in time, late, overdue; average and
worst delay in working days; escalations), the progress chart, the plan's own table with
one row per measure, the most overdue tasks, and the figures per responsible person and
per school. The workbook adds every task, one sheet per section of the plan.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine.core.errors import MeasuresError, NotFound
from engine.core.models import Measure, Plan, Section, Task, pk
from engine.lifecycle.workflow import WorkflowDef
from engine.reports.asof import Moment, Scope, done_deltas, due_counts
from engine.reports.common import (
    TALLY_COLUMNS,
    TASK_COLUMNS,
    Context,
    Judged,
    judged,
    names,
    ordered_states,
    tally_rows,
    task_row,
    worst_text,
)
from engine.reports.model import (
    Block,
    Chart,
    Column,
    Figures,
    Report,
    Row,
    Rows,
    Table,
    Value,
    day_text,
)
from engine.reports.outcome import ESCALATION_LABELS, Tally

#: Overdue tasks listed in documents, the most overdue first; the workbook has them all.
OVERDUE_LISTED = 200


@dataclass
class MeasureLine:
    """What the plan table says about one measure, folded from its tasks.

    Shared with the public summary, which shows the same state and dates without names.
    """

    tasks: int = 0
    states: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    worst: int = 0
    dues: set[date] = field(default_factory=set)
    done: int = 0
    executed: date | None = None
    reports: int = 0
    last_report: tuple[date, str] | None = None
    verifiers: set[str] = field(default_factory=set)
    responsible: set[str] = field(default_factory=set)

    def add(self, item: Judged, report_day: date | None) -> None:
        fact, outcome = item.fact, item.outcome
        self.tasks += 1
        self.states[fact.state] += 1
        if outcome.kind == "overdue":
            self.overdue += 1
            self.worst = max(self.worst, outcome.delay or 0)
        if fact.due_date:
            self.dues.add(fact.due_date)
        if outcome.kind in ("on_time", "late", "done"):
            self.done += 1
            self.executed = outcome.executed_on
        if report_day is not None:
            self.reports += 1
            if self.last_report is None or report_day >= self.last_report[0]:
                self.last_report = (report_day, fact.report)
        if fact.verifier:
            self.verifiers.add(fact.verifier)
        if fact.responsible:
            self.responsible.add(fact.responsible)

    def state_text(self, workflow: WorkflowDef) -> str:
        """One task: its state; several: how many stand in each state."""
        if self.tasks == 1:
            text = workflow.label(next(iter(self.states)))
            return text + (f", просрочено на {self.worst} раб. дн." if self.overdue else "")
        text = "; ".join(
            f"{workflow.label(s)}: {self.states[s]}"
            for s in ordered_states(workflow, self.states)
            if self.states[s]
        )
        return text + (f"; просрочено: {self.overdue}" if self.overdue else "")

    def due_value(self) -> Value:
        dues = sorted(self.dues)
        if len(dues) <= 1:
            return dues[0] if dues else None
        if len(dues) <= 4:
            return "; ".join(day_text(d) for d in dues)
        return f"{day_text(dues[0])} – {day_text(dues[-1])} ({len(dues)} сроков)"

    def executed_value(self) -> Value:
        return self.executed if self.tasks == 1 else f"{self.done} из {self.tasks}"


@dataclass
class _Fold:
    total: Tally = field(default_factory=Tally)
    states: Counter[str] = field(default_factory=Counter)
    measures: dict[int, MeasureLine] = field(default_factory=dict)
    people: dict[str, Tally] = field(default_factory=dict)
    schools: dict[str, Tally] = field(default_factory=dict)
    overdue: list[tuple[int, int, Row]] = field(default_factory=list)  # heap (delay, -id, row)


def plan_report(session: Session, ctx: Context, plan_id: int) -> Report:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    moment = ctx.moment
    _check_existed(plan, ctx)
    workflow = ctx.escalator.workflow
    zone = ctx.escalator.hours.zone
    measures = list(
        session.exec(
            select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.position))
        )
    )
    sections = {pk(s): s for s in session.exec(select(Section).where(Section.plan_id == plan_id))}
    scope = Scope(plan_id=plan_id)
    fold = _Fold()
    for item in judged(session, ctx, scope):
        fact, outcome = item.fact, item.outcome
        day = moment.day
        fold.total.add(fact, outcome, day, item.level)
        fold.states[fact.state] += 1
        report_day = fact.reported_at.astimezone(zone).date() if fact.reported_at else None
        fold.measures.setdefault(fact.measure_id, MeasureLine()).add(item, report_day)
        fold.people.setdefault(fact.responsible or "не назначен", Tally()).add(
            fact, outcome, day, item.level
        )
        if fact.school:
            fold.schools.setdefault(fact.school, Tally()).add(fact, outcome, day, item.level)
        if outcome.kind == "overdue":
            entry = (outcome.delay or 0, -fact.task_id, _overdue_row(session, ctx, item))
            if len(fold.overdue) < OVERDUE_LISTED:
                heapq.heappush(fold.overdue, entry)
            else:
                heapq.heappushpop(fold.overdue, entry)
    total = fold.total
    blocks: list[Block] = [
        Figures("Сводные показатели", _figures(session, ctx, plan_id, total)),
        Table(
            "Задачи по состояниям",
            (Column("Состояние", 30), Column("Задач", 10)),
            [
                Row((workflow.label(s), fold.states.get(s, 0)))
                for s in ordered_states(workflow, fold.states)
            ]
            + [Row(("Всего", total.total))],
        ),
        _chart(session, ctx, plan, scope),
        Table(
            "Исполнение плана",
            _MEASURE_COLUMNS,
            [
                _measure_row(ctx, m, fold.measures.get(pk(m)), sections)
                for m in measures
                if pk(m) in fold.measures
            ],
            sheet="Мероприятия",
            group_title="Раздел",
        ),
        _overdue_table(fold, total),
        Table(
            "По ответственным",
            (Column("Ответственный", 30), *TALLY_COLUMNS),
            tally_rows(fold.people),
            sheet="По ответственным",
        ),
        Table(
            "По школам",
            (Column("Школа", 36), *TALLY_COLUMNS),
            tally_rows(fold.schools),
            sheet="По школам",
            empty="Задач, назначенных школам, нет.",
        ),
        *_section_sheets(session, ctx, plan_id, measures, sections),
    ]
    order = (
        f"№ {plan.order_number}" if plan.order_number else "",
        f"от {day_text(plan.order_date)}" if plan.order_date else "",
    )
    lines = [("План", plan.title)]
    if any(order):
        lines.append(("Утверждён", " ".join(p for p in (plan.issuer, *order) if p)))
    lines.append(("Период", f"{day_text(plan.period_start)} – {day_text(plan.period_end)}"))
    return Report(
        title="Отчёт об исполнении плана мероприятий",
        subtitle=plan.title,
        meta=ctx.title_block(*lines),
        blocks=tuple(blocks),
        filename=f"plan-{plan_id}-{moment.day.isoformat()}",
        notes=ctx.notes(),
    )


def _check_existed(plan: Plan, ctx: Context) -> None:
    created = plan.created_at
    if ctx.moment.past and created is not None:
        zone = ctx.escalator.hours.zone
        loaded = created.astimezone(zone).date()
        if loaded > ctx.moment.day:
            raise MeasuresError(
                f"План {plan.id} загружен в систему {day_text(loaded)}: состояния на "
                f"{day_text(ctx.moment.day)} по нему нет. Укажите дату не раньше "
                f"{day_text(loaded)}."
            )


def _figures(
    session: Session, ctx: Context, plan_id: int, total: Tally
) -> tuple[tuple[str, Value], ...]:
    return (
        ("Всего задач", total.total),
        ("Срок наступил (по дату отчёта включительно)", total.due),
        ("Исполнено в срок", total.on_time),
        ("Исполнено с опозданием", total.late),
        ("Просрочено на дату отчёта", total.overdue),
        ("Ожидает проверки", total.awaiting),
        ("Средняя задержка, рабочих дней", total.average_delay),
        ("Наибольшая задержка, рабочих дней", total.worst),
        ("Задача с наибольшей задержкой", worst_text(session, ctx, total)),
        (f"Эскалировано {ESCALATION_LABELS[1]}", total.escalated),
        (f"Эскалировано {ESCALATION_LABELS[2]}", total.escalated_head),
        ("Исключено из плана при повторной загрузке", _detached(session, ctx.moment, plan_id)),
    )


def _detached(session: Session, moment: Moment, plan_id: int) -> int:
    """Tasks a re-imported document dropped by the moment (kept for their history)."""
    query = (
        sa.select(sa.func.count())
        .select_from(Task)
        .join(Measure, col(Measure.id) == col(Task.measure_id))
        .where(
            col(Measure.plan_id) == plan_id,
            col(Task.created_at) <= moment.cutoff,
            col(Task.detached_at) <= moment.cutoff,
        )
    )
    return int(session.execute(query).scalar_one())


def _chart(session: Session, ctx: Context, plan: Plan, scope: Scope) -> Chart:
    """Cumulative lines: tasks whose due date has come, and tasks standing executed."""
    moment = ctx.moment
    dues = due_counts(session, moment, scope)
    deltas = done_deltas(session, ctx.escalator.workflow, moment, scope, ctx.escalator.hours.zone)
    end = moment.day
    start = min([plan.period_start, *deltas]) if deltas else plan.period_start
    start = min(start, end)
    days: list[date] = []
    due_line: list[int] = []
    done_line: list[int] = []
    due_sum = sum(n for d, n in dues.items() if d < start)
    done_sum = sum(n for d, n in deltas.items() if d < start)
    day = start
    while day <= end:
        due_sum += dues.get(day, 0)
        done_sum += deltas.get(day, 0)
        days.append(day)
        due_line.append(due_sum)
        done_line.append(done_sum)
        day += timedelta(days=1)
    return Chart(
        "Ход исполнения плана",
        tuple(days),
        (
            ("Наступил срок (нарастающим итогом)", tuple(due_line)),
            ("Исполнено (нарастающим итогом)", tuple(done_line)),
        ),
    )


_MEASURE_COLUMNS = (
    Column("№", 6),
    Column("Мероприятие", 50),
    Column("Срок исполнения по плану", 22),
    Column("Ответственный", 26),
    Column("Срок", 14),
    Column("Состояние", 30),
    Column("Исполнено", 12),
    Column("Отчёт", 50),
    Column("Проверил", 24),
)


def _measure_row(
    ctx: Context, measure: Measure, line: MeasureLine | None, sections: dict[int, Section]
) -> Row:
    line = line or MeasureLine()
    report: Value = None
    if line.last_report is not None:
        when, text = line.last_report
        report = (
            f"{day_text(when)}: {text}"
            if line.tasks == 1
            else f"Отчётов: {line.reports}; последний {day_text(when)}: {text}"
        )
    return Row(
        (
            measure.number,
            measure.title,
            measure.deadline_phrase or None,
            measure.responsible_text or names(line.responsible) or None,
            line.due_value(),
            line.state_text(ctx.escalator.workflow),
            line.executed_value(),
            report,
            names(line.verifiers) or None,
        ),
        highlight=line.overdue > 0,
        group=section_title(measure, sections),
    )


def section_title(measure: Measure, sections: dict[int, Section]) -> str:
    section = sections.get(measure.section_id) if measure.section_id else None
    return section.title if section else ""


_OVERDUE_COLUMNS = (
    Column("№", 6),
    Column("Мероприятие", 46),
    Column("Школа", 26),
    Column("Ответственный", 24),
    Column("Срок", 11),
    Column("Просрочка, раб. дн.", 10),
    Column("Состояние", 16),
    Column("Эскалация", 20),
)


def _overdue_row(session: Session, ctx: Context, item: Judged) -> Row:
    fact = item.fact
    measure = ctx.measure(session, fact.measure_id)
    return Row(
        (
            measure.number,
            measure.title,
            fact.school or None,
            fact.responsible or "не назначен",
            fact.due_date,
            item.outcome.delay,
            ctx.escalator.workflow.label(fact.state),
            ESCALATION_LABELS[item.level] or None,
        ),
        highlight=True,
    )


def _overdue_table(fold: _Fold, total: Tally) -> Table:
    ordered = [row for _, _, row in sorted(fold.overdue, reverse=True)]
    note = ""
    if total.overdue > len(ordered):
        note = (
            f"Показаны {len(ordered)} задач с наибольшей просрочкой из {total.overdue}; "
            "полный перечень — в XLSX-версии отчёта (лист раздела, фильтр «Итог на дату»)."
        )
    return Table(
        "Просроченные задачи",
        _OVERDUE_COLUMNS,
        ordered,
        where="document",
        note=note,
        empty="Просроченных задач нет.",
    )


def _root(section: Section, sections: dict[int, Section]) -> Section:
    seen = {pk(section)}
    while section.parent_id is not None and section.parent_id in sections:
        section = sections[section.parent_id]
        if pk(section) in seen:  # a cycle would be a damaged database; stop, don't spin
            break
        seen.add(pk(section))
    return section


def _section_sheets(
    session: Session,
    ctx: Context,
    plan_id: int,
    measures: list[Measure],
    sections: dict[int, Section],
) -> list[Table]:
    """Every task, one workbook sheet per top-level section, streamed when rendered."""
    groups: dict[str, list[Measure]] = {}
    for measure in measures:
        section = sections.get(measure.section_id) if measure.section_id else None
        title = _root(section, sections).title if section else "Без раздела"
        groups.setdefault(title, []).append(measure)
    if len(groups) == 1 and "Без раздела" in groups:
        groups = {"Задачи": groups["Без раздела"]}

    def rows(members: list[Measure]) -> Rows:
        by_id = {pk(m): m for m in members}

        def produce() -> Iterator[Row]:
            scope = Scope(plan_id=plan_id, measure_ids=tuple(by_id))
            for item in judged(session, ctx, scope):
                measure = by_id[item.fact.measure_id]
                yield task_row(session, ctx, item, section_title(measure, sections))

        return Rows(produce)

    return [
        Table(
            title,
            TASK_COLUMNS,
            rows(members),
            sheet=title,
            where="workbook",
            group_title="Раздел",
        )
        for title, members in groups.items()
    ]
