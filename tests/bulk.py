"""A database with many open tasks, for the kill test and the benchmarks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert

from engine.core.db import session_scope, upgrade
from engine.core.flags import SIMULATION, set_flag
from engine.core.models import Measure, Plan, Task, pk
from engine.directory.people import import_people
from tests.conftest import EXAMPLES

CREATED = datetime(2026, 8, 31, 6, 0, tzinfo=UTC)


def fill(engine: Engine, tasks: int, first_due: date, days: int) -> None:
    """``tasks`` planned tasks of one plan, due dates spread over ``days`` days."""
    upgrade(engine)
    with session_scope(engine) as session:
        import_people(session, EXAMPLES / "people.csv")
        from engine.directory.people import find_person

        responsible = pk(find_person(session, "ivanova"))
        supervisor = pk(find_person(session, "petrova"))
        plan = Plan(
            title="Нагрузочный план",
            period_start=date(2026, 9, 1),
            period_end=date(2027, 8, 31),
            controller_id=supervisor,
            created_at=CREATED,
        )
        session.add(plan)
        session.flush()
        measure = Measure(
            plan_id=pk(plan), position=1, number="1", title="Мероприятие", schedule={"kind": "once"}
        )
        session.add(measure)
        session.flush()
        rows = [
            {
                "measure_id": pk(measure),
                "occurrence": n + 1,
                "responsible_id": responsible,
                "supervisor_id": supervisor,
                "due_date": first_due + timedelta(days=n % days),
                "state": "planned",
                "version": 1,
                "report": "",
                "created_at": CREATED,
                "updated_at": CREATED,
                "state_since": CREATED,
            }
            for n in range(tasks)
        ]
        session.execute(insert(Task), rows)
        set_flag(session, SIMULATION, "tests.bulk", CREATED)  # the kill test runs at --now
        session.commit()
