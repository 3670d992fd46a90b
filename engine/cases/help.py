"""Help programmes: a plan whose measures reach the school, linked to its case.

Either an existing plan (imported like any plan — e.g. the help plan of an order, whose
measures fan out to the flagged schools) that has tasks for the school, or a plan made
from the template workflows/help_programme.toml for this school alone, for the school
year that follows the list. Linking is the case's ``plan_help`` event, fired by the
person who decides it, audited; if help has already started the case follows at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, func, select

from engine.cases.progress import CaseEngine
from engine.core import tomlfile
from engine.core.errors import TransitionRefused, WorkflowError
from engine.core.models import Measure, Person, Plan, School, SchoolCase, Task, pk
from engine.core.workcalendar import WorkCalendar
from engine.lifecycle.fire import Fired
from engine.plans.expand import sync_tasks, wanted_tasks
from engine.plans.redate import store_schedule
from engine.plans.schedule import (
    Cadence,
    EventDate,
    occurrences,
    parse_deadline,
    schedule_problems,
)

_RESPONSIBLE = ("head", "curator")


@dataclass(frozen=True)
class TemplateMeasure:
    title: str
    deadline: str
    responsible: str  # "head" | "curator"
    expected: str


@dataclass(frozen=True)
class HelpTemplate:
    path: Path
    title: str
    measures: tuple[TemplateMeasure, ...]


def load_template(path: Path) -> HelpTemplate:
    data, text = tomlfile.load(path, WorkflowError)
    head = data.get("programme")
    if not isinstance(head, dict) or not isinstance(head.get("title"), str):
        raise WorkflowError(f"{path}: missing [programme] with title")
    raw = data.get("measures")
    if not isinstance(raw, list) or not raw:
        raise WorkflowError(f"{path}: no [[measures]]")
    measures = []
    for index, item in enumerate(raw):
        where = tomlfile.where_item(path, text, "measures", index)
        if not isinstance(item, dict) or set(item) - {
            "title",
            "deadline",
            "responsible",
            "expected",
        }:
            raise WorkflowError(f"{where}: expected title, deadline, responsible, expected")
        for key in ("title", "deadline"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise WorkflowError(f"{where}: {key}: expected a text")
        if item.get("responsible") not in _RESPONSIBLE:
            raise WorkflowError(
                f"{where}: responsible: expected head or curator, got {item.get('responsible')!r}"
            )
        measures.append(
            TemplateMeasure(
                item["title"], item["deadline"], item["responsible"], str(item.get("expected", ""))
            )
        )
    return HelpTemplate(path, head["title"], tuple(measures))


@dataclass(frozen=True)
class Linked:
    plan: Plan
    tasks: int
    fired: list[Fired]  # plan_help and whatever followed at once
    already: bool = False  # the case had this programme already: nothing changed


def link_plan(
    session: Session,
    engine: CaseEngine,
    case: SchoolCase,
    plan: Plan,
    actor: Person,
    curator: Person | None = None,
) -> Linked:
    """Link ``plan`` as the case's help programme (caller commits)."""
    if case.help_plan_id == plan.id:
        count = len(engine.help_tasks(session, case))
        return Linked(plan, count, [], already=True)
    if case.help_plan_id is not None:
        raise TransitionRefused(
            f"У дела уже есть программа помощи: план {case.help_plan_id}. Другая программа "
            "не назначается поверх начатой."
        )
    school = session.get(School, case.school_id)
    assert school is not None
    count = session.exec(
        select(func.count())
        .select_from(Task)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .where(Measure.plan_id == plan.id, Task.school_id == case.school_id)
    ).one()
    if not count:
        raise TransitionRefused(
            f"В плане {plan.id} «{plan.title}» нет мероприятий для школы «{school.name}»: "
            "программа помощи — это план, мероприятия которого адресованы этой школе."
        )
    case.help_plan_id = pk(plan)
    if curator is not None:
        case.curator_id = pk(curator)
    fired = [
        engine.cases.fire_in(
            session,
            case,
            "plan_help",
            actor,
            f"Программа помощи: план {plan.id} «{plan.title}», мероприятий для школы: {count}.",
        )
    ]
    fired.extend(engine.advance(session, case))
    return Linked(plan, int(count), fired)


def plan_from_template(
    session: Session,
    engine: CaseEngine,
    template: HelpTemplate,
    case: SchoolCase,
    actor: Person,
    calendar: WorkCalendar,
    events: list[EventDate],
    cadence: Cadence,
    curator: Person | None = None,
) -> Plan:
    """The template made into a plan for this school alone (caller links and commits)."""
    school = session.get(School, case.school_id)
    assert school is not None
    curator = curator or (session.get(Person, case.curator_id) if case.curator_id else actor)
    assert curator is not None
    period = (date(case.year, 9, 1), date(case.year + 1, 8, 31))
    now = engine.clock.now()
    plan = Plan(
        title=template.title.format(school=school.short_name or school.name),
        issuer="",
        period_start=period[0],
        period_end=period[1],
        controller_id=case.supervisor_id or pk(actor),
        source_name=template.path.name,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    if school.head_id is None and any(m.responsible == "head" for m in template.measures):
        raise TransitionRefused(
            f"У школы «{school.name}» не указан руководитель (head в measures schools import): "
            "программе помощи некому поручить мероприятия школы."
        )
    for position, item in enumerate(template.measures, start=1):
        schedule = parse_deadline(item.deadline, period)
        dated = occurrences(schedule, period, calendar, events, cadence)
        responsible = school.head_id if item.responsible == "head" else pk(curator)
        measure = Measure(
            plan_id=pk(plan),
            position=position,
            key=f"help#{position}",
            number=str(position),
            title=item.title,
            deadline_phrase=item.deadline,
            responsible_text="Руководитель ОО" if item.responsible == "head" else curator.name,
            expected_result=item.expected,
            problems=schedule_problems(schedule, dated),
            supervisor_id=plan.controller_id,
        )
        store_schedule(measure, schedule, dated)
        session.add(measure)
        session.flush()
        wanted = wanted_tasks(dated, [(case.school_id, responsible)], plan.controller_id)
        sync_tasks(session, measure, wanted, engine.tasks.initial, now)
    if case.curator_id is None:
        case.curator_id = pk(curator)
    session.flush()
    return plan
