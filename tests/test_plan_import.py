"""Review and commit of a read plan document: schedules, responsibles, tasks, re-import."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from engine.app import App
from engine.app.calendar import redate_now
from engine.core.db import session_scope
from engine.core.models import Measure, Plan, Task
from engine.directory.people import import_people
from engine.directory.schools import import_schools
from engine.plans.events import event_dates, import_events
from engine.plans.importing import Review, commit, review
from engine.plans.readers.document import SourceDocument, SourceRow, SourceSection
from engine.plans.schedule import GRAMMAR_VERSION
from tests.conftest import EXAMPLES

TODAY = date(2026, 11, 25)
PERIOD = (date(2026, 9, 1), date(2027, 8, 31))


def _row(number: str, title: str, deadline: str, responsible: str, section: int = 0) -> SourceRow:
    return SourceRow(
        location=f"строка {10 + int(number)}",
        section=section,
        number=number,
        title=title,
        deadline=deadline,
        responsible=responsible,
        expected_result=f"Результат {number}",
    )


def _document(rows: list[SourceRow] | None = None) -> SourceDocument:
    return SourceDocument(
        source_name="plan.txt",
        title="План мероприятий по обеспечению объективности",
        issuer="Комитет по образованию",
        order_number="212",
        order_date=date(2026, 8, 28),
        period_text="2026-2027 учебный год",
        period=PERIOD,
        controller_text="Петрову А.С.",
        sections=[
            SourceSection("строка 9", "1. Муниципальный уровень"),
            SourceSection("строка 20", "Помощь школам с признаками необъективности"),
        ],
        rows=rows
        if rows is not None
        else [
            _row("1", "Выявление зон риска", "Октябрь-ноябрь 2026", "РМК"),
            _row(
                "2",
                "Программы помощи",
                "До 30 декабря 2026 г.",
                "МКУ «Районный методический кабинет»",
            ),
            _row(
                "3",
                "Контроль планов ОО",
                "Ежеквартально",
                "Главный специалист по содержанию образования",
            ),
            _row(
                "4",
                "Наблюдение на ВПР",
                "В соответствии с графиком проведения ВПР",
                "Руководители ОО",
            ),
            _row("5", "Перепроверка работ", "По плану МИМС", "Управление делами"),
            _row("6", "Адресная помощь", "Постоянно", "ОО", section=1),
        ],
    )


@pytest.fixture
def loaded(app: App) -> App:
    with session_scope(app.engine) as session:
        import_people(session, EXAMPLES / "people.csv")
        import_schools(session, EXAMPLES / "schools.csv")
        import_events(session, EXAMPLES / "events.csv")
        session.commit()
    return app


def _review(app: App, session: Session, doc: SourceDocument, raw: bytes = b"v1") -> Review:
    return review(session, doc, raw, app.calendar, event_dates(session), "quarterly", TODAY)


def test_review_reads_every_measure(loaded: App) -> None:
    with session_scope(loaded.engine) as session:
        result = _review(loaded, session, _document())
        plan_count = len(session.exec(select(Plan)).all())
    assert plan_count == 0  # a review writes nothing
    data = result.as_json()
    assert data["plan"]["period"] == ["2026-09-01", "2027-08-31"]
    assert data["plan"]["order_date"] == "2026-08-28"
    measures = {m["number"]: m for m in data["measures"]}
    assert [measures[n]["schedule"]["kind"] for n in "123456"] == [
        "window",
        "once",
        "recurring",
        "event",
        "unscheduled",
        "continuous",
    ]
    assert measures["1"]["schedule"]["occurrences"] == [
        {"start": "2026-10-01", "due": "2026-11-30"}
    ]
    assert measures["3"]["schedule"]["cadence"] == "quarterly"
    assert len(measures["3"]["schedule"]["occurrences"]) == 4
    assert [o["due"] for o in measures["4"]["schedule"]["occurrences"]] == [
        "2027-04-13",
        "2027-04-20",
    ]
    assert measures["1"]["responsible"] == ["Иванова Мария Петровна"]
    assert measures["2"]["responsible"] == ["Иванова Мария Петровна"]
    assert measures["3"]["responsible"] == ["Лебедев Павел Андреевич"]
    assert measures["4"]["responsible"] == ["все ОО (3)"]
    assert measures["4"]["tasks"] == 6  # two ВПР dates x three schools
    assert measures["6"]["responsible"] == ["все ОО с признаками необъективности (1)"]
    assert measures["1"]["problems"] == []
    assert any("Управление делами" in p for p in measures["5"]["problems"])
    assert measures["5"]["problems"] and measures["5"]["tasks"] == 1
    assert any("№ 5" in p for p in data["problems"])
    assert result.controller_id is not None


def test_commit_then_same_document_changes_nothing(loaded: App) -> None:
    with session_scope(loaded.engine) as session:
        outcome = commit(
            session, _review(loaded, session, _document()), "planned", loaded.clock.now()
        )
        assert outcome.created and outcome.measures == 6
        tasks = session.exec(select(Task)).all()
        assert len(tasks) == outcome.tasks.created == 1 + 1 + 4 + 6 + 1 + 4
        again = _review(loaded, session, _document())
        assert again.unchanged and again.existing is not None
        assert commit(session, again, "planned", loaded.clock.now()).tasks.created == 0
        assert len(session.exec(select(Task)).all()) == len(tasks)
        assert len(session.exec(select(Plan)).all()) == 1


def test_edited_document_updates_tasks_and_keeps_their_state(loaded: App) -> None:
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, _document()), "planned", loaded.clock.now())
        task_1 = session.exec(select(Task).join(Measure).where(Measure.number == "1")).one()
        task_2 = session.exec(select(Task).join(Measure).where(Measure.number == "2")).one()
    assert task_1.id is not None and task_2.id is not None
    loaded.lifecycle.fire(loaded.engine, task_1.id, "start", "ivanova")
    loaded.lifecycle.fire(loaded.engine, task_2.id, "start", "ivanova")
    doc = _document()
    rows = [replace(doc.rows[0], deadline="Октябрь-декабрь 2026")]  # moved
    rows += [r for r in doc.rows[2:]]  # № 2 removed (it has history)
    rows.append(_row("7", "Новое мероприятие", "Март 2027", "РМК"))
    edited = replace(doc, rows=rows)
    with session_scope(loaded.engine) as session:
        result = _review(loaded, session, edited, raw=b"v2")
        assert not result.unchanged and result.existing is not None
        assert result.diff == {
            "added": ["№ 7 Новое мероприятие"],
            "removed": ["№ 2 Программы помощи"],
            "changed": ["№ 1: deadline_phrase"],
        }
        outcome = commit(session, result, "planned", loaded.clock.now())
        assert not outcome.created
        assert outcome.tasks.created == 1 and outcome.tasks.updated == 1
        assert outcome.tasks.kept == [task_2.id]
        moved = session.get(Task, task_1.id)
        assert moved is not None
        assert (moved.state, moved.due_date) == ("in_progress", date(2026, 12, 31))
        kept = session.get(Task, task_2.id)
        assert kept is not None and kept.state == "in_progress"
        gone = session.exec(select(Measure).where(Measure.number == "2")).one()
        assert "удалено из документа" in gone.problems[-1]
        assert len(session.exec(select(Plan)).all()) == 1


def test_event_bound_tasks_follow_the_calendar(loaded: App, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, _document()), "planned", loaded.clock.now())
    path = tmp_path / "events.csv"
    path.write_text(
        "name,kind,subject,grade,date\nВПР по русскому языку,ВПР,русский язык,5,2027-04-14\n",
        encoding="utf-8",
    )
    with session_scope(loaded.engine) as session:
        import_events(session, path)
        changes = redate_now(loaded, session, kinds=("event",)).changes
        session.commit()
        assert (changes.created, changes.updated, changes.removed) == (0, 3, 3)
        measure = session.exec(select(Measure).where(Measure.number == "4")).one()
        dues = {t.due_date for t in session.exec(select(Task).where(Task.measure_id == measure.id))}
        assert dues == {date(2027, 4, 14)}


def test_edited_document_after_letters_were_sent_detaches_instead_of_failing(
    loaded: App,
) -> None:
    # Review finding: a planned task with ladder steps but no transition was deleted,
    # which broke the foreign keys of its steps and letters.
    from engine.core.models import EscalationStep
    from engine.escalation.sweep import sweep

    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, _document()), "planned", loaded.clock.now())
    sweep(loaded.engine, loaded.escalator, loaded.clock)  # 25.11: № 1 is overdue, letters go
    with session_scope(loaded.engine) as session:
        task_1 = session.exec(select(Task).join(Measure).where(Measure.number == "1")).one()
        assert session.exec(select(EscalationStep).where(EscalationStep.task_id == task_1.id)).all()
    doc = _document()
    edited = replace(doc, rows=doc.rows[1:])  # № 1 removed
    with session_scope(loaded.engine) as session:
        outcome = commit(
            session, _review(loaded, session, edited, raw=b"v2"), "planned", loaded.clock.now()
        )
        assert outcome.tasks.kept == [task_1.id]
        kept = session.get(Task, task_1.id)
        assert kept is not None and kept.detached_at is not None
    result = sweep(loaded.engine, loaded.escalator, loaded.clock)
    assert result.steps == 0
    with session_scope(loaded.engine) as session:  # back in the document: attached again
        commit(session, _review(loaded, session, doc, raw=b"v3"), "planned", loaded.clock.now())
        again = session.get(Task, task_1.id)
        assert again is not None and again.detached_at is None


def test_next_years_plan_with_the_same_title_is_a_new_plan(loaded: App) -> None:
    # Review finding: without order number and date, plans were matched by title alone.
    bare = replace(_document(), order_number="", order_date=None)
    next_year = replace(
        bare,
        period=(date(2027, 9, 1), date(2028, 8, 31)),
        rows=[replace(r, deadline="Постоянно") for r in bare.rows],
    )
    with session_scope(loaded.engine) as session:
        first = commit(session, _review(loaded, session, bare), "planned", loaded.clock.now())
        second_review = _review(loaded, session, next_year, raw=b"next")
        assert second_review.existing is None
        second = commit(session, second_review, "planned", loaded.clock.now())
        assert first.plan.id != second.plan.id
        assert len(session.exec(select(Plan)).all()) == 2


def test_same_document_after_the_directory_was_fixed_resolves_the_responsible(
    loaded: App, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Review finding: the same file short-circuited and kept the unresolved responsible.
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, _document()), "planned", loaded.clock.now())
        task_5 = session.exec(select(Task).join(Measure).where(Measure.number == "5")).one()
        assert task_5.responsible_id is None
    people = tmp_path / "more.csv"
    people.write_text(
        "key,name,aliases\ndelo,Делова Дарья Дмитриевна,Управление делами\n", encoding="utf-8"
    )
    with session_scope(loaded.engine) as session:
        import_people(session, people)
        result = _review(loaded, session, _document())
        assert result.unchanged
        outcome = commit(session, result, "planned", loaded.clock.now())
        assert outcome.tasks.updated == 1
        task = session.get(Task, task_5.id)
        assert task is not None and task.responsible_id is not None


def test_renumbered_measure_keeps_its_task(loaded: App) -> None:
    # Review finding: matching by number moved states onto other measures after an insert.
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, _document()), "planned", loaded.clock.now())
        task_2 = session.exec(select(Task).join(Measure).where(Measure.number == "2")).one()
    assert task_2.id is not None
    loaded.lifecycle.fire(loaded.engine, task_2.id, "start", "ivanova")
    doc = _document()
    inserted = _row("2", "Вставленное мероприятие", "Март 2027", "РМК")
    renumbered = [replace(r, number=str(int(r.number) + 1)) for r in doc.rows[1:]]
    edited = replace(doc, rows=[doc.rows[0], inserted, *renumbered])
    with session_scope(loaded.engine) as session:
        result = _review(loaded, session, edited, raw=b"v2")
        assert result.diff["added"] == ["№ 2 Вставленное мероприятие"]
        assert "№ 2: number" in result.diff["changed"]
        commit(session, result, "planned", loaded.clock.now())
        moved = session.get(Task, task_2.id)
        assert moved is not None and moved.state == "in_progress"
        measure = session.get(Measure, moved.measure_id)
        assert measure is not None and measure.number == "3"
        assert measure.title == "Программы помощи"


# ----------------------------------------------- issue 7: task identity follows the anchor


def _verify(app: App, task_id: int, responsible: str) -> None:
    app.lifecycle.fire(app.engine, task_id, "start", responsible)
    app.lifecycle.fire(app.engine, task_id, "report", responsible, comment="Наблюдение проведено")
    app.lifecycle.fire(app.engine, task_id, "verify", "petrova")


def _tasks_of(session: Session, number: str, school_key: str | None = None) -> list[Task]:
    from engine.core.models import School

    query = select(Task).join(Measure).where(Measure.number == number)
    if school_key is not None:
        query = query.join(School, School.id == Task.school_id).where(School.key == school_key)
    return list(session.exec(query.order_by(Task.due_date)))


def test_an_earlier_assessment_date_leaves_verified_work_where_it_was(
    loaded: App, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Before: tasks were matched by ordinal, so the verified task of 13.04 became the task
    # of the new, earlier date, and 13.04 came back as planned work.
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, _document()), "planned", loaded.clock.now())
        april_13, april_20 = _tasks_of(session, "4", "sosh1")
    assert april_13.due_date == date(2027, 4, 13) and april_13.id is not None
    _verify(loaded, april_13.id, "kuznetsov")
    path = tmp_path / "events.csv"
    path.write_text(
        (EXAMPLES / "events.csv").read_text(encoding="utf-8")
        + "ВПР по окружающему миру,ВПР,окружающий мир,4,2027-03-16\n",
        encoding="utf-8",
    )
    with session_scope(loaded.engine) as session:
        import_events(session, path)
        changes = redate_now(loaded, session, kinds=("event",)).changes
        session.commit()
        assert (changes.created, changes.updated, changes.removed) == (3, 0, 0)
        verified = session.get(Task, april_13.id)
        assert verified is not None
        assert (verified.due_date, verified.state) == (date(2027, 4, 13), "verified")
        march, *_ = _tasks_of(session, "4", "sosh1")
        assert (march.due_date, march.state) == (date(2027, 3, 16), "planned")
        again = session.get(Task, april_20.id)
        assert again is not None and again.due_date == date(2027, 4, 20)


def test_an_earlier_date_in_an_edited_plan_keeps_each_task_on_its_date(loaded: App) -> None:
    doc = _document()
    first = replace(doc, rows=[replace(doc.rows[0], deadline="Октябрь 2026; Март 2027")])
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, first), "planned", loaded.clock.now())
        _october, march = _tasks_of(session, "1")
    assert march.id is not None and march.due_date == date(2027, 3, 31)
    loaded.lifecycle.fire(loaded.engine, march.id, "start", "ivanova")
    edited = replace(
        doc, rows=[replace(doc.rows[0], deadline="Октябрь 2026; Январь 2027; Март 2027")]
    )
    with session_scope(loaded.engine) as session:
        outcome = commit(
            session, _review(loaded, session, edited, raw=b"v2"), "planned", loaded.clock.now()
        )
        assert outcome.tasks.created == 1
        started = session.get(Task, march.id)
        assert started is not None
        assert (started.due_date, started.state) == (date(2027, 3, 31), "in_progress")
        dues = [(t.due_date, t.state) for t in _tasks_of(session, "1")]
        assert dues == [
            (date(2026, 10, 31), "planned"),
            (date(2027, 1, 31), "planned"),
            (date(2027, 3, 31), "in_progress"),
        ]
    # a date that truly moved moves its task, with its state
    moved = replace(
        doc, rows=[replace(doc.rows[0], deadline="Октябрь 2026; Январь 2027; Апрель 2027")]
    )
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, moved, raw=b"v3"), "planned", loaded.clock.now())
        started = session.get(Task, march.id)
        assert started is not None
        assert (started.due_date, started.state) == (date(2027, 4, 30), "in_progress")


# ------------------------------------- issue 7: the parsed schedule is stored, not re-parsed


def test_a_grammar_change_is_a_reviewed_diff_never_a_silent_move(
    loaded: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.plans.importing as importing
    import engine.plans.redate as redating
    from engine.plans.schedule import parse_deadline

    doc = _document()
    rows = [replace(doc.rows[0], deadline="По итогам проведения ВПР")]
    plan = replace(doc, rows=rows)
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, plan), "planned", loaded.clock.now())
        before = sorted(t.due_date for t in _tasks_of(session, "1"))
    # ВПР 13.04 and 20.04.2027 + 10 working days (1-3 and 8-10 May are off)
    assert before == [date(2027, 4, 27), date(2027, 5, 5)]

    def new_grammar(phrase: str, period: tuple[date, date]) -> Any:
        """A later release reads «по итогам» as 5 working days after the event."""
        schedule = parse_deadline(phrase, period)
        if schedule.event is None:
            return schedule
        return replace(schedule, event=replace(schedule.event, offset_working_days=5))

    monkeypatch.setattr(importing, "parse_deadline", new_grammar)
    monkeypatch.setattr(redating, "parse_deadline", new_grammar)
    with session_scope(loaded.engine) as session:  # the calendar is imported again
        redate_now(loaded, session, kinds=("event",))
        session.commit()
        assert sorted(t.due_date for t in _tasks_of(session, "1")) == before  # nothing moved
        again = _review(loaded, session, plan)  # the very same file
        assert again.unchanged
        assert again.diff["changed"] == [
            "№ 1: срок прочитан иначе (27.04.2027, 05.05.2027 → 20.04.2027, 27.04.2027)"
        ]
        commit(session, again, "planned", loaded.clock.now())  # reviewed: now it moves
        assert sorted(t.due_date for t in _tasks_of(session, "1")) == [
            date(2027, 4, 20),
            date(2027, 4, 27),
        ]


def test_schedules_stored_before_they_were_kept_move_only_when_read_the_same(
    loaded: App, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Rows from before migration 0002 have only what the review showed (version 0).
    with session_scope(loaded.engine) as session:
        commit(session, _review(loaded, session, _document()), "planned", loaded.clock.now())
        measure = session.exec(select(Measure).where(Measure.number == "4")).one()
        measure.schedule_spec, measure.schedule_version = {}, 0
        session.add(measure)
        session.commit()
    path = tmp_path / "events.csv"
    path.write_text(
        "name,kind,subject,grade,date\nВПР по русскому языку,ВПР,русский язык,5,2027-04-14\n",
        encoding="utf-8",
    )

    def reimport_calendar() -> None:
        with session_scope(loaded.engine) as session:
            import_events(session, path)
            redate_now(loaded, session, kinds=("event",))
            session.commit()

    reimport_calendar()  # read the same as shown: moves, and the schedule is kept from now on
    with session_scope(loaded.engine) as session:
        measure = session.exec(select(Measure).where(Measure.number == "4")).one()
        assert measure.schedule_version == GRAMMAR_VERSION and measure.schedule_spec
        assert {t.due_date for t in _tasks_of(session, "4")} == {date(2027, 4, 14)}
        # a legacy row the grammar now reads otherwise: nothing moves, the measure says so
        measure.schedule_spec, measure.schedule_version = {}, 0
        measure.schedule = {**measure.schedule, "event": {"offset_working_days": 3}}
        session.add(measure)
        session.commit()
    path.write_text(
        "name,kind,subject,grade,date\nВПР по русскому языку,ВПР,русский язык,5,2027-04-21\n",
        encoding="utf-8",
    )
    reimport_calendar()
    with session_scope(loaded.engine) as session:
        measure = session.exec(select(Measure).where(Measure.number == "4")).one()
        assert {t.due_date for t in _tasks_of(session, "4")} == {date(2027, 4, 14)}
        assert "загрузите план ещё раз" in measure.problems[-1]
