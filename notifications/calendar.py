"""The deadline of a task as an iCalendar event, attached to the first reminder.

An all-day event on the due date, so it lands in the recipient's calendar on the right
day whatever their time zone. ``uid`` is stable per task and ``sequence`` grows with the
task's version: a reminder sent after the due date moved carries the same event with a
higher sequence, and calendar programs replace the old date instead of adding a second.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from notifications.messages import TaskNotice


def deadline_calendar(
    notice: TaskNotice, *, uid: str, sequence: int, stamp: datetime, url: str
) -> str:
    """The .ics text (CRLF line endings, as RFC 5545 wants)."""
    calendar = Calendar()
    calendar.add("prodid", "-//measures//Контроль исполнения планов мероприятий//RU")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", notice.due)
    event.add("dtend", notice.due + timedelta(days=1))
    number = f"№ {notice.measure_number} " if notice.measure_number else ""
    event.add("summary", f"Срок: мероприятие {number}«{notice.measure_title}»")
    lines = [f"План: {notice.plan_title}"]
    if notice.target:
        lines.append(f"Организация: {notice.target}")
    if notice.expected_result:
        lines.append(f"Ожидаемый результат: {notice.expected_result}")
    lines.append(f"Задача: {url}")
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    calendar.add_component(event)
    return bytes(calendar.to_ical()).decode("utf-8")
