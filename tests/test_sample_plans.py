"""The acceptance of the importer: the four real sample plans, end to end.

Reads each plan, reviews it against an empty directory and commits it: every numbered
measure present, and every deadline phrase understood — except those that name a
schedule kept in another document, which must say so as a problem.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from engine.app import App
from engine.core.db import session_scope
from engine.core.models import Measure, Person, Task, pk
from engine.directory.people import import_people
from engine.directory.schools import import_schools
from engine.plans.events import event_dates, import_events
from engine.plans.importing import commit, review
from engine.plans.readers.by_suffix import read_document
from tests.conftest import EXAMPLES

PLANS = Path(__file__).resolve().parents[2] / "shared" / "plans"
COUNTS = {
    "000_94d9d3a56c1f6165.txt": 20,
    "001_12dfe688ec439644.txt": 18,
    "002_b43bee5ceab65d5a.txt": 22,
    "004_47eb12e1519b5f53.txt": 28,
}
#: Phrases that point at a schedule kept elsewhere: these may stay unscheduled.
TODAY = date(2026, 11, 25)
ELSEWHERE = re.compile(r"по плану мимс|по плану имц|согласно плану\s*-\s*графику", re.I)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_sample_plan_imports_completely(app: App, name: str) -> None:
    path = PLANS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: ../shared/plans is not shipped with the repository")
    document = read_document(path)
    with session_scope(app.engine) as session:
        result = review(
            session, document, path.read_bytes(), app.calendar, [], "quarterly", date(2026, 11, 25)
        )
        assert len(result.measures) == COUNTS[name]
        for measure in result.measures:
            assert measure.row.title and measure.row.deadline and measure.row.responsible
            kind = measure.schedule["kind"]
            if ELSEWHERE.search(measure.row.deadline):
                assert kind in ("unscheduled", "event"), measure.row.deadline
                assert measure.schedule["problems"], measure.row.deadline
            else:
                assert kind != "unscheduled", (measure.row.deadline, measure.schedule)
        outcome = commit(session, result, "planned", app.clock.now())
        stored = session.exec(select(Measure).where(Measure.plan_id == outcome.plan.id)).all()
        assert len(stored) == COUNTS[name]
        assert {m.key for m in stored} == {m.key for m in result.measures}
        again = review(
            session, document, path.read_bytes(), app.calendar, [], "quarterly", date(2026, 11, 25)
        )
        assert again.unchanged


# ------------------------------------------------------------------ issue 7: re-dating


def _documents() -> list[tuple[str, Path]]:
    """The samples that are here, and our own plans in other committees' styles."""
    found = [(name, PLANS / name) for name in sorted(COUNTS) if (PLANS / name).is_file()]
    fixtures = Path(__file__).resolve().parent / "fixtures"
    found += [(p.name, p) for p in sorted(fixtures.glob("order_*.txt"))]
    return [*found, ("plan.txt", EXAMPLES / "plan.txt")]


DOCUMENTS = _documents()
#: A month phrase for a given school year start; the new date of the moved measure.
MONTHS = ["Октябрь {0}", "Декабрь {0}", "Февраль {1}", "Апрель {1}", "Июнь {1}"]


def _task_rows(session: Session, plan_id: int) -> dict[int, tuple[object, ...]]:
    rows = session.exec(
        select(Task, Measure).join(Measure, col(Measure.id) == Task.measure_id)
    ).all()
    return {
        pk(task): (task.measure_id, task.school_id, task.start_date, task.due_date, task.state)
        for task, measure in rows
        if measure.plan_id == plan_id
    }


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_moving_one_measures_date_changes_exactly_its_tasks(app: App, data: st.DataObject) -> None:
    name, path = data.draw(st.sampled_from(DOCUMENTS), label="document")
    document = read_document(path)
    raw = path.read_bytes()
    with session_scope(app.engine) as session:
        if not session.exec(select(Person)).first():
            import_people(session, EXAMPLES / "people.csv")
            import_schools(session, EXAMPLES / "schools.csv")
            import_events(session, EXAMPLES / "events.csv")
            session.commit()
        events = event_dates(session)
        base = review(session, document, raw, app.calendar, events, "quarterly", TODAY)
        plan = commit(session, base, "planned", app.clock.now()).plan
        before = _task_rows(session, pk(plan))
        index = data.draw(st.integers(0, len(document.rows) - 1), label="measure")
        start = base.period[0].year
        phrase = data.draw(st.sampled_from(MONTHS), label="new date").format(start, start + 1)
        rows = list(document.rows)
        rows[index] = replace(rows[index], deadline=phrase)
        edited = replace(document, rows=rows)
        moved = review(session, edited, raw + b"#moved", app.calendar, events, "quarterly", TODAY)
        assume(moved.measures[index].schedule != base.measures[index].schedule)
        commit(session, moved, "planned", app.clock.now())
        after = _task_rows(session, pk(plan))
        measure_ids = {m.id: m.key for m in session.exec(select(Measure)) if m.plan_id == plan.id}
        target = next(i for i, key in measure_ids.items() if key == base.measures[index].key)
        # every other measure's tasks are the same rows with the same dates and states
        assert {t: r for t, r in before.items() if r[0] != target} == {
            t: r for t, r in after.items() if r[0] != target
        }, name
        # and the moved measure's tasks now carry the new date (one month, its last day)
        dues = {r[3] for r in after.values() if r[0] == target}
        (new,) = moved.measures[index].schedule["occurrences"]
        assert dues <= {date.fromisoformat(new["due"])}
        # the document as it was puts every task back where it was
        restored = review(session, document, raw, app.calendar, events, "quarterly", TODAY)
        commit(session, restored, "planned", app.clock.now())
        again = _task_rows(session, pk(plan))
        assert {t: r for t, r in again.items() if r[0] != target} == {
            t: r for t, r in before.items() if r[0] != target
        }
