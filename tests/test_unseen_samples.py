"""Seven plans of other committees, imported as a new user would, checked by hand.

The plans (``tests/fixtures/unseen/``, made by :mod:`tests.unseen_samples`; the text one
written by hand) vary what real plans vary: DOCX without a number column and with merged
section rows, ODT with outline numbers, PDF with a financing column, a school's own TXT
plan, columns in another order, an order dated «03» 02.2025 г. or « 20 » января 2025 г.
The directory (``people.csv``) knows some of the names and not others. Every date below
was counted by hand on the Russian production calendar (2024: 28 December a working
Saturday, 31 December off; 2025: 1–8 January, 1–4 and 8–11 May, 12–13 June, 3–4 November
and 31 December off, 1 November a working Saturday; 2026: 1–11 January, 12 June and
31 December off).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from engine.app import App
from engine.core.db import session_scope
from engine.directory.people import import_people
from engine.directory.schools import import_schools
from engine.plans.events import event_dates, import_events
from engine.plans.importing import review
from engine.plans.readers.by_suffix import read_document

UNSEEN = Path(__file__).resolve().parent / "fixtures" / "unseen"
TODAY = date(2025, 9, 16)


@pytest.fixture
def directory(app: App) -> App:
    with session_scope(app.engine) as session:
        import_people(session, UNSEEN / "people.csv")
        import_schools(session, UNSEEN / "schools.csv")
        import_events(session, UNSEEN / "events.csv")
        session.commit()
    return app


def _import(app: App, name: str) -> dict[str, Any]:
    path = UNSEEN / name
    with session_scope(app.engine) as session:
        found = review(
            session,
            read_document(path),
            path.read_bytes(),
            app.calendar,
            event_dates(session),
            "quarterly",
            TODAY,
        )
        return found.as_json()


def _dues(measure: dict[str, Any]) -> list[str]:
    return [o["due"] for o in measure["schedule"]["occurrences"]]


def _plan(data: dict[str, Any]) -> tuple[Any, ...]:
    plan = data["plan"]
    return (
        plan["order_kind"],
        plan["order_number"],
        plan["order_date"],
        tuple(plan["period"]),
        plan["period_source"],
        plan["controller_person"],
    )


def test_a_district_gia_roadmap_in_word_without_a_number_column(directory: App) -> None:
    data = _import(directory, "a_petrovsky_gia.docx")
    assert data["plan"]["issuer"] == (
        "Комитет образования администрации Петровского муниципального района"
    )
    # «в 2025 году» names no period: the order of February 2025 gives the school year
    assert _plan(data) == (
        "приказ", "45-од", "2025-02-03", ("2024-09-01", "2025-08-31"), "order_date",
        "Романова Дарья Алексеевна",
    )  # fmt: skip
    m = data["measures"]
    assert len(m) == 9  # the three merged section rows are sections
    assert [x["section"][:2] for x in m] == ["1.", "1.", "2.", "2.", "2.", "2.", "2.", "3.", "3."]
    assert _dues(m[0]) == ["2025-03-15"]  # «15. 03. 2025»
    assert m[0]["schedule"]["occurrences"][0]["effective_due"] == "2025-03-14"  # a Saturday
    assert _dues(m[1]) == ["2025-03-01"] and m[1]["tasks"] == 3  # «до 01.03», every school
    assert m[2]["schedule"]["occurrences"] == [  # «с 1 по 15 марта»
        {"start": "2025-03-01", "due": "2025-03-15", "effective_due": "2025-03-14"}
    ]
    assert m[2]["responsible"] == ["все ОО (3)", "Беляева Ольга Петровна"]
    # «ежемесячно до 5 числа»: 5 October 2024 a Saturday (back to Friday 4.10); 5 January
    # 2025 in the holidays (1–8 January): forward to Thursday 9.01, never into December
    assert _dues(m[3])[:5] == ["2024-09-05", "2024-10-04", "2024-11-05", "2024-12-05", "2025-01-09"]
    assert len(_dues(m[3])) == 12
    assert m[3]["responsible"] == ["Федоров Илья Сергеевич", "Григорьев Андрей Николаевич"]
    assert m[4]["problems"] == ["Ответственный «Тарасова Е.М.» не найден в справочнике."]
    assert m[5]["schedule"]["kind"] == "unscheduled" and "Рособрнадзора" in m[5]["problems"][0]
    # ОГЭ on 3 June 2025 + 10 calendar days = 13 June, a day off; 12 June a holiday
    assert _dues(m[6]) == ["2025-06-11"]
    assert _dues(m[7]) == ["2024-09-30", "2024-12-28", "2025-03-31", "2025-06-30"]
    assert m[8]["schedule"]["kind"] == "on_demand"
    assert m[8]["problems"] == ["Ответственный «Специалисты ИМЦ» не найден в справочнике."]
    assert len(data["problems"]) == 4


def test_a_city_vpr_plan_in_opendocument_with_outline_numbers(directory: App) -> None:
    data = _import(directory, "b_zarechny_vpr.odt")
    assert data["plan"]["issuer"] == "Управление образования администрации города Заречный"
    # «Контроль … оставляю за собой»: the head who signs
    assert _plan(data) == (
        "приказ", "312", "2025-09-12", ("2025-09-01", "2026-08-31"), "document",
        "Козлова Светлана Игоревна",
    )  # fmt: skip
    m = {x["number"]: x for x in data["measures"]}
    assert list(m) == [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
    ]  # «1.», «2.»: sections
    assert _dues(m["1.1"]) == ["2025-09-30"]
    # «ежеквартально, до 10 числа месяца, следующего за отчетным»: 10 October, 10 January
    # 2026 (1–11 January holidays: not back into the quarter reported on — forward to
    # Monday 12 January, ГК РФ ст. 193), 10 April, 10 July
    assert _dues(m["1.2"]) == ["2025-10-10", "2026-01-12", "2026-04-10", "2026-07-10"]
    assert m["1.3"]["schedule"]["occurrences"][0]["start"] == "2025-10-01"  # «IV квартал»
    assert _dues(m["1.4"]) == ["2025-12-31"]  # «в течение I полугодия» of the school year
    assert m["1.4"]["responsible"] == ["Федоров Илья Сергеевич", "Беляева Ольга Петровна"]
    # ВПР 14 and 21 April 2026 + 10 calendar days: 24 April, 1 May (a holiday) → 30 April
    assert _dues(m["2.1"]) == ["2026-04-24", "2026-04-30"]
    assert m["2.1"]["responsible"] == ["все ОО с признаками необъективности (1)"]
    assert m["2.1"]["tasks"] == 2
    assert m["2.3"]["problems"] == [
        "Ответственный «Муниципальный координатор ВПР» не найден в справочнике."
    ]
    assert m["2.4"]["responsible"] == ["Романова Дарья Алексеевна"]  # by position
    assert m["2.4"]["schedule"]["kind"] == "continuous"


def test_a_regional_two_year_complex_of_measures_in_pdf(directory: App) -> None:
    data = _import(directory, "c_zaozerny_shnor.pdf")
    assert data["plan"]["issuer"] == "Министерство образования и науки Заозёрной области"
    assert _plan(data) == (
        "распоряжение", "87-р", "2025-01-20", ("2025-01-01", "2026-12-31"), "document",
        "Романова Дарья Алексеевна",
    )  # fmt: skip
    # the financing column is no field of ours: said, not dropped silently
    assert any("«Источник финансирования» не распознан" in p for p in data["problems"])
    m = {x["number"]: x for x in data["measures"]}
    assert len(m) == 7
    assert m["1"]["section"] == "Раздел 1. Диагностика"
    assert _dues(m["1"]) == ["2025-03-01"]
    assert m["1"]["problems"] == ["Ответственный «РЦОКО» не найден в справочнике."]
    assert m["2"]["responsible"] == ["все ОО с низкими результатами (1)"]  # a plan about ШНОР
    # «Сентябрь 2025, далее ежеквартально»: September, then the quarter ends to the end
    assert _dues(m["3"]) == [
        "2025-09-30", "2025-12-30", "2026-03-31", "2026-06-30", "2026-09-30", "2026-12-30",
    ]  # fmt: skip
    assert _dues(m["4"]) == ["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-30"]  # 2025 only
    assert _dues(m["5"]) == ["2025-12-31", "2026-12-31"]  # written months keep their end
    assert len(_dues(m["6"])) == 8 and m["6"]["notes"] == ["«течении» прочитано как «течение»."]
    assert _dues(m["7"]) == ["2025-06-30", "2026-06-30"]  # «ежегодно, в июне»


def test_a_schools_own_plan_as_text(directory: App) -> None:
    data = _import(directory, "d_school1_literacy.txt")
    # the approval stamp is no part of the issuer
    assert data["plan"]["issuer"] == (
        "Муниципальное бюджетное общеобразовательное учреждение «Средняя школа № 1»"
    )
    assert _plan(data) == (
        "приказ",
        "112",
        "2024-08-30",
        ("2024-09-01", "2025-08-31"),
        "document",
        None,
    )
    m = {x["number"]: x for x in data["measures"]}
    assert len(m) == 9
    assert m["1"]["responsible"] == ["Кузнецов Олег Игоревич"]  # «Кузнецов О.И. (директор)»
    # «1 раз в четверть»: Sep–Oct, Nov–Dec (28 December 2024 a working Saturday), Jan–Mar,
    # Apr–May (31 May a Saturday)
    assert _dues(m["2"]) == ["2024-10-31", "2024-12-28", "2025-03-31", "2025-05-30"]
    assert m["2"]["responsible"] == ["Петрова Наталья Владимировна"]
    assert m["2"]["problems"] == ["Ответственный «руководители ШМО» не найден в справочнике."]
    assert _dues(m["3"]) == ["2025-01-31", "2025-05-31"]  # «январь, май»
    assert m["4"]["schedule"]["kind"] == "continuous"  # «в течение 2024-2025 уч. года»
    assert _dues(m["5"])[2:4] == ["2024-11-29", "2024-12-28"]  # «ежемесячно»
    assert m["6"]["problems"] == [
        "Срок «в каникулярное время» не распознан: задайте даты мероприятия вручную.",
        "Ответственный «Классные руководители 8-9 кл.» не найден в справочнике.",
    ]
    assert _dues(m["7"]) == ["2024-12-31"]  # «по итогам I полугодия»
    assert _dues(m["8"]) == ["2024-12-25"] and _dues(m["9"]) == ["2025-05-20"]


def test_a_district_plan_with_the_deadline_first_and_roman_sections(directory: App) -> None:
    data = _import(directory, "e_yuzhny_vpr.docx")
    assert _plan(data) == (
        "приказ", "17/1-ос", "2025-01-28", ("2024-09-01", "2025-08-31"), "document",
        "Григорьев Андрей Николаевич",
    )  # fmt: skip
    m = {x["number"]: x for x in data["measures"]}
    assert [m[n]["section"] for n in ("1", "4")] == [
        "I. Подготовка к ВПР",
        "II. Анализ результатов",
    ]
    assert _dues(m["1"]) == ["2025-03-15"] and m["1"]["problems"] == []  # «15/03/2025»
    assert m["1"]["responsible"] == ["Беляева Ольга Петровна", "Федоров Илья Сергеевич"]
    assert m["2"]["schedule"]["occurrences"][0]["start"] == "2025-04-10"  # «10-12 апреля»
    assert m["3"]["problems"] == [  # «до 1.09.2025»: the day after the plan ends
        "Срок 01.09.2025 выходит за период плана (01.09.2024–31.08.2025): проверьте даты."
    ]
    # «в 2-недельный срок после проведения ВПР»: 14 calendar days after 15 and 22 April
    assert _dues(m["4"]) == ["2025-04-29", "2025-05-06"] and m["4"]["problems"] == []
    # «не позднее 3 рабочих дней после проведения ВПР»
    assert _dues(m["5"]) == ["2025-04-18", "2025-04-25"] and m["5"]["tasks"] == 6
    assert "по графику ФИС ОКО" in m["7"]["problems"][0]
    assert m["8"]["responsible"] == ["Григорьев Андрей Николаевич"]  # «Григорьев» / «А.Н.»


def test_a_roadmap_of_help_to_low_result_schools_in_opendocument(directory: App) -> None:
    data = _import(directory, "f_ozersk_help.odt")
    assert _plan(data)[:5] == (
        "распоряжение",
        "201",
        "2025-09-01",
        ("2025-09-01", "2026-08-31"),
        "document",
    )
    assert any("означают одно и то же" in p for p in data["problems"])  # two result columns
    m = data["measures"]
    assert len(m) == 8
    assert _dues(m[0]) == ["2025-10-01"]  # «ежегодно до 1 октября»
    assert m[0]["responsible"] == ["все ОО с низкими результатами (1)"]
    assert _dues(m[1]) == ["2025-12-30", "2026-05-29"]  # «2 раза в год (декабрь, май)»
    assert m[2]["schedule"]["kind"] == "unscheduled" and m[2]["problems"]
    # «до 30 числа каждого месяца»: February has no 30th, 28 February 2026 is a Saturday
    assert _dues(m[3])[5] == "2026-02-27" and len(_dues(m[3])) == 12
    assert m[4]["schedule"]["kind"] == "unscheduled" and "Рособрнадзором" in m[4]["problems"][0]
    assert _dues(m[6]) == ["2025-12-30", "2026-05-29"]  # «1 раз в полугодие»


def test_a_plan_schedule_in_pdf(directory: App) -> None:
    data = _import(directory, "g_verkhnerechensk_schedule.pdf")
    assert data["plan"]["title"].startswith("План-график мероприятий")
    assert _plan(data) == (
        "приказ", "401", "2025-09-15", ("2025-09-01", "2026-08-31"), "document",
        "Романова Дарья Алексеевна",
    )  # fmt: skip
    assert data["problems"] == []
    m = {x["number"]: x for x in data["measures"]}
    assert m["1"]["schedule"]["occurrences"][0]["start"] == "2026-01-01"  # «I квартал 2026»
    assert m["2"]["responsible"] == ["Беляева Ольга Петровна", "Федоров Илья Сергеевич"]
    # «еженедельно по пятницам»: 51 Fridays (5–11 January 2026 has no working day); a
    # Friday off moves back: 2 January → 30 December, 12 June → 11 June
    weekly = _dues(m["3"])
    assert len(weekly) == 51 and m["3"]["tasks"] == 153
    assert weekly[:2] == ["2025-09-05", "2025-09-12"]
    assert {"2025-10-31", "2025-12-30", "2026-01-16", "2026-06-11"} <= set(weekly)
    assert _dues(m["4"]) == ["2026-04-14", "2026-04-21"]  # «в период проведения ВПР»
    assert m["5"]["schedule"]["occurrences"][0]["start"] == "2026-03-20"
    assert _dues(m["6"]) == ["2026-04-17", "2026-04-24"]  # 3 working days after
    assert _dues(m["7"]) == ["2026-05-14", "2026-05-21"]  # a month: 30 days, said in a note
