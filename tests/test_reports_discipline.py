"""The executive discipline report, figure by figure, for the scenario's November."""

from __future__ import annotations

from datetime import date

import pytest

from engine.app import App
from engine.app.reports import discipline_report
from engine.core.errors import MeasuresError
from tests.report_files import by_first, docx_tables, figures, sheet_rows, workbook
from tests.report_scenario import TITLES, Scenario, build

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
    "Переносов срока запрошено": "нет данных",
    "Переносов срока предоставлено": "нет данных",
}
# due, in time, late, not executed, of them overdue, cancelled, average delay, moves ×2
PEOPLE = {
    "Иванова Мария Петровна": ["3", "0", "1", "2", "2", "0", "10,7", "нет данных", "нет данных"],
    "Кузнецов Олег Игоревич": ["1", "1", "0", "0", "0", "0", "—", "нет данных", "нет данных"],
    "Белова Анна Ивановна": ["1", "0", "0", "1", "1", "0", "3,0", "нет данных", "нет данных"],
    "Зайцев Игорь Павлович": ["1", "0", "0", "1", "0", "0", "—", "нет данных", "нет данных"],
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


def test_discipline_shows_no_data_for_deadline_moves(app: App, scenario: Scenario) -> None:
    # The hook of engine.reports.moves: until requests are recorded (issue 10), the
    # columns say so instead of showing zeros that would read as "no moves".
    book = workbook(discipline_report(app, *NOVEMBER, "xlsx").content)
    rows = sheet_rows(book, "По исполнителям")
    assert {row[-2] for row in rows[1:]} == {"нет данных"}
    assert {row[-1] for row in rows[1:]} == {"нет данных"}


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
