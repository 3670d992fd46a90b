"""The assessment calendar (ВПР, НИКО, ГИА, ...) that event-bound deadlines refer to.

The CSV (``name,kind,subject,grade,date``) *is* the calendar: importing it replaces the
stored events, so a moved date is a moved date and not a second event. Dates are
``YYYY-MM-DD`` or ``ДД.ММ.ГГГГ``. After an import the caller re-expands event-bound
measures (engine.plans.expand) so their tasks follow the new dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from engine.core.csvfile import read_csv
from engine.core.models import AssessmentEvent
from engine.plans.schedule import EventDate

COLUMNS = ("name", "kind", "subject", "grade", "date")


@dataclass(frozen=True)
class EventsSummary:
    added: int
    removed: int
    unchanged: int


def _date(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def import_events(session: Session, path: Path) -> EventsSummary:
    """Replace the calendar with the file's events; the caller commits."""
    table = read_csv(path, COLUMNS, required=("kind", "date"))
    wanted: set[tuple[str, str, str, str, date]] = set()
    for line, cell in table.rows:
        day = _date(cell["date"])
        if day is None:
            table.problem(
                line, "date", f"ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, а не {cell['date']!r}"
            )
            continue
        if not cell["kind"]:
            table.problem(line, "kind", "пусто; ожидается ВПР, НИКО, ГИА, …")
            continue
        name = cell["name"] or f"{cell['kind']} {cell['subject']} {cell['grade']}".strip()
        wanted.add((cell["kind"].upper(), name, cell["subject"], cell["grade"], day))
    table.raise_problems()
    existing = {
        (e.kind, e.name, e.subject, e.grade, e.date): e
        for e in session.exec(select(AssessmentEvent))
    }
    removed = [e for identity, e in existing.items() if identity not in wanted]
    for event in removed:
        session.delete(event)
    added = wanted - existing.keys()
    for kind, name, subject, grade, day in sorted(added):
        session.add(AssessmentEvent(kind=kind, name=name, subject=subject, grade=grade, date=day))
    session.flush()
    return EventsSummary(len(added), len(removed), len(wanted) - len(added))


def event_dates(session: Session) -> list[EventDate]:
    """The calendar as the schedule module needs it."""
    return [
        EventDate(kind=e.kind, date=e.date, name=e.name)
        for e in session.exec(select(AssessmentEvent).order_by(col(AssessmentEvent.date)))
    ]
