"""Calendar feeds: a person's deadlines and a plan's, read back with icalendar."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar

from engine.app import App
from engine.app.reports import person_calendar, plan_calendar
from engine.core.errors import NotFound
from tests.report_scenario import Scenario, build


@pytest.fixture
def scenario(app: App) -> Scenario:
    return build(app)


def _events(content: bytes) -> list[dict[str, object]]:
    calendar = Calendar.from_ical(content)
    return [
        {
            "uid": str(e["uid"]),
            "start": e.decoded("dtstart"),
            "end": e.decoded("dtend"),
            "summary": str(e["summary"]),
            "status": str(e.get("status", "")),
            "description": str(e["description"]),
        }
        for e in calendar.walk("VEVENT")
    ]


def test_person_feed_has_their_deadlines(app: App, scenario: Scenario) -> None:
    events = _events(person_calendar(app, "ivanova"))
    # 1, 2, 3 ×2, 4, 6 (cancelled), 8 — not 7 (detached), not the schools' tasks
    assert [e["start"] for e in events] == [
        date(2026, 10, 30), date(2026, 11, 2), date(2026, 11, 6), date(2026, 11, 10),
        date(2026, 12, 1), date(2026, 12, 15), date(2027, 2, 1),
    ]  # fmt: skip
    assert all(e["end"] == e["start"].fromordinal(e["start"].toordinal() + 1) for e in events)  # type: ignore[attr-defined]
    by_task = {e["uid"].split("@")[0]: e for e in events}
    assert set(by_task) == {
        f"measures-task-{scenario.tasks[k]}" for k in ("1", "2", "3.1", "3.2", "4", "6", "8")
    }
    first = by_task[f"measures-task-{scenario.tasks['1']}"]
    assert str(first["summary"]).startswith("[Исполнено] Срок: 1. Выявление")
    assert "Состояние: Проверено" in str(first["description"])
    assert by_task[f"measures-task-{scenario.tasks['6']}"]["status"] == "CANCELLED"
    school = _events(person_calendar(app, "kuznetsov@example.org"))
    assert [(e["start"], e["summary"]) for e in school] == [
        (
            date(2026, 11, 20),
            "[Исполнено] Срок: 5. Оказание адресной помощи педагогам — МБОУ «СШ № 1»",
        )
    ]


def test_plan_feed_has_one_event_per_measure_and_occurrence(app: App, scenario: Scenario) -> None:
    events = _events(plan_calendar(app, scenario.plan_id))
    # 1, 2, 3 (two occurrences), 4, 5 (three schools, one event), 6, 8; 7 is detached
    assert [str(e["summary"]).split(".")[0] for e in events] == [
        "Срок: 1", "Срок: 2", "Срок: 3", "Срок: 3", "Срок: 4", "Срок: 5", "Срок: 6", "Срок: 8",
    ]  # fmt: skip
    fan_out = events[5]
    assert fan_out["start"] == date(2026, 11, 20)
    assert "Задач: 3; исполнено: 1; отменено: 0" in str(fan_out["description"])
    assert events[6]["status"] == "CANCELLED"
    assert len({e["uid"] for e in events}) == 8
    with pytest.raises(NotFound):
        plan_calendar(app, 999)
