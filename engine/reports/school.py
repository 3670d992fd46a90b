"""The school case report («Отчёт по делу школы»).

What a committee sends upward about one school on a risk list: the lists it is on, the
help programme and its tasks with their outcomes, the evaluations of its results with
the numbers before and after, the administrative measures with who requested and who
approved or rejected them (an override of the rule «help first» marked as such), and
the case's whole history from the audit log.

As of a past day everything is replayed from the audit log: the case's stage, the
decisions on measures, the help tasks (:mod:`engine.reports.asof`); evaluations and
measures made later are left out. Whether the gate is open now is said only in a
report for today — it depends on data that is not replayed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.cases.evaluate import VERDICT_LABELS
from engine.cases.gate import gate
from engine.cases.progress import CaseEngine
from engine.cases.rules import KIND_LABELS, METRIC_LABELS
from engine.cases.views import case_audit
from engine.core.errors import MeasuresError
from engine.core.models import (
    AdministrativeMeasure,
    AuditEvent,
    CaseEvaluation,
    Person,
    Plan,
    RiskFlag,
    School,
    SchoolCase,
    pk,
)
from engine.core.words import AUDIT_EVENTS, initials
from engine.reports.asof import Scope
from engine.reports.common import TASK_COLUMNS, Context, Judged, judged, task_row
from engine.reports.model import Column, Figures, Note, Report, Row, Table, Value, day_text
from engine.reports.outcome import Tally

#: The columns of the plan report's task table that a school's help programme needs
#: (its school is the report's own): №, measure, responsible, dates, state, outcome,
#: delay, report, acceptance.
_HELP_PICK = (0, 1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13)
_HELP_COLUMNS = tuple(TASK_COLUMNS[i] for i in _HELP_PICK)

_FLAG_COLUMNS = (
    Column("Год", 8),
    Column("Предмет", 24),
    Column("Класс", 8),
    Column("Маркер", 10),
    Column("Источник", 50),
)
_EVALUATION_COLUMNS = (
    Column("Оценка", 14),
    Column("Дата", 11),
    Column("Предмет", 20),
    Column("Класс", 8),
    Column("Участников до", 10),
    Column("Участников после", 10),
    Column("Вывод", 22),
    Column("Показатель", 26),
    Column("До, %", 8),
    Column("После, %", 8),
    Column("Пояснение", 60),
)
_MEASURE_COLUMNS = (
    Column("№", 6),
    Column("Мера", 30),
    Column("В обход правила", 10),
    Column("Запрошена", 11),
    Column("Запросил", 22),
    Column("Основание", 40),
    Column("Решение", 24),
    Column("Решение принял", 22),
    Column("Дата решения", 11),
    Column("Комментарий к решению", 30),
    Column("Задача", 8),
    Column("Состояние задачи", 18),
    Column("Срок задачи", 11),
)
_HISTORY_COLUMNS = (
    Column("Когда", 16),
    Column("Что", 20),
    Column("Действие", 36),
    Column("Из", 24),
    Column("В", 24),
    Column("Кто", 24),
    Column("Комментарий", 60),
)
OVERRIDE_TEXT = "в обход правила «сначала помощь»"


@dataclass(frozen=True)
class _Decision:
    state: str
    by: str
    at: datetime | None
    comment: str


def school_report(session: Session, ctx: Context, cases: CaseEngine, case: SchoolCase) -> Report:
    school = session.get_one(School, case.school_id)
    moment = ctx.moment
    zone = ctx.escalator.hours.zone
    opened = case.created_at.astimezone(zone).date()
    if moment.past and opened > moment.day:
        raise MeasuresError(
            f"Дело школы «{school.short_name or school.name}» открыто {day_text(opened)}: "
            f"состояния на {day_text(moment.day)} по нему нет. Укажите дату не раньше "
            f"{day_text(opened)}."
        )
    measures = [
        m
        for m in session.exec(
            select(AdministrativeMeasure)
            .where(AdministrativeMeasure.case_id == case.id)
            .order_by(col(AdministrativeMeasure.id))
        )
        if m.created_at <= moment.cutoff
    ]
    rows = case_audit(session, pk(case), [pk(m) for m in measures], moment.cutoff)
    names = _names(session, rows, case, measures)
    own = [r for r in rows if r.case_id is not None]
    state = own[-1].to_state if own else case.state
    since = (own[-1].at if own else case.state_since).astimezone(zone).date()
    helped = case.help_plan_id is not None and any(r.event == "plan_help" for r in own)
    plan = session.get(Plan, case.help_plan_id) if helped and case.help_plan_id else None
    help_items: list[Judged] = []
    if plan is not None:
        help_items = list(judged(session, ctx, Scope(plan_id=pk(plan), school_id=case.school_id)))
    tally = Tally()
    for item in help_items:
        tally.add(item.fact, item.outcome, moment.day, item.level)
    evaluations = [
        e
        for e in session.exec(
            select(CaseEvaluation)
            .where(CaseEvaluation.case_id == case.id)
            .order_by(col(CaseEvaluation.id))
        )
        if e.at <= moment.cutoff
    ]
    decisions = {pk(m): _decision(cases, m, rows, names) for m in measures}
    made = {m.task_id: m for m in measures if m.task_id and decisions[pk(m)].at is not None}
    admin_tasks = {
        item.fact.task_id: item
        for item in judged(session, ctx, Scope(task_ids=tuple(t for t in made if t)))
    }
    kind_label = KIND_LABELS.get(case.kind, case.kind)
    workflow = cases.workflow
    figures: list[tuple[str, Value]] = [
        ("Стадия дела", workflow.label(state)),
        ("На стадии с", since),
        ("Дней на стадии", (moment.day - since).days),
        ("Программа помощи", plan.title if plan else "не назначена"),
        ("Мероприятий помощи для школы", tally.total),
        ("Исполнено в срок", tally.on_time),
        ("Исполнено с опозданием", tally.late),
        ("Просрочено", tally.overdue),
        ("Ожидает проверки", tally.awaiting),
        ("Оценок результатов", len(evaluations)),
        ("Последняя оценка", _latest(evaluations)),
        *_measure_figures(cases, measures, decisions),
    ]
    if not moment.past:
        checked = gate(session, cases, case)
        figures.append(
            (
                "Меры воздействия",
                "возможны: помощь не дала позитивного сдвига"
                if checked.open
                else "невозможны: " + "; ".join(checked.reasons),
            )
        )
    blocks = (
        Figures("Сводные показатели", tuple(figures)),
        Table(
            "Перечни",
            _FLAG_COLUMNS,
            _flag_rows(session, case, moment.day.year),
            empty="Школа в перечнях этого вида не значится.",
        ),
        Table(
            "Программа помощи: мероприятия для школы",
            _HELP_COLUMNS,
            [_help_row(session, ctx, item) for item in help_items],
            sheet="Программа помощи",
            empty="Программа помощи не назначена."
            if plan is None
            else "В программе нет мероприятий для школы.",
        ),
        Table(
            "Оценка результатов (позитивный сдвиг)",
            _EVALUATION_COLUMNS,
            [row for e in evaluations for row in _evaluation_rows(e, zone)],
            sheet="Оценки",
            empty="Оценок ещё не было.",
        ),
        Table(
            "Меры административного воздействия",
            _MEASURE_COLUMNS,
            [_measure_row(ctx, cases, m, decisions[pk(m)], names, admin_tasks) for m in measures],
            sheet="Меры воздействия",
            empty="Меры воздействия не запрашивались.",
        ),
        Table(
            "История дела",
            _HISTORY_COLUMNS,
            [_history_row(cases, r, names, measures, zone) for r in rows],
            sheet="История",
        ),
    )
    notes = ctx.notes()
    if moment.past:
        notes = (
            *notes,
            "Возможность мер воздействия (условия правила «сначала помощь») указывается "
            "только в отчёте на текущую дату.",
        )
    return Report(
        title="Отчёт по делу школы",
        subtitle=f"{school.name}: {kind_label}, перечень {case.year} года",
        meta=ctx.title_block(
            ("Школа", school.name),
            ("Вид риска", kind_label),
            ("Перечень", f"{case.year} год"),
            ("Куратор", names.get(case.curator_id or 0, "не назначен")),
            ("Контроль", names.get(case.supervisor_id or 0, "—")),
        ),
        blocks=(*blocks, Note(_gate_rule())),
        filename=f"school-{school.key}-{case.kind}-{case.year}-{moment.day.isoformat()}",
        notes=notes,
    )


def _gate_rule() -> str:
    return (
        "Правило (письмо Рособрнадзора и Минпросвещения от 16.03.2018 № 05-71): сначала "
        "адресная помощь; меры административного воздействия — только если программа "
        "помощи не дала позитивного сдвига в результатах. Решение о мере утверждает "
        "контролирующее лицо, которое её не запрашивало."
    )


def _names(
    session: Session,
    rows: list[AuditEvent],
    case: SchoolCase,
    measures: list[AdministrativeMeasure],
) -> dict[int, str]:
    """Person id → «Петрова А.С.» for everybody the report names."""
    wanted = {r.actor_id for r in rows} | {r.on_behalf_of_id for r in rows if r.on_behalf_of_id}
    wanted |= {case.curator_id or 0, case.supervisor_id or 0}
    wanted |= {m.requested_by_id for m in measures}
    return {
        pk(p): initials(p.name)
        for p in session.exec(select(Person).where(col(Person.id).in_(wanted)))
    }


def _who(row: AuditEvent, names: dict[int, str]) -> str:
    actor = names.get(row.actor_id, str(row.actor_id))
    if row.on_behalf_of_id:
        return f"{actor} (за {names.get(row.on_behalf_of_id, row.on_behalf_of_id)})"
    return actor


def _decision(
    cases: CaseEngine,
    measure: AdministrativeMeasure,
    rows: list[AuditEvent],
    names: dict[int, str],
) -> _Decision:
    """The measure's state at the moment, and the decision that put it there (if any)."""
    own = [r for r in rows if r.admin_id == measure.id]
    last = own[-1] if own else None
    if last is None:
        return _Decision(measure.state, "", None, "")
    if cases.admin.meaning(last.to_state) in ("done", "closed"):
        return _Decision(last.to_state, _who(last, names), last.at, last.comment)
    return _Decision(last.to_state, "", None, "")


def _measure_figures(
    cases: CaseEngine, measures: list[AdministrativeMeasure], decisions: dict[int, _Decision]
) -> list[tuple[str, Value]]:
    meanings = Counter(cases.admin.meaning(decisions[pk(m)].state) for m in measures)
    return [
        ("Мер воздействия запрошено", len(measures)),
        ("из них утверждено", meanings["done"]),
        ("из них отклонено", meanings["closed"]),
        ("из них ожидает решения", meanings["awaiting_decision"] + meanings["owing"]),
        ("из них в обход правила", sum(m.override for m in measures)),
    ]


def _latest(evaluations: list[CaseEvaluation]) -> Value:
    if not evaluations:
        return None
    last = evaluations[-1]
    verdict = VERDICT_LABELS.get(last.verdict, last.verdict)
    return f"{last.year_before} → {last.year_after}: {verdict}"


def _flag_rows(session: Session, case: SchoolCase, year: int) -> list[Row]:
    """The lists the school is on for this risk, up to the report's year (a list of year
    Y cannot have been known before Y)."""
    flags = session.exec(
        select(RiskFlag)
        .where(RiskFlag.school_id == case.school_id, RiskFlag.kind == case.kind)
        .order_by(col(RiskFlag.year), col(RiskFlag.subject), col(RiskFlag.grade))
    )
    return [
        Row((f.year, f.subject or "все предметы", f.grade or "все", f.marker or None, f.source))
        for f in flags
        if f.year is None or f.year <= year
    ]


def _help_row(session: Session, ctx: Context, item: Judged) -> Row:
    row = task_row(session, ctx, item)
    return Row(tuple(row.values[i] for i in _HELP_PICK), highlight=row.highlight)


def _numbers(pair: dict[str, Any]) -> dict[str, Any]:
    """The check whose numbers explain the pair: the deciding rule's, else the first
    rule that had numbers on both sides."""
    checks = pair.get("checks") or []
    decided = [c for c in checks if c.get("rule") == pair.get("rule")]
    with_numbers = [c for c in checks if c.get("before") is not None and c.get("after") is not None]
    for check in (*decided, *with_numbers):
        if check.get("before") is not None and check.get("after") is not None:
            return dict(check)
    return {}


def _evaluation_rows(evaluation: CaseEvaluation, zone: Any) -> list[Row]:
    rows = []
    years = f"{evaluation.year_before} → {evaluation.year_after}"
    day = evaluation.at.astimezone(zone).date()
    for pair in evaluation.details:
        numbers = _numbers(pair)
        metric = numbers.get("metric")
        verdict = str(pair.get("verdict", ""))
        rows.append(
            Row(
                (
                    years,
                    day,
                    pair.get("subject") or "все предметы",
                    pair.get("grade") or "все",
                    pair.get("participants_before"),
                    pair.get("participants_after"),
                    VERDICT_LABELS.get(verdict, verdict),
                    METRIC_LABELS.get(metric, metric) if metric else None,
                    _float(numbers.get("before")),
                    _float(numbers.get("after")),
                    pair.get("text", ""),
                ),
                highlight=verdict == "no_shift",
            )
        )
    return rows


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _measure_row(
    ctx: Context,
    cases: CaseEngine,
    measure: AdministrativeMeasure,
    decision: _Decision,
    names: dict[int, str],
    tasks: dict[int, Judged],
) -> Row:
    kind = cases.rules.admin_kinds.get(measure.kind)
    zone = ctx.escalator.hours.zone
    made = tasks.get(measure.task_id or 0)
    return Row(
        (
            pk(measure),
            kind.label if kind else measure.kind,
            "да" if measure.override else "нет",
            measure.created_at.astimezone(zone).date(),
            names.get(measure.requested_by_id, str(measure.requested_by_id)),
            measure.reason,
            cases.admin.label(decision.state),
            decision.by or None,
            decision.at.astimezone(zone).date() if decision.at else None,
            decision.comment or None,
            made.fact.task_id if made else None,
            ctx.escalator.workflow.label(made.fact.state) if made else None,
            made.fact.due_date if made else None,
        ),
        highlight=measure.override,
    )


def _history_row(
    cases: CaseEngine,
    row: AuditEvent,
    names: dict[int, str],
    measures: list[AdministrativeMeasure],
    zone: Any,
) -> Row:
    overrides = {pk(m) for m in measures if m.override}
    workflow = cases.workflow if row.case_id is not None else cases.admin
    event = workflow.events.get(row.event)
    label = event.label if event else AUDIT_EVENTS.get(row.event, row.event)
    if row.case_id is not None:
        subject = "Дело"
    else:
        subject = f"Мера воздействия {row.admin_id}"
        if row.admin_id in overrides:
            subject += f" ({OVERRIDE_TEXT})"
    return Row(
        (
            row.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            subject,
            label,
            workflow.label(row.from_state) if row.from_state else None,
            workflow.label(row.to_state),
            _who(row, names),
            row.comment or None,
        ),
        highlight=row.admin_id in overrides or row.event == "administer_override",
    )
