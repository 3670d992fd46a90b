"""A changed working-day calendar re-dates the stored computed dates, with a review."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import select

from engine.app import App
from engine.app.calendar import calendar_changed, redate_calendar
from engine.app.plans import import_plan
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import Measure, Task
from engine.core.settings import load_config
from tests.conftest import write_config

PLAN = (
    "**План мероприятий на 2026-2027 учебный год**\n\n"
    "№ п/п\tНаименование мероприятия\tСроки исполнения\tОтветственный исполнитель\n"
    "1.\tМониторинг посещаемости\tЕжемесячно\tРМК\n"
    "2.\tИтоговое совещание\tДо 30 апреля 2027 г.\tРМК\n"
)


def _dues(app: App, number: str) -> list[date]:
    with session_scope(app.engine) as session:
        measure = session.exec(select(Measure).where(Measure.number == number)).one()
        tasks = session.exec(select(Task).where(Task.measure_id == measure.id))
        return sorted(t.due_date for t in tasks if t.due_date)


def test_a_new_decree_day_moves_computed_dates_after_a_review(
    app: App, tmp_path: Path, db_url: str
) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    import_plan(app, path, dry_run=False)
    assert date(2027, 4, 30) in _dues(app, "1")  # April ends on a working Friday
    with session_scope(app.engine) as session:
        assert not calendar_changed(app, session)
    # A decree makes Friday 30 April 2027 non-working; the committee adds it to the config.
    folder = tmp_path / "decreed"
    folder.mkdir()
    config = load_config(
        write_config(folder, db_url, '[calendar]\nextra_holidays = ["2027-04-30"]')
    )
    decreed = App(config, FixedClock(datetime(2027, 4, 20, 7, tzinfo=UTC)))
    with session_scope(decreed.engine) as session:
        assert calendar_changed(decreed, session)
    review = redate_calendar(decreed, dry_run=True)
    assert [(m.measure_number, m.before, m.after) for m in review.moved] == [
        ("1", date(2027, 4, 30), date(2027, 4, 29))
    ]
    assert date(2027, 4, 30) in _dues(decreed, "1")  # a dry run changes nothing
    done = redate_calendar(decreed, dry_run=False)
    assert len(done.moved) == 1
    assert date(2027, 4, 29) in _dues(decreed, "1")
    assert _dues(decreed, "2") == [date(2027, 4, 30)]  # written in the plan: kept as written
    with session_scope(decreed.engine) as session:
        assert not calendar_changed(decreed, session)
    decreed.engine.dispose()


def test_a_plan_for_another_period_is_not_a_calendar_change(
    app: App, tmp_path: Path, db_url: str
) -> None:
    # Found running `./dev start`: a help programme made after the first import covers
    # other months, and the daemon warned «the working-day calendar changed» on a fresh
    # database. More plans are not a new calendar; a correction inside any of their
    # periods still is.
    first = tmp_path / "plan.txt"
    first.write_text(PLAN, encoding="utf-8")
    import_plan(app, first, dry_run=False)
    later = tmp_path / "later.txt"
    later.write_text(PLAN.replace("2026-2027", "2028-2029").replace("2027 г.", "2029 г."), "utf-8")
    import_plan(app, later, dry_run=False)
    with session_scope(app.engine) as session:
        assert not calendar_changed(app, session)
    folder = tmp_path / "decreed"
    folder.mkdir()
    config = load_config(
        write_config(folder, db_url, '[calendar]\nextra_holidays = ["2029-04-27"]')
    )
    decreed = App(config, FixedClock(datetime(2029, 4, 20, 7, tzinfo=UTC)))
    with session_scope(decreed.engine) as session:
        assert calendar_changed(decreed, session)  # a day inside the later plan's period
    decreed.engine.dispose()
