"""The case fixtures: a directory of six schools, two rounds of results and lists.

Files in tests/fixtures/cases/ were written by hand in the regional systems' formats;
the expected numbers in the tests are computed by hand from them (see each test).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from engine.app import App
from engine.app.cases import results_import, risks_import
from engine.app.directory import people, schools
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import AuditEvent, SchoolCase, Task
from tests.conftest import ROOT

CASES = ROOT / "tests" / "fixtures" / "cases"


def fixture(name: str) -> Path:
    return CASES / name


def load_directory(app: App) -> None:
    people(app, fixture("people.csv"))
    schools(app, fixture("schools.csv"))


def load_round(app: App, year: int) -> None:
    results_import(app, fixture(f"results_{year}.csv"))
    risks_import(app, fixture(f"risks_{year}.csv"))


def set_clock(app: App, moment: datetime) -> None:
    clock = app.clock
    assert isinstance(clock, FixedClock)
    clock.set(moment.astimezone(UTC))


def case_of(app: App, school: str, kind: str = "non_objective") -> SchoolCase:
    from engine.core.models import School

    with session_scope(app.engine) as session:
        found = session.exec(
            select(SchoolCase)
            .join(School, School.id == SchoolCase.school_id)  # type: ignore[arg-type]
            .where(School.key == school, SchoolCase.kind == kind)
            .order_by(SchoolCase.year.desc())  # type: ignore[attr-defined]
        ).first()
        assert found is not None, school
        return found


def help_tasks(app: App, case: SchoolCase) -> list[Task]:
    with session_scope(app.engine) as session:
        return app.cases.help_tasks(session, case)


def drive(app: App, task: Task, *, to: str = "verified") -> None:
    """A help task through start → report (responsible) → verify (a supervisor)."""
    assert task.id is not None
    with session_scope(app.engine) as session:
        from engine.core.models import Person

        responsible = session.get(Person, task.responsible_id)
        assert responsible is not None
    app.lifecycle.fire(app.engine, task.id, "start", responsible.key)
    if to == "in_progress":
        return
    app.lifecycle.fire(app.engine, task.id, "report", responsible.key, comment="Сделано")
    if to == "reported":
        return
    verifier = "lebedev" if responsible.key != "lebedev" else "petrova"
    app.lifecycle.fire(app.engine, task.id, "verify", verifier)


def case_audit(app: App, case_id: int) -> list[tuple[str, str, str, str]]:
    """(event, from, to, actor key) of a case's own audit rows, oldest first."""
    from engine.core.models import Person

    with session_scope(app.engine) as session:
        rows = session.exec(
            select(AuditEvent, Person)
            .join(Person, Person.id == AuditEvent.actor_id)  # type: ignore[arg-type]
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq)  # type: ignore[arg-type]
        ).all()
        return [(r.event, r.from_state, r.to_state, p.key) for r, p in rows]
