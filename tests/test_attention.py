"""Tasks nobody would be reminded about — no responsible, no date, an assessment not yet
in the calendar — are shown to a person until fixed: the review, `tasks`, `status` and
the admin's digest."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import select

from engine.app import App
from engine.app.directory import assessment_calendar
from engine.app.operations import queue_digests, status
from engine.app.plans import import_plan
from engine.app.tasks import list_tasks
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import OutboxMessage, Person
from engine.directory.people import import_people
from tests.conftest import EXAMPLES

PLAN = (
    "**План мероприятий на 2026-2027 учебный год**\n\n"
    "№ п/п\tНаименование мероприятия\tСроки исполнения\tОтветственный исполнитель\n"
    "1.\tОбщественное наблюдение при проведении ВПР\tВ соответствии с графиком проведения"
    " ВПР\tРМК\n"
    "2.\tАнализ результатов\tДо 20 декабря 2026 г.\tОтдел аналитики\n"
    "3.\tРазмещение информации на сайте\tПо мере необходимости\tРМК\n"
)


def test_undated_and_unassigned_tasks_are_shown_until_fixed(app: App, tmp_path: Path) -> None:
    assert isinstance(app.clock, FixedClock)
    app.clock.set(datetime(2026, 11, 30, 7, tzinfo=UTC))  # Monday 10:00
    with session_scope(app.engine) as session:
        import_people(session, EXAMPLES / "people.csv")
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    done = import_plan(app, path, dry_run=False)
    problems = done.review.measures[0].problems
    # Review finding: no matching assessment → no date, no problem, never reminded.
    assert any("нет событий (ВПР) в периоде плана" in p for p in problems)
    rows = {row.measure_number: row for row in list_tasks(app)}
    assert rows["1"].due_date is None
    assert rows["1"].undated == "нет даты: в календаре нет событий (ВПР) в периоде плана"
    assert rows["2"].responsible is None
    data = status(app)["attention"]
    assert data["count"] == 2
    assert [(t["measure_number"], t["reasons"]) for t in data["tasks"]] == [
        ("1", ["нет даты: в календаре нет событий (ВПР) в периоде плана"]),
        ("2", ["нет ответственного"]),
    ]  # «по мере необходимости» has no date by nature: not listed
    queue_digests(app)
    with session_scope(app.engine) as session:
        admin = session.exec(select(Person).where(Person.key == "sokolova")).one()
        letter = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.person_id == admin.id, OutboxMessage.kind == "daily_digest"
            )
        ).one()
    assert "Требуют внимания (2)" in letter.body_text
    assert "«Анализ результатов»: нет ответственного" in letter.body_text
    # The calendar arrives: the event-bound task gets its date and leaves the list.
    events = tmp_path / "events.csv"
    events.write_text("name,kind,subject,grade,date\nВПР,ВПР,математика,5,2027-04-20\n")
    assessment_calendar(app, events)
    rows = {row.measure_number: row for row in list_tasks(app)}
    assert rows["1"].due_date == date(2027, 4, 20) and rows["1"].undated is None
    assert status(app)["attention"]["count"] == 1


def test_attention_counts_in_sql_and_reads_only_the_first(tmp_path: Path) -> None:
    """A country's «по мере необходимости» tasks have no dates by nature; they were read
    as whole rows to be skipped one by one, the admins' digest's peak (367 MiB with
    them, 129 MiB without, bench/RESULTS.md). Hand-made: 20,000 such tasks with a
    responsible need nothing; three without one are listed."""
    import tracemalloc
    from datetime import timedelta

    from sqlalchemy import update

    from engine.core.models import Measure, Task
    from engine.queries import needs_attention
    from tests.bulk import fill
    from tests.conftest import NOW, sqlite_file_app

    app = sqlite_file_app(tmp_path)
    fill(app.engine, 20_000, NOW.date() + timedelta(days=10), 100)
    with session_scope(app.engine) as session:
        session.execute(update(Measure).values(schedule={"kind": "on_demand"}))
        session.execute(update(Task).values(due_date=None))
        session.execute(update(Task).where(Task.id.in_([5, 6, 7])).values(responsible_id=None))  # type: ignore[union-attr]
        session.commit()
    with session_scope(app.engine) as session:
        tracemalloc.start()
        try:
            count, found = needs_attention(session, app.workflow, limit=50)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 3
    assert [(a.task_id, a.reasons) for a in found] == [
        (5, ("нет ответственного",)),
        (6, ("нет ответственного",)),
        (7, ("нет ответственного",)),
    ]
    assert peak < 3_000_000, f"{peak:,} bytes to find 3 tasks among 20,000"
