"""Schools directory with risk flags, and the assessment calendar, from CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from engine.app import App
from engine.core.db import session_scope
from engine.core.errors import InputError
from engine.core.models import AssessmentEvent, Person, RiskFlag, School
from engine.directory.schools import import_schools, schools_for
from engine.plans.events import event_dates, import_events

SCHOOLS = "key,name,short_name,email,head,aliases,flags\n"
EVENTS = "name,kind,subject,grade,date\n"


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_schools_with_flags(app: App, tmp_path: Path) -> None:
    with session_scope(app.engine) as session:
        session.add(Person(key="kuz", name="Кузнецов О. И."))
        session.commit()
        summary = import_schools(
            session,
            _file(
                tmp_path,
                "s.csv",
                SCHOOLS
                + "s1,МБОУ «СОШ № 1»,СОШ № 1,s1@x.ru,kuz,Школа 1,non_objective 2021; ШНОР\n"
                + "s2,МБОУ «СОШ № 2»,,,,,\n",
            ),
        )
        assert (summary.created, summary.updated, summary.flags) == (2, 0, 2)
        assert [s.key for s in schools_for(session, "non_objective")] == ["s1"]
        assert [s.key for s in schools_for(session, "low_results")] == ["s1"]
        assert [s.key for s in schools_for(session, None)] == ["s1", "s2"]
        again = import_schools(session, _file(tmp_path, "s.csv", SCHOOLS + "s1,СОШ 1,,,,,\n"))
        assert (again.created, again.updated, again.flags) == (0, 1, 0)
        assert session.exec(select(RiskFlag)).all() == []
        school = session.exec(select(School).where(School.key == "s1")).one()
        assert school.head_id is None and school.name == "СОШ 1"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("s1,СОШ,,,nobody,,\n", r"s.csv:3: head: сотрудника 'nobody' нет"),
        ("s1,СОШ,,,,,risky\n", r"s.csv:3: flags: ожидается 'non_objective \[ГОД\]'"),
        ("s1,СОШ,,,,,low_results двадцать\n", r"s.csv:3: flags"),
        ("s 1,СОШ,,,,,\n", r"s.csv:3: key: ожидаются латинские буквы"),
    ],
)
def test_bad_school_rows_import_nothing(app: App, tmp_path: Path, row: str, expected: str) -> None:
    with session_scope(app.engine) as session:
        with pytest.raises(InputError, match=expected):
            import_schools(session, _file(tmp_path, "s.csv", SCHOOLS + "ok,Школа,,,,,\n" + row))
        assert session.exec(select(School)).all() == []


def test_events_replace_the_calendar(app: App, tmp_path: Path) -> None:
    with session_scope(app.engine) as session:
        first = import_events(
            session,
            _file(
                tmp_path,
                "e.csv",
                EVENTS + "ВПР математика 5,впр,математика,5,2027-04-15\n" + ",НИКО,,,20.10.2026\n",
            ),
        )
        session.commit()
        assert (first.added, first.removed, first.unchanged) == (2, 0, 0)
        assert [(e.kind, e.date, e.name) for e in event_dates(session)] == [
            ("НИКО", date(2026, 10, 20), "НИКО"),
            ("ВПР", date(2027, 4, 15), "ВПР математика 5"),
        ]
        moved = import_events(
            session,
            _file(
                tmp_path,
                "e.csv",
                EVENTS + "ВПР математика 5,ВПР,математика,5,2027-04-16\n" + ",НИКО,,,2026-10-20\n",
            ),
        )
        session.commit()
        assert (moved.added, moved.removed, moved.unchanged) == (1, 1, 1)
        assert len(session.exec(select(AssessmentEvent)).all()) == 2


def test_bad_event_rows(app: App, tmp_path: Path) -> None:
    with session_scope(app.engine) as session, pytest.raises(InputError) as caught:
        import_events(
            session,
            _file(tmp_path, "e.csv", EVENTS + "ВПР,ВПР,,,15 апреля\n" + "x,,,,2027-04-15\n"),
        )
    assert "e.csv:2: date: ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, а не '15 апреля'" in str(
        caught.value
    )
    assert "e.csv:3: kind: пусто" in str(caught.value)
