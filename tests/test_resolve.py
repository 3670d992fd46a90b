"""Resolving the "Ответственный" cell against the directory."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from engine.core.models import Person, RiskFlag, School
from engine.plans.resolve import Directory, resolve, section_flag


@pytest.fixture
def directory(sqlite_engine) -> Directory:  # type: ignore[no-untyped-def]
    from engine.core.db import upgrade

    upgrade(sqlite_engine)
    with Session(sqlite_engine) as session:
        people = [
            Person(
                key="rmk",
                name="Иванова Мария Петровна",
                position="Директор",
                organisation="МКУ «Районный методический кабинет»",
                aliases=["РМК"],
            ),
            Person(
                key="spec",
                name="Лебедев Павел Андреевич",
                position="Главный специалист по содержанию образования",
            ),
            Person(
                key="mims",
                name="Орлова Елена Николаевна",
                organisation="МИМС",
                aliases=["Муниципальная информационно-методическая служба"],
            ),
            Person(
                key="rcoko",
                name="Центров Олег Олегович",
                aliases=["Региональный центр оценки качества образования"],
            ),
            Person(
                key="krasnova",
                name="Краснова Елена Александровна",
                position="Председатель комитета образования",
            ),
            Person(key="head1", name="Кузнецов Олег Игоревич", position="Директор"),
            Person(key="head2", name="Белова Анна Ивановна", position="Директор гимназии"),
            Person(key="ivanova", name="Иванова Алла Андреевна", position="Методист"),
            Person(key="petrov", name="Петров Борис Борисович", position="Ведущий специалист"),
            Person(key="smirnova", name="Смирнова Анна Борисовна", position="Методист ИМЦ"),
            Person(key="orlov", name="Орлов Виктор Геннадьевич", position="Специалист"),
            Person(key="sidorova", name="Сидорова Вера Викторовна", position="Заместитель"),
        ]
        session.add_all(people)
        session.flush()
        first = School(key="s1", name="МБОУ «СОШ № 1»", head_id=people[5].id)
        second = School(key="s2", name="МАОУ «Гимназия № 2»", head_id=people[6].id)
        session.add_all([first, second])
        session.flush()
        assert second.id is not None
        session.add(RiskFlag(school_id=second.id, kind="non_objective", year=2020))
        session.commit()
        return Directory.load(session)


ABBREVIATIONS = {
    "РЦОКО": "региональный центр оценки качества образования",
    "ОО": "общеобразовательные организации",
}


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("МКУ «Районный методический кабинет»", ["rmk"]),
        ('мку "районный методический кабинет"', ["rmk"]),
        ("<p>Главный специалист по содержанию образования</p>", ["spec"]),
        ("Е.А. Краснова", ["krasnova"]),
        ("Краснова Е.А.", ["krasnova"]),
        ("председателя комитета образования Краснову Е.А.", ["krasnova"]),
        ("РЦОКО", ["rcoko"]),
        ("МИМС, РМК", ["mims", "rmk"]),
        ("РМК и МИМС", ["rmk", "mims"]),
    ],
)
def test_persons(directory: Directory, text: str, keys: list[str]) -> None:
    result = resolve(text, directory, ABBREVIATIONS)
    assert [p.key for p in result.persons] == keys
    assert not result.fan_out and result.unresolved == ()


@pytest.mark.parametrize(
    "text",
    [
        "ОО",
        "Руководители ОО",
        "Директор, заместители директора ОО",
        "Администрация ОУ",
        "общеобразовательные организации",
    ],
)
def test_fan_out_to_all_schools(directory: Directory, text: str) -> None:
    result = resolve(text, directory, ABBREVIATIONS)
    assert result.fan_out and result.flag is None
    assert result.persons == () and result.unresolved == ()
    assert [s.key for s in directory.schools_for(result.flag)] == ["s1", "s2"]


def test_fan_out_with_a_named_body_and_flagged_section(directory: Directory) -> None:
    headings = [
        "Повышение квалификации",
        "План мероприятий по оказанию методической помощи школам с признаками "
        "необъективности оценочных процедур",
    ]
    result = resolve("ОО, МИМС", directory, ABBREVIATIONS, headings)
    assert result.fan_out and result.flag == "non_objective"
    assert [p.key for p in result.persons] == ["mims"]
    assert [s.key for s in directory.schools_for(result.flag)] == ["s2"]


def test_unresolved_parts_are_reported_not_guessed(directory: Directory) -> None:
    result = resolve("Управление образования, РМК", directory, ABBREVIATIONS)
    assert [p.key for p in result.persons] == ["rmk"]
    assert result.unresolved == ("Управление образования",)
    assert resolve("Директор", directory, {}).unresolved == ("Директор",)  # ambiguous


def test_section_flags() -> None:
    assert section_flag(["Школы с низкими образовательными результатами"]) == "low_results"
    assert section_flag(["ШНОР"]) == "low_results"
    assert section_flag(["1. На муниципальном уровне", "Программа"]) is None


# --------------------------------------------------------- several persons in one cell (issue 7)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Иванова А.А.\nПетров Б.Б.", ["ivanova", "petrov"]),  # two lines of a Word cell
        ("А.Б.Смирнова В.Г.Орлов", ["smirnova", "orlov"]),  # run together, initials first
        ("Смирнова А.Б. Орлов В.Г.", ["smirnova", "orlov"]),  # run together, surname first
        ("методист А.Б. Смирнова, специалист Орлов В.Г.", ["smirnova", "orlov"]),
        ("Петров Б.Б.\nЕ.А. Краснова\nИванова А.А.", ["petrov", "krasnova", "ivanova"]),
    ],
)
def test_every_person_of_a_cell_is_resolved_in_order(
    directory: Directory, text: str, keys: list[str]
) -> None:
    # Before: the whole cell was searched for the first surname with initials, and the
    # others vanished without a problem.
    result = resolve(text, directory, ABBREVIATIONS)
    assert [p.key for p in result.persons] == keys
    assert result.unresolved == () and not result.fan_out


def test_a_person_beside_the_schools_keeps_the_fan_out(directory: Directory) -> None:
    result = resolve(
        "Сидорова В.В.\nРуководители общеобразовательных организаций", directory, ABBREVIATIONS
    )
    assert [p.key for p in result.persons] == ["sidorova"]
    assert result.fan_out and result.unresolved == ()


def test_an_unknown_person_in_a_cell_is_named(directory: Directory) -> None:
    result = resolve("Иванова А.А.\nНеизвестная Н.Н.", directory, ABBREVIATIONS)
    assert [p.key for p in result.persons] == ["ivanova"]
    assert result.unresolved == ("Неизвестная Н.Н.",)
    together = resolve("А.Б.Смирнова Н.Н.Неизвестная", directory, ABBREVIATIONS)
    assert [p.key for p in together.persons] == ["smirnova"]
    assert together.unresolved == ("Н.Н.Неизвестная",)
