"""Directory imports lose nothing they were not asked to change: a missing column keeps
the field, emails name one person, and every import can be checked first (dry run)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from engine.app import App
from engine.app.directory import people, schools
from engine.core.db import session_scope
from engine.core.errors import InputError
from engine.core.models import Deputy, Person, RiskFlag
from engine.directory.people import find_person
from tests.conftest import EXAMPLES


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_without_a_column_leaves_that_field_alone(app: App, tmp_path: Path) -> None:
    # Review finding: a CSV without the deputies (organisation, email) column blanked or
    # deleted that data for existing people.
    people(app, EXAMPLES / "people.csv")
    short = _write(
        tmp_path,
        "short.csv",
        "key,name\nivanova,Иванова Мария Петровна\nnew,Новикова Ольга Ивановна\n",
    )
    summary = people(app, short)
    assert (summary.created, summary.updated) == (1, 0)
    assert set(summary.kept_columns) == {
        "position",
        "organisation",
        "email",
        "roles",
        "aliases",
        "deputies",
    }
    with session_scope(app.engine) as session:
        ivanova = find_person(session, "ivanova")
        assert ivanova.email == "ivanova@example.org"
        assert ivanova.organisation == "МКУ «Районный методический кабинет»"
        assert ivanova.aliases == ["РМК", "МКУ «Районный методический кабинет»"]
        assert len(session.exec(select(Deputy)).all()) == 1
        assert find_person(session, "sokolova").roles == ["head", "admin"]
    # A present but empty column does clear: the file says so.
    cleared = _write(
        tmp_path, "cleared.csv", "key,name,deputies\nivanova,Иванова Мария Петровна,\n"
    )
    people(app, cleared)
    with session_scope(app.engine) as session:
        assert session.exec(select(Deputy)).all() == []


def test_emails_name_one_person(app: App, tmp_path: Path) -> None:
    people(app, EXAMPLES / "people.csv")
    twice = _write(tmp_path, "twice.csv", "key,name,email\na,Анна,a@x.ru\nb,Борис,A@x.ru\n")
    with pytest.raises(InputError, match=r"twice.csv:3: email: A@x.ru уже на строке 2"):
        people(app, twice)
    taken = _write(tmp_path, "taken.csv", "key,name,email\nz,Зоя,petrova@example.org\n")
    with pytest.raises(InputError, match=r"taken.csv:2: email: .* уже у сотрудника petrova"):
        people(app, taken)
    # A directory from before: two people share an address; `--as` refuses to guess.
    with app.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE person SET email = 'petrova@example.org' WHERE key = 'lebedev'")
        )
    with (
        session_scope(app.engine) as session,
        pytest.raises(
            InputError, match=r"адрес petrova@example.org указан у нескольких сотрудников"
        ),
    ):
        find_person(session, "petrova@example.org")


def test_dry_run_checks_and_writes_nothing(app: App, tmp_path: Path) -> None:
    summary = people(app, EXAMPLES / "people.csv", dry_run=True)
    assert (summary.created, summary.deputy_periods) == (8, 1)
    with session_scope(app.engine) as session:
        assert session.exec(select(Person)).all() == []
    people(app, EXAMPLES / "people.csv")
    checked = schools(app, EXAMPLES / "schools.csv", dry_run=True)
    assert (checked.created, checked.flags) == (3, 2)
    with session_scope(app.engine) as session:
        assert session.exec(select(RiskFlag)).all() == []
