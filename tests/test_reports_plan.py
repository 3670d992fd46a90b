"""The plan execution report, checked figure by figure against the scenario's history.

Working days are those of the Russian production calendar for 2026: in November only
4 November (Wednesday) is a holiday, and there are no transferred days around it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.app import App
from engine.app.reports import plan_report
from engine.core.errors import MeasuresError, NotFound
from tests.report_files import (
    by_first,
    docx_tables,
    docx_text,
    figures,
    shaded,
    sheet_rows,
    summary_figures,
    workbook,
)
from tests.report_scenario import SECTION_1, SECTION_2, TITLES, Scenario, build


@pytest.fixture
def scenario(app: App) -> Scenario:
    return build(app)


# Today, 25.11.2026. Delays in working days, the due date not counted:
#   2   due 10.11, reported 13.11: 11, 12, 13                              = 3 (late)
#   3.1 due 02.11, open: 3, 5, 6 (4th is a holiday), 9–13, 16–20, 23–25   = 16 (overdue)
#   4   due 06.11, reopened, open: 9–13, 16–20, 23–25                     = 13 (overdue)
#   5 (СШ № 2) due 20.11, open: 23, 24, 25                               = 3 (overdue)
# average (3 + 16 + 13 + 3) / 4 = 8.75, worst 16.
TODAY_FIGURES = {
    "Всего задач": "10",  # 1, 2, 3×2, 4, 5×3, 6, 8 — not 7 (detached)
    "Срок наступил (по дату отчёта включительно)": "7",  # 1, 2, 3.1, 4, 5×3
    "Исполнено в срок": "2",  # 1 (28.10 ≤ 30.10), 5/СШ № 1 (19.11 ≤ 20.11)
    "Исполнено с опозданием": "1",  # 2
    "Просрочено на дату отчёта": "3",  # 3.1, 4, 5/СШ № 2
    "Ожидает проверки": "1",  # 5/Гимназия № 3
    "Средняя задержка, рабочих дней": "8,8",
    "Наибольшая задержка, рабочих дней": "16",
    "Задача с наибольшей задержкой": (f"мероприятие 3 «{TITLES['3']}», срок 02.11.2026"),
    "Эскалировано контролирующему лицу": "1",  # 3.1 (the skipped step of 5/СШ № 2 is not)
    "Эскалировано председателю комитета": "1",  # 3.1, 17.11
    "Исключено из плана при повторной загрузке": "1",  # 7
}
TODAY_STATES = {
    "Запланировано": "3",  # 3.2, 5/СШ № 2, 8
    "Выполняется": "2",  # 3.1, 4
    "Отчёт представлен": "1",  # 5/Гимназия № 3
    "Проверено": "3",  # 1, 2, 5/СШ № 1
    "Отменено": "1",  # 6
    "Всего": "10",
}
# columns: tasks, due by today, in time, late, overdue, waiting, average, worst delay
TODAY_PEOPLE = {
    # 1, 2, 3.1, 3.2, 4, 6, 8; delays 3, 16, 13 → 32 / 3
    "Иванова Мария Петровна": ["7", "4", "1", "1", "2", "0", "10,7", "16"],
    "Кузнецов Олег Игоревич": ["1", "1", "1", "0", "0", "0", "—", "—"],
    "Белова Анна Ивановна": ["1", "1", "0", "0", "1", "0", "3,0", "3"],
    "Зайцев Игорь Павлович": ["1", "1", "0", "0", "0", "1", "—", "—"],
}
TODAY_SCHOOLS = {
    "МБОУ «СШ № 1»": TODAY_PEOPLE["Кузнецов Олег Игоревич"],
    "МБОУ «СШ № 2»": TODAY_PEOPLE["Белова Анна Ивановна"],
    "МАОУ «Гимназия № 3»": TODAY_PEOPLE["Зайцев Игорь Павлович"],
}


def test_plan_report_docx_today_every_figure(app: App, scenario: Scenario) -> None:
    tables = docx_tables(plan_report(app, scenario.plan_id, "docx").content)
    assert figures(tables["Сводные показатели"]) == TODAY_FIGURES
    assert by_first(tables["Задачи по состояниям"]) == {k: [v] for k, v in TODAY_STATES.items()}
    assert by_first(tables["По ответственным"]) == TODAY_PEOPLE
    assert by_first(tables["По школам"]) == TODAY_SCHOOLS

    plan = tables["Исполнение плана"]
    assert plan[0] == [
        "№", "Мероприятие", "Срок исполнения по плану", "Ответственный", "Срок", "Состояние",
        "Исполнено", "Отчёт", "Проверил",
    ]  # fmt: skip
    assert [row[0] for row in plan if len(row) == 1] == [SECTION_1, SECTION_2]
    rows = {row[0]: row[1:] for row in plan[1:] if len(row) > 1}
    assert sorted(rows) == ["1", "2", "3", "4", "5", "6", "8"]  # 7 has no task left
    assert rows["1"][3:] == [
        "30.10.2026", "Проверено", "28.10.2026", "28.10.2026: Перечень ОО составлен",
        "Петрова Анна Сергеевна",
    ]  # fmt: skip
    assert rows["2"][3:] == [
        "10.11.2026", "Проверено", "13.11.2026", "13.11.2026: Программы утверждены",
        "Петрова Анна Сергеевна",
    ]  # fmt: skip
    assert rows["3"][3:] == [
        "02.11.2026; 01.02.2027", "Запланировано: 1; Выполняется: 1; просрочено: 1",
        "0 из 2", "—", "—",
    ]  # fmt: skip
    assert rows["4"][3:] == [
        "06.11.2026", "Выполняется, просрочено на 13 раб. дн.", "—",
        "03.11.2026: Акт перепроверки", "—",
    ]  # fmt: skip
    assert rows["5"][2:] == [
        "Руководители ОО", "20.11.2026",
        "Запланировано: 1; Отчёт представлен: 1; Проверено: 1; просрочено: 1", "1 из 3",
        "Отчётов: 2; последний 24.11.2026: Проведены консультации", "Петрова Анна Сергеевна",
    ]  # fmt: skip
    assert rows["6"][4:] == ["Отменено", "—", "—", "—"]
    assert rows["8"][4:] == ["Запланировано", "—", "—", "—"]

    overdue = tables["Просроченные задачи"]
    assert [(r[0], r[2], r[3], r[4], r[5], r[7]) for r in overdue[1:]] == [
        ("3", "—", "Иванова Мария Петровна", "02.11.2026", "16", "председателю комитета"),
        ("4", "—", "Иванова Мария Петровна", "06.11.2026", "13", "—"),
        ("5", "МБОУ «СШ № 2»", "Белова Анна Ивановна", "20.11.2026", "3", "—"),
    ]


def test_plan_report_title_block_and_highlighted_rows(app: App, scenario: Scenario) -> None:
    import docx

    content = plan_report(app, scenario.plan_id, "docx").content
    text = docx_text(content)
    assert "Отчёт об исполнении плана мероприятий" in text
    assert "Утверждён: Комитет по образованию № 212 от 28.08.2026" in text
    assert "Период: 01.09.2026 – 31.08.2027" in text
    assert "Состояние на: 25.11.2026" in text
    assert "восстановлено" not in text
    document = docx.Document(__import__("io").BytesIO(content))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "№" and
                 t.rows[0].cells[2].text == "Срок исполнения по плану")  # fmt: skip
    shaded_numbers = {
        row.cells[0].text
        for row in table.rows[1:]
        if 'w:fill="F8D7DA"' in row.cells[0]._tc.xml and row.cells[0].text != row.cells[1].text
    }
    assert shaded_numbers == {"3", "4", "5"}  # the measures with overdue tasks
    assert len(document.inline_shapes) == 1  # the progress chart


def test_plan_report_xlsx_every_figure(app: App, scenario: Scenario) -> None:
    book = workbook(plan_report(app, scenario.plan_id, "xlsx").content)
    assert book.sheetnames == [
        "Сводка", "Динамика", "Мероприятия", "По ответственным", "По школам",
        SECTION_1, "2. Уровень общеобразовательной",
    ]  # fmt: skip
    found = summary_figures(book)
    for label, text in TODAY_FIGURES.items():
        value = found[label]
        if label == "Средняя задержка, рабочих дней":
            assert value == pytest.approx(8.75)  # a number in the workbook, not "8,8"
        elif label == "Задача с наибольшей задержкой":
            assert value == text
        else:
            assert value == int(text), label
    for label, text in TODAY_STATES.items():
        assert found[label] == int(text)

    people = sheet_rows(book, "По ответственным")
    assert people[0][0] == "Ответственный"
    assert {row[0]: row[1:] for row in people[1:]} == {
        "Иванова Мария Петровна": [7, 4, 1, 1, 2, 0, pytest.approx(32 / 3), 16],
        "Кузнецов Олег Игоревич": [1, 1, 1, 0, 0, 0, None, None],
        "Белова Анна Ивановна": [1, 1, 0, 0, 1, 0, 3.0, 3],
        "Зайцев Игорь Павлович": [1, 1, 0, 0, 0, 1, None, None],
    }
    schools = {row[0]: row[1:] for row in sheet_rows(book, "По школам")[1:]}
    assert schools["МБОУ «СШ № 2»"] == [1, 1, 0, 0, 1, 0, 3.0, 3]
    assert sorted(schools) == ["МАОУ «Гимназия № 3»", "МБОУ «СШ № 1»", "МБОУ «СШ № 2»"]

    # Every task, one sheet per section: outcome and delay per task.
    tasks = sheet_rows(book, SECTION_1) + sheet_rows(book, "2. Уровень общеобразовательной")[1:]
    header = tasks[0]
    assert header[:3] == ["Раздел", "№", "Мероприятие"]
    outcome, delay = header.index("Итог на дату"), header.index("Задержка, раб. дн.")
    lines = sorted((row[1], row[4] or "", row[outcome], row[delay]) for row in tasks[1:])
    assert lines == [
        ("1", "", "Исполнено в срок", None),
        ("2", "", "Исполнено с опозданием", 3),
        ("3", "", "Просрочено", 16),
        ("3", "", "Срок не наступил", None),
        ("4", "", "Просрочено", 13),
        ("5", "МАОУ «Гимназия № 3»", "Ожидает проверки", None),
        ("5", "МБОУ «СШ № 1»", "Исполнено в срок", None),
        ("5", "МБОУ «СШ № 2»", "Просрочено", 3),
        ("6", "", "Без исполнения", None),
        ("8", "", "Срок не наступил", None),
    ]
    sheet = book[SECTION_1]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P6"  # 16 columns, header + 5 tasks
    assert sheet.column_dimensions["C"].width == 50
    overdue_rows = [r for r in sheet.iter_rows(min_row=2) if shaded(r[0])]
    assert sorted(r[1].value for r in overdue_rows) == ["3", "4"]
    due = sheet.cell(row=2, column=header.index("Срок") + 1)
    assert due.value.date() == date(2026, 10, 30) and due.number_format == "DD.MM.YYYY"


def test_progress_chart_numbers(app: App, scenario: Scenario) -> None:
    rows = sheet_rows(workbook(plan_report(app, scenario.plan_id, "xlsx").content), "Динамика")
    assert rows[0] == [
        "Дата", "Наступил срок (нарастающим итогом)", "Исполнено (нарастающим итогом)",
    ]  # fmt: skip
    line = {row[0].date(): (row[1], row[2]) for row in rows[1:]}
    assert min(line) == date(2026, 9, 1) and max(line) == date(2026, 11, 25)
    assert len(line) == 86  # 30 + 31 + 25 days
    # verified 02.11 (1), 05.11 (4), 16.11 (2), 23.11 (5/СШ № 1); 4 reopened 18.11
    assert line[date(2026, 10, 29)] == (0, 0)
    assert line[date(2026, 10, 30)] == (1, 0)  # 1 is due
    assert line[date(2026, 11, 2)] == (2, 1)  # due: 30.10 (1), 02.11 (3.1)
    assert line[date(2026, 11, 5)] == (2, 2)
    assert line[date(2026, 11, 16)] == (4, 3)  # due 06.11 (4), 10.11 (2)
    assert line[date(2026, 11, 18)] == (4, 2)
    assert line[date(2026, 11, 25)] == (7, 3)  # due 20.11 ×3; 7 is detached


# As of 10.11.2026 (end of day): 8 did not exist yet, 7 was not detached yet; 2 was not
# reported, 4 stood verified, 5/СШ № 1 was started, 6 not yet cancelled.
#   3.1 due 02.11: 3, 5, 6, 9, 10 = 5 working days; 7 due 09.11: 10 = 1 → average 3.0
PAST_FIGURES = {
    "Всего задач": "10",  # 1, 2, 3×2, 4, 5×3, 6, 7
    "Срок наступил (по дату отчёта включительно)": "5",  # 1, 2, 3.1, 4, 7
    "Исполнено в срок": "2",  # 1 (28.10), 4 (reported 03.11 ≤ 06.11)
    "Исполнено с опозданием": "0",
    "Просрочено на дату отчёта": "2",  # 3.1, 7 (2 is due that very day: not yet overdue)
    "Ожидает проверки": "0",
    "Средняя задержка, рабочих дней": "3,0",
    "Наибольшая задержка, рабочих дней": "5",
    "Задача с наибольшей задержкой": f"мероприятие 3 «{TITLES['3']}», срок 02.11.2026",
    "Эскалировано контролирующему лицу": "1",  # 06.11
    "Эскалировано председателю комитета": "0",  # only on 17.11
    "Исключено из плана при повторной загрузке": "0",
}
PAST_STATES = {
    "Запланировано": "4",  # 3.2, 5/СШ № 2, 5/Гимназия № 3, 6
    "Выполняется": "4",  # 2, 3.1, 5/СШ № 1, 7
    "Отчёт представлен": "0",
    "Проверено": "2",  # 1, 4
    "Отменено": "0",
    "Всего": "10",
}


def test_plan_report_as_of_a_past_date_replays_the_log(app: App, scenario: Scenario) -> None:
    content = plan_report(app, scenario.plan_id, "docx", as_of=date(2026, 11, 10)).content
    tables = docx_tables(content)
    assert figures(tables["Сводные показатели"]) == PAST_FIGURES
    assert by_first(tables["Задачи по состояниям"]) == {k: [v] for k, v in PAST_STATES.items()}
    rows = {row[0]: row[1:] for row in tables["Исполнение плана"][1:] if len(row) > 1}
    assert sorted(rows) == ["1", "2", "3", "4", "5", "6", "7"]
    assert rows["4"][4:] == [
        "Проверено", "03.11.2026", "03.11.2026: Акт перепроверки", "Петрова Анна Сергеевна",
    ]  # fmt: skip
    assert rows["2"][4:] == ["Выполняется", "—", "—", "—"]
    assert rows["7"][4] == "Выполняется, просрочено на 1 раб. дн."
    assert rows["6"][4] == "Запланировано"
    assert by_first(tables["По ответственным"])["Иванова Мария Петровна"] == [
        "7", "5", "2", "0", "2", "0", "3,0", "5",  # 1, 2, 3.1, 3.2, 4, 6, 7
    ]  # fmt: skip
    assert "Кузнецов Олег Игоревич" in by_first(tables["По ответственным"])
    text = docx_text(content)
    assert "Состояние на: 10.11.2026 (восстановлено по журналу)" in text
    assert "восстановлено по журналу аудита" in text  # the footnote on what is replayed


def test_today_and_a_past_date_give_the_same_figures_for_today(
    app: App, scenario: Scenario
) -> None:
    today = docx_tables(plan_report(app, scenario.plan_id, "docx").content)
    again = docx_tables(
        plan_report(app, scenario.plan_id, "docx", as_of=date(2026, 11, 25)).content
    )
    assert figures(today["Сводные показатели"]) == figures(again["Сводные показатели"])


def test_before_the_plan_existed_and_in_the_future_are_refused(
    app: App, scenario: Scenario
) -> None:
    with pytest.raises(MeasuresError, match=r"загружен в систему 01\.09\.2026"):
        plan_report(app, scenario.plan_id, "docx", as_of=date(2026, 8, 31))
    with pytest.raises(MeasuresError, match=r"26\.11\.2026 ещё не наступила"):
        plan_report(app, scenario.plan_id, "docx", as_of=date(2026, 11, 26))
    with pytest.raises(NotFound):
        plan_report(app, 999, "docx")
    with pytest.raises(MeasuresError, match="формат «odt» не поддерживается"):
        plan_report(app, scenario.plan_id, "odt")


def test_letterhead_template_is_kept(
    app: App, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docx

    from engine.core.settings import load_config
    from tests.conftest import write_config

    letterhead = docx.Document()
    letterhead.sections[0].header.paragraphs[0].text = "КОМИТЕТ ПО ОБРАЗОВАНИЮ · ул. Ленина, 1"
    letterhead.add_paragraph("Исх. № ____ от ________")
    letterhead.save(str(tmp_path / "blank.docx"))
    url = app.config.database_url
    app.config = load_config(
        write_config(tmp_path, url, '[reports]\ndocx_template = "blank.docx"\n')
    )
    content = plan_report(app, scenario.plan_id, "docx").content
    document = docx.Document(__import__("io").BytesIO(content))
    assert document.sections[0].header.paragraphs[0].text == (
        "КОМИТЕТ ПО ОБРАЗОВАНИЮ · ул. Ленина, 1"
    )
    body = [p.text for p in document.paragraphs if p.text]
    assert body[:2] == ["Исх. № ____ от ________", "Отчёт об исполнении плана мероприятий"]
    (tmp_path / "blank.docx").unlink()
    with pytest.raises(MeasuresError, match=r"reports\.docx_template: файл бланка .*blank\.docx"):
        plan_report(app, scenario.plan_id, "docx")


def test_a_state_the_workflow_no_longer_declares_is_counted(app: App, scenario: Scenario) -> None:
    # A state renamed in workflows/measure.toml while tasks still hold the old name:
    # the report lists it under its own name rather than losing the task from the table.
    from engine.core.db import session_scope
    from engine.core.models import Task

    with session_scope(app.engine) as session:
        task = session.get_one(Task, scenario.tasks["8"])
        task.state = "archived"
        session.add(task)
        session.commit()
    states = by_first(
        docx_tables(plan_report(app, scenario.plan_id, "docx").content)["Задачи по состояниям"]
    )
    assert states["archived"] == ["1"]
    assert states["Запланировано"] == ["2"]
    assert states["Всего"] == ["10"]
