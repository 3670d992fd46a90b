"""The deadline's calendar part is written as text (notifications.calendar, for speed):
it must be exactly what the icalendar library writes for the same event, whatever the
plan's wording — commas, semicolons, backslashes, line breaks, long Cyrillic lines
folded between characters, four-byte characters at a fold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from notifications.calendar import PRODID, deadline_calendar, description, summary
from notifications.messages import TaskNotice


def library_calendar(
    notice: TaskNotice, *, uid: str, sequence: int, stamp: datetime, url: str
) -> str:
    """The same event built with the icalendar library (how it was written before); the
    texts it holds are the module's, what is compared is how they are written."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", notice.due)
    event.add("dtend", notice.due + timedelta(days=1))
    event.add("summary", summary(notice))
    event.add("description", description(notice, url))
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    calendar.add_component(event)
    return bytes(calendar.to_ical()).decode("utf-8")


WORDING = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюя АБВ«»№—,;:\\^\n\r.-1")),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    ),
    max_size=400,
)
URL = st.from_regex(r"https://[a-z]{1,20}\.example\.org/l/[A-Za-z0-9_.\-]{0,300}", fullmatch=True)


def _notice(**fields: object) -> TaskNotice:
    base: dict[str, object] = {
        "task_id": 7,
        "plan_title": "План",
        "measure_number": "1",
        "measure_title": "Мероприятие",
        "due": date(2026, 12, 10),
        "state_label": "Запланировано",
        "responsible_name": "Иванова",
        "recipient_name": "Иванова",
        "recipient_email": "i@example.org",
        "committee_name": "Комитет",
        "step": "remind",
        "links": {},
    }
    base.update(fields)
    return TaskNotice(**base)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    plan=WORDING,
    number=st.text(max_size=8),
    title=WORDING,
    target=WORDING,
    result=WORDING,
    url=URL,
    sequence=st.integers(min_value=0, max_value=10**6),
    due=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 30)),
    minutes=st.integers(min_value=0, max_value=10**7),
)
def test_the_written_calendar_is_the_librarys(
    plan: str,
    number: str,
    title: str,
    target: str,
    result: str,
    url: str,
    sequence: int,
    due: date,
    minutes: int,
) -> None:
    notice = _notice(
        plan_title=plan,
        measure_number=number,
        measure_title=title,
        target=target,
        expected_result=result,
        due=due,
    )
    stamp = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    uid = f"task-{sequence}@example.org"
    ours = deadline_calendar(notice, uid=uid, sequence=sequence, stamp=stamp, url=url)
    assert ours == library_calendar(notice, uid=uid, sequence=sequence, stamp=stamp, url=url)
    assert Calendar.from_ical(ours).walk("VEVENT")[0].decoded("dtstart") == due


def test_a_long_cyrillic_line_folds_between_characters() -> None:
    """Hand-checked: 74 octets per part, a Cyrillic letter (2 octets) never split."""
    notice = _notice(measure_title="Ж" * 100)
    text = deadline_calendar(
        notice,
        uid="u",
        sequence=1,
        stamp=datetime(2026, 11, 25, 9, tzinfo=UTC),
        url="https://x.example.org/t",
    )
    summary = text.split("\r\nDTSTART")[0].split("SUMMARY:")[1]
    parts = summary.split("\r\n ")
    assert all(len(p.encode()) <= 74 for p in parts)
    assert "".join(parts) == "Срок: мероприятие № 1 «" + "Ж" * 100 + "»"
