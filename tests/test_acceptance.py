"""Acceptance: a committee runs a plan for a whole school year, alone.

A plan in the style of the samples (an order, a tab-separated table, the committee's own
deadline phrases) for the school year 2020/21, whose calendar has a decree: Указ
Президента РФ от 23.04.2021 № 242 made 4–7 May 2021 non-working, and with 1–3 and 8–10
May the first working day after Friday 30 April was Tuesday 11 May. Also in that year:
Saturday 20 February 2021 was a working day, Monday 22 February a day off (transfer),
23 February and 8 March holidays.

The daemon's day is replayed for every working day: the sweep at 09:00, the digests at
09:30, delivery at 10:00. Every letter is then checked: it left on a working day, its
``Date:`` is the moment it left, its subject decodes (as a mail client does) to exactly the
text written, and its deadline wording names the right dates. The dates expected for
three measures are worked out by hand below, from the calendar — not from the code.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from engine.app import App
from engine.app.directory import assessment_calendar, people
from engine.app.operations import queue_digests, take_due_steps
from engine.app.plans import import_plan
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import Measure, OutboxMessage, Task
from engine.core.workcalendar import WorkCalendar
from notifications import RecordingMailer, format_date_long
from tests.conftest import EXAMPLES

MSK = ZoneInfo("Europe/Moscow")

PLAN = Path(__file__).parent / "fixtures" / "plan_2020_decree.txt"  # a sample-style plan

#: Hand-computed: the day each letter about measures 1–3 leaves (default ladder:
#: reminder −3, due today 0, overdue +1, supervisor +3, head +10 working days).
EXPECTED = {
    # До 28 февраля 2021 (Sunday) → effectively Friday 26 February. Three working days
    # before: 25, 24 and the working Saturday 20 (22–23 off). After: 1 March (Mon),
    # +3 = 3 March, +10 = 15 March (8 March a holiday).
    "1": {
        "reminder": date(2021, 2, 20),
        "due_today": date(2021, 2, 26),
        "overdue": date(2021, 3, 1),
        "escalation_supervisor": date(2021, 3, 3),
        "escalation_head": date(2021, 3, 15),
    },
    # До 5 мая 2021 (a decree day) → effectively Friday 30 April. Before: 29, 28, 27
    # April. After: 11 May (1–10 May off), +3 = 13 May, +10 = 24 May.
    "2": {
        "reminder": date(2021, 4, 27),
        "due_today": date(2021, 4, 30),
        "overdue": date(2021, 5, 11),
        "escalation_supervisor": date(2021, 5, 13),
        "escalation_head": date(2021, 5, 24),
    },
    # ВПР on Thursday 29 April 2021 + 3 working days = 30 April, 11 May, 12 May. The
    # reminder 3 working days before 12 May: 11 May, 30 April, 29 April.
    "3": {
        "reminder": date(2021, 4, 29),
        "due_today": date(2021, 5, 12),
        "overdue": date(2021, 5, 13),
        "escalation_supervisor": date(2021, 5, 17),
        "escalation_head": date(2021, 5, 26),
    },
}
EFFECTIVE = {"1": date(2021, 2, 26), "2": date(2021, 4, 30), "3": date(2021, 5, 12)}
WRITTEN = {"1": date(2021, 2, 28), "2": date(2021, 5, 5), "3": date(2021, 5, 12)}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MSK).astimezone(UTC)


def _decoded_subject(raw: bytes) -> str:
    """The subject as a mail client shows it (RFC 2047 decoding, the classic parser)."""
    return str(
        make_header(decode_header(message_from_bytes(raw, policy=policy.compat32)["Subject"]))
    )


def test_a_school_year_with_decree_days(app: App, tmp_path: Path) -> None:
    assert isinstance(app.clock, FixedClock)
    clock = app.clock
    clock.set(at(date(2020, 9, 1), 9))
    people(app, EXAMPLES / "people.csv")
    import_plan(app, PLAN, dry_run=False)
    events = tmp_path / "events.csv"
    events.write_text(
        "name,kind,subject,grade,date\nВПР по математике,ВПР,математика,5,29.04.2021\n",
        encoding="utf-8",
    )
    assessment_calendar(app, events)

    calendar = WorkCalendar()  # the shipped production calendar with its decree days
    mailer = RecordingMailer()
    sent_on: dict[str, date] = {}  # Message-ID → the day it left
    day = date(2020, 9, 1)
    while day <= date(2021, 8, 31):
        if calendar.is_working_day(day):
            clock.set(at(day, 9))
            take_due_steps(app)
            clock.set(at(day, 9, 30))
            queue_digests(app)
            clock.set(at(day, 10))
            before = len(mailer.messages)
            asyncio.run(app.deliver(mailer))
            for message in mailer.messages[before:]:
                sent_on[str(message["Message-ID"])] = day
        day += timedelta(days=1)

    with session_scope(app.engine) as session:
        rows = {row.message_id: row for row in session.exec(select(OutboxMessage))}
        number_of = {
            task.id: measure.number
            for task, measure in session.exec(select(Task, Measure).join(Measure))
        }
    assert len(mailer.messages) == len(rows) > 40
    assert {row.status for row in rows.values()} == {"sent"}

    seen: dict[str, dict[str, date]] = {}
    for message in mailer.messages:
        row = rows[str(message["Message-ID"])]
        left = sent_on[row.message_id]
        # Left on a working day — never 4–7 May 2021 — and says so in its Date: header.
        assert calendar.is_working_day(left) and not date(2021, 5, 1) <= left <= date(2021, 5, 10)
        assert parsedate_to_datetime(str(message["Date"])) == at(left, 10)
        # The subject survives folding and decoding, space for space.
        subject = _decoded_subject(message.as_bytes())
        assert subject == row.subject and "  " not in subject
        text = message.get_body(("plain",)).get_content()
        if row.task_id is None:  # a digest or the weekly summary
            for written, effective in re.findall(
                r"срок (\d\d\.\d\d\.\d{4}) \(..\) — фактически (\d\d\.\d\d\.\d{4})", text
            ):
                wd, ed = (datetime.strptime(x, "%d.%m.%Y").date() for x in (written, effective))
                assert not calendar.is_working_day(wd) and ed == calendar.on_or_before(wd)
            continue
        number = number_of[row.task_id]
        seen.setdefault(number, {})[row.kind] = left
        if number not in EFFECTIVE:
            continue
        effective, written = EFFECTIVE[number], WRITTEN[number]
        assert f"Срок исполнения: {format_date_long(effective)}" in text
        if written != effective:
            assert f"по плану — {format_date_long(written)}" in text
        if row.kind == "due_today":
            assert f"Сегодня, {format_date_long(left)}, истекает срок" in text
            assert left == effective
        if row.kind == "reminder":
            days = {date(2021, 2, 20): 3, date(2021, 4, 27): 3, date(2021, 4, 29): 3}[left]
            assert f"через {days} рабочих дня, {format_date_long(effective)}" in text

    for number, kinds in EXPECTED.items():
        assert seen[number] == kinds, number
    # The digests said «фактически» for the Sunday deadline while it came near.
    digest_texts = [
        m.get_body(("plain",)).get_content()
        for m in mailer.messages
        if m["X-Measures-Kind"] == "daily_digest"
        and sent_on[str(m["Message-ID"])] == date(2021, 2, 24)
    ]
    assert any(
        "срок 28.02.2021 (вс) — фактически 26.02.2021 (пт), через 2 рабочих дня" in t
        for t in digest_texts
    )
