"""The deadline of a task as an iCalendar event, attached to the first reminder.

An all-day event on the due date, so it lands in the recipient's calendar on the right
day whatever their time zone. ``uid`` is stable per task and ``sequence`` grows with the
task's version: a reminder sent after the due date moved carries the same event with a
higher sequence, and calendar programs replace the old date instead of adding a second.

Written as text, byte for byte what the ``icalendar`` library writes for the same event
(tests/test_calendar_text.py builds it with the library and compares, over generated
texts): building it with the library's objects cost 0.35–0.45 ms per letter — 36 % of
a sweep that sends first reminders (py-spy of bench/scale.py's region sweep) — for the
same eleven lines every time. The calendar files people download (engine.reports)
are built with the library.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from notifications.messages import TaskNotice

PRODID = "-//measures//Контроль исполнения планов мероприятий//RU"


def escape_text(value: str) -> str:
    """RFC 5545 TEXT escaping, in the library's order (a literal ``\\N`` is a newline)."""
    return (
        value.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line as the library does: parts of at most ``limit - 1`` octets,
    cut between characters (never inside a UTF-8 sequence), and a backslash or caret
    that would end a part moves to the next one (the library's guard for clients that
    split an escape). Works on the encoded bytes, a step per part, not per character."""
    data = line.encode("utf-8")
    if len(data) < limit:
        return line
    parts: list[bytes] = []
    start = 0
    while len(data) - start >= limit:
        cut = start + limit - 1
        while data[cut] & 0xC0 == 0x80:  # inside a character: back to its first byte
            cut -= 1
        if cut - 1 > start and data[cut - 1] in b"\\^":
            cut -= 1
        parts.append(data[start:cut])
        start = cut
    parts.append(data[start:])
    return "\r\n ".join(part.decode("utf-8") for part in parts)


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def summary(notice: TaskNotice) -> str:
    number = f"№ {notice.measure_number} " if notice.measure_number else ""
    return f"Срок: мероприятие {number}«{notice.measure_title}»"


def description(notice: TaskNotice, url: str) -> str:
    lines = [f"План: {notice.plan_title}"]
    if notice.target:
        lines.append(f"Организация: {notice.target}")
    if notice.expected_result:
        lines.append(f"Ожидаемый результат: {notice.expected_result}")
    lines.append(f"Задача: {url}")
    return "\n".join(lines)


def deadline_calendar(
    notice: TaskNotice, *, uid: str, sequence: int, stamp: datetime, url: str
) -> str:
    """The .ics text (CRLF line endings, as RFC 5545 wants)."""
    moment = stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    content = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(PRODID)}",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"SUMMARY:{escape_text(summary(notice))}",
        f"DTSTART;VALUE=DATE:{_day(notice.due)}",
        f"DTEND;VALUE=DATE:{_day(notice.due + timedelta(days=1))}",
        f"DTSTAMP:{moment}",
        f"UID:{escape_text(uid)}",
        f"SEQUENCE:{sequence}",
        f"DESCRIPTION:{escape_text(description(notice, url))}",
        "TRANSP:TRANSPARENT",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(fold(line) for line in content) + "\r\n"
