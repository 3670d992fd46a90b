"""The executive discipline report, figure by figure, for the scenario's November."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from engine.app import App
from engine.app.reports import discipline_report
from engine.core.db import session_scope
from engine.core.errors import MeasuresError
from engine.core.models import DeadlineRequest, Task
from tests.report_files import by_first, docx_tables, figures, sheet_rows, workbook
from tests.report_scenario import TITLES, Scenario, at, build

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def scenario(app: App) -> Scenario:
    return build(app)


# Tasks due 01.11–30.11 and present today: 2 (10.11), 3.1 (02.11), 4 (06.11), 5 ×3 (20.11).
# Not 1 (30.10), 6 (15.12), 8 (01.12); not 7 (detached). Delays as in the plan report:
# 2 late by 3; 3.1 overdue 16; 4 overdue 13; 5/СШ № 2 overdue 3 → average 8.75.
FIGURES = {
    "Задач со сроком в периоде": "6",
    "Исполнено в срок": "1",  # 5/СШ № 1
    "Исполнено с опозданием": "1",  # 2
    "Не исполнено на дату отчёта": "4",  # 3.1, 4, 5/СШ № 2, 5/Гимназия № 3
    "из них просрочено": "3",
    "из них ожидает проверки": "1",
    "Отменено": "0",
    "Средняя задержка, рабочих дней": "8,8",
    "Наибольшая задержка, рабочих дней": "16",
    "Задача с наибольшей задержкой": f"мероприятие 3 «{TITLES['3']}», срок 02.11.2026",
    "Переносов срока запрошено": "0",
    "Переносов срока предоставлено": "0",
}
# due, in time, late, not executed, of them overdue, cancelled, average delay, moves ×2
PEOPLE = {
    "Иванова Мария Петровна": ["3", "0", "1", "2", "2", "0", "10,7", "0", "0"],
    "Кузнецов Олег Игоревич": ["1", "1", "0", "0", "0", "0", "—", "0", "0"],
    "Белова Анна Ивановна": ["1", "0", "0", "1", "1", "0", "3,0", "0", "0"],
    "Зайцев Игорь Павлович": ["1", "0", "0", "1", "0", "0", "—", "0", "0"],
}


def test_discipline_docx_every_figure(app: App, scenario: Scenario) -> None:
    tables = docx_tables(discipline_report(app, *NOVEMBER, "docx").content)
    assert figures(tables["Сводные показатели"]) == FIGURES
    people = tables["По исполнителям"]
    assert people[0] == [
        "Исполнитель", "Задач со сроком в периоде", "Исполнено в срок",
        "Исполнено с опозданием", "Не исполнено", "из них просрочено", "Отменено",
        "Средняя задержка, раб. дн.", "Переносов срока запрошено",
        "Переносов срока предоставлено",
    ]  # fmt: skip
    assert by_first(people) == PEOPLE
    assert by_first(tables["По школам"]) == {
        "МБОУ «СШ № 1»": PEOPLE["Кузнецов Олег Игоревич"],
        "МБОУ «СШ № 2»": PEOPLE["Белова Анна Ивановна"],
        "МАОУ «Гимназия № 3»": PEOPLE["Зайцев Игорь Павлович"],
    }


def _request(
    session: Session, task_id: int, made: date, status: str = "pending", decided: date | None = None
) -> None:
    task = session.get_one(Task, task_id)
    session.add(
        DeadlineRequest(
            task_id=task_id,
            requested_by=task.responsible_id,
            old_due=task.due_date,
            new_due=date(2026, 12, 18),
            reason="Нужен дополнительный анализ",
            created_at=at(made),
            status=status,
            decided_by=task.supervisor_id if decided else None,
            decided_at=at(decided) if decided else None,
        )
    )


def test_discipline_counts_deadline_moves_as_of_their_days(app: App, scenario: Scenario) -> None:
    # Requests: 3.1 (Иванова) made 05.11, granted 12.11; 2 (Иванова) made 09.11, refused
    # 10.11; 5/СШ № 2 (Белова) made 18.11, pending; 6 (Иванова, due in December, outside
    # the window) made and granted on 02.11 — never counted here.
    tasks = scenario.tasks
    with session_scope(app.engine) as session:
        _request(session, tasks["3.1"], date(2026, 11, 5), "granted", date(2026, 11, 12))
        _request(session, tasks["2"], date(2026, 11, 9), "refused", date(2026, 11, 10))
        _request(session, tasks["5.sosh2"], date(2026, 11, 18))
        _request(session, tasks["6"], date(2026, 11, 2), "granted", date(2026, 11, 2))
        session.commit()
    book = workbook(discipline_report(app, *NOVEMBER, "xlsx").content)
    people = {row[0]: row[-2:] for row in sheet_rows(book, "По исполнителям")[1:]}
    assert people == {
        "Иванова Мария Петровна": [2, 1],
        "Кузнецов Олег Игоревич": [0, 0],
        "Белова Анна Ивановна": [1, 0],
        "Зайцев Игорь Павлович": [0, 0],
    }
    schools = {row[0]: row[-2:] for row in sheet_rows(book, "По школам")[1:]}
    assert schools == {
        "МБОУ «СШ № 1»": [0, 0],
        "МБОУ «СШ № 2»": [1, 0],
        "МАОУ «Гимназия № 3»": [0, 0],
    }
    found = figures(
        docx_tables(discipline_report(app, *NOVEMBER, "docx").content)["Сводные показатели"]
    )
    assert (found["Переносов срока запрошено"], found["Переносов срока предоставлено"]) == (
        "3",
        "1",
    )
    # On 10.11 both of Иванова's requests were made, neither granted yet; Белова's not made.
    past = discipline_report(app, *NOVEMBER, "docx", as_of=date(2026, 11, 10)).content
    found = figures(docx_tables(past)["Сводные показатели"])
    assert (found["Переносов срока запрошено"], found["Переносов срока предоставлено"]) == (
        "2",
        "0",
    )


def test_discipline_xlsx_every_figure(app: App, scenario: Scenario) -> None:
    book = workbook(discipline_report(app, *NOVEMBER, "xlsx").content)
    assert book.sheetnames == ["Сводка", "По исполнителям", "По школам", "Задачи"]
    people = {row[0]: row[1:-2] for row in sheet_rows(book, "По исполнителям")[1:]}
    assert people == {
        "Иванова Мария Петровна": [3, 0, 1, 2, 2, 0, pytest.approx(32 / 3)],
        "Кузнецов Олег Игоревич": [1, 1, 0, 0, 0, 0, None],
        "Белова Анна Ивановна": [1, 0, 0, 1, 1, 0, 3.0],
        "Зайцев Игорь Павлович": [1, 0, 0, 1, 0, 0, None],
    }
    tasks = sheet_rows(book, "Задачи")
    assert tasks[0][:2] == ["План", "№"]
    assert sorted(row[1] for row in tasks[1:]) == ["2", "3", "4", "5", "5", "5"]


def test_discipline_as_of_and_a_plan_filter(app: App, scenario: Scenario) -> None:
    # As of 10.11: of the tasks due in November, 2 (due that day) and 5 ×3 were not due
    # yet, 3.1 was overdue by 5, 4 executed in time; 7 (due 09.11, overdue by 1) was
    # still in the plan.
    content = discipline_report(
        app, *NOVEMBER, "docx", as_of=date(2026, 11, 10), plan_id=scenario.plan_id
    ).content
    found = figures(docx_tables(content)["Сводные показатели"])
    assert found["Задач со сроком в периоде"] == "7"  # 2, 3.1, 4, 5 ×3, 7
    assert found["Исполнено в срок"] == "1"  # 4
    assert found["Не исполнено на дату отчёта"] == "6"
    assert found["из них просрочено"] == "2"  # 3.1, 7
    assert found["Средняя задержка, рабочих дней"] == "3,0"
    with pytest.raises(MeasuresError, match="раньше, чем начинается"):
        discipline_report(app, date(2026, 12, 1), date(2026, 11, 1), "docx")
