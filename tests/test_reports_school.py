"""The school case report on SQLite and PostgreSQL: every figure checked in the DOCX and
the XLSX against a scenario counted by hand, also as of past days.

СШ № 1 through two school years (the case fixtures, tests/fixtures/cases; every event at
10:00 Moscow time on its day):

==========  ==================================================================================
10.09.2025  directory, results and list of 2025: the case opens (признаки необъективности,
            «5 РУ, 5 МА»)
15.09.2025  petrova assigns the template programme, curator ivanova. Its tasks (the
            template's months in 2025/26): 1 Анализ 31.10.2025 (head kuznetsov), 2 Разработка
            30.11.2025 (kuznetsov), 3 Закрепление 30.11.2025 (ivanova), 4 Курсы 31.03.2026
            (kuznetsov), 5 Мониторинг 31.05.2026 (ivanova)
20.10.2025  task 1: started and reported (the case: help started); verified 21.10 → in time
10.11.2025  task 2 started; reported Wed 03.12.2025 — due Sun 30.11: late by 3 working days
            (Mon 1, Tue 2, Wed 3 December); verified 04.12
20.11.2025  task 3 started; reported 27.11, verified 28.11 → in time
02.03.2026  task 4 started; reported 30.03, verified 31.03 → in time
04.05.2026  task 5 started; reported Tue 02.06.2026 — due Sun 31.05: late by 2 (Mon 1, Tue 2
            June); verified Wed 03.06 → all help verified: the case is evaluated — no data
            of 2026 yet (evaluation 1)
01.07.2026  results of 2026 (evaluation 2: the 2026 list is still missing — no data)
15.10.2026  list of 2026 (evaluation 3: математика 5 still listed, confirmed marks 38 % → 44 %,
            +6 < 15: no shift; русский язык 5 off the list: shift) → help failed
20.10.2026  lebedev requests «включение в план КНМ»; petrova approves («Согласовано»): a task
            due 30 working days later — 21.10 … 03.11 is 10 days, 4 November is a holiday,
            05.11 … 02.12 are 20 more: 02.12.2026; lebedev starts it
21.10.2026  lebedev requests «дисциплинарное взыскание»; petrova rejects it
01.12.2026  the report: the case has stood in «меры воздействия» since 20.10 — 42 days
==========  ==================================================================================
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.app import App
from engine.app.cases import (
    assign_help,
    decide_administrative_measure,
    open_administrative,
    results_import,
    risks_import,
)
from engine.app.reports import school_report
from engine.core.errors import MeasuresError
from tests.cases_data import case_of, fixture, help_tasks, load_directory, set_clock
from tests.report_files import (
    docx_tables,
    docx_text,
    figures,
    sheet_rows,
    summary_figures,
    workbook,
)

MSK = ZoneInfo("Europe/Moscow")
PROGRAMME = "Адресная программа помощи: МБОУ «СШ № 1»"
TASKS = {
    1: "Анализ результатов оценочных процедур и выявление проблемных зон по предметам и "
    "классам перечня",
    2: "Разработка и утверждение плана перевода школы в эффективный режим работы",
    3: "Закрепление школы-партнёра и тьютора; совместные заседания методических объединений",
    4: "Курсы повышения квалификации педагогов по объективному оцениванию",
    5: "Мониторинг реализации программы помощи, рекомендации руководителю",
}


def _at(app: App, day: date) -> None:
    set_clock(app, datetime(day.year, day.month, day.day, 10, 0, tzinfo=MSK))


def _act(app: App, day: date, task_id: int, event: str, who: str, comment: str = "") -> None:
    _at(app, day)
    app.lifecycle.fire(app.engine, task_id, event, who, comment=comment)


@pytest.fixture
def history(app: App) -> App:
    _at(app, date(2025, 9, 10))
    load_directory(app)
    results_import(app, fixture("results_2025.csv"))
    risks_import(app, fixture("risks_2025.csv"))
    _at(app, date(2025, 9, 15))
    assign_help(app, "sosh1", "petrova", template=True, curator="ivanova")
    ids = [t.id or 0 for t in help_tasks(app, case_of(app, "sosh1"))]
    assert len(ids) == 5
    one, two, three, four, five = ids
    _act(app, date(2025, 10, 20), one, "start", "kuznetsov")
    _act(app, date(2025, 10, 20), one, "report", "kuznetsov", "Анализ проведён")
    _act(app, date(2025, 10, 21), one, "verify", "lebedev")
    _act(app, date(2025, 11, 10), two, "start", "kuznetsov")
    _act(app, date(2025, 11, 20), three, "start", "ivanova")
    _act(app, date(2025, 11, 27), three, "report", "ivanova", "Партнёр — Гимназия № 3")
    _act(app, date(2025, 11, 28), three, "verify", "lebedev")
    _act(app, date(2025, 12, 3), two, "report", "kuznetsov", "План утверждён приказом № 12")
    _act(app, date(2025, 12, 4), two, "verify", "lebedev")
    _act(app, date(2026, 3, 2), four, "start", "kuznetsov")
    _act(app, date(2026, 3, 30), four, "report", "kuznetsov", "Курсы пройдены: 6 педагогов")
    _act(app, date(2026, 3, 31), four, "verify", "petrova")
    _act(app, date(2026, 5, 4), five, "start", "ivanova")
    _act(app, date(2026, 6, 2), five, "report", "ivanova", "Рекомендации направлены")
    _act(app, date(2026, 6, 3), five, "verify", "lebedev")
    assert case_of(app, "sosh1").state == "evaluating"
    _at(app, date(2026, 7, 1))
    results_import(app, fixture("results_2026.csv"))
    _at(app, date(2026, 10, 15))
    risks_import(app, fixture("risks_2026.csv"))
    assert case_of(app, "sosh1").state == "help_failed"
    _at(app, date(2026, 10, 20))
    first = open_administrative(
        app, "sosh1", "supervision_plan", "lebedev", "Сдвига по математике нет"
    )
    _, task = decide_administrative_measure(app, first.id or 0, "approve", "petrova", "Согласовано")
    assert task is not None and task.id is not None
    app.lifecycle.fire(app.engine, task.id, "start", "lebedev")
    _at(app, date(2026, 10, 21))
    second = open_administrative(
        app, "sosh1", "disciplinary", "lebedev", "Руководитель не обеспечил объективность"
    )
    decide_administrative_measure(
        app, second.id or 0, "reject", "petrova", "Достаточно включения в план"
    )
    _at(app, date(2026, 12, 1))
    return app


HELP_FIGURES = {
    "Программа помощи": PROGRAMME,
    "Мероприятий помощи для школы": "5",
    "Исполнено в срок": "3",  # tasks 1, 3, 4
    "Исполнено с опозданием": "2",  # tasks 2, 5
    "Просрочено": "0",
    "Ожидает проверки": "0",
}


def test_every_figure_of_the_word_report(history: App) -> None:
    content = school_report(history, "sosh1", "docx").content
    tables = docx_tables(content)
    text = docx_text(content)
    assert "Отчёт по делу школы" in text
    assert (
        "Муниципальное бюджетное общеобразовательное учреждение «Средняя школа № 1»: "
        "признаки необъективности, перечень 2025 года"
    ) in text
    assert "Куратор: Иванова М.П." in text and "Состояние на: 01.12.2026" in text
    assert figures(tables["Сводные показатели"]) == {
        "Стадия дела": "Меры административного воздействия",
        "На стадии с": "20.10.2026",
        "Дней на стадии": "42",
        **HELP_FIGURES,
        "Оценок результатов": "3",
        "Последняя оценка": "2025 → 2026: позитивного сдвига нет",
        "Мер воздействия запрошено": "2",
        "из них утверждено": "1",
        "из них отклонено": "1",
        "из них ожидает решения": "0",
        "из них в обход правила": "0",
        "Меры воздействия": "возможны: помощь не дала позитивного сдвига",
    }
    assert tables["Перечни"][1:] == [
        ["2025", "математика", "5", "5 МА", "Перечень Рособрнадзора по итогам ВПР 2025"],
        ["2025", "русский язык", "5", "5 РУ", "Перечень Рособрнадзора по итогам ВПР 2025"],
        ["2026", "математика", "5", "5 МА", "Перечень Рособрнадзора по итогам ВПР 2026"],
    ]
    help_rows = tables["Программа помощи: мероприятия для школы"]
    assert help_rows[0][:4] == ["№", "Мероприятие", "Задача", "Ответственный"]
    by_number = {row[0]: row for row in help_rows[1:]}
    # №, measure, task, responsible, due, state, outcome, delay, reported, report,
    # accepted, verifier
    assert [(r[1], r[3], r[4], r[6], r[7], r[8], r[10], r[11]) for r in help_rows[1:]] == [
        (TASKS[1], "Кузнецов Олег Игоревич", "31.10.2025", "Исполнено в срок", "—",
         "20.10.2025", "21.10.2025", "Лебедев Павел Андреевич"),
        (TASKS[2], "Кузнецов Олег Игоревич", "30.11.2025", "Исполнено с опозданием", "3",
         "03.12.2025", "04.12.2025", "Лебедев Павел Андреевич"),
        (TASKS[3], "Иванова Мария Петровна", "30.11.2025", "Исполнено в срок", "—",
         "27.11.2025", "28.11.2025", "Лебедев Павел Андреевич"),
        (TASKS[4], "Кузнецов Олег Игоревич", "31.03.2026", "Исполнено в срок", "—",
         "30.03.2026", "31.03.2026", "Петрова Анна Сергеевна"),
        (TASKS[5], "Иванова Мария Петровна", "31.05.2026", "Исполнено с опозданием", "2",
         "02.06.2026", "03.06.2026", "Лебедев Павел Андреевич"),
    ]  # fmt: skip
    assert by_number["2"][9] == "План утверждён приказом № 12"
    evaluations = tables["Оценка результатов (позитивный сдвиг)"][1:]
    assert [(r[1], r[2], r[6]) for r in evaluations] == [
        ("03.06.2026", "математика", "нет данных следующего цикла"),
        ("03.06.2026", "русский язык", "нет данных следующего цикла"),
        ("01.07.2026", "математика", "нет данных следующего цикла"),
        ("01.07.2026", "русский язык", "позитивный сдвиг"),
        ("15.10.2026", "математика", "позитивного сдвига нет"),
        ("15.10.2026", "русский язык", "позитивный сдвиг"),
    ]
    math = evaluations[4]
    assert math[3:6] == ["5", "50", "52"]
    assert math[7:10] == ["доля подтвердивших отметки", "38,0", "44,0"]
    assert math[10] == (
        "школа осталась в перечне 2026 года; доля подтвердивших отметки выросла с 38 % до "
        "44 % (нужен рост не менее чем на 15 п.)"
    )
    assert evaluations[5][4:6] == ["48", "46"] and evaluations[5][8:10] == ["41,0", "63,0"]
    assert evaluations[5][10] == "школа не вошла в перечень 2026 года"
    assert evaluations[0][5] == "—"  # no 2026 results on 03.06.2026
    measures = tables["Меры административного воздействия"][1:]
    assert [row[1:10] + row[11:] for row in measures] == [
        ["Включение в план контрольно-надзорных мероприятий", "нет", "20.10.2026",
         "Лебедев П.А.", "Сдвига по математике нет", "Утверждена: исполняется как задача",
         "Петрова А.С.", "20.10.2026", "Согласовано", "Выполняется", "02.12.2026"],
        ["Дисциплинарное взыскание руководителю", "нет", "21.10.2026", "Лебедев П.А.",
         "Руководитель не обеспечил объективность", "Отклонена", "Петрова А.С.",
         "21.10.2026", "Достаточно включения в план", "—", "—"],
    ]  # fmt: skip
    events = [(row[0][:10], row[1], row[2], row[5]) for row in tables["История дела"][1:]]
    assert events == [
        ("10.09.2025", "Дело", "Дело открыто: школа в перечне", "Система (автоматически)"),
        ("15.09.2025", "Дело", "Назначить программу помощи", "Петрова А.С."),
        ("20.10.2025", "Дело", "Помощь началась", "Система (автоматически)"),
        ("03.06.2026", "Дело", "Программа помощи завершена: оценка", "Система (автоматически)"),
        ("15.10.2026", "Дело", "Позитивного сдвига нет", "Система (автоматически)"),
        ("20.10.2026", "Мера воздействия 1", "Запрошена мера воздействия", "Лебедев П.А."),
        ("20.10.2026", "Мера воздействия 1", "Утвердить меру воздействия", "Петрова А.С."),
        ("20.10.2026", "Дело", "Меры воздействия утверждены", "Система (автоматически)"),
        ("21.10.2026", "Мера воздействия 2", "Запрошена мера воздействия", "Лебедев П.А."),
        ("21.10.2026", "Мера воздействия 2", "Отклонить меру воздействия", "Петрова А.С."),
    ]


def test_the_workbook_keeps_numbers_and_dates_typed(history: App) -> None:
    book = workbook(school_report(history, "sosh1", "xlsx").content)
    found = summary_figures(book)
    assert found["Стадия дела"] == "Меры административного воздействия"
    assert found["Дней на стадии"] == 42
    assert found["На стадии с"].date() == date(2026, 10, 20)
    assert (found["Исполнено в срок"], found["Исполнено с опозданием"]) == (3, 2)
    assert (found["Мер воздействия запрошено"], found["из них утверждено"]) == (2, 1)
    assert {"Программа помощи", "Оценки", "Меры воздействия", "История"} <= set(book.sheetnames)
    helped = sheet_rows(book, "Программа помощи")
    assert [r[7] for r in helped[1:]] == [None, 3, None, None, 2]  # delays, working days
    assert helped[2][4].date() == date(2025, 11, 30)
    evaluations = sheet_rows(book, "Оценки")
    assert evaluations[5][8:10] == [38.0, 44.0] and evaluations[5][4:6] == [50, 52]
    measures = sheet_rows(book, "Меры воздействия")
    assert measures[1][12].date() == date(2026, 12, 2)  # the approved measure's task
    assert len(sheet_rows(book, "История")) == 1 + 10


def test_as_of_past_days_replays_the_case(history: App) -> None:
    # 01.07.2026, end of day: all help verified, evaluated twice, no measures yet
    tables = docx_tables(school_report(history, "sosh1", "docx", date(2026, 7, 1)).content)
    found = figures(tables["Сводные показатели"])
    assert found == {
        "Стадия дела": "Оценка результатов",
        "На стадии с": "03.06.2026",
        "Дней на стадии": "28",  # 3 June → 1 July
        **HELP_FIGURES,
        "Оценок результатов": "2",
        "Последняя оценка": "2025 → 2026: нет данных следующего цикла",
        "Мер воздействия запрошено": "0",
        "из них утверждено": "0",
        "из них отклонено": "0",
        "из них ожидает решения": "0",
        "из них в обход правила": "0",
    }  # no gate line: it is said only for today
    assert len(tables["История дела"]) == 1 + 4
    assert "Меры административного воздействия" not in tables  # an empty table: a note
    # 01.12.2025: task 2 overdue by one working day (Mon 1 December), 4 and 5 not due yet
    tables = docx_tables(school_report(history, "sosh1", "docx", date(2025, 12, 1)).content)
    found = figures(tables["Сводные показатели"])
    assert (found["Стадия дела"], found["На стадии с"], found["Дней на стадии"]) == (
        "Помощь оказывается",
        "20.10.2025",
        "42",
    )
    assert (found["Исполнено в срок"], found["Просрочено"], found["Оценок результатов"]) == (
        "2",
        "1",
        "0",
    )
    rows = tables["Программа помощи: мероприятия для школы"][1:]
    assert [(r[5], r[6], r[7]) for r in rows] == [
        ("Проверено", "Исполнено в срок", "—"),
        ("Выполняется", "Просрочено", "1"),
        ("Проверено", "Исполнено в срок", "—"),
        ("Запланировано", "Срок не наступил", "—"),
        ("Запланировано", "Срок не наступил", "—"),
    ]
    assert [r[0] for r in tables["Перечни"][1:]] == ["2025", "2025"]  # the 2026 list: later
    with pytest.raises(MeasuresError, match=r"открыто 10\.09\.2025"):
        school_report(history, "sosh1", "docx", date(2025, 9, 1))


def test_html_and_the_cli(history: App, tmp_path: object) -> None:
    html = school_report(history, "sosh1", "html").content.decode("utf-8")
    assert "<h2>История дела</h2>" in html and "Согласовано" in html
    assert school_report(history, "sosh1", "xlsx").filename == (
        "school-sosh1-non_objective-2025-2026-12-01.xlsx"
    )
