"""A plan whose history the report tests know by heart, built through the real lifecycle.

Dates are chosen around the production calendar of November 2026 (4 November, Wednesday,
is a public holiday; no transferred days that month), and every event is fired at 10:00
Moscow time on its day by :meth:`Lifecycle.fire` with the clock moved there. The
expected figures in the tests are counted by hand from this table:

====  ===================  ==========  =========================================================
 №    task(s)              due         history
====  ===================  ==========  =========================================================
 1    ivanova              30.10.2026  start 05.10, report 28.10, verify 02.11 (in time)
 2    ivanova              10.11.2026  start 20.10, report 13.11, verify 16.11 (late)
 3    ivanova, 2 occur.    02.11.2026  occ. 1: start 15.10, nothing since; ladder steps: reminder
                           01.02.2027  28.10, escalate_supervisor 06.11, escalate_head 17.11
 4    ivanova              06.11.2026  start 26.10, report 03.11, verify 05.11, reopen 18.11
 5    3 schools (heads)    20.11.2026  СШ № 1: start 09.11, report 19.11, verify 23.11;
                                       СШ № 2: nothing (a skipped step 24.11);
                                       Гимназия № 3: start 16.11, report 24.11 (waits)
 6    ivanova              15.12.2026  cancelled 12.11
 7    ivanova              09.11.2026  start 01.10; detached from the document 15.11
 8    ivanova              01.12.2026  created 12.11 (a re-import added it); title names
                                       Иванова М.П. and her email (the public summary hides them)
====  ===================  ==========  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from engine.app import App
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import EscalationStep, Measure, Person, Plan, School, Section, Task, pk
from tests.conftest import NOW

MSK = ZoneInfo("Europe/Moscow")
PEOPLE = {
    "ivanova": ("Иванова Мария Петровна", []),
    "petrova": ("Петрова Анна Сергеевна", ["supervisor"]),
    "sokolova": ("Соколова Ирина Викторовна", ["head", "admin"]),
    "kuznetsov": ("Кузнецов Олег Игоревич", []),
    "belova": ("Белова Анна Ивановна", []),
    "zaitsev": ("Зайцев Игорь Павлович", []),
}
SCHOOLS = {
    "sosh1": ("МБОУ «СШ № 1»", "kuznetsov"),
    "sosh2": ("МБОУ «СШ № 2»", "belova"),
    "gym3": ("МАОУ «Гимназия № 3»", "zaitsev"),
}
PLAN_TITLE = "План мероприятий по обеспечению объективности оценочных процедур"
SECTION_1 = "1. Муниципальный уровень"
SECTION_2 = "2. Уровень общеобразовательной организации"
TITLES = {
    "1": "Выявление «зон риска» по итогам ВПР",
    "2": "Формирование адресных программ помощи школам",
    "3": "Контроль за исполнением планов ОО",
    "4": "Перепроверка работ ВПР",
    "5": "Оказание адресной помощи педагогам",
    "6": "Семинар для заместителей директоров",
    "7": "Определение персональной ответственности",
    "8": "Размещение информации на сайте (ответственный — Иванова М.П., ivanova@example.org)",
}


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock Moscow time on ``day``, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=MSK).astimezone(UTC)


@dataclass
class Scenario:
    plan_id: int
    people: dict[str, int]
    schools: dict[str, int]
    tasks: dict[str, int]  # "1", "3.1", "3.2", "5.sosh1", ...


def _directory(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    people = {}
    for key, (name, roles) in PEOPLE.items():
        person = Person(key=key, name=name, email=f"{key}@example.org", roles=roles)
        session.add(person)
        session.flush()
        people[key] = pk(person)
    schools = {}
    for key, (short, head) in SCHOOLS.items():
        school = School(key=key, name=f"{short} (полное)", short_name=short, head_id=people[head])
        session.add(school)
        session.flush()
        schools[key] = pk(school)
    return people, schools


def build(app: App) -> Scenario:
    clock = app.clock
    assert isinstance(clock, FixedClock)
    created = at(date(2026, 9, 1))
    with session_scope(app.engine) as session:
        people, schools = _directory(session)
        plan = Plan(
            title=PLAN_TITLE,
            issuer="Комитет по образованию",
            order_number="212",
            order_date=date(2026, 8, 28),
            period_start=date(2026, 9, 1),
            period_end=date(2027, 8, 31),
            controller_id=people["petrova"],
            created_at=created,
        )
        session.add(plan)
        session.flush()
        sections = {}
        for position, title in enumerate((SECTION_1, SECTION_2), start=1):
            section = Section(plan_id=pk(plan), position=position, title=title)
            session.add(section)
            session.flush()
            sections[position] = pk(section)
        measures: dict[str, int] = {}
        for position, number in enumerate("12345678", start=1):
            measure = Measure(
                plan_id=pk(plan),
                section_id=sections[1 if number in "1234" else 2],
                position=position,
                number=number,
                title=TITLES[number],
                deadline_phrase="Ежеквартально" if number == "3" else "До срока",
                responsible_text="Руководители ОО" if number == "5" else "МКУ «РМК»",
                supervisor_id=people["petrova"],
            )
            session.add(measure)
            session.flush()
            measures[number] = pk(measure)

        def task(
            number: str,
            due: date,
            who: str = "ivanova",
            *,
            occurrence: int = 1,
            school: str | None = None,
            since: datetime = created,
        ) -> int:
            row = Task(
                measure_id=measures[number],
                occurrence=occurrence,
                school_id=schools[school] if school else None,
                responsible_id=people[who],
                supervisor_id=people["petrova"],
                due_date=due,
                state="planned",
                state_since=since,
                created_at=since,
                updated_at=since,
            )
            session.add(row)
            session.flush()
            return pk(row)

        tasks = {
            "1": task("1", date(2026, 10, 30)),
            "2": task("2", date(2026, 11, 10)),
            "3.1": task("3", date(2026, 11, 2)),
            "3.2": task("3", date(2027, 2, 1), occurrence=2),
            "4": task("4", date(2026, 11, 6)),
            "5.sosh1": task("5", date(2026, 11, 20), "kuznetsov", school="sosh1"),
            "5.sosh2": task("5", date(2026, 11, 20), "belova", school="sosh2"),
            "5.gym3": task("5", date(2026, 11, 20), "zaitsev", school="gym3"),
            "6": task("6", date(2026, 12, 15)),
            "7": task("7", date(2026, 11, 9)),
            "8": task("8", date(2026, 12, 1), since=at(date(2026, 11, 12))),
        }
        for key, step, day, skipped in (
            ("3.1", "reminder", date(2026, 10, 28), False),
            ("3.1", "escalate_supervisor", date(2026, 11, 6), False),
            ("3.1", "escalate_head", date(2026, 11, 17), False),
            ("5.sosh2", "escalate_head", date(2026, 11, 24), True),  # skipped: never sent
        ):
            session.add(
                EscalationStep(
                    task_id=tasks[key],
                    step=step,
                    key=f"{step}@x#1",
                    fire_at=at(day),
                    taken_at=at(day),
                    skipped=skipped,
                )
            )
        session.commit()

    history = [
        ("1", "start", "ivanova", date(2026, 10, 5), ""),
        ("1", "report", "ivanova", date(2026, 10, 28), "Перечень ОО составлен"),
        ("1", "verify", "petrova", date(2026, 11, 2), ""),
        ("2", "start", "ivanova", date(2026, 10, 20), ""),
        ("2", "report", "ivanova", date(2026, 11, 13), "Программы утверждены"),
        ("2", "verify", "petrova", date(2026, 11, 16), ""),
        ("3.1", "start", "ivanova", date(2026, 10, 15), ""),
        ("4", "start", "ivanova", date(2026, 10, 26), ""),
        ("4", "report", "ivanova", date(2026, 11, 3), "Акт перепроверки"),
        ("4", "verify", "petrova", date(2026, 11, 5), ""),
        ("4", "reopen", "sokolova", date(2026, 11, 18), "Акт неполный"),
        ("5.sosh1", "start", "kuznetsov", date(2026, 11, 9), ""),
        ("5.sosh1", "report", "kuznetsov", date(2026, 11, 19), "Помощь оказана"),
        ("5.sosh1", "verify", "petrova", date(2026, 11, 23), ""),
        ("5.gym3", "start", "zaitsev", date(2026, 11, 16), ""),
        ("5.gym3", "report", "zaitsev", date(2026, 11, 24), "Проведены консультации"),
        ("6", "cancel", "petrova", date(2026, 11, 12), "Перенесено в план следующего года"),
        ("7", "start", "ivanova", date(2026, 10, 1), ""),
    ]
    for key, event, actor, day, comment in sorted(history, key=lambda h: h[3]):
        clock.set(at(day))
        app.lifecycle.fire(app.engine, tasks[key], event, actor, comment=comment)
    with session_scope(app.engine) as session:
        detached = session.get_one(Task, tasks["7"])
        detached.detached_at = at(date(2026, 11, 15))
        session.add(detached)
        session.commit()
    clock.set(NOW)
    return Scenario(pk(plan), people, schools, tasks)
