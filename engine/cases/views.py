"""Read-only views of cases as plain data: the board, one case with its history.

What the CLI prints and what the web's «Школы» pages and the API will show: board rows,
a case's history (its own decisions and those on its administrative measures), help
tasks with states, evaluations with their numbers, and the gate with its reasons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from engine.cases.evaluate import VERDICT_LABELS
from engine.cases.gate import Gate, gate
from engine.cases.progress import CaseEngine
from engine.cases.rules import KIND_LABELS
from engine.core.errors import MeasuresError, NotFound
from engine.core.models import (
    AdministrativeMeasure,
    AuditEvent,
    CaseEvaluation,
    Measure,
    Person,
    Plan,
    RiskFlag,
    School,
    SchoolCase,
    Task,
    pk,
)
from engine.plans.resolve import normalise

#: Automatic moves worth announcing as "expected": those that follow help and data (an
#: approval of administrative measures is a person's step, shown by the gate instead).
_AWAITED = frozenset({"help_started", "help_finished", "shift_found", "no_shift_found"})


@dataclass(frozen=True)
class BoardRow:
    case_id: int
    school_key: str
    school: str
    kind: str
    kind_label: str
    year: int
    state: str
    state_label: str
    meaning: str
    since: date
    days_in_stage: int
    next_step: str
    help_plan_id: int | None
    help_tasks: int
    help_done: int
    overdue_help_tasks: int
    gate_open: bool
    override: bool  # an administrative measure was opened against the gate

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat()
        return data


def next_step(engine: CaseEngine, case: SchoolCase, gate_open: bool) -> str:
    """What is expected next, from the workflow: people's events, then automatic ones."""
    workflow = engine.workflow
    steps = [e.label for e in workflow.events.values() if case.state in e.source and not e.when]
    waits = [e.label for e in workflow.automatic(case.state) if e.when in _AWAITED]
    parts = []
    if gate_open:
        parts.append("можно открыть меры воздействия (open-administrative)")
    if case.help_plan_id is None and "plan_help" in workflow.allowed_from(case.state):
        parts.append("назначить программу помощи (help)")
        steps = [s for s in steps if s != workflow.events["plan_help"].label]
    parts.extend(steps)
    if waits:
        parts.append("ожидается: " + " / ".join(waits))
    return "; ".join(parts) or "—"


def _local(engine: CaseEngine, moment: datetime) -> date:
    return moment.astimezone(engine.cases.zone).date()


def board(session: Session, engine: CaseEngine, *, all_cases: bool = True) -> list[BoardRow]:
    """Every case (or the open ones), by school; the numbers behind each stage."""
    query = (
        select(SchoolCase, School)
        .join(School, col(School.id) == SchoolCase.school_id)
        .order_by(col(School.key), col(SchoolCase.kind), col(SchoolCase.year))
    )
    if not all_cases:
        query = query.where(col(SchoolCase.state).in_(engine.workflow.open))
    today = engine.today()
    rows = []
    for case, school in session.exec(query):
        progress = engine.progress(session, case)
        checked = gate(session, engine, case)
        since = _local(engine, case.state_since)
        override = (
            session.exec(
                select(AdministrativeMeasure.id).where(
                    AdministrativeMeasure.case_id == case.id,
                    AdministrativeMeasure.override == True,  # noqa: E712
                )
            ).first()
            is not None
        )
        rows.append(
            BoardRow(
                case_id=pk(case),
                school_key=school.key,
                school=school.short_name or school.name,
                kind=case.kind,
                kind_label=KIND_LABELS.get(case.kind, case.kind),
                year=case.year,
                state=case.state,
                state_label=engine.workflow.label(case.state),
                meaning=engine.workflow.meaning(case.state),
                since=since,
                days_in_stage=(today - since).days,
                next_step=next_step(engine, case, checked.open),
                help_plan_id=case.help_plan_id,
                help_tasks=progress.total,
                help_done=progress.done,
                # late help matters while the case is open; a finished case keeps its record
                overdue_help_tasks=progress.overdue if case.state in engine.workflow.open else 0,
                gate_open=checked.open,
                override=override,
            )
        )
    return rows


def find_case(
    session: Session, engine: CaseEngine, school_ident: str, kind: str | None
) -> SchoolCase:
    """The case of a school (key, name or alias): its open one of ``kind``, else the newest.

    A school with open cases of both kinds needs ``kind``; the refusal says so.
    """
    wanted = normalise(school_ident)
    school = session.exec(select(School).where(School.key == school_ident)).first()
    if school is None:
        for candidate in session.exec(select(School)):
            names = {candidate.name, candidate.short_name, *candidate.aliases}
            if wanted in {normalise(n) for n in names if n}:
                school = candidate
                break
    if school is None:
        raise NotFound("school", school_ident)
    query = select(SchoolCase).where(SchoolCase.school_id == school.id)
    if kind:
        query = query.where(SchoolCase.kind == kind)
    cases = list(
        session.exec(query.order_by(col(SchoolCase.year).desc(), col(SchoolCase.id).desc()))
    )
    if not cases:
        which = f" ({KIND_LABELS.get(kind, kind)})" if kind else ""
        raise MeasuresError(
            f"У школы «{school.name}» нет дела{which}: дело открывается, когда школа попадает "
            "в перечень (measures risks import)."
        )
    open_ones = [c for c in cases if c.state in engine.workflow.open]
    kinds = {c.kind for c in open_ones}
    if len(kinds) > 1:
        raise MeasuresError(
            f"У школы «{school.name}» открыты дела по нескольким видам риска "
            f"({', '.join(sorted(kinds))}): укажите --risk."
        )
    return (open_ones or cases)[0]


def case_audit(
    session: Session, case_id: int, admin_ids: list[int], until: datetime | None = None
) -> list[AuditEvent]:
    """The audit rows of a case and of its administrative measures, oldest first (up to
    ``until``, when given: a report as of a past day)."""
    query = select(AuditEvent).where(
        or_(col(AuditEvent.case_id) == case_id, col(AuditEvent.admin_id).in_(admin_ids or [-1]))
    )
    if until is not None:
        query = query.where(col(AuditEvent.at) <= until)
    return list(session.exec(query.order_by(col(AuditEvent.seq))))


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: datetime
    subject: str  # "case" | "administrative"
    subject_id: int
    event: str
    from_state: str
    to_state: str
    actor: str
    actor_name: str
    on_behalf_of: str | None
    comment: str
    override: bool

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass
class CaseView:
    case_id: int
    school_key: str
    school: str
    kind: str
    kind_label: str
    year: int
    state: str
    state_label: str
    version: int
    curator: str | None
    supervisor: str | None
    flags: list[dict[str, Any]]
    help_plan_id: int | None
    help_plan: str | None
    help_tasks: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    gate: Gate
    administrative: list[dict[str, Any]]
    history: list[HistoryEntry] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["gate"] = {"open": self.gate.open, "reasons": list(self.gate.reasons)}
        data["history"] = [h.as_json() for h in self.history]
        return data


def case_view(session: Session, engine: CaseEngine, case: SchoolCase) -> CaseView:
    school = session.get(School, case.school_id)
    assert school is not None
    tasks_wf = engine.tasks
    today = engine.today()
    people: dict[int, Person] = {}

    def person(pid: int | None) -> Person | None:
        if pid is None:
            return None
        if pid not in people:
            found = session.get(Person, pid)
            if found is None:
                return None
            people[pid] = found
        return people[pid]

    def key(pid: int | None) -> str | None:
        found = person(pid)
        return found.key if found else None

    flags = [
        {
            "year": f.year,
            "subject": f.subject,
            "grade": f.grade,
            "marker": f.marker,
            "source": f.source,
        }
        for f in session.exec(
            select(RiskFlag)
            .where(RiskFlag.school_id == case.school_id, RiskFlag.kind == case.kind)
            .order_by(col(RiskFlag.year), col(RiskFlag.subject), col(RiskFlag.grade))
        )
    ]
    plan = session.get(Plan, case.help_plan_id) if case.help_plan_id else None
    help_tasks = []
    for task in engine.help_tasks(session, case):
        measure = session.get(Measure, task.measure_id)
        assert measure is not None
        help_tasks.append(
            {
                "task_id": task.id,
                "number": measure.number,
                "title": measure.title,
                "responsible": key(task.responsible_id),
                "due_date": task.due_date.isoformat() if task.due_date else None,
                "state": task.state,
                "state_label": tasks_wf.label(task.state),
                "overdue": bool(
                    task.due_date and task.due_date < today and task.state in tasks_wf.owing
                ),
            }
        )
    evaluations = [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "year_before": e.year_before,
            "year_after": e.year_after,
            "verdict": e.verdict,
            "verdict_label": VERDICT_LABELS.get(e.verdict, e.verdict),
            "summary": e.summary,
            "details": e.details,
        }
        for e in session.exec(
            select(CaseEvaluation)
            .where(CaseEvaluation.case_id == case.id)
            .order_by(col(CaseEvaluation.id))
        )
    ]
    measures = list(
        session.exec(
            select(AdministrativeMeasure)
            .where(AdministrativeMeasure.case_id == case.id)
            .order_by(col(AdministrativeMeasure.id))
        )
    )
    administrative = []
    for m in measures:
        made = session.get(Task, m.task_id) if m.task_id else None
        kind = engine.rules.admin_kinds.get(m.kind)
        administrative.append(
            {
                "id": m.id,
                "kind": m.kind,
                "label": kind.label if kind else m.kind,
                "state": m.state,
                "state_label": engine.admin.label(m.state),
                "override": m.override,
                "reason": m.reason,
                "requested_by": key(m.requested_by_id),
                "task_id": m.task_id,
                "task_state": made.state if made else None,
                "task_state_label": tasks_wf.label(made.state) if made else None,
                "due_date": made.due_date.isoformat() if made and made.due_date else None,
            }
        )
    admin_ids = [pk(m) for m in measures]
    overrides = {pk(m) for m in measures if m.override}
    principal = aliased(Person)
    history = [
        HistoryEntry(
            seq=row.seq,
            at=row.at,
            subject="case" if row.case_id is not None else "administrative",
            subject_id=row.case_id if row.case_id is not None else row.admin_id or 0,
            event=row.event,
            from_state=row.from_state,
            to_state=row.to_state,
            actor=actor.key,
            actor_name=actor.name,
            on_behalf_of=behalf.key if behalf else None,
            comment=row.comment,
            override=row.admin_id in overrides or row.event in ("override", "administer_override"),
        )
        for row, actor, behalf in session.exec(
            select(AuditEvent, Person, principal)
            .join(Person, col(Person.id) == AuditEvent.actor_id)
            .outerjoin(principal, col(principal.id) == AuditEvent.on_behalf_of_id)
            .where(
                or_(
                    col(AuditEvent.case_id) == case.id,
                    col(AuditEvent.admin_id).in_(admin_ids or [-1]),
                )
            )
            .order_by(col(AuditEvent.seq))
        )
    ]
    return CaseView(
        case_id=pk(case),
        school_key=school.key,
        school=school.name,
        kind=case.kind,
        kind_label=KIND_LABELS.get(case.kind, case.kind),
        year=case.year,
        state=case.state,
        state_label=engine.workflow.label(case.state),
        version=case.version,
        curator=key(case.curator_id),
        supervisor=key(case.supervisor_id),
        flags=flags,
        help_plan_id=case.help_plan_id,
        help_plan=plan.title if plan else None,
        help_tasks=help_tasks,
        evaluations=evaluations,
        gate=gate(session, engine, case),
        administrative=administrative,
        history=history,
    )
