"""The acceptance of the importer: the four real sample plans, end to end.

Reads each plan, reviews it against an empty directory and commits it: every numbered
measure present, and every deadline phrase understood — except those that name a
schedule kept in another document, which must say so as a problem.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from engine.app import App
from engine.core.db import session_scope
from engine.core.models import Measure
from engine.plans.importing import commit, review
from engine.plans.readers.by_suffix import read_document

PLANS = Path(__file__).resolve().parents[2] / "shared" / "plans"
COUNTS = {
    "000_94d9d3a56c1f6165.txt": 20,
    "001_12dfe688ec439644.txt": 18,
    "002_b43bee5ceab65d5a.txt": 22,
    "004_47eb12e1519b5f53.txt": 28,
}
#: Phrases that point at a schedule kept elsewhere: these may stay unscheduled.
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
