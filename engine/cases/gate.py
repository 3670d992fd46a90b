"""The gate: administrative measures only after help has failed — enforced here.

Every door (the CLI, the web page, the API, a script) opens an administrative measure
through :func:`request_administrative`, so all get the same refusal with the same
Russian reasons. The gate is open only when the case is in a state ``[gate] open_in``
of workflows/rules.toml names AND the facts behind it hold: a help programme was
linked, its tasks were all done or its period has ended, and the latest evaluation
found no positive shift. An admin may override the gate with a written reason; the
request, its audit row, the task it becomes and the case's move are then marked as an
override.

A request waits for a supervisor's approval (workflows/administrative.toml, four
eyes); the approval checks the gate again (the data may have changed meanwhile) and
turns the measure into a task of the plan «Меры административного воздействия» of the
school year, with the kind's due date and ladder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, func, select

from engine.cases.progress import CaseEngine
from engine.core.errors import GateClosed, TransitionRefused
from engine.core.models import (
    AdministrativeMeasure,
    AuditEvent,
    Measure,
    Person,
    Plan,
    School,
    SchoolCase,
    Task,
    pk,
)
from engine.core.workcalendar import WorkCalendar
from engine.lifecycle import audit
from engine.lifecycle.fire import Fired, Lifecycle
from engine.plans.importing import school_year


@dataclass(frozen=True)
class Gate:
    open: bool
    reasons: tuple[str, ...]


def gate(session: Session, engine: CaseEngine, case: SchoolCase) -> Gate:
    """Whether administrative measures may be opened for the case now, and why not."""
    reasons: list[str] = []
    if case.help_plan_id is None:
        reasons.append("программа помощи для школы не назначена")
    else:
        progress = engine.progress(session, case)
        ended = progress.period_end is not None and progress.period_end < engine.today()
        if progress.total == 0:
            reasons.append("в программе помощи нет мероприятий для этой школы")
        elif not progress.finished and not ended:
            reasons.append(
                f"программа помощи не завершена: {progress.unconfirmed} из {progress.total} "
                "мероприятий не подтверждены"
            )
        else:
            reasons.extend(_evaluation_reasons(session, engine, case))
    if not reasons and case.state not in engine.rules.gate_open_in:
        labels = ", ".join(f"«{engine.workflow.label(s)}»" for s in engine.rules.gate_open_in)
        reasons.append(
            f"дело в состоянии «{engine.workflow.label(case.state)}»; меры воздействия "
            f"возможны только в состояниях {labels}"
        )
    return Gate(not reasons, tuple(reasons))


def _evaluation_reasons(session: Session, engine: CaseEngine, case: SchoolCase) -> list[str]:
    latest = engine.latest_evaluation(session, case)
    if latest is None:
        if not engine.next_round_arrived(session, case):
            return [
                f"нет результатов следующего цикла ({case.year + 1} год): оценить "
                "позитивный сдвиг пока не на чем"
            ]
        return ["оценка результатов ещё не проведена"]
    if latest.verdict == "shift":
        return [f"оценка показала позитивный сдвиг: {latest.summary}"]
    if latest.verdict == "insufficient":
        return [f"недостаточно данных для оценки: {latest.summary}"]
    if latest.verdict == "no_data":
        return [f"нет результатов следующего цикла ({latest.year_after} год): {latest.summary}"]
    return []


def request_administrative(
    session: Session,
    engine: CaseEngine,
    admin: Lifecycle,
    case: SchoolCase,
    kind: str,
    actor: Person,
    reason: str,
    *,
    override: bool = False,
    responsible: Person | None = None,
    supervisor: Person | None = None,
) -> AdministrativeMeasure:
    """Open a request through the gate (or an admin's override); caller commits."""
    school = session.get(School, case.school_id)
    assert school is not None
    kinds = engine.rules.admin_kinds
    if kind not in kinds:
        raise TransitionRefused(
            f"Неизвестная мера воздействия «{kind}». Меры (workflows/rules.toml): "
            + ", ".join(f"{k} — {v.label}" for k, v in kinds.items())
            + "."
        )
    if not reason.strip():
        raise TransitionRefused(
            "Нужно основание: --reason с текстом (для обхода правила — письменное обоснование)."
        )
    held = engine.cases.roles_held(session, actor, case)
    if not {"responsible", "supervisor", "head", "admin"} & set(held):
        raise TransitionRefused(
            f"{actor.name} ({actor.key}) не может запросить меры воздействия: это вправе "
            "куратор дела, контролирующее лицо, председатель комитета или администратор."
        )
    checked = gate(session, engine, case)
    if override:
        if "admin" not in actor.roles:
            raise TransitionRefused(
                f"Обойти правило «сначала помощь» может только администратор; у "
                f"{actor.name} ({actor.key}) этой роли нет."
            )
        if checked.open:
            raise TransitionRefused(
                "Обход правила не нужен: условия для мер воздействия выполнены; "
                "откройте меру без --override."
            )
    elif not checked.open:
        raise GateClosed(school.short_name or school.name, list(checked.reasons))
    now = engine.clock.now()
    measure = AdministrativeMeasure(
        case_id=pk(case),
        kind=kind,
        state=admin.definition.initial,
        state_since=now,
        requested_by_id=pk(actor),
        responsible_id=(responsible or actor).id,
        supervisor_id=supervisor.id if supervisor else None,
        reason=reason.strip(),
        override=override,
        created_at=now,
        updated_at=now,
    )
    session.add(measure)
    session.flush()
    comment = reason.strip()
    if override:
        comment = (
            f"В ОБХОД ПРАВИЛА «сначала помощь» (решение администратора): {comment}. "
            f"Условия не выполнены: {'; '.join(checked.reasons)}."
        )
    audit.append(
        session,
        AuditEvent(
            admin_id=pk(measure),
            event="override" if override else "request",
            from_state="",
            to_state=measure.state,
            actor_id=pk(actor),
            at=now,
            comment=f"{kinds[kind].label}: {comment}",
            seq=0,
            prev_hash="",
            hash="",
        ),
        admin.audit_key,
    )
    return measure


def decide_administrative(
    session: Session,
    engine: CaseEngine,
    admin: Lifecycle,
    calendar: WorkCalendar,
    measure: AdministrativeMeasure,
    event: str,
    actor: Person,
    comment: str,
) -> tuple[Fired, Task | None]:
    """Approve or reject a request (four eyes); an approval makes the task. Caller commits."""
    case = session.get(SchoolCase, measure.case_id)
    assert case is not None
    fired = admin.fire_in(session, measure, event, actor, comment)
    if engine.admin.meaning(measure.state) != "done":
        return fired, None
    if not measure.override:
        checked = gate(session, engine, case)
        if not checked.open:
            school = session.get(School, case.school_id)
            assert school is not None
            raise GateClosed(school.short_name or school.name, list(checked.reasons))
    task = _make_task(session, engine, calendar, case, measure, actor)
    measure.task_id = pk(task)
    session.add(measure)
    session.flush()
    engine.advance(session, case)
    return fired, task


def _admin_plan(session: Session, engine: CaseEngine, today: date, now: datetime) -> Plan:
    start, end = school_year(today)
    title = f"Меры административного воздействия на {start.year}/{end.year} учебный год"
    plan = session.exec(
        select(Plan).where(
            Plan.title == title, Plan.period_start == start, Plan.source_name == _SOURCE
        )
    ).first()
    if plan is None:
        plan = Plan(
            title=title,
            period_start=start,
            period_end=end,
            ladder=engine.rules.admin_ladder,
            source_name=_SOURCE,
            created_at=now,
        )
        session.add(plan)
        session.flush()
    return plan


_SOURCE = "measures: administrative"
OVERRIDE_MARK = " — В ОБХОД ПРАВИЛА «сначала помощь» (решение администратора)"


def _make_task(
    session: Session,
    engine: CaseEngine,
    calendar: WorkCalendar,
    case: SchoolCase,
    measure: AdministrativeMeasure,
    approver: Person,
) -> Task:
    now = engine.clock.now()
    today = engine.today()
    plan = _admin_plan(session, engine, today, now)
    kind = engine.rules.admin_kinds[measure.kind]
    key = f"administrative#{measure.kind}" + ("#override" if measure.override else "")
    item = session.exec(
        select(Measure).where(Measure.plan_id == plan.id, Measure.key == key)
    ).first()
    if item is None:
        count = session.exec(select(func.count()).where(Measure.plan_id == plan.id)).one()
        item = Measure(
            plan_id=pk(plan),
            position=int(count) + 1,
            key=key,
            number=str(int(count) + 1),
            title=kind.label + (OVERRIDE_MARK if measure.override else ""),
            deadline_phrase=f"{kind.due_working_days} рабочих дней после утверждения",
            responsible_text="по решению об утверждении меры",
        )
        session.add(item)
        session.flush()
    occurrence = session.exec(
        select(func.count()).where(Task.measure_id == item.id, Task.school_id == case.school_id)
    ).one()
    task = Task(
        measure_id=pk(item),
        occurrence=int(occurrence) + 1,
        # what anchors it (Task.occurrence_key): the approved request, not a date
        occurrence_key=f"administrative:{pk(measure)}",
        school_id=case.school_id,
        responsible_id=measure.responsible_id or measure.requested_by_id,
        supervisor_id=measure.supervisor_id or pk(approver),
        start_date=today,
        due_date=calendar.add_working_days(today, kind.due_working_days),
        state=engine.tasks.initial,
        state_since=now,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    return task
