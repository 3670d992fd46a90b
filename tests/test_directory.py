"""People CSV import: upsert, deputies, and whole-file refusal of bad rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from engine.app import App
from engine.core.db import session_scope
from engine.core.errors import InputError
from engine.core.models import Deputy, Person
from engine.directory.people import acts_for, find_person, import_people
from tests.conftest import EXAMPLES

HEADER = "key,name,position,organisation,email,roles,aliases,deputies\n"


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _people(app: App) -> list[str]:
    with session_scope(app.engine) as session:
        return sorted(p.key for p in session.exec(select(Person)))


def test_example_directory_imports_and_reimports(app: App) -> None:
    with session_scope(app.engine) as session:
        first = import_people(session, EXAMPLES / "people.csv")
        again = import_people(session, EXAMPLES / "people.csv")
    assert (first.created, first.updated, first.deputy_periods) == (8, 0, 1)
    assert (again.created, again.updated, again.deputy_periods) == (0, 0, 1)  # no changes
    with session_scope(app.engine) as session:
        ivanova = find_person(session, "ivanova")
        orlova = find_person(session, "orlova@example.org")
        assert ivanova.aliases == ["РМК", "МКУ «Районный методический кабинет»"]
        assert find_person(session, "sokolova").roles == ["head", "admin"]
        assert len(session.exec(select(Deputy)).all()) == 1
        assert acts_for(session, orlova, ivanova.id, date(2026, 12, 21))
        assert acts_for(session, orlova, ivanova.id, date(2027, 1, 15))
        assert not acts_for(session, orlova, ivanova.id, date(2027, 1, 16))
        assert not acts_for(session, ivanova, orlova.id, date(2026, 12, 25))


def test_update_changes_fields_and_replaces_deputies(app: App, tmp_path: Path) -> None:
    with session_scope(app.engine) as session:
        import_people(
            session, _write(tmp_path, "a,Анна,,,a@x.ru,,,b 2026-01-01..2026-01-10\nb,Борис,,,,,,\n")
        )
        import_people(session, _write(tmp_path, "a,Анна Петровна,Методист,,a@x.ru,supervisor,,\n"))
        person = find_person(session, "a")
        assert (person.name, person.position, person.roles) == (
            "Анна Петровна",
            "Методист",
            ["supervisor"],
        )
        assert session.exec(select(Deputy)).all() == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a,Анна,,,,janitor,,\n", r"people.csv:2: roles: неизвестная роль 'janitor'"),
        ("a,Анна,,,,,,\na,Алла,,,,,,\n", r"people.csv:3: key: 'a' уже на строке 2"),
        ("a b,Анна,,,,,,\n", r"people.csv:2: key: ожидаются латинские буквы"),
        ("a,,,,,,,\n", r"people.csv:2: name: пусто"),
        ("a,Анна,,,not-an-email,,,\n", r"people.csv:2: email: не адрес электронной почты"),
        ("a,Анна,,,ivanova@x.ru;,,,\n", r"people.csv:2: email: не адрес электронной почты"),
        ("a,Анна,,,иванова@школа.рф,,,\n", r"people.csv:2: email: не адрес электронной почты"),
        ("a,Анна,,,,,,zz 2026-01-01..2026-01-02\n", r"people.csv:2: deputies: нет сотрудника"),
        ("a,Анна,,,,,,b 2026-01-10..2026-01-02\nb,Б,,,,,,\n", r"кончается раньше, чем начинается"),
        ("a,Анна,,,,,,b с 1 января\nb,Б,,,,,,\n", r"deputies: ожидается 'КЛЮЧ ГГГГ-ММ-ДД"),
        ("a,Анна,,,,,,a 2026-01-01..2026-01-02\n", r"не может замещать сам себя"),
        ("a,Анна,,,,,,,extra\n", r"people.csv:2: ячеек больше, чем столбцов"),
    ],
)
def test_bad_row_imports_nothing(app: App, tmp_path: Path, body: str, expected: str) -> None:
    good = "ok,Хороший Человек,,,,,,\n"
    with session_scope(app.engine) as session, pytest.raises(InputError, match=expected):
        import_people(session, _write(tmp_path, body + good))
    assert _people(app) == []


def test_bad_header_and_file(app: App, tmp_path: Path) -> None:
    with session_scope(app.engine) as session:
        with pytest.raises(InputError, match=r"people.csv:1: нет столбцов: name"):
            import_people(session, _write(tmp_path, "a\n", header="key,email\n"))
        with pytest.raises(InputError, match=r"неизвестные столбцы: phone"):
            import_people(session, _write(tmp_path, "a,A,1\n", header="key,name,phone\n"))
        with pytest.raises(InputError, match="файл не найден"):
            import_people(session, tmp_path / "nope.csv")
        path = tmp_path / "cp1251.csv"
        path.write_bytes((HEADER + "a,Анна,,,,,,\n").encode("cp1251"))
        with pytest.raises(InputError, match="не в кодировке UTF-8"):
            import_people(session, path)
