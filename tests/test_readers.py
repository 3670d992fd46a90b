"""Plan documents → the neutral form: text exports, DOCX, XLSX and CSV.

The real sample plans live outside the repository (``../shared/plans``); tests that need
them skip with the reason when the folder is absent. Our own fixtures in
``tests/fixtures`` exercise the same features (page-break fragments, repeated headers,
heading rows, ``<p>`` tags, two plans in one order) and always run.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import docx
import openpyxl  # type: ignore[import-untyped]
import pytest

from engine.core.errors import InputError
from engine.plans.readers.by_suffix import read_document
from engine.plans.readers.document import SourceDocument, SourceRow
from engine.plans.readers.tables import clean, normalise_number, parse_period
from tests.documents import Table, odt_like, pdf_like, prose_line, write_pdf

PLANS = Path(__file__).resolve().parents[2] / "shared" / "plans"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = {
    "000": "000_94d9d3a56c1f6165.txt",
    "001": "001_12dfe688ec439644.txt",
    "002": "002_b43bee5ceab65d5a.txt",
    "004": "004_47eb12e1519b5f53.txt",
}
COUNTS = {"000": 20, "001": 18, "002": 22, "004": 28}


def sample(key: str) -> Path:
    path = PLANS / SAMPLES[key]
    if not path.is_file():
        pytest.skip(
            f"sample plan {path} is absent: the shared plans folder is not next to the repo"
        )
    return path


def line_of(location: str) -> int:
    assert location.startswith("строка "), location
    return int(location.split()[-1])


def section_path(doc: SourceDocument, index: int | None) -> tuple[str, ...]:
    titles: list[str] = []
    while index is not None:
        titles.append(doc.sections[index].title)
        index = doc.sections[index].parent
    return tuple(reversed(titles))


def row(doc: SourceDocument, section: str, number: str) -> SourceRow:
    """The one row numbered ``number`` in the section whose title starts with ``section``."""
    found = [
        r
        for r in doc.rows
        if r.number == number
        and r.section is not None
        and doc.sections[r.section].title.startswith(section)
    ]
    assert len(found) == 1, (section, number, found)
    return found[0]


def in_section(doc: SourceDocument, section: str) -> list[str]:
    return [
        r.number
        for r in doc.rows
        if r.section is not None and doc.sections[r.section].title.startswith(section)
    ]


# --------------------------------------------------------------------------- samples


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_sample_reads_completely(key: str) -> None:
    path = sample(key)
    doc = read_document(path)
    assert len(doc.rows) == COUNTS[key]
    assert doc.problems == []
    lines = path.read_text(encoding="utf-8").split("\n")
    for r in doc.rows:
        # the location is the row's first line, which starts with its number
        assert normalise_number(lines[line_of(r.location) - 1].split("\t")[0]) == r.number
        assert r.title and r.deadline and r.responsible
        for text in (r.title, r.deadline, r.responsible, r.expected_result):
            assert "<" not in text and "**" not in text and "\t" not in text
            assert "  " not in text and text == text.strip()
        assert r.title not in ("Мероприятие", "Наименование мероприятия", "2")


def test_sample_000_two_tables_and_fragments() -> None:
    doc = read_document(sample("000"))
    assert doc.title.startswith("Программа профилактических мер по работе с образовательными")
    assert doc.title.endswith("в 2021-2022 учебном году")
    assert doc.period == (date(2021, 9, 1), date(2022, 8, 31))
    assert [s.title for s in doc.sections] == ["1. На муниципальном уровне", "2. На уровне ОО"]
    assert [s.parent for s in doc.sections] == [None, None]
    assert in_section(doc, "1.") == [str(n) for n in range(1, 12)]
    assert in_section(doc, "2.") == [str(n) for n in range(1, 10)]

    first = row(doc, "1.", "1")
    assert first.title.startswith("Выявление на муниципальном уровне «зон риска»")
    assert first.deadline == "Октябрь 2021"
    assert first.responsible == "МКУ «Районный методический кабинет»"
    # "обучающихся" after the page break stands alone in the number cell: it ends the title
    split = row(doc, "1.", "4")
    assert split.title == (
        "Анализ и экспертиза школьных положений о промежуточной аттестации обучающихся"
    )
    assert split.deadline == "До 30 декабря 2021 г."
    assert split.responsible == "МКУ «Районный методический кабинет»"
    after = row(doc, "1.", "5")
    assert after.title.startswith("Обеспечение контроля за исполнением планов мероприятий ОО")
    assert after.deadline == "Ежеквартально"
    assert after.responsible.startswith("Главный специалист по содержанию образования")
    school = row(doc, "2.", "1")
    assert school.title.endswith(
        "(начальное общее, основное общее, среднее общее), необъективные школьные комиссии "
        "и т.д. предметные"
    )
    assert school.deadline == "По итогам проведения оценочных процедур"
    assert school.responsible == "Директор, заместители директора ОО"
    assert row(doc, "2.", "6").deadline == "Сентябрь 2021; Август 2022 г."


def test_sample_001_tasks_as_sections() -> None:
    doc = read_document(sample("001"))
    assert doc.title == (
        "ПЛАН мероприятий, направленных на повышение объективности оценки качества "
        "образования в МАОУ гимназии №32 города Калининграда"
    )
    assert [s.title[:9] for s in doc.sections] == ["Задача 1.", "Задача 2.", "Задача 3."]
    assert doc.sections[0].title.endswith("в оценочных процедурах (в рамках ВПР)")
    assert doc.sections[1].location == "строка 20"  # a bold line between the table's rows
    assert [len(in_section(doc, f"Задача {n}")) for n in (1, 2, 3)] == [4, 8, 6]

    two = row(doc, "Задача 1", "2")
    assert (
        two.title
        == "Организационно-технологическое обеспечение процедуры оценки качества образования"
    )
    assert two.deadline == "Сентябрь - октябрь 2022г. Март-Апрель 2023г."
    assert two.responsible == "Заместители директора по УВР Контроль: общественные наблюдатели"
    assert two.expected_result.startswith("Технологическая готовность копировальной техники.")
    # the page break split only the expected result
    three = row(doc, "Задача 2", "3")
    assert three.title == "Планирование деятельности и контроля (ВСОКО, ВШК) по подготовке"
    assert three.deadline == "Сентябрь 2022 года Январь - Апрель 2023"
    assert three.expected_result.endswith(
        "-Проведение учителями аналитической экспертной работы с результатами оценочных "
        "процедур. - Скорректированные рабочие программы"
    )
    seven = row(doc, "Задача 2", "7")
    assert seven.title.endswith(
        "обучающихся (протоколы педагогических советов, протоколов МО и др.)"
    )
    assert seven.expected_result.startswith("Комплекс мер направленных на повышение")
    task3 = row(doc, "Задача 3", "3")
    assert task3.title == (
        "Проведение руководителями ОУ обучающих семинаров с педагогическим коллективом по "
        "преодолению рисков получения необъективных результатов"
    )
    assert task3.deadline == "Январь – апрель 2023 года"
    assert task3.responsible == "Заместители директора по УВР"
    assert task3.expected_result == (
        "Формирование позитивного отношения у педагогических коллективов к вопросам "
        "объективной оценки качества образования"
    )


def test_sample_002_other_column_order_and_repeated_headers() -> None:
    doc = read_document(sample("002"))
    assert doc.title.startswith('ПЛАН МЕРОПРИЯТИЙ "ДОРОЖНАЯ КАРТА" по работе с общеобразоват')
    assert doc.title.endswith("проверочных работ в Хабаровском крае")
    assert doc.issuer == "Министерство образования и науки Хабаровского края"
    assert doc.order_number == ""
    assert doc.order_date == date(2021, 9, 20)  # the approval stamp
    assert doc.period_text == "2021-2022 учебный год"
    assert doc.period == (date(2021, 9, 1), date(2022, 8, 31))
    assert set(doc.abbreviations) == {"ВІР", "ОИВ", "РЦОКО", "ОМСУ", "ХК ИРО", "ОО"}
    assert doc.abbreviations["ОИВ"] == "министерство образования и науки Хабаровского края"
    assert doc.abbreviations["ХК ИРО"].startswith("Краевое государственное автономное")
    assert [s.title[:11] for s in doc.sections] == ["Мероприятия"] * 3
    assert doc.sections[1].title.endswith(
        "в перечень ОО с признаками необъективности проведения ВПР"
    )
    assert [len(in_section(doc, s.title)) for s in doc.sections] == [13, 4, 5]

    first = row(doc, "Мероприятия по обеспечению", "1")
    assert first.title.startswith("Анализ причин попадания общеобразовательных организаций")
    assert first.deadline == "август-сентябрь"
    assert first.expected_result == (
        "Выявление причин неэффективных результатов, выработка рекомендаций по их устранению"
    )
    assert first.responsible == "ОИВ, РЦОКО"
    # the first row after a repeated "1 2 3 4 5" header
    five = row(doc, "Мероприятия по обеспечению", "5")
    assert five.title.startswith("Внесение изменений в программы повышения квалификации")
    assert five.deadline == "в течение года"
    assert five.expected_result == "Изменение программы повышения квалификации"
    assert five.responsible == "Муниципальная методическая служба, ХК ИРО"
    twelve = row(doc, "Мероприятия по обеспечению", "12")
    assert twelve.deadline == "в соответствии с графиком проведения ВПР в 2022 г."
    assert twelve.responsible == "ОМСУ, ОО"
    last = row(doc, "Мероприятия, направленные", "5")
    assert last.deadline == "май-июнь"
    assert last.responsible == "ОО"


def test_sample_004_order_with_two_plans() -> None:
    doc = read_document(sample("004"))
    assert doc.title == (
        "План мероприятий по оказанию методической помощи школам с признаками необъективности "
        "оценочных процедур и школ, показывающих низкие образовательные результаты, на "
        "2020-2021 учебный год"
    )
    assert doc.issuer == (
        "Комитет образования администрации Кировского муниципального района Ленинградской области"
    )
    assert (doc.order_number, doc.order_date) == ("149", date(2020, 8, 27))
    assert doc.period == (date(2020, 9, 1), date(2021, 8, 31))
    assert doc.controller_text == "Куприенко Е.В. – главного специалиста комитета образования"

    plans = [i for i, s in enumerate(doc.sections) if s.parent is None]
    assert plans == [0, 1]
    assert doc.sections[0].title == (
        "План мероприятий по оказанию методической помощи школам с признаками необъективности "
        "оценочных процедур на 2020-2021 учебный год"
    )
    assert doc.sections[1].title.startswith("План организационно- методического сопровождения")
    assert [(s.title.split()[0], s.parent) for s in doc.sections[2:]] == [
        ("Организационное", 1),
        ("Повышение", 1),
        ("Информационно-консультативная", 1),
        ("Формирование", 1),
        ("Анализ", 1),
    ]
    assert [r.number for r in doc.rows if r.section == 0] == [str(n) for n in range(1, 13)]
    second_plan = [r for r in doc.rows if r.section is not None and r.section >= 2]
    assert [r.number for r in second_plan] == [str(n) for n in range(1, 17)]

    split = row(doc, "План мероприятий", "2")
    assert split.title.endswith(
        "по вопросам обеспечения объективности оценивания результатов обучающихся"
    )
    assert split.deadline == "Сентябрь 2020 г"
    assert split.responsible == "Комитет образования МИМС"
    assert split.expected_result.endswith(
        "Соблюдение стандартизации проведения оценочных процедур Изучение образовательных "
        "запросов в повышении квалификации педагогов района"
    )
    # six cells under five titles: the phantom empty cell is dropped
    four = row(doc, "План мероприятий", "4")
    assert four.responsible == "Труфанова А.А."
    assert four.deadline.startswith("Сентябрь 2020 г.- апрель 2021 г.")
    assert four.expected_result.startswith("Повышение эффективности управленческой деятельности")
    assert row(doc, "План мероприятий", "3").expected_result == ""
    nine = row(doc, "План мероприятий", "9")
    assert "-система регулярных независимых оценочных процедур, объективность результатов" in (
        nine.title
    )
    assert nine.deadline == "В течение года (по графику)."
    assert nine.responsible == "Комитет образования КМР, МИМС"

    plan2_four = row(doc, "Повышение квалификации", "4")
    assert plan2_four.title == (
        "Разработка и реализация индивидуальных планов повышения квалификации учителей, "
        "показывающих низкие результаты обучения"
    )
    assert plan2_four.deadline == "В течение учебного года в соответствии с планом ОО"
    assert plan2_four.responsible == "ОО, МИМС"
    assert plan2_four.expected_result == (
        "Обеспечение профессионального развития педагогов в соответствии с их индивидуальным "
        "образовательным маршрутом"
    )
    pairs = row(doc, "Формирование и организация", "12")
    assert pairs.title.startswith("Адресная помощь через организацию тьюторского, консультац")
    assert pairs.title.endswith("- выезды в школы")
    assert pairs.expected_result.startswith(
        "Создание условий для трансляции позитивного педагогического опыта"
    )
    last = row(doc, "Анализ эффективности", "16")
    assert (last.deadline, last.responsible) == ("Июнь 2021г", "ОО, МИМС")


# --------------------------------------------------------------------------- our fixtures


def test_fixture_order_with_two_plans() -> None:
    doc = read_document(FIXTURES / "order_two_plans.txt")
    assert doc.problems == []
    assert doc.title == (
        "План мероприятий по повышению объективности оценочных процедур и поддержке школ с "
        "низкими образовательными результатами на 2023-2024 учебный год"
    )
    assert doc.issuer == "Комитет по образованию администрации Заречного муниципального округа"
    assert (doc.order_number, doc.order_date) == ("212-о", date(2023, 9, 4))
    assert doc.period_text == "2023-2024 учебный год"
    # "оставляю за собой": the person who signs the order, as the signature reads
    assert doc.controller_text == "Председатель комитета по образованию О.П. Сидорова"
    assert [(s.title.split(".")[0][:18], s.parent) for s in doc.sections] == [
        ("План мероприятий п", None),
        ("Задача 1", 0),
        ("Задача 2", 0),
        ("План поддержки шко", None),
        ("Диагностика затруд", 3),
        ("Адресная помощь", 3),
    ]
    assert [(r.number, r.section) for r in doc.rows] == [
        ("1", 1), ("1.1", 1), ("2", 1), ("1", 2), ("2", 2), ("3", 2),
        ("1", 4), ("2", 4), ("3", 5), ("4", 5),
    ]  # fmt: skip
    tags = row(doc, "Задача 1", "1")
    assert tags.title == (
        "Анализ результатов ВПР 2023 года по каждой ОО с выявлением признаков необъективности"
    )
    assert tags.decisions == "Включение ОО в перечень для адресной помощи"
    # split by a page break, continued below a repeated "1 2 3 4 5 6" row
    split = row(doc, "Задача 1", "2")
    assert split.title.endswith("с признаками необъективности на весь период проведения работ")
    assert split.deadline == (
        "В соответствии с графиком проведения ВПР (не позднее 1 рабочего дня до проведения)"
    )
    assert split.responsible == "Комитет по образованию"
    assert split.expected_result == "Отчеты наблюдателей и протоколы"
    # after a repeated column-title row; its lower-case tail alone in the first cell
    three = row(doc, "Задача 2", "3")
    assert three.title.endswith("ошибок в оценивании заданий с развернутым ответом")
    assert three.decisions == "Приказ по итогам совещания"
    # the second plan: other column order, a phantom cell, <p> in every cell
    assert row(doc, "Адресная помощь", "3").expected_result == "Приказ о закреплении пар школ"
    four = row(doc, "Адресная помощь", "4")
    assert (four.title, four.deadline, four.responsible, four.expected_result) == (
        "Взаимопосещение уроков учителями школ-пар",
        "Ежемесячно",
        "Руководители ОО",
        "Не менее двух посещений в месяц",
    )
    assert four.location == "строка 66"


def test_fixture_problems_are_reported_with_their_line() -> None:
    doc = read_document(FIXTURES / "roadmap_with_problems.txt")
    assert doc.title.startswith("ДОРОЖНАЯ КАРТА по обеспечению объективности оценки")
    assert doc.issuer == "Управление образования администрации города Приозёрска"
    assert doc.order_date == date(2024, 8, 29)
    assert doc.period_text == "2024-2025 годы"
    assert doc.period == (date(2024, 1, 1), date(2025, 12, 31))
    assert doc.abbreviations == {
        "УО": "управление образования администрации города Приозёрска",
        "ОО": "общеобразовательные организации",
        "ИМЦ": "муниципальное казенное учреждение «Информационно-методический центр»",
    }
    assert [(p.location, p.field, p.text) for p in doc.problems] == [
        ("строка 23", "header", "Примечание"),
        ("строка 26", "number", "Подготовка памятки для руководителей ОО"),
        ("строка 28", "number", "а)"),
        ("строка 30", "number", "Родительские собрания по вопросам проведения ВПР"),
    ]
    assert "Примечание" in doc.problems[0].message
    # an unnumbered row is kept (not glued to the row above: no page break there)
    assert [r.number for r in doc.rows] == ["1", "", "2", "а)", "", "3"]
    assert row(doc, "I.", "1").title == "Совещание с руководителями ОО по итогам ВПР"
    assert row(doc, "I.", "2").responsible == "ИМЦ"
    # the signature line under the table is not a measure
    assert all("Петров" not in r.responsible for r in doc.rows)


def test_text_surplus_cells_and_stray_fragments(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(
        "**План мероприятий на 2024 год**\n\n"
        "№ п/п\tМероприятие\tСрок\tОтветственный\n"
        "и ещё какой-то хвост\t\t\t\n"
        "1\tСеминар\tМарт\tРМК\tлишнее\n",
        encoding="utf-8",
    )
    doc = read_document(path)
    assert doc.period == (date(2024, 1, 1), date(2024, 12, 31))
    assert [(p.location, p.field) for p in doc.problems] == [
        ("строка 4", "row"),
        ("строка 5", "cells"),
    ]
    assert doc.rows[0].responsible == "РМК лишнее"


def test_table_without_number_column(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(
        "ПЛАН мероприятий школы\n\n"
        "Мероприятие\tСроки\tОтветственные\n"
        "<b>Работа с учителями</b>\t\t\n"
        "Семинар по оцениванию\tОктябрь\tЗавуч\n"
        "Открытые уроки для молодых\tНоябрь\tРуководители\n"
        "\n"
        "учителей\t\tШМО\n",
        encoding="utf-8",
    )
    doc = read_document(path)
    assert doc.problems == []
    assert [s.title for s in doc.sections] == ["Работа с учителями"]
    assert [(r.number, r.title, r.responsible, r.section) for r in doc.rows] == [
        ("", "Семинар по оцениванию", "Завуч", 0),
        ("", "Открытые уроки для молодых учителей", "Руководители ШМО", 0),
    ]


def test_text_in_windows_1251(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    text = (FIXTURES / "order_two_plans.txt").read_text(encoding="utf-8")
    path.write_bytes(text.encode("cp1251"))
    assert len(read_document(path).rows) == 10


# --------------------------------------------------------------------------- DOCX

_DOCX_FIELDS = (
    ("number", ("№", "п/п")),
    ("responsible", ("ответствен", "исполнител")),
    ("expected_result", ("результат",)),
    ("deadline", ("срок", "дата")),
    ("decisions", ("решени",)),
    ("title", ("мероприяти", "наименовани", "содержани")),
)


def _column(title: str) -> str | None:
    lowered = title.lower()
    return next((f for f, words in _DOCX_FIELDS if any(w in lowered for w in words)), None)


def docx_like(source: Path, parsed: SourceDocument, target: Path) -> None:
    """The Word document the text export came from, as far as it can be told.

    Prose lines become paragraphs (bold for ``**…**``, Heading 2 for ``##``); each run
    of tab lines becomes one table with the header once, every measure as ONE row (Word
    has no page-break fragments: the parsed text supplies the joined cells) and every
    heading row merged across all columns.
    """
    lines = source.read_text(encoding="utf-8").split("\n")
    rows = {line_of(r.location): r for r in parsed.rows}
    headings = {line_of(s.location): s.title for s in parsed.sections}
    document = docx.Document()
    fields: list[str | None] = []
    in_bold = False
    i = 0
    while i < len(lines):
        if "\t" not in lines[i]:
            text = lines[i].strip()
            i += 1
            if not text:
                continue
            text, bold, heading, in_bold = prose_line(text, in_bold)
            if heading:
                document.add_heading(text, level=2)
            else:
                document.add_paragraph().add_run(text).bold = bold or None
            continue
        run: list[int] = []
        while i < len(lines) and ("\t" in lines[i] or not lines[i].strip()):
            if "\t" in lines[i]:
                run.append(i)
            i += 1
        first = [clean(cell) for cell in lines[run[0]].split("\t")]
        is_header = sum(1 for cell in first if _column(cell)) >= 3
        if is_header:
            while first and not first[-1]:
                first.pop()
            fields = [_column(cell) for cell in first]
        table = document.add_table(rows=0, cols=len(fields))
        table.style = "Table Grid"
        if is_header:
            for cell, text in zip(table.add_row().cells, first, strict=True):
                cell.text = text
            numbers = [clean(c) for c in lines[run[1]].split("\t")] if len(run) > 1 else []
            if numbers[:2] == ["1", "2"]:
                for cell, text in zip(table.add_row().cells, numbers, strict=False):
                    cell.text = text
        for index in run:
            if index + 1 in headings:
                cells = table.add_row().cells
                merged = cells[0].merge(cells[-1])
                merged.text = headings[index + 1]
                merged.paragraphs[0].runs[0].bold = True
            elif index + 1 in rows:
                measure = rows[index + 1]
                for cell, name in zip(table.add_row().cells, fields, strict=True):
                    cell.text = str(getattr(measure, name)) if name else ""
    document.save(str(target))


def essence(doc: SourceDocument) -> dict[str, Any]:
    return {
        "meta": (
            doc.title,
            doc.issuer,
            doc.order_number,
            doc.order_date,
            doc.period_text,
            doc.period,
            doc.controller_text,
            doc.abbreviations,
        ),
        "sections": [(s.title, s.parent) for s in doc.sections],
        "rows": [
            (
                r.number,
                r.title,
                r.deadline,
                r.responsible,
                r.expected_result,
                r.decisions,
                section_path(doc, r.section),
            )
            for r in doc.rows
        ],
        "problems": [(p.field, p.message, p.text) for p in doc.problems],
    }


def _words(rows: list[Any]) -> list[Any]:
    """ "план- график" wrapped after its hyphen in a PDF reads back as one word, as it should."""
    return [
        [re.sub(r"(?<=\w)- (?=\w)", "-", v) if isinstance(v, str) else v for v in r] for r in rows
    ]


_FIXTURES = ["order_two_plans", "roadmap_with_problems"]


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        *(("docx", name) for name in [*(f"sample {key}" for key in sorted(SAMPLES)), *_FIXTURES]),
        # Issue 7: most plans are published as PDF; the same neutral form, the same review.
        *(
            (kind, name)
            for kind in ("pdf", "odt")
            for name in [
                *(f"sample {k}" for k in sorted(SAMPLES)),
                *_FIXTURES,
                "order_unusual_forms",
            ]
        ),
    ],
)
def test_a_document_reads_like_its_text_export(kind: str, name: str, tmp_path: Path) -> None:
    source = sample(name.split()[1]) if name.startswith("sample") else FIXTURES / f"{name}.txt"
    text_doc = read_document(source)
    target = tmp_path / f"plan.{kind}"
    {"docx": docx_like, "pdf": pdf_like, "odt": odt_like}[kind](source, text_doc, target)
    other = read_document(target)
    expected, got = essence(text_doc), essence(other)
    assert got["meta"] == expected["meta"]
    assert got["sections"] == expected["sections"]
    assert _words(got["rows"]) == _words(expected["rows"])
    assert got["problems"] == expected["problems"]
    assert other.rows[0].location.startswith("стр. " if kind == "pdf" else "таблица ")


def test_docx_merged_cells(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph().add_run("План мероприятий школы на 2024-2025 учебный год").bold = True
    table = document.add_table(rows=6, cols=4)
    for cell, text in zip(
        table.rows[0].cells, ["№", "Мероприятие", "Срок", "Ответственный"], strict=True
    ):
        cell.text = text
    heading = table.cell(1, 0).merge(table.cell(1, 3))
    heading.text = "Раздел 1. Работа с учителями"
    for r, (number, title, deadline) in enumerate(
        [
            ("1", "Семинар", "Октябрь"),
            ("2", "Консультации", "Ноябрь"),
            ("", "и практикумы", "Декабрь"),
        ],
        start=2,
    ):
        table.cell(r, 0).text = number
        table.cell(r, 1).text = title
        table.cell(r, 2).text = deadline
    # one responsible for all three rows; measure 2 and its sub-row share the number cell
    table.cell(2, 3).merge(table.cell(4, 3)).text = "Методист РМК"
    table.cell(3, 0).merge(table.cell(4, 0))
    table.cell(5, 0).text = "3"
    table.cell(5, 1).text = "Открытые уроки"
    table.cell(5, 2).merge(table.cell(5, 3)).text = "Весь год"
    path = tmp_path / "merged.docx"
    document.save(str(path))

    doc = read_document(path)
    assert doc.title == "План мероприятий школы на 2024-2025 учебный год"
    assert [s.title for s in doc.sections] == ["Раздел 1. Работа с учителями"]
    assert doc.problems == []
    assert [(r.number, r.title, r.deadline, r.responsible) for r in doc.rows] == [
        ("1", "Семинар", "Октябрь", "Методист РМК"),
        ("2", "Консультации и практикумы", "Ноябрь Декабрь", "Методист РМК"),
        ("3", "Открытые уроки", "Весь год", ""),
    ]
    assert doc.rows[1].location == "таблица 1, строка 4"


def test_docx_layout_tables_give_metadata(tmp_path: Path) -> None:
    document = docx.Document()
    stamp = document.add_table(rows=1, cols=2)
    lines = ["УТВЕРЖДАЮ", "Министр образования области", "А.Б. Иванова", "«1» сентября 2023 г."]
    stamp.cell(0, 1).text = "\n".join(lines)
    document.add_paragraph("ПЛАН МЕРОПРИЯТИЙ")
    document.add_paragraph("по повышению объективности ВПР на 2023/2024 учебный год")
    plan = document.add_table(rows=2, cols=3)
    for cell, text in zip(
        plan.rows[0].cells, ["№ п/п", "Мероприятие", "Ответственный"], strict=True
    ):
        cell.text = text
    for cell, text in zip(plan.rows[1].cells, ["1", "Анализ ВПР", "РЦОКО"], strict=True):
        cell.text = text
    signature = document.add_table(rows=1, cols=2)
    signature.cell(0, 0).text = "Министр"
    signature.cell(0, 1).text = "А.Б. Иванова"
    path = tmp_path / "stamp.docx"
    document.save(str(path))

    doc = read_document(path)
    assert doc.title == "ПЛАН МЕРОПРИЯТИЙ по повышению объективности ВПР на 2023/2024 учебный год"
    assert doc.issuer == "Министерство образования области"
    assert doc.order_date == date(2023, 9, 1)
    assert doc.period == (date(2023, 9, 1), date(2024, 8, 31))
    assert [(r.number, r.title, r.responsible) for r in doc.rows] == [("1", "Анализ ВПР", "РЦОКО")]


# --------------------------------------------------------------------------- XLSX and CSV


def test_xlsx_template(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "План"
    sheet.append(
        ["Название:", "План мероприятий по повышению объективности ВПР на 2023-2024 учебный год"]
    )
    sheet.append(["Орган:", "Комитет по образованию"])
    sheet.append(["Приказ:", "№ 57 от 01.09.2023"])
    sheet.append(["Контроль: заместитель председателя комитета Сидорова О.П."])
    sheet.append([])
    sheet.append(
        ["Ответственный", "№ п/п", "Мероприятие", "Срок исполнения", "Ожидаемый результат"]
    )
    sheet.append(["Раздел 1. Организационные меры"])
    sheet.merge_cells("A7:E7")
    sheet.append(["Методический центр", 1, "Анализ результатов ВПР", "Октябрь 2023 г.", "Справка"])
    sheet.append([None, 1.1, "Перепроверка работ", datetime(2023, 11, 15), "Протоколы"])
    sheet.merge_cells("A8:A9")
    sheet.append(["Комитет", 2, "Совещание с руководителями", "Декабрь 2023 г.", "Протокол"])
    sheet.append([None, None, "и с заместителями директоров", None, None])
    sheet.merge_cells("A10:A11")
    sheet.merge_cells("B10:B11")
    sheet.append(["РМК", 3, "Семинар", "Март 2024 г.", "Материалы", "заметка без столбца"])
    path = tmp_path / "plan.xlsx"
    workbook.save(path)

    doc = read_document(path)
    assert doc.title == "План мероприятий по повышению объективности ВПР на 2023-2024 учебный год"
    assert doc.issuer == "Комитет по образованию"
    assert (doc.order_number, doc.order_date) == ("57", date(2023, 9, 1))
    assert doc.period == (date(2023, 9, 1), date(2024, 8, 31))
    assert doc.controller_text == "заместитель председателя комитета Сидорова О.П."
    assert [s.title for s in doc.sections] == ["Раздел 1. Организационные меры"]
    assert [
        (r.number, r.title, r.deadline, r.responsible, r.expected_result, r.section)
        for r in doc.rows
    ] == [
        ("1", "Анализ результатов ВПР", "Октябрь 2023 г.", "Методический центр", "Справка", 0),
        ("1.1", "Перепроверка работ", "15.11.2023", "Методический центр", "Протоколы", 0),
        ("2", "Совещание с руководителями и с заместителями директоров", "Декабрь 2023 г.",
         "Комитет", "Протокол", 0),
        ("3", "Семинар", "Март 2024 г.", "РМК", "Материалы заметка без столбца", 0),
    ]  # fmt: skip
    assert [(p.location, p.field) for p in doc.problems] == [("лист «План», строка 12", "cells")]
    assert doc.rows[0].location == "лист «План», строка 8"


def test_csv_semicolons_in_windows_1251(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    text = (
        "Название:;План работы с ШНОР на 2024-2025 учебный год;\n"
        "Период:;2024-09-01..2025-06-30;\n"
        ";;;;\n"
        "Раздел;№;Наименование мероприятия;Ответственный;Сроки;Контроль;Форма отчета\n"
        'Диагностика;1;"Анкетирование педагогов; анализ";Школа;Сентябрь 2024 г.;Иванова;Справка\n'
        "Диагностика;2;Карта рисков;Школа;Октябрь 2024 г.;Иванова;\n"
        "Помощь;1;Наставничество;Школа-партнёр;В течение года;Петрова;\n"
    )
    path.write_bytes(text.encode("cp1251"))
    doc = read_document(path)
    assert doc.title == "План работы с ШНОР на 2024-2025 учебный год"
    assert doc.period == (date(2024, 9, 1), date(2025, 6, 30))  # the template's period wins
    assert [s.title for s in doc.sections] == ["Диагностика", "Помощь"]
    assert [(r.number, r.section, r.control) for r in doc.rows] == [
        ("1", 0, "Иванова"),
        ("2", 0, "Иванова"),
        ("1", 1, "Петрова"),
    ]
    assert doc.rows[0].title == "Анкетирование педагогов; анализ"
    assert doc.rows[0].location == "строка 5"
    assert [(p.location, p.field, p.text) for p in doc.problems] == [
        ("строка 4", "header", "Форма отчета")
    ]


def test_csv_in_the_hash_template(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(
        "# title = План мероприятий по объективности, ВПР и НИКО\n"
        "# order = 212 от 2026-08-28\n"
        "# period = 2026-09-01..2027-08-31\n"
        "# controller = petrova\n"
        "# colour = green\n"
        "section,number,title,deadline,responsible,supervisor,expected_result\n"
        'На муниципальном уровне,1,"Выявление «зон риска», анализ",2026-10-30,ivanova,,Перечень\n'
        "На уровне ОО,1,Анализ,2026-11-30,orlova,lebedev,\n",
        encoding="utf-8",
    )
    doc = read_document(path)
    assert doc.title == "План мероприятий по объективности, ВПР и НИКО"
    assert (doc.order_number, doc.order_date) == ("212", date(2026, 8, 28))
    assert doc.period == (date(2026, 9, 1), date(2027, 8, 31))
    assert doc.controller_text == "petrova"
    assert [(p.location, p.field, p.text) for p in doc.problems] == [
        ("строка 5", "document", "green")
    ]
    assert [s.title for s in doc.sections] == ["На муниципальном уровне", "На уровне ОО"]
    assert [(r.title, r.deadline, r.responsible, r.control, r.location) for r in doc.rows] == [
        ("Выявление «зон риска», анализ", "2026-10-30", "ivanova", "", "строка 7"),
        ("Анализ", "2026-11-30", "orlova", "lebedev", "строка 8"),
    ]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        (
            "на 2020-2021 учебный год",
            ("2020-2021 учебный год", date(2020, 9, 1), date(2021, 8, 31)),
        ),
        (
            "в 2021/2022 учебном году",
            ("2021/2022 учебном году", date(2021, 9, 1), date(2022, 8, 31)),
        ),
        ("на 2021-2023 годы", ("2021-2023 годы", date(2021, 1, 1), date(2023, 12, 31))),
        ("на 2022 год", ("2022 год", date(2022, 1, 1), date(2022, 12, 31))),
        ("2026-09-01..2027-08-31", ("2026-09-01..2027-08-31", date(2026, 9, 1), date(2027, 8, 31))),
        ("в течение года", None),
    ],
)
def test_period_forms(phrase: str, expected: tuple[str, date, date] | None) -> None:
    found = parse_period(phrase)
    assert (found and (found[0], *found[1])) == expected


# --------------------------------------------------------------------------- bad input


def _damaged_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a document")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b" \n\n\t\n", "empty"),
        ("prose.txt", "Просто текст без таблицы.\n\nЕщё абзац.\n".encode(), "no plan table"),
        ("header.txt", "№ п/п\tМероприятие\tСроки\n".encode(), "no measures"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("broken.docx", b"PK\x03\x04 this is not really a zip", "Word"),
        ("random.docx", bytes(range(256)), "Word"),
        ("broken.xlsx", b"PK\x03\x04 nope", "Excel"),
        ("binary.csv", b"\x00\x01\x02" * 100, "binary"),
        ("plan.pdf", b"%PDF-1.4", "not a PDF"),
        ("plan.odt", b"PK\x03\x04 nope", "OpenDocument"),
        ("plan.odp", b"x", "unsupported"),
        ("plan", b"x", "unsupported"),
    ],
)
def test_bad_files_are_refused_with_a_message(
    tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        read_document(path)
    message = str(error.value)
    assert str(path) in message
    assert says in message
    assert "expected" in message


def test_zip_without_document_and_docx_without_table(tmp_path: Path) -> None:
    archive = tmp_path / "archive.docx"
    _damaged_zip(archive)
    with pytest.raises(InputError, match=r"archive\.docx: .*expected a \.docx"):
        read_document(archive)
    empty = tmp_path / "letter.docx"
    document = docx.Document()
    document.add_paragraph("Уважаемые коллеги!")
    document.save(str(empty))
    with pytest.raises(InputError, match=r"letter\.docx: no plan table found; expected"):
        read_document(empty)


def test_missing_file(tmp_path: Path) -> None:
    for suffix in (".txt", ".docx", ".xlsx", ".csv"):
        with pytest.raises(InputError, match="file not found"):
            read_document(tmp_path / f"nowhere{suffix}")


# --------------------------------------------------------------------------- PDF


def test_pdf_split_rows_merged_cells_and_several_persons(tmp_path: Path) -> None:

    rows: list[list[str] | str] = ["Раздел 1. Организационные меры"]
    rows += [
        [str(n), f"Семинар для учителей № {n} по критериальному оцениванию", "Октябрь 2024", "РМК"]
        for n in range(1, 40)
    ]
    rows.append(["40", "Совещание", "Май 2025", "Иванова А.А.\nПетров Б.Б."])
    rows.append(["41", "Отчёт", "Июнь 2025", "Главный специалист по содержанию образования"])
    path = tmp_path / "long.pdf"
    write_pdf(
        path,
        [
            ("План мероприятий по повышению объективности оценки на 2024-2025 учебный год", True),
            Table(["№ п/п", "Мероприятие", "Сроки", "Ответственный"], rows, [0.5, 3, 1.3, 1.8]),
        ],
    )
    doc = read_document(path)
    assert doc.problems == []
    assert (
        doc.title == "План мероприятий по повышению объективности оценки на 2024-2025 учебный год"
    )
    assert doc.period == (date(2024, 9, 1), date(2025, 8, 31))
    assert [r.number for r in doc.rows] == [str(n) for n in range(1, 42)]
    assert {r.location.split(",")[0] for r in doc.rows} >= {"стр. 1", "стр. 2"}  # over pages
    assert doc.rows[39].responsible == "Иванова А.А.\nПетров Б.Б."  # two lines: two persons
    # a position wrapped by the column's width is one line again
    assert doc.rows[40].responsible == "Главный специалист по содержанию образования"
    assert [s.title for s in doc.sections] == ["Раздел 1. Организационные меры"]


@pytest.mark.parametrize(
    ("header", "fields"),
    [
        ("№ п/п|Содержание работы|Сроки|Ответственные", "number title deadline responsible"),
        ("№|Вид деятельности|Дата проведения|Кто проводит", "number title deadline responsible"),
        (
            "Мероприятия по обеспечению объективности|Когда|Исполнители",
            "title deadline responsible",
        ),
        ("Ответственный за проведение мероприятия|Мероприятия по контролю", "responsible title"),
        ("Тема|Ожидаемый результат мероприятия|Срок проведения", "title expected_result deadline"),
        (
            "Действия|Ф.И.О. ответственного|Период|Форма отчётности",
            "title responsible deadline expected_result",
        ),
        # no title word: the only column with text nobody else claims is the measures
        ("№|Направления работы|Сроки|Ответственные", "number title deadline responsible"),
        ("№|Что делаем|Сроки|Ответственные", "number title deadline responsible"),
    ],
)
def test_header_words_other_committees_use(header: str, fields: str) -> None:
    # Issue 7: the first word of the header decides; the title may be the column left over
    from engine.plans.readers.tables import _recognise_header

    found = _recognise_header(header.split("|"), "строка 1")
    assert found is not None
    assert " ".join(f or "-" for f in found.fields) == fields


def test_odt_merged_cells_and_lines_of_a_cell(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties
    from odf.table import CoveredTableCell, TableCell, TableColumn, TableRow
    from odf.table import Table as OdfTable
    from odf.text import P, Span

    document = OpenDocumentText()
    bold = Style(name="B1", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    title = P()
    title.addElement(Span(stylename=bold, text="План мероприятий школы на 2024-2025 учебный год"))
    document.text.addElement(title)
    table = OdfTable(name="План")
    table.addElement(TableColumn(numbercolumnsrepeated=4))

    def row(*cells: object) -> None:
        made = TableRow()
        for item in cells:
            made.addElement(item)
        table.addElement(made)

    def cell(*lines: str, rows: int = 1) -> object:
        made = TableCell(numberrowsspanned=rows) if rows > 1 else TableCell()
        for line in lines:
            made.addElement(P(text=line))
        return made

    row(cell("№"), cell("Мероприятие"), cell("Срок"), cell("Ответственный"))
    row(cell("1"), cell("Семинар"), cell("Октябрь"), cell("Иванова А.А.", "Петров Б.Б.", rows=2))
    row(cell("2"), cell("Консультации"), cell("Ноябрь"), CoveredTableCell())
    row(cell("3"), cell("Открытые уроки"), cell("Декабрь"), cell("РМК"))
    document.text.addElement(table)
    path = tmp_path / "plan.odt"
    document.save(str(path))

    doc = read_document(path)
    assert doc.title == "План мероприятий школы на 2024-2025 учебный год"  # bold by its span
    assert doc.problems == []
    assert [(r.number, r.deadline, r.responsible) for r in doc.rows] == [
        ("1", "Октябрь", "Иванова А.А.\nПетров Б.Б."),  # a cell's paragraphs are its lines
        ("2", "Ноябрь", "Иванова А.А.\nПетров Б.Б."),  # under the merged cell: inherited
        ("3", "Декабрь", "РМК"),
    ]


def test_an_outline_heading_passes_its_date_and_responsible_to_its_items(tmp_path: Path) -> None:
    # Issue 7: «1.» followed by «1.1.» is a section even with a date and a responsible;
    # sub-items without their own take them, and the review says so.
    path = tmp_path / "plan.txt"
    path.write_text(
        "План работы методического кабинета на 2024-2025 учебный год\n\n"
        "№\tМероприятие\tСрок\tОтветственный\n"
        "1.\tРабота с педагогами\tв течение года\tРМК\n"
        "1.1.\tСеминар по оцениванию\tОктябрь\t\n"
        "1.2.\tКонсультации\t\tИванова А.А.\n"
        "2.\tОтчёт о выполнении плана\tМай\tОрлов В.Г.\n",
        encoding="utf-8",
    )
    doc = read_document(path)
    assert doc.problems == []
    assert [s.title for s in doc.sections] == ["1. Работа с педагогами"]
    assert [(r.number, r.deadline, r.responsible, r.section) for r in doc.rows] == [
        ("1.1", "Октябрь", "РМК", 0),
        ("1.2", "в течение года", "Иванова А.А.", 0),
        ("2", "Май", "Орлов В.Г.", None),
    ]
    (note,) = [n.message for n in doc.notes if n.field == "section"]
    assert "«1.»" in note and "срок «в течение года»" in note and "«РМК»" in note
