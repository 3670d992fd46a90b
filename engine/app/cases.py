"""Use cases around schools at risk: data in, the board, a case, help, the gate.

The one layer the CLI, the daemon and the web call; each function opens its own
transaction and returns plain data. The gate itself lives in engine.cases.gate, so a
refusal is the same whichever door asked.

A case is named by its school (key, name or alias; the CLI) or by its id (the web and
the API). A door acting for a signed-in person passes ``viewer``: the case must then be
one that person may see (:func:`case_roles`), else :class:`NotFound` — the same answer
as for a case that does not exist, so ids cannot be probed.

A request for an administrative measure waits for somebody's decision: in the same
transaction as the request, each person who may decide on it (:func:`deciders`) gets a
letter with a signed link to the approval page, and until it is decided the request is
in their daily digest (:func:`waiting_decisions`, the digest's hook).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from engine.app import App
from engine.app.work import HistoryLine, history_lines
from engine.cases.gate import decide_administrative, gate, request_administrative
from engine.cases.help import Linked, link_plan, plan_from_template
from engine.cases.indicators import Candidate, detect
from engine.cases.progress import CheckResult
from engine.cases.results import ImportSummary, import_results
from engine.cases.risks import import_risks
from engine.cases.rules import KIND_LABELS
from engine.cases.views import BoardRow, CaseView, board, case_audit, case_view, find_case
from engine.core.clock import local_date
from engine.core.db import finish, session_scope
from engine.core.errors import Conflict, MeasuresError, NotFound
from engine.core.models import (
    AdministrativeMeasure,
    Measure,
    Person,
    Plan,
    School,
    SchoolCase,
    Task,
    pk,
)
from engine.core.words import initials
from engine.directory.people import find_person
from engine.lifecycle.fire import Fired
from engine.lifecycle.workflow import WorkflowDef
from engine.plans.events import event_dates
from notifications import DecisionLetter, DecisionLine

_T = TypeVar("_T")
#: A case by its school (key, name, alias: what people type) or by its id.
CaseRef = str | int


def _write(app: App, what: str, work: Callable[[Session], _T], *, dry_run: bool = False) -> _T:
    """Run ``work`` in one transaction and commit (a dry run rolls everything back); a
    concurrent change is a Conflict."""
    try:
        with session_scope(app.ready_engine()) as session:
            result = work(session)
            finish(session, dry_run=dry_run)
            return result
    except (StaleDataError, IntegrityError):
        raise Conflict(
            f"{what}: данные только что изменил другой пользователь; ничего не сделано. "
            "Обновите данные и повторите."
        ) from None


def find_case_ref(session: Session, app: App, ref: CaseRef, kind: str | None) -> SchoolCase:
    """A case by id, or a school's case by its name (engine.cases.views.find_case)."""
    if isinstance(ref, int):
        case = session.get(SchoolCase, ref)
        if case is None:
            raise NotFound("case", ref)
        return case
    return find_case(session, app.cases, ref, kind)


def _what(ref: CaseRef) -> str:
    return f"дело {ref}" if isinstance(ref, int) else f"дело школы {ref}"


# -- who may see a case ---------------------------------------------------------------


def case_roles(app: App, session: Session, person: Person, case: SchoolCase) -> set[str]:
    """The roles ``person`` holds on the case or on one of its administrative measures.

    By the workflows' own rules: the curator (``responsible``) and the case's supervisor
    with their deputies of the day, the directory roles (supervisor, head, admin), and
    whoever is to carry out or check one of the case's administrative measures.
    """
    held = set(app.cases.cases.roles_held(session, person, case))
    measures = session.exec(
        select(AdministrativeMeasure).where(AdministrativeMeasure.case_id == case.id)
    )
    for measure in measures:
        held |= set(app.admin_lifecycle.roles_held(session, person, measure))
    held.discard("system")
    return held


def may_see(app: App, session: Session, viewer: Person | None, case: SchoolCase) -> bool:
    """Whether the door's person (None: no person, e.g. the CLI) may see the case; the
    viewer is read anew in this session (the door's copy may be older)."""
    if viewer is None:
        return True
    person = session.get(Person, viewer.id)
    return person is not None and person.active and bool(case_roles(app, session, person, case))


def _seen(
    app: App, session: Session, ref: CaseRef, kind: str | None, viewer: Person | None
) -> SchoolCase:
    """The case, if the viewer may see it; NotFound otherwise."""
    case = find_case_ref(session, app, ref, kind)
    if not may_see(app, session, viewer, case):
        raise NotFound("case", case.id)
    return case


# -- data in --------------------------------------------------------------------------


@dataclass(frozen=True)
class DataIn:
    summary: ImportSummary
    check: CheckResult  # cases that moved because the data arrived


def results_import(
    app: App, path: Path, *, skip_bad_rows: bool = False, dry_run: bool = False
) -> DataIn:
    """Results in, in one transaction; then the cases waiting for them move.

    A dry run reads and checks everything, writes nothing and moves no case.
    """
    summary = _write(
        app,
        str(path),
        lambda s: import_results(s, path, app.clock.now(), skip_bad_rows=skip_bad_rows),
        dry_run=dry_run,
    )
    return DataIn(summary, CheckResult() if dry_run else check_cases(app))


def risks_import(
    app: App,
    path: Path,
    *,
    year: int | None = None,
    kind: str | None = None,
    source: str = "",
    skip_bad_rows: bool = False,
    dry_run: bool = False,
) -> DataIn:
    """A risk list in: flags, new cases (audited), in one transaction; then cases move.

    A dry run counts the cases the list would open and writes nothing.
    """
    summary = _write(
        app,
        str(path),
        lambda s: import_risks(
            s,
            path,
            app.case_rules,
            app.case_workflow,
            app.clock.now(),
            audit_key=app.audit_key,
            year=year,
            kind=kind,
            source=source,
            skip_bad_rows=skip_bad_rows,
        ),
        dry_run=dry_run,
    )
    return DataIn(summary, CheckResult() if dry_run else check_cases(app))


def check_cases(app: App, *, full: bool = True) -> CheckResult:
    """The periodic check (daemon job): cases whose period ended or whose data arrived;
    ``full=False``: only those a fact may hold for (see ``CaseEngine.due_case_ids``)."""
    return app.cases.check(app.ready_engine(), full=full)


# -- reading ----------------------------------------------------------------------------


def cases_board(
    app: App, *, open_only: bool = False, viewer: Person | None = None
) -> list[BoardRow]:
    """Every case (or the open ones); for a ``viewer``, only the cases they may see."""
    with app.reading() as session:
        rows = board(session, app.cases, all_cases=not open_only)
        if viewer is None:
            return rows
        seen = {
            pk(case)
            for case in session.exec(
                select(SchoolCase).where(col(SchoolCase.id).in_([r.case_id for r in rows]))
            )
            if may_see(app, session, viewer, case)
        }
        return [row for row in rows if row.case_id in seen]


def case_detail(
    app: App, school: CaseRef, kind: str | None = None, *, viewer: Person | None = None
) -> CaseView:
    """A school's case: history, help tasks, evaluations with numbers, the gate."""
    with app.reading() as session:
        case = _seen(app, session, school, kind, viewer)
        return case_view(session, app.cases, case)


Action = tuple[str, str, bool]  # (event, label, needs a comment)


@dataclass
class CasePage:
    """A case as one person sees it: the view and what they may do on it."""

    view: CaseView
    roles: set[str]
    events: list[Action]  # the case's own events this person may fire (plan_help aside)
    may_plan_help: bool
    may_request: bool  # may ask for an administrative measure (the gate still decides)
    may_override: bool  # an admin, and the gate is closed
    kinds: list[tuple[str, str]]  # administrative measure kinds: (key, label)
    decisions: dict[int, list[Action]]  # measure id → approve/reject this person may try
    help_plans: list[tuple[int, str, int]]  # plans with tasks for the school: (id, title, n)
    history: list[HistoryLine] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # person key → «Петрова А.С.»


#: Roles that may ask for an administrative measure (engine.cases.gate says the same).
_REQUESTERS = frozenset({"responsible", "supervisor", "head", "admin"})


def _actions(workflow: WorkflowDef, state: str, held: set[str]) -> list[Action]:
    """A person's events from ``state``: not automatic, and a role they hold may fire it."""
    return [
        (e.name, e.label, "comment" in e.requires)
        for e in (workflow.events[n] for n in workflow.allowed_from(state))
        if not e.when and held & set(e.roles)
    ]


def case_page(app: App, viewer: Person, case_id: int) -> CasePage:
    """What the case page shows ``viewer``; NotFound for a case they may not see."""
    with app.reading() as session:
        person = session.get(Person, viewer.id)
        if person is None:
            raise NotFound("case", case_id)
        case = find_case_ref(session, app, case_id, None)
        roles = case_roles(app, session, person, case)
        if not roles:
            raise NotFound("case", case_id)
        view = case_view(session, app.cases, case)
        workflow = app.case_workflow
        case_held = set(app.cases.cases.roles_held(session, person, case))
        events = _actions(workflow, case.state, case_held)
        decisions: dict[int, list[Action]] = {}
        measures = list(
            session.exec(
                select(AdministrativeMeasure).where(AdministrativeMeasure.case_id == case.id)
            )
        )
        admin = app.admin_workflow
        for measure in measures:
            held = set(app.admin_lifecycle.roles_held(session, person, measure))
            found = _actions(admin, measure.state, held)
            if found:
                decisions[pk(measure)] = found
        help_plans = [
            (pk(plan), plan.title, int(count))
            for plan, count in session.exec(
                select(Plan, func.count(col(Task.id)))
                .join(Measure, col(Measure.plan_id) == Plan.id)
                .join(Task, col(Task.measure_id) == Measure.id)
                .where(Task.school_id == case.school_id, col(Task.detached_at).is_(None))
                .group_by(col(Plan.id))
                .order_by(col(Plan.id).desc())
            )
        ]
        rows = case_audit(session, pk(case), [pk(m) for m in measures])
        may_request = bool(_REQUESTERS & case_held)
        keys = {view.curator, view.supervisor}
        keys |= {t["responsible"] for t in view.help_tasks}
        keys |= {m["requested_by"] for m in view.administrative}
        names = {
            p.key: initials(p.name)
            for p in session.exec(select(Person).where(col(Person.key).in_(keys - {None})))
        }
        return CasePage(
            view=view,
            roles=roles,
            events=[e for e in events if e[0] != "plan_help"],
            may_plan_help=any(e[0] == "plan_help" for e in events) and case.help_plan_id is None,
            may_request=may_request,
            may_override=may_request and "admin" in person.roles and not view.gate.open,
            kinds=[(k, v.label) for k, v in app.case_rules.admin_kinds.items()],
            decisions=decisions,
            help_plans=help_plans,
            history=history_lines(app, session, rows),
            names=names,
        )


# -- acting on a case ---------------------------------------------------------------------


def assign_help(
    app: App,
    school: CaseRef,
    actor: str,
    *,
    plan_id: int | None = None,
    template: bool = False,
    kind: str | None = None,
    curator: str | None = None,
    viewer: Person | None = None,
) -> Linked:
    """Link a help programme: an existing plan with tasks for the school, or the template."""
    if (plan_id is None) == (not template):
        raise MeasuresError("укажите одно из двух: --plan N (готовый план) или --template")

    def work(session: Session) -> Linked:
        engine = app.cases
        case = _seen(app, session, school, kind, viewer)
        person = find_person(session, actor)
        keeper = find_person(session, curator) if curator else None
        if plan_id is not None:
            plan = session.get(Plan, plan_id)
            if plan is None:
                raise NotFound("plan", plan_id)
        elif case.help_plan_id is not None:
            plan = session.get(Plan, case.help_plan_id)
            assert plan is not None
        else:
            plan = plan_from_template(
                session,
                engine,
                app.help_template,
                case,
                person,
                app.calendar,
                event_dates(session),
                app.config.settings.schedule.continuous_cadence,
                keeper,
            )
        return link_plan(session, engine, case, plan, person, keeper)

    return _write(app, _what(school), work)


def open_administrative(
    app: App,
    school: CaseRef,
    kind: str,
    actor: str,
    reason: str,
    *,
    override: bool = False,
    risk: str | None = None,
    responsible: str | None = None,
    supervisor: str | None = None,
    viewer: Person | None = None,
) -> AdministrativeMeasure:
    """Request an administrative measure through the gate (refused with the reasons).

    The people who may decide on it get a letter in the same transaction.
    """

    def work(session: Session) -> AdministrativeMeasure:
        case = _seen(app, session, school, risk, viewer)
        measure = request_administrative(
            session,
            app.cases,
            app.admin_lifecycle,
            case,
            kind,
            find_person(session, actor),
            reason,
            override=override,
            responsible=find_person(session, responsible) if responsible else None,
            supervisor=find_person(session, supervisor) if supervisor else None,
        )
        queue_decision_letters(app, session, measure)
        return measure

    return _write(app, _what(school), work)


def decide_administrative_measure(
    app: App,
    measure_id: int,
    event: str,
    actor: str,
    comment: str = "",
    *,
    case_id: int | None = None,
    viewer: Person | None = None,
) -> tuple[Fired, Task | None]:
    """Approve (four eyes; becomes a task) or reject a requested administrative measure.

    ``case_id``: the case the door showed the measure on; another case's measure is
    NotFound, like one the viewer may not see.
    """

    def work(session: Session) -> tuple[Fired, Task | None]:
        measure = session.get(AdministrativeMeasure, measure_id)
        if measure is None or (case_id is not None and measure.case_id != case_id):
            raise NotFound("administrative measure", measure_id)
        case = session.get(SchoolCase, measure.case_id)
        assert case is not None
        if not may_see(app, session, viewer, case):
            raise NotFound("administrative measure", measure_id)
        return decide_administrative(
            session,
            app.cases,
            app.admin_lifecycle,
            app.calendar,
            measure,
            event,
            find_person(session, actor),
            comment,
        )

    return _write(app, f"мера воздействия {measure_id}", work)


def fire_case(
    app: App,
    school: CaseRef,
    event: str,
    actor: str,
    comment: str = "",
    kind: str | None = None,
    *,
    viewer: Person | None = None,
) -> Fired:
    """A person's decision on a case (e.g. close), through the case lifecycle."""

    def work(session: Session) -> Fired:
        case = _seen(app, session, school, kind, viewer)
        return app.cases.cases.fire_in(session, case, event, find_person(session, actor), comment)

    return _write(app, _what(school), work)


def case_of(app: App, case_id: int) -> SchoolCase:
    with session_scope(app.ready_engine()) as session:
        case = session.get(SchoolCase, case_id)
        if case is None:
            raise NotFound("case", case_id)
        return case


def detect_signs(app: App, year: int) -> list[Candidate]:
    """Signs of non-objectivity in a year's results: suggestions with their numbers."""
    with session_scope(app.ready_engine()) as session:
        return detect(session, app.case_rules, year)


# -- decisions waiting for somebody ---------------------------------------------------------


def measure_path(measure: AdministrativeMeasure) -> str:
    """The approval page of a measure (the web door serves it)."""
    return f"/schools/{measure.case_id}/administrative/{pk(measure)}"


def deciders(app: App, session: Session, measure: AdministrativeMeasure) -> list[Person]:
    """Who may decide on the measure now, by the roles of the events that leave its state.

    The person the request names to check it (``supervisor``), if any and not the
    requester; otherwise every active holder of a directory role those events name
    (supervisor, head). Never the requester: four eyes.
    """
    workflow = app.admin_workflow
    roles = {
        role
        for name in workflow.allowed_from(measure.state)
        for role in workflow.events[name].roles
        if not workflow.events[name].when
    }
    named = [
        getattr(measure, column)
        for role, column in app.admin_lifecycle.subject.relations
        if role in roles and role != "responsible" and getattr(measure, column)
    ]

    def usable(people: list[Person]) -> list[Person]:
        return [p for p in people if p.active and p.id != measure.requested_by_id]

    found = usable(list(session.exec(select(Person).where(col(Person.id).in_(named)))))
    if found:
        return found
    everybody = session.exec(select(Person).where(Person.active).order_by(col(Person.key)))
    return usable([p for p in everybody if roles & set(p.roles)])


def _decision_line(
    app: App,
    session: Session,
    measure: AdministrativeMeasure,
    person: Person,
    now: datetime,
    today: date,
) -> DecisionLine:
    from engine.app.access import page_url

    case = session.get(SchoolCase, measure.case_id)
    assert case is not None
    school = session.get(School, case.school_id)
    assert school is not None
    requester = session.get(Person, measure.requested_by_id)
    kind = app.case_rules.admin_kinds.get(measure.kind)
    requested = local_date_of(app, measure.created_at)
    reasons: tuple[str, ...] = ()
    if measure.override:
        reasons = gate(session, app.cases, case).reasons
    return DecisionLine(
        measure_id=pk(measure),
        school=school.short_name or school.name,
        kind_label=kind.label if kind else measure.kind,
        risk_label=KIND_LABELS.get(case.kind, case.kind),
        requested_by=initials(requester.name) if requester else str(measure.requested_by_id),
        requested_on=requested,
        reason=measure.reason,
        url=page_url(app, measure_path(measure), person, now),
        override=measure.override,
        gate_reasons=reasons,
        working_days=app.calendar.working_days_between(requested, today),
    )


def local_date_of(app: App, moment: datetime) -> date:
    return moment.astimezone(app.config.timezone).date()


def queue_decision_letters(app: App, session: Session, measure: AdministrativeMeasure) -> int:
    """A letter to each person who may decide on a new request (the caller commits).

    It leaves with the next working hours, like every letter; the daily digest repeats
    the request until it is decided.
    """
    from engine.escalation.sweep import queue_message

    now = app.clock.now()
    today = local_date(app.clock, app.config.timezone)
    queued = 0
    for person in deciders(app, session, measure):
        if not person.email:
            continue
        line = _decision_line(app, session, measure, person, now, today)
        letter = DecisionLetter(
            recipient_name=person.name,
            recipient_email=person.email,
            committee_name=app.config.settings.committee.name,
            decision=line,
        )
        queue_message(
            session,
            app.escalator,
            dedupe=f"decision:admin:{pk(measure)}:{pk(person)}",
            template="decision_waiting",
            context={"letter": letter},
            person=person,
            now=now,
            not_before=app.hours.next_open(now),
        )
        queued += 1
    return queued


def waiting_decisions(
    app: App,
) -> Callable[[Session, date, datetime], dict[int, list[DecisionLine]]]:
    """The daily digest's hook: per person, the requests waiting for their decision.

    Reads the requests in states that wait for a decision (the state index), so it costs
    what is waiting, not what exists.
    """

    def waiting(session: Session, today: date, now: datetime) -> dict[int, list[DecisionLine]]:
        found: dict[int, list[DecisionLine]] = {}
        pending = session.exec(
            select(AdministrativeMeasure)
            .where(col(AdministrativeMeasure.state).in_(app.admin_workflow.awaiting))
            .order_by(col(AdministrativeMeasure.id))
        )
        for measure in pending:
            for person in deciders(app, session, measure):
                line = _decision_line(app, session, measure, person, now, today)
                found.setdefault(pk(person), []).append(line)
        return found

    return waiting
