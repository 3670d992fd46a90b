"""Plans we have never seen: other committees' layouts and wording, read end to end.

Issue 7. The fixtures are written by us in the style of real plans of other committees
(other header words, outline numbering «1.» / «1.1.» / «I.», no number column, several
persons in one cell, order dates written «15» 09. 2021 г.); every expected date is
computed by hand on the Russian production calendar.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlmodel import Session

from engine.app import App
from engine.core.db import session_scope
from engine.directory.people import import_people
from engine.directory.schools import import_schools
from engine.plans.events import event_dates, import_events
from engine.plans.importing import Review, review
from engine.plans.readers.by_suffix import read_document
from engine.plans.readers.tables import parse_order
from tests.conftest import EXAMPLES

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TODAY = date(2026, 11, 25)
MORE_PEOPLE = """key,name,position,organisation,email
smirnova,Смирнова Анна Борисовна,Начальник отдела образования,Отдел образования,smirnova@example.org
orlov,Орлов Виктор Геннадьевич,Ведущий специалист,Отдел образования,orlov@example.org
petrov,Петров Борис Борисович,Специалист,Отдел образования,petrov@example.org
sidorova,Сидорова Вера Викторовна,Методист,ИМЦ,sidorova@example.org
ivanova2,Иванова Алла Андреевна,Методист,ИМЦ,ivanova2@example.org
"""
EVENTS_2022 = """name,kind,subject,grade,date
ВПР по русскому языку,ВПР,русский язык,5,2022-03-15
ВПР по математике,ВПР,математика,5,2022-04-12
"""


@pytest.fixture
def loaded(app: App, tmp_path: Path) -> App:
    people = tmp_path / "more_people.csv"
    people.write_text(MORE_PEOPLE, encoding="utf-8")
    events = tmp_path / "events_2022.csv"
    events.write_text(EVENTS_2022, encoding="utf-8")
    with session_scope(app.engine) as session:
        import_people(session, EXAMPLES / "people.csv")
        import_people(session, people)
        import_schools(session, EXAMPLES / "schools.csv")
        import_events(session, events)
        session.commit()
    return app


def _review(app: App, session: Session, path: Path) -> Review:
    return review(
        session,
        read_document(path),
        path.read_bytes(),
        app.calendar,
        event_dates(session),
        "quarterly",
        TODAY,
    )


def _json(app: App, path: Path) -> dict[str, Any]:
    with session_scope(app.engine) as session:
        return _review(app, session, path).as_json()


def _dues(measure: dict[str, Any]) -> list[str]:
    return [o["due"] for o in measure["schedule"]["occurrences"]]


# ------------------------------------------------------------- 1. several persons in one cell


def test_every_line_of_a_word_cell_is_a_responsible(loaded: App, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("План мероприятий на 2026-2027 учебный год")
    table = document.add_table(rows=3, cols=4)
    for cell, text in zip(
        table.rows[0].cells, ["№", "Мероприятие", "Срок", "Ответственный"], strict=True
    ):
        cell.text = text
    for row, (number, responsible) in enumerate(
        [
            ("1", ["Иванова А.А.", "Петров Б.Б."]),
            ("2", ["Сидорова В.В.", "Руководители общеобразовательных организаций"]),
        ],
        start=1,
    ):
        cells = table.rows[row].cells
        cells[0].text, cells[1].text, cells[2].text = number, f"Мероприятие {number}", "Май"
        cells[3].text = responsible[0]
        cells[3].add_paragraph(responsible[1])  # a second line of the same cell
    path = tmp_path / "two_persons.docx"
    document.save(str(path))

    data = _json(loaded, path)
    first, second = data["measures"]
    assert first["responsible_text"] == "Иванова А.А.\nПетров Б.Б."
    assert first["responsible"] == ["Иванова Алла Андреевна", "Петров Борис Борисович"]
    assert first["problems"] == []
    assert first["tasks"] == 1  # one task: the first is responsible, the second co-responsible
    # the person and the schools: the fan-out stays (three schools in the directory)
    assert second["responsible"] == ["все ОО (3)", "Сидорова Вера Викторовна"]
    assert second["tasks"] == 3


# --------------------------------------------------------- 2. order dates written unusually


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("«15» 09. 2021 г. № 87", ("87", date(2021, 9, 15))),
        ("от « 15 » сентября 2021 г. № 87", ("87", date(2021, 9, 15))),
        ("от 15.09.2021 № 87", ("87", date(2021, 9, 15))),
        ("от 15.09.21 № 87-о", ("87-о", date(2021, 9, 15))),
        ("«15»  сентября  2021г.  №87", ("87", date(2021, 9, 15))),
        ("от 15 . 09 . 2021 года № 87", ("87", date(2021, 9, 15))),
    ],
)
def test_order_dates_in_the_forms_real_orders_use(text: str, expected: tuple[str, date]) -> None:
    assert parse_order(text) == expected


PLAN_WITHOUT_PERIOD = """ОТДЕЛ ОБРАЗОВАНИЯ
ПРИКАЗ
{order}

**Об утверждении плана мероприятий по повышению объективности оценки**

Контроль за исполнением настоящего приказа оставляю за собой.

Начальник отдела образования\t\t\tА.Б. Смирнова

№ п/п\tМероприятие\tСроки\tОтветственный
1\tСовещание руководителей ОО\tОктябрь\tОрлов В.Г.
2\tСеминар для учителей\tМарт\tОрлов В.Г.
"""


def test_the_period_comes_from_an_unusually_written_order_date(loaded: App, tmp_path: Path) -> None:
    # Before: «15» 09. 2021 г. was not read, the period fell back to the current school
    # year and every date of the plan landed five years off.
    path = tmp_path / "order.txt"
    path.write_text(PLAN_WITHOUT_PERIOD.format(order="«15» 09. 2021 г.\t№ 87"), encoding="utf-8")
    data = _json(loaded, path)
    assert data["plan"]["order_number"] == "87"
    assert data["plan"]["order_date"] == "2021-09-15"
    assert data["plan"]["period"] == ["2021-09-01", "2022-08-31"]
    assert data["plan"]["period_source"] == "order_date"
    assert [_dues(m) for m in data["measures"]] == [["2021-10-31"], ["2022-03-31"]]
    # «Контроль … оставляю за собой»: the person who signs the order
    assert "А.Б. Смирнова" in data["plan"]["controller"]
    assert data["plan"]["controller_person"] == "Смирнова Анна Борисовна"


def test_without_an_order_the_period_is_the_school_year_of_the_table(
    loaded: App, tmp_path: Path
) -> None:
    path = tmp_path / "no_order.txt"
    text = PLAN_WITHOUT_PERIOD.format(order="").replace("\tОктябрь\t", "\tОктябрь 2023 г.\t")
    path.write_text(text.replace("\tМарт\t", "\tМарт 2024\t"), encoding="utf-8")
    data = _json(loaded, path)
    assert data["plan"]["order_date"] is None
    assert data["plan"]["period"] == ["2023-09-01", "2024-08-31"]
    assert data["plan"]["period_source"] == "table"
    assert any("по датам в таблице" in p for p in data["problems"])


# ------------------------------------------------------ 3. header words other than ours


def test_other_header_words_roman_sections_and_outline_rows() -> None:
    # Before: "Вид деятельности" was no title column, so no plan table was found at all.
    doc = read_document(FIXTURES / "order_unusual_forms.txt")
    assert (doc.order_number, doc.order_date) == ("87", date(2021, 9, 15))
    assert [(r.number, r.title[:30]) for r in doc.rows] == [
        ("1", "Совещание с руководителями ОО "),
        ("2.1", "Назначение муниципальных коорд"),
        ("2.2", "Мониторинг размещения результа"),
        ("2.3", "Сверка списков общественных на"),
        ("3", "Анализ результатов ВПР по кажд"),
        ("4", "Собеседования с руководителями"),
        ("5", "Анализ текущей успеваемости об"),
        ("6", "Отчёт о выполнении плана"),
    ]
    sections = [(s.title, s.parent) for s in doc.sections]
    assert sections == [
        ("I. Организационно-управленческая деятельность", None),
        ("2. Организационные меры по подготовке к ВПР", 0),
        ("II. Методическая работа", None),
    ]
    assert [r.section for r in doc.rows] == [0, 1, 1, 1, 2, 2, 2, 2]
    one = doc.rows[0]
    assert (one.deadline, one.responsible, one.expected_result) == (
        "Сентябрь 2021",
        "А.Б.Смирнова В.Г.Орлов",
        "Протокол совещания",
    )
    assert doc.rows[2].responsible == "Орлов В.Г.\nПетров Б.Б."  # <p> lines of one cell
    notes = " ".join(n.message for n in doc.notes)
    # which column was taken for what, and the date of an outline row that is a section
    assert "«Вид деятельности» — мероприятие" in notes
    assert "«Кто проводит» — ответственный" in notes
    assert "«в течении 2021-2022 учебного года»" in notes
    assert doc.problems == []


def test_columns_without_header_words_are_recognised_by_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(
        "ПЛАН работы по подготовке к ВПР на 2024-2025 учебный год\n\n"
        "№ п/п\tСодержание работы\t\t\n"
        "1\tПедсовет по итогам ВПР\tСентябрь 2024\tДиректор школы\n"
        "2\tКонтрольные работы в 5-х классах\t15.10.2024\tИванова А.А.\n"
        "3\tСобеседование с учителями\tДекабрь\tЗаместитель директора по УВР\n"
        "4\tКорректировка рабочих программ\tдо 20.01.2025\tМО учителей\n",
        encoding="utf-8",
    )
    doc = read_document(path)
    assert [(r.deadline, r.responsible) for r in doc.rows] == [
        ("Сентябрь 2024", "Директор школы"),
        ("15.10.2024", "Иванова А.А."),
        ("Декабрь", "Заместитель директора по УВР"),
        ("до 20.01.2025", "МО учителей"),
    ]
    notes = [n.message for n in doc.notes]
    assert any("столбец 3" in n and "срок" in n and "по содержанию" in n for n in notes)
    assert any("столбец 4" in n and "ответственный" in n for n in notes)


# --------------------------------------------------------- 5. wording of other committees


def test_the_unusual_plan_reviews_with_hand_computed_dates(loaded: App) -> None:
    data = _json(loaded, FIXTURES / "order_unusual_forms.txt")
    assert data["plan"]["period"] == ["2021-09-01", "2022-08-31"]
    measures = {m["number"]: m for m in data["measures"]}
    assert _dues(measures["1"]) == ["2021-09-30"]
    assert _dues(measures["2.1"]) == ["2021-10-15"]  # «до 15.10»: no year, inside the period
    # «ежемесячно до 5 числа»: the 5th of each month, on a day off the working day before
    assert _dues(measures["2.2"]) == [
        "2021-09-03",  # 5 Sep: Sunday
        "2021-10-05",
        "2021-10-29",  # 30 October – 7 November 2021 were days off (Указ № 595)
        "2021-12-03",
        "2021-12-30",  # 5 January: holidays, 31 December 2021 off
        "2022-02-04",
        "2022-03-05",  # a working Saturday (7 March moved)
        "2022-04-05",
        "2022-05-05",
        "2022-06-03",
        "2022-07-05",
        "2022-08-05",
    ]
    # «Октябрь 2021, далее ежеквартально»: October as written, then the quarter ends
    assert _dues(measures["2.3"]) == ["2021-10-31", "2021-12-30", "2022-03-31", "2022-06-30"]
    # ВПР on 15.03 and 12.04.2022: 5 working days after
    assert _dues(measures["3"]) == ["2022-03-22", "2022-04-19"]
    # «в течение двух недель после»: 14 calendar days
    assert _dues(measures["4"]) == ["2022-03-29", "2022-04-26"]
    # «по итогам четверти»: the end of every school term
    assert _dues(measures["5"]) == ["2021-10-29", "2021-12-30", "2022-03-31", "2022-05-31"]
    # «ежегодно, в мае»
    assert measures["6"]["schedule"]["occurrences"] == [
        {"start": "2022-05-01", "due": "2022-05-31"}
    ]
    assert measures["1"]["responsible"] == [
        "Смирнова Анна Борисовна",
        "Орлов Виктор Геннадьевич",
    ]
    assert measures["2.2"]["responsible"] == [
        "Орлов Виктор Геннадьевич",
        "Петров Борис Борисович",
    ]
    assert measures["4"]["responsible"] == ["все ОО (3)", "Сидорова Вера Викторовна"]
    assert measures["3"]["problems"] == [
        "Ответственный «Районное методическое объединение» не найден в справочнике."
    ]
    assert data["plan"]["controller_person"] == "Смирнова Анна Борисовна"
    for number in ("1", "2.1", "2.2", "2.3", "4", "5", "6"):
        assert measures[number]["problems"] == [], (number, measures[number]["problems"])
