"""Use cases around schools at risk: data in, the board, a case, help, the gate.

The one layer the CLI, the daemon and the web call; each function opens its own
transaction and returns plain data. The gate itself lives in engine.cases.gate, so a
refusal is the same whichever door asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from engine.app import App
from engine.cases.gate import decide_administrative, request_administrative
from engine.cases.help import Linked, link_plan, plan_from_template
from engine.cases.indicators import Candidate, detect
from engine.cases.progress import CheckResult
from engine.cases.results import ImportSummary, import_results
from engine.cases.risks import import_risks
from engine.cases.views import BoardRow, CaseView, board, case_view, find_case
from engine.core.db import session_scope
from engine.core.errors import Conflict, MeasuresError, NotFound
from engine.core.models import AdministrativeMeasure, Plan, SchoolCase, Task
from engine.directory.people import find_person
from engine.lifecycle.fire import Fired
from engine.plans.events import event_dates

_T = TypeVar("_T")


def _write(app: App, what: str, work: Callable[[Session], _T]) -> _T:
    """Run ``work`` in one transaction and commit; a concurrent change is a Conflict."""
    try:
        with session_scope(app.ready_engine()) as session:
            result = work(session)
            session.commit()
            return result
    except (StaleDataError, IntegrityError):
        raise Conflict(
            f"{what}: данные только что изменил другой пользователь; ничего не сделано. "
            "Обновите данные и повторите."
        ) from None


@dataclass(frozen=True)
class DataIn:
    summary: ImportSummary
    check: CheckResult  # cases that moved because the data arrived


def results_import(app: App, path: Path, *, skip_bad_rows: bool = False) -> DataIn:
    """Results in, in one transaction; then the cases waiting for them move."""
    summary = _write(
        app,
        str(path),
        lambda s: import_results(s, path, app.clock.now(), skip_bad_rows=skip_bad_rows),
    )
    return DataIn(summary, check_cases(app))


def risks_import(
    app: App,
    path: Path,
    *,
    year: int | None = None,
    kind: str | None = None,
    source: str = "",
    skip_bad_rows: bool = False,
) -> DataIn:
    """A risk list in: flags, new cases (audited), in one transaction; then cases move."""
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
    )
    return DataIn(summary, check_cases(app))


def check_cases(app: App, *, full: bool = True) -> CheckResult:
    """The periodic check (daemon job): cases whose period ended or whose data arrived;
    ``full=False``: only those a fact may hold for (see ``CaseEngine.due_case_ids``)."""
    return app.cases.check(app.ready_engine(), full=full)


def cases_board(app: App, *, open_only: bool = False) -> list[BoardRow]:
    with session_scope(app.ready_engine()) as session:
        return board(session, app.cases, all_cases=not open_only)


def case_detail(app: App, school: str, kind: str | None = None) -> CaseView:
    """A school's case: history, help tasks, evaluations with numbers, the gate."""
    with session_scope(app.ready_engine()) as session:
        return case_view(session, app.cases, find_case(session, app.cases, school, kind))


def assign_help(
    app: App,
    school: str,
    actor: str,
    *,
    plan_id: int | None = None,
    template: bool = False,
    kind: str | None = None,
    curator: str | None = None,
) -> Linked:
    """Link a help programme: an existing plan with tasks for the school, or the template."""
    if (plan_id is None) == (not template):
        raise MeasuresError("укажите одно из двух: --plan N (готовый план) или --template")

    def work(session: Session) -> Linked:
        engine = app.cases
        case = find_case(session, engine, school, kind)
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

    return _write(app, f"дело школы {school}", work)


def open_administrative(
    app: App,
    school: str,
    kind: str,
    actor: str,
    reason: str,
    *,
    override: bool = False,
    risk: str | None = None,
    responsible: str | None = None,
    supervisor: str | None = None,
) -> AdministrativeMeasure:
    """Request an administrative measure through the gate (refused with the reasons)."""

    def work(session: Session) -> AdministrativeMeasure:
        case = find_case(session, app.cases, school, risk)
        return request_administrative(
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

    return _write(app, f"дело школы {school}", work)


def decide_administrative_measure(
    app: App, measure_id: int, event: str, actor: str, comment: str = ""
) -> tuple[Fired, Task | None]:
    """Approve (four eyes; becomes a task) or reject a requested administrative measure."""

    def work(session: Session) -> tuple[Fired, Task | None]:
        measure = session.get(AdministrativeMeasure, measure_id)
        if measure is None:
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
    app: App, school: str, event: str, actor: str, comment: str = "", kind: str | None = None
) -> Fired:
    """A person's decision on a case (e.g. close), through the case lifecycle."""

    def work(session: Session) -> Fired:
        case = find_case(session, app.cases, school, kind)
        return app.cases.cases.fire_in(session, case, event, find_person(session, actor), comment)

    return _write(app, f"дело школы {school}", work)


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
