"""Letters and dates a committee reads: the effective deadline of a date written on a day
off, letters that are out of date before they can leave, weekly summary windows, and
subjects that survive folding.

Every expected date is worked out by hand on the production calendar of 2027: 20 February
(Saturday) is a working day, 22 February a transferred day off, 23 February a holiday,
8 March a holiday.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from engine.app import App
from engine.app.operations import queue_digests, take_due_steps
from engine.app.plans import import_plan
from engine.app.tasks import list_tasks
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import EscalationStep, Measure, OutboxMessage, Person, Task
from engine.directory.people import import_people
from notifications import RecordingMailer, RenderedMessage, build_message
from tests.conftest import EXAMPLES

MSK = ZoneInfo("Europe/Moscow")

PLAN = (
    "**План мероприятий по обеспечению объективности на 2026-2027 учебный год**\n\n"
    "№ п/п\tНаименование мероприятия\tСроки исполнения\tОтветственный исполнитель\t"
    "Ожидаемый результат\n"
    "1.\tПодготовить справку о результатах\tДо 28 февраля 2027 г.\tРМК\tСправка\n"
    "2.\tПровести совещание с руководителями\tДо 7 марта 2027 г.\tРМК\tПротокол\n"
    "3.\tСдать отчёт о наставничестве\tДо 3 марта 2027 г.\tРМК\tОтчёт\n"
)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MSK).astimezone(UTC)


def _set(app: App, moment: datetime) -> None:
    assert isinstance(app.clock, FixedClock)
    app.clock.set(moment)


@pytest.fixture
def planned(app: App, tmp_path: Path) -> App:
    _set(app, at(date(2026, 9, 1)))
    with session_scope(app.engine) as session:
        import_people(session, EXAMPLES / "people.csv")
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    import_plan(app, path, dry_run=False)
    return app


def _task(app: App, number: str) -> int:
    with session_scope(app.engine) as session:
        task = session.exec(select(Task).join(Measure).where(Measure.number == number)).one()
        assert task.id is not None
        return task.id


def _letters(app: App, kind: str | None = None) -> list[OutboxMessage]:
    with session_scope(app.engine) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(session.exec(query))


def _deliver(app: App, mailer: RecordingMailer) -> object:
    return asyncio.run(app.deliver(mailer))


# ----------------------------------------------------------------- 1. effective deadline


def test_due_today_for_a_sunday_deadline_names_the_friday(planned: App) -> None:
    # Review finding: the letter went out on Friday 26.02 but said «Сегодня, 28 февраля».
    first = _task(planned, "1")
    _set(planned, at(date(2027, 2, 26)))
    take_due_steps(planned)
    letter = next(m for m in _letters(planned, "due_today") if m.task_id == first)
    assert "Сегодня, 26 февраля 2027 г., истекает срок" in letter.body_text
    assert "по плану — 28 февраля 2027 г., воскресенье" in letter.body_text
    assert "Сегодня, 28 февраля" not in letter.body_text
    assert "26.02.2027" in letter.subject


def test_the_reminder_counts_to_the_effective_deadline(planned: App) -> None:
    first = _task(planned, "1")
    # Three working days before Friday 26 February: 25, 24 and the working Saturday 20.
    _set(planned, at(date(2027, 2, 20)))
    take_due_steps(planned)
    letter = next(m for m in _letters(planned, "reminder") if m.task_id == first)
    assert "через 3 рабочих дня, 26 февраля 2027 г., истекает срок" in letter.body_text


def test_the_digest_shows_both_dates_and_counts_due_soon_by_the_effective_one(
    planned: App,
) -> None:
    # Tuesday 2 March: due soon means by 5 March (3 working days). Measure 2 is written
    # for Sunday 7 March, effectively Friday 5 March: due soon. Measure 1 (Sunday 28
    # February, effectively Friday 26) is overdue by 2 working days (1 and 2 March).
    _set(planned, at(date(2027, 3, 2), 9, 30))
    queue_digests(planned)
    with session_scope(planned.engine) as session:
        ivanova = session.exec(select(Person).where(Person.key == "ivanova")).one()
    digest = next(m for m in _letters(planned, "daily_digest") if m.person_id == ivanova.id)
    text = digest.body_text
    assert "срок 07.03.2027 (вс) — фактически 05.03.2027 (пт), через 3 рабочих дня" in text
    assert "срок 28.02.2027 (вс) — фактически 26.02.2027 (пт), просрочено на 2 рабочих дня" in (
        text
    )
    assert "срок подходит — 2" in digest.subject  # measures 2 and 3 (3 March)


def test_tasks_show_the_effective_deadline_and_are_overdue_after_it(planned: App) -> None:
    _set(planned, at(date(2027, 3, 6), 12))  # Saturday after the effective Friday 5 March
    rows = {row.measure_number: row for row in list_tasks(planned)}
    assert rows["2"].due_date == date(2027, 3, 7)
    assert rows["2"].effective_due == date(2027, 3, 5)
    assert rows["2"].overdue
    overdue = [row.measure_number for row in list_tasks(planned, overdue=True)]
    assert overdue == ["1", "3", "2"]
    assert rows["3"].effective_due == rows["3"].due_date == date(2027, 3, 3)


def test_the_review_shows_the_effective_deadline(app: App, tmp_path: Path) -> None:
    _set(app, at(date(2026, 9, 1)))
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    review = import_plan(app, path, dry_run=True).review
    occurrence = review.measures[0].schedule["occurrences"][0]
    assert occurrence == {"start": None, "due": "2027-02-28", "effective_due": "2027-02-26"}
    assert review.measures[2].schedule["occurrences"][0] == {"start": None, "due": "2027-03-03"}


# ------------------------------------------------------------------- 6. stale letters


def test_a_friday_evening_reminder_speaks_of_the_day_it_leaves(planned: App) -> None:
    # Review finding: a reminder computed on Friday evening said «через 3 рабочих дня»
    # and arrived on Monday. Measure 3 is due Wednesday 3 March; its reminder falls on
    # Friday 26 February. Found at 19:00 it can leave on Monday 1 March: 2 days left.
    third = _task(planned, "3")
    _set(planned, at(date(2027, 2, 26), 19))
    take_due_steps(planned)
    letter = next(m for m in _letters(planned, "reminder") if m.task_id == third)
    assert letter.not_before == at(date(2027, 3, 1))
    assert "через 2 рабочих дня, 3 марта 2027 г., истекает срок" in letter.body_text
    # Measure 1's «due today» (Friday 26) cannot arrive on its day any more: skipped.
    with session_scope(planned.engine) as session:
        step = session.exec(
            select(EscalationStep).where(
                EscalationStep.task_id == _task(planned, "1"), EscalationStep.step == "due_today"
            )
        ).one()
    assert step.skipped
    mailer = RecordingMailer()
    _set(planned, at(date(2027, 3, 1), 9, 0))
    _deliver(planned, mailer)
    sent = {m["X-Measures-Task"]: m for m in mailer.messages}
    assert parsedate_to_datetime(sent[str(third)]["Date"]) == at(date(2027, 3, 1))


def test_letters_that_missed_their_day_are_rewritten_or_dropped(planned: App) -> None:
    first, third = _task(planned, "1"), _task(planned, "3")
    _set(planned, at(date(2027, 2, 26)))  # Friday 09:00: due today (1), reminder (3)
    take_due_steps(planned)
    # Nothing left on Friday (the mail server was down); Monday 1 March it works again.
    mailer = RecordingMailer()
    _set(planned, at(date(2027, 3, 1), 10))
    _deliver(planned, mailer)
    rows = {(m.task_id, m.kind): m for m in _letters(planned)}
    due_today, reminder = rows[(first, "due_today")], rows[(third, "reminder")]
    assert due_today.status == "dropped"
    assert due_today.note.startswith("Устарело: срок 26.02.2027 уже наступил")
    assert reminder.status == "sent"
    assert "через 2 рабочих дня, 3 марта 2027 г." in reminder.body_text
    assert reminder.note == "Текст обновлён на 01.03.2027: письмо не ушло в свой день."
    sent = [m for m in mailer.messages if m["X-Measures-Kind"] == "reminder"]
    assert len(sent) == 1 and "через 2 рабочих дня" in sent[0].get_body(("plain",)).get_content()
    assert [m["X-Measures-Kind"] for m in mailer.messages].count("due_today") == 0


def test_a_digest_that_could_not_leave_on_its_day_is_dropped(planned: App) -> None:
    # Review finding: a digest queued after hours arrived next morning beside that
    # morning's own.
    _set(planned, at(date(2027, 2, 25), 19))  # Thursday evening: too late for today's
    assert queue_digests(planned) == 0
    _set(planned, at(date(2027, 2, 25), 10))
    thursday = queue_digests(planned)
    assert thursday > 0
    _set(planned, at(date(2027, 2, 26), 9, 30))  # Friday: Thursday's did not leave
    friday = queue_digests(planned)
    mailer = RecordingMailer()
    _deliver(planned, mailer)
    digests = _letters(planned, "daily_digest")
    assert [m.status for m in digests] == ["dropped"] * thursday + ["sent"] * friday
    assert digests[0].note == (
        "Устарело: сводка на 25.02.2027 не ушла в свой день; её заменяет следующая сводка."
    )
    subjects = [
        str(m["Subject"]) for m in mailer.messages if m["X-Measures-Kind"] == "daily_digest"
    ]
    assert subjects and all("26.02.2027" in s for s in subjects)


# --------------------------------------------------------------- 5. weekly summary windows


def test_every_day_belongs_to_exactly_one_weekly_summary(planned: App, tmp_path: Path) -> None:
    # Review finding: after a holiday Monday the summary covered 8 days and repeated one.
    # 22–23 February 2027 are off (the summary goes out on Wednesday 24), and 1–10
    # January 2027 are off entirely (no summary that week).
    late = tmp_path / "late.txt"  # an overdue task, so that no summary is empty
    late.write_text(
        PLAN.replace("по обеспечению объективности", "по наставничеству").replace(
            "До 28 февраля 2027 г.", "До 1 декабря 2026 г."
        ),
        encoding="utf-8",
    )
    import_plan(planned, late, dry_run=False)
    with session_scope(planned.engine) as session:
        head = session.exec(select(Person).where(Person.key == "sokolova")).one()
        head.email = "sokolova@example.org"
        session.add(head)
        session.commit()
    day = date(2026, 12, 1)
    while day <= date(2027, 3, 20):
        _set(planned, at(day, 10))
        queue_digests(planned)
        day += timedelta(days=1)
    periods = []
    for letter in _letters(planned, "weekly_summary"):
        found = re.search(r"(\d\d\.\d\d\.\d{4})–(\d\d\.\d\d\.\d{4})", letter.subject)
        assert found is not None
        start, end = (datetime.strptime(g, "%d.%m.%Y").date() for g in found.groups())
        periods.append((letter.created_at.astimezone(MSK).date(), start, end))
    sent_on = {sent: (start, end) for sent, start, end in periods}
    assert sent_on[date(2027, 2, 24)] == (date(2027, 2, 15), date(2027, 2, 21))
    assert sent_on[date(2027, 3, 1)] == (date(2027, 2, 22), date(2027, 2, 28))
    assert sent_on[date(2027, 1, 11)] == (date(2026, 12, 28), date(2027, 1, 10))
    for (_, _, end), (_, start, _) in itertools.pairwise(periods):
        assert start == end + timedelta(days=1)  # no gap, no overlap


# --------------------------------------------------------------------- 7. folded subjects

_WORDS = [
    "Сводка",
    "по",
    "мероприятиям",
    "на",
    "30.11.2026:",
    "просрочено",
    "—",
    "3,",
    "срок",
    "подходит",
    "—",
    "5,",
    "ожидают",
    "проверки",
    "—",
    "1",
    "по",
    "плану",
    "ОО",
    "по",
    "итогам",
    "ВПР",
    "мероприятия",
    "школ",
    "№",
    "2",
    "«Средняя",
    "школа»",
]


def _subjects(count: int) -> list[str]:
    rng = random.Random(20261127)
    found = []
    for _ in range(count):
        words = list(_WORDS)
        rng.shuffle(words)
        found.append(" ".join(words[: rng.randint(6, len(words))]))
    return found


@pytest.mark.parametrize("subject", _subjects(300), ids=[f"s{n}" for n in range(300)])
def test_a_folded_subject_decodes_to_the_same_words(subject: str) -> None:
    # Review finding: «мероприятиямна», «ООпо» — a space lost where the header was folded.
    message = build_message(
        RenderedMessage(subject, "текст", "<p>текст</p>"),
        sender="measures@example.org",
        sender_name="Комитет по образованию администрации Заречного муниципального района",
        recipient_name="Иванова Мария Петровна",
        recipient_email="ivanova@example.org",
        message_id="<step.1.2@example.org>",
        date=datetime(2026, 11, 30, 9, tzinfo=MSK),
    )
    raw = message.as_bytes()
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.splitlines())
    # Python's modern parser, and the classic one every older client library follows
    # (RFC 2047: whitespace between two encoded words is not part of the text).
    assert str(message_from_bytes(raw, policy=policy.default)["Subject"]) == subject
    classic = message_from_bytes(raw, policy=policy.compat32)
    assert str(make_header(decode_header(classic["Subject"]))) == subject
    assert str(make_header(decode_header(classic["From"]))).startswith(
        "Комитет по образованию администрации Заречного муниципального района"
    )
