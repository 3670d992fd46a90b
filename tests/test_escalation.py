"""Ladders, the timeline, the sweep and the outbox: steps taken once, on working days."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from engine.app import App
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.errors import WorkflowError
from engine.core.models import EscalationStep, OutboxMessage, Person, Task
from engine.core.workcalendar import WorkCalendar
from engine.directory.people import import_people
from engine.directory.schools import import_schools
from engine.escalation.ladder import load_ladders
from engine.escalation.outbox import deliver
from engine.escalation.simulate import simulate
from engine.escalation.sweep import sweep
from engine.escalation.timeline import TaskFacts, WorkingHours, plan_steps
from engine.plans.events import event_dates, import_events
from engine.plans.importing import commit, review
from engine.plans.readers.by_suffix import read_document
from notifications import TEMPLATES, PermanentMailError, RecordingMailer, TransientMailError
from tests.conftest import EXAMPLES, ROOT

MSK = ZoneInfo("Europe/Moscow")


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MSK).astimezone(UTC)


@pytest.fixture
def hours() -> WorkingHours:
    return WorkingHours(MSK, time(9), time(18), WorkCalendar())


def test_shipped_ladders_load(app: App) -> None:
    ladders = app.ladders
    assert set(ladders) == {"default", "continuous"}
    steps = {s.name: s for s in ladders["default"].steps}
    assert (steps["overdue"].anchor, steps["overdue"].offset) == ("due", 1)
    assert steps["escalate_head"].recipients == ("head",)
    assert steps["verification_waiting"].repeat == 5


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'states = ["reported"]\nrecipients',
            'states = ["waiting"]\nrecipients',
            "unknown state 'waiting'",
        ),
        ('recipients = ["head"]', 'recipients = ["minister"]', "unknown recipient 'minister'"),
        ('template = "overdue"', 'template = "telegram"', "no message template 'telegram'"),
        ('anchor = "state"\n', 'anchor = "report"\n', "anchor: expected due, start or state"),
        ("offset = 10", 'offset = "ten"', "offset: expected a whole number"),
        ("ladders.default", "ladders.main", r"a \[ladders\.default\] ladder is required"),
    ],
)
def test_broken_ladder_is_refused(
    app: App, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = (ROOT / "workflows" / "escalation.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "escalation.toml"
    count = -1 if old == "ladders.default" else 1  # rename the whole ladder, else one place
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    with pytest.raises(WorkflowError, match=expected) as caught:
        load_ladders(path, app.workflow, TEMPLATES)
    assert str(path) in str(caught.value)


def test_friday_before_a_holiday_weekend_with_a_transfer(app: App, hours: WorkingHours) -> None:
    # 2027: Saturday 20 February is a working day (transfer), Monday 22 is off, Tuesday 23
    # is Defender of the Fatherland Day; Monday 8 March is a holiday.
    due = date(2027, 2, 19)  # Friday
    planned = plan_steps(
        TaskFacts(1, "in_progress", None, due, None),
        app.ladders["default"],
        hours,
        at(date(2027, 12, 31)),
    )
    fired = {p.step.name: p.fire_at.astimezone(MSK).date() for p in planned}
    assert fired == {
        "reminder": date(2027, 2, 16),
        "due_today": date(2027, 2, 19),
        "overdue": date(2027, 2, 20),  # the working Saturday
        "escalate_supervisor": date(2027, 2, 25),
        "escalate_head": date(2027, 3, 9),
    }
    assert all(p.send_at == p.fire_at == at(fired[p.step.name]) for p in planned)


def test_quiet_hours(hours: WorkingHours) -> None:
    friday_evening = at(date(2026, 11, 27), 19, 30)
    assert not hours.is_open(friday_evening)
    assert hours.next_open(friday_evening) == at(date(2026, 11, 30))  # Monday 09:00
    early = at(date(2026, 11, 30), 7)
    assert hours.next_open(early) == at(date(2026, 11, 30))
    assert hours.next_open(at(date(2026, 11, 30), 12)) == at(date(2026, 11, 30), 12)
    assert hours.next_open(at(date(2026, 12, 31), 10)) == at(date(2027, 1, 11))  # holidays


def _load_examples(app: App) -> None:
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 8, 31)))
    with session_scope(app.engine) as session:
        import_people(session, EXAMPLES / "people.csv")
        import_schools(session, EXAMPLES / "schools.csv")
        import_events(session, EXAMPLES / "events.csv")
        document = read_document(EXAMPLES / "plan.txt")
        result = review(
            session,
            document,
            b"example",
            app.calendar,
            event_dates(session),
            "quarterly",
            date(2026, 8, 31),
        )
        commit(session, result, "planned", app.clock.now())


def _first_task(app: App, measure_number: str) -> int:
    with session_scope(app.engine) as session:
        from engine.core.models import Measure

        task = session.exec(
            select(Task)
            .join(Measure)
            .where(Measure.number == measure_number)
            .order_by(col(Task.id))
        ).first()
        assert task is not None and task.id is not None
        return task.id


def test_a_school_year_walk_matches_the_simulation(app: App) -> None:
    _load_examples(app)
    reported = _first_task(app, "2")
    app.lifecycle.fire(app.engine, reported, "start", "ivanova")
    app.lifecycle.fire(app.engine, reported, "report", "ivanova", comment="Программы готовы")
    with session_scope(app.engine) as session:  # due while orlova deputises for ivanova
        task = session.get(Task, _first_task(app, "1"))
        assert task is not None
        task.due_date = date(2026, 12, 25)
        session.add(task)
        session.commit()
    start, end = date(2026, 9, 1), date(2027, 8, 31)
    with session_scope(app.engine) as session:
        expected = simulate(session, app.escalator, at(start, 0), at(end, 23, 59))
    assert isinstance(app.clock, FixedClock)
    day = start
    while day <= end:
        app.clock.set(at(day))  # the daemon's first sweep of the day, at 09:00
        sweep(app.engine, app.escalator, app.clock)
        day += timedelta(days=1)
    with session_scope(app.engine) as session:
        steps = {(s.task_id, s.key, s.skipped) for s in session.exec(select(EscalationStep))}
        people = {p.id: p.key for p in session.exec(select(Person))}
        sent = sorted(
            (m.task_id, session.get(EscalationStep, m.step_id).key, people[m.person_id])  # type: ignore[union-attr,index]
            for m in session.exec(select(OutboxMessage))
        )
    assert steps == {(e.task_id, e.key, e.skipped) for e in expected}
    assert sent == sorted((e.task_id, e.key, r) for e in expected for r in e.recipients)
    kinds = {e.step for e in expected}
    assert {
        "reminder",
        "due_today",
        "overdue",
        "escalate_supervisor",
        "escalate_head",
        "verification_waiting",
    } <= kinds
    # The deputy gets the responsible's reminders only within the deputy period.
    deputy_days = {e.fire_at.astimezone(MSK).date() for e in expected if "orlova" in e.recipients}
    assert deputy_days and all(date(2026, 12, 21) <= d <= date(2027, 1, 15) for d in deputy_days)
    # A second sweep at the end takes nothing again.
    assert sweep(app.engine, app.escalator, app.clock).steps == 0


def test_moving_a_due_date_replans_and_keeps_history(app: App) -> None:
    _load_examples(app)
    task_id = _first_task(app, "1")  # due 30.11.2026
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 12, 2)))
    sweep(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        before = {
            s.key
            for s in session.exec(select(EscalationStep).where(EscalationStep.task_id == task_id))
        }
        task = session.get(Task, task_id)
        assert task is not None
        task.due_date = date(2026, 12, 15)
        session.add(task)
        session.commit()
    assert before == {"reminder@2026-11-30#0", "due_today@2026-11-30#0", "overdue@2026-11-30#0"}
    app.clock.set(at(date(2026, 12, 16)))
    sweep(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        after = {
            s.key
            for s in session.exec(select(EscalationStep).where(EscalationStep.task_id == task_id))
        }
    assert before < after
    assert {"reminder@2026-12-15#0", "due_today@2026-12-15#0", "overdue@2026-12-15#0"} <= after


def test_catch_up_skips_stale_reminders_but_sends_overdue(app: App) -> None:
    _load_examples(app)
    task_id = _first_task(app, "1")  # due 30.11.2026; the daemon was down until 2.12
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 12, 2)))
    sweep(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        steps = {
            s.step: s.skipped
            for s in session.exec(select(EscalationStep).where(EscalationStep.task_id == task_id))
        }
        kinds = {
            m.kind
            for m in session.exec(select(OutboxMessage).where(OutboxMessage.task_id == task_id))
        }
    assert steps == {"reminder": True, "due_today": True, "overdue": False}
    assert kinds == {"overdue"}


def _deliver(app: App, mailer: RecordingMailer) -> object:
    return asyncio.run(
        deliver(
            app.engine,
            mailer,
            app.clock,
            app.hours,
            sender="m@example.org",
            sender_name="Комитет",
            max_attempts=3,
        )
    )


def test_outbox_waits_for_working_hours_and_retries_transient_errors(app: App) -> None:
    _load_examples(app)
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 12, 2)))
    sweep(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        queued = len(session.exec(select(OutboxMessage)).all())
    assert queued > 2
    mailer = RecordingMailer()
    app.clock.set(at(date(2026, 12, 2), 20))  # evening: nothing leaves
    assert _deliver(app, mailer).quiet and mailer.messages == []  # type: ignore[attr-defined]
    app.clock.set(at(date(2026, 12, 3), 9, 5))
    mailer.fail_next(TransientMailError("451 try later"), PermanentMailError("550 no such user"))
    result = _deliver(app, mailer)
    assert (result.sent, result.retried, result.failed) == (queued - 2, 1, 1)  # type: ignore[attr-defined]
    with session_scope(app.engine) as session:
        retry = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).one()
        failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
        assert "550" in failed.last_error
        assert retry.not_before == at(date(2026, 12, 3), 9, 6)  # one minute of backoff
    app.clock.set(at(date(2026, 12, 3), 9, 7))
    assert _deliver(app, mailer).sent == 1  # type: ignore[attr-defined]
    ids = [m["Message-ID"] for m in mailer.messages]
    assert len(ids) == len(set(ids)) == queued - 1


def test_an_expired_lease_is_resent_with_the_same_message_id(app: App) -> None:
    _load_examples(app)
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 12, 2)))
    sweep(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        row = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).first()
        assert row is not None
        row.status, row.lease_until = "sending", at(date(2026, 12, 2), 9, 1)  # a crash mid-send
        session.add(row)
        session.commit()
        message_id = row.message_id
    mailer = RecordingMailer()
    app.clock.set(at(date(2026, 12, 2), 9, 2))
    _deliver(app, mailer)
    assert [m["Message-ID"] for m in mailer.messages].count(message_id) == 1


def test_daily_digest_and_weekly_summary_once_per_period(app: App) -> None:
    from engine.escalation.digests import enqueue_digests

    _load_examples(app)
    reported = _first_task(app, "2")
    app.lifecycle.fire(app.engine, reported, "start", "ivanova")
    app.lifecycle.fire(app.engine, reported, "report", "ivanova", comment="Готово")
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 11, 30), 8))  # Monday, before working hours
    assert enqueue_digests(app.engine, app.escalator, app.clock) == 0
    app.clock.set(at(date(2026, 11, 30), 9, 30))
    queued = enqueue_digests(app.engine, app.escalator, app.clock)
    assert enqueue_digests(app.engine, app.escalator, app.clock) == 0  # once a day
    with session_scope(app.engine) as session:
        people = {p.id: p.key for p in session.exec(select(Person))}
        rows = session.exec(
            select(OutboxMessage).where(
                col(OutboxMessage.kind).in_(["daily_digest", "weekly_summary"])
            )
        ).all()
        letters = {(m.kind, people[m.person_id]) for m in rows}  # type: ignore[index]
        ivanova = next(m for m in rows if people[m.person_id] == "ivanova")  # type: ignore[index]
    assert len(rows) == queued
    assert ("daily_digest", "ivanova") in letters  # task 1 due today (30.11)
    assert ("daily_digest", "petrova") in letters  # a report waits for her
    assert ("weekly_summary", "sokolova") in letters  # Monday: the head's summary
    assert ("daily_digest", "zaitsev") in letters  # overdue school tasks
    assert "Выявление" in ivanova.body_text and "просрочено" in ivanova.subject.lower()
    app.clock.set(at(date(2026, 12, 1), 9, 30))  # Tuesday: daily again, no weekly
    enqueue_digests(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        weekly = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "weekly_summary")
        ).all()
    assert len(weekly) == 1


def test_ladder_choice_measure_kind_plan(app: App) -> None:
    _load_examples(app)
    from engine.core.models import Measure, Plan

    with session_scope(app.engine) as session:
        plan = session.exec(select(Plan)).one()
        measures = {m.number: m for m in session.exec(select(Measure))}
        esc = app.escalator
        assert esc.ladder_for(plan, measures["1"]).name == "default"
        assert esc.ladder_for(plan, measures["8"]).name == "continuous"  # "Постоянно"
        plan.ladder = "continuous"
        assert esc.ladder_for(plan, measures["1"]).name == "continuous"
        measures["8"].ladder = "default"
        assert esc.ladder_for(plan, measures["8"]).name == "default"


def test_next_open_on_every_kind_of_day(hours: WorkingHours) -> None:
    # Review finding: the next opening after a Monday evening was Wednesday.
    assert hours.next_open(at(date(2026, 11, 30), 19)) == at(date(2026, 12, 1))  # Mon → Tue
    assert hours.next_open(at(date(2026, 11, 29), 10)) == at(date(2026, 11, 30))  # Sun → Mon
    assert hours.next_open(at(date(2026, 11, 30), 18)) == at(date(2026, 12, 1))  # at closing


def test_due_date_on_a_day_off_is_reminded_on_the_working_day_before(
    app: App, hours: WorkingHours
) -> None:
    # Review finding: "due today" for a Saturday due date fired on Monday and was skipped.
    due = date(2026, 10, 31)  # Saturday
    planned = plan_steps(
        TaskFacts(1, "planned", None, due, None),
        app.ladders["default"],
        hours,
        at(date(2026, 12, 31)),
    )
    fired = {p.step.name: p.fire_at.astimezone(MSK).date() for p in planned}
    assert fired["due_today"] == date(2026, 10, 30)  # Friday
    assert fired["reminder"] == date(2026, 10, 27)
    assert fired["overdue"] == date(2026, 11, 2)  # Monday
    assert all(not p.pre_due or fired[p.step.name] <= due for p in planned)


def test_an_unusable_address_fails_alone(app: App) -> None:
    # Review finding: one bad address raised out of delivery and blocked every letter.
    _load_examples(app)
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 12, 2)))
    sweep(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        rows[0].recipient_email = "ivanova@x.ru;"
        session.add(rows[0])
        session.commit()
        total = len(rows)
    mailer = RecordingMailer()
    result = _deliver(app, mailer)
    assert (result.sent, result.failed) == (total - 1, 1)  # type: ignore[attr-defined]
    with session_scope(app.engine) as session:
        statuses = {m.status for m in session.exec(select(OutboxMessage))}
    assert statuses == {"sent", "failed"}


def test_a_lost_lease_does_not_overwrite_the_new_owner(app: App) -> None:
    # Review finding: a slow daemon marked a row another daemon had re-claimed.
    from engine.escalation.outbox import _claim, _Outcomes, _record

    _load_examples(app)
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 12, 2)))
    sweep(app.engine, app.escalator, app.clock)
    slow = _claim(app.engine, app.clock.now(), 3)
    assert len(slow) == 3
    later = app.clock.now() + timedelta(minutes=6)  # the slow daemon's lease ran out
    fast = _claim(app.engine, later, 2)
    assert [r.id for r in fast] == [r.id for r in slow[:2]]  # re-claimed, oldest first
    assert _record(app.engine, _Outcomes(fast[0].lease_until, sent=[r.id for r in fast]), later)
    late = _Outcomes(
        slow[0].lease_until,
        changed=[(slow[0], {"status": "pending", "attempts": 1, "last_error": "timeout"})],
        sent=[slow[1].id, slow[2].id],
    )
    assert _record(app.engine, late, later) == {slow[2].id}  # only the row still its own
    with session_scope(app.engine) as session:
        rows = [session.get(OutboxMessage, r.id) for r in slow]
        assert [r.status for r in rows if r is not None] == ["sent", "sent", "sent"]
        assert rows[0] is not None and rows[0].last_error == "" and rows[0].attempts == 1


def test_inactive_people_get_no_digest(app: App) -> None:
    from engine.escalation.digests import enqueue_digests

    _load_examples(app)
    with session_scope(app.engine) as session:
        for person in session.exec(select(Person)):
            person.active = person.key != "ivanova"
            session.add(person)
        session.commit()
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 11, 30), 9, 30))
    enqueue_digests(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        people = {p.id: p.key for p in session.exec(select(Person))}
        to = {people[m.person_id] for m in session.exec(select(OutboxMessage))}  # type: ignore[index]
    assert "ivanova" not in to and "zaitsev" in to


def test_weekly_summary_lists_what_was_verified_last_week(app: App) -> None:
    from engine.escalation.digests import enqueue_digests

    _load_examples(app)
    task_id = _first_task(app, "3")  # Лебедев, supervised by Петрова
    assert isinstance(app.clock, FixedClock)
    app.clock.set(at(date(2026, 11, 26), 11))
    app.lifecycle.fire(app.engine, task_id, "start", "lebedev")
    app.lifecycle.fire(app.engine, task_id, "report", "lebedev", comment="Заключения готовы")
    app.lifecycle.fire(app.engine, task_id, "verify", "petrova")
    app.clock.set(at(date(2026, 11, 30), 9, 30))
    enqueue_digests(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        weekly = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "weekly_summary")
        ).one()
    assert "Анализ и экспертиза школьных положений" in weekly.body_text
