"""Small builders for directory, plan and task rows used across tests."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from engine.app import App
from engine.core.db import session_scope
from engine.core.models import Deputy, Measure, Person, Plan, Task
from tests.conftest import NOW

TODAY = date(2026, 11, 25)

#: Everybody who may try to act on a task, by the relation they have to it.
ACTORS: dict[str, dict[str, object]] = {
    "resp": {"name": "Иванова Мария Петровна"},
    "deputy_on": {"name": "Орлова Елена Николаевна"},  # deputises for resp today
    "deputy_off": {"name": "Смирнов Илья Олегович"},  # deputised for resp last month
    "sup": {"name": "Петрова Анна Сергеевна"},  # the task's supervisor, no directory role
    "sup_deputy": {"name": "Зайцева Ольга Павловна"},  # deputises for sup today
    "dirsup": {"name": "Лебедев Павел Андреевич", "roles": ["supervisor"]},
    "head": {"name": "Соколова Ирина Викторовна", "roles": ["head"]},
    "admin": {"name": "Админов Сергей Сергеевич", "roles": ["admin"]},
    "stranger": {"name": "Посторонний Пётр Петрович"},
}


def make_directory(session: Session) -> dict[str, Person]:
    people = {}
    for key, fields in ACTORS.items():
        person = Person(key=key, email=f"{key}@example.org", **fields)  # type: ignore[arg-type]
        session.add(person)
        people[key] = person
    session.flush()
    session.add(
        Deputy(
            person_id=people["resp"].id,
            deputy_id=people["deputy_on"].id,
            starts=TODAY - timedelta(days=3),
            ends=TODAY + timedelta(days=10),
        )
    )
    session.add(
        Deputy(
            person_id=people["resp"].id,
            deputy_id=people["deputy_off"].id,
            starts=TODAY - timedelta(days=40),
            ends=TODAY - timedelta(days=20),
        )
    )
    session.add(
        Deputy(
            person_id=people["sup"].id, deputy_id=people["sup_deputy"].id, starts=TODAY, ends=TODAY
        )
    )
    session.commit()
    return people


def make_tasks(
    session: Session,
    people: dict[str, Person],
    count: int = 1,
    state: str = "planned",
    responsible: str = "resp",
    supervisor: str = "sup",
) -> list[Task]:
    plan = Plan(
        title="План мероприятий",
        period_start=date(2026, 9, 1),
        period_end=date(2027, 8, 31),
        controller_id=people[supervisor].id,
        created_at=NOW,
    )
    session.add(plan)
    session.flush()
    tasks = []
    for number in range(1, count + 1):
        measure = Measure(
            plan_id=plan.id,
            position=number,
            number=str(number),
            title=f"Мероприятие {number}",
            deadline_phrase="",
        )
        session.add(measure)
        session.flush()
        task = Task(
            measure_id=measure.id,
            responsible_id=people[responsible].id,
            supervisor_id=people[supervisor].id,
            due_date=TODAY + timedelta(days=5),
            state=state,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(task)
        tasks.append(task)
    session.commit()
    return tasks


def setup(
    app: App, count: int = 1, state: str = "planned", **kw: str
) -> tuple[dict[str, Person], list[Task]]:
    with session_scope(app.engine) as session:
        people = make_directory(session)
        tasks = make_tasks(session, people, count, state, **kw)
    return people, tasks


def retitle(app: App, task_id: int | None, title: str) -> int:
    """Give the task's measure another title (what a plan's author wrote); its plan id."""
    with session_scope(app.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        measure = session.get(Measure, task.measure_id)
        assert measure is not None
        measure.title = title
        session.add(measure)
        session.commit()
        return measure.plan_id
