"""The public summary of a plan, for the committee's site: no personal data.

Measures, their deadlines as written, their states and dates — never a responsible
person, a report text, a verifier, a school or an email. Titles are the plan's own
words, which may still name people («подготовить Ивановой М.П.»), so every text passes
through :class:`Redactor`: each directory person's surname (in any grammatical case),
given name and patronymic, and any email address become «…». Only when
``reports.public_summary`` is on (engine.app.reports checks it).
"""

from __future__ import annotations

import re
from collections import Counter

from sqlmodel import Session, col, select

from engine.core.errors import NotFound
from engine.core.models import Measure, Person, Plan, Section, pk
from engine.plans.resolve import normalise, same_surname
from engine.reports.asof import Scope
from engine.reports.common import Context, judged
from engine.reports.model import Column, Figures, Report, Row, Table, Value, day_text
from engine.reports.outcome import Tally
from engine.reports.plan import MeasureLine, section_title

MASK = "…"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CAPITALISED = re.compile(r"\b[A-ZА-ЯЁ][\w-]*")


class Redactor:
    """Masks the directory's names and any email address in a text."""

    def __init__(self, persons: list[Person]) -> None:
        self.surnames: set[str] = set()
        self.names: set[str] = set()
        for person in persons:
            parts = [p for p in normalise(person.name).split() if len(p) >= 2]
            if len(parts) >= 2:
                self.surnames.add(parts[0])
                self.names.update(parts[1:])
            else:
                self.names.update(parts)

    def _personal(self, word: str) -> bool:
        key = normalise(word)
        return key in self.names or any(same_surname(s, key) for s in self.surnames)

    def __call__(self, text: str) -> str:
        text = _EMAIL.sub(MASK, text)
        return _CAPITALISED.sub(lambda m: MASK if self._personal(m.group()) else m.group(), text)


_COLUMNS = (
    Column("№", 6),
    Column("Мероприятие", 60),
    Column("Срок исполнения по плану", 26),
    Column("Срок", 16),
    Column("Состояние", 36),
    Column("Исполнено", 12),
)


def public_report(session: Session, ctx: Context, plan_id: int) -> Report:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    redact = Redactor(list(session.exec(select(Person))))
    workflow = ctx.escalator.workflow
    measures = list(
        session.exec(
            select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.position))
        )
    )
    sections = {pk(s): s for s in session.exec(select(Section).where(Section.plan_id == plan_id))}
    total = Tally()
    states: Counter[str] = Counter()
    lines: dict[int, MeasureLine] = {}
    for item in judged(session, ctx, Scope(plan_id=plan_id)):
        total.add(item.fact, item.outcome, ctx.moment.day)
        states[item.fact.state] += 1
        lines.setdefault(item.fact.measure_id, MeasureLine()).add(item, None)
    figures: list[tuple[str, Value]] = [
        ("Мероприятий", len(lines)),
        ("Задач (с учётом повторов и школ)", total.total),
        *((workflow.label(s), states.get(s, 0)) for s in workflow.states),
        ("Исполнено в срок", total.on_time),
        ("Исполнено с опозданием", total.late),
        ("Просрочено на дату", total.overdue),
    ]
    rows = []
    for measure in measures:
        line = lines.get(pk(measure))
        if line is None:
            continue
        rows.append(
            Row(
                (
                    measure.number,
                    redact(measure.title),
                    redact(measure.deadline_phrase) or None,
                    line.due_value(),
                    line.state_text(workflow),
                    line.executed_value(),
                ),
                highlight=line.overdue > 0,
                group=redact(section_title(measure, sections)),
            )
        )
    period = f"{day_text(plan.period_start)} – {day_text(plan.period_end)}"
    return Report(
        title="Ход исполнения плана мероприятий",
        subtitle=redact(plan.title),
        meta=(
            ("Орган", ctx.escalator.committee),
            ("Период", period),
            ("Состояние на", day_text(ctx.moment.day)),
        ),
        blocks=(
            Figures("Сводные показатели", tuple(figures)),
            Table("Мероприятия плана", _COLUMNS, rows, sheet="Мероприятия", group_title="Раздел"),
        ),
        filename=f"public-plan-{plan_id}-{ctx.moment.day.isoformat()}",
    )
