"""Use cases around the reference data: people, schools, the assessment calendar."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.app import App
from engine.core.db import session_scope
from engine.directory.people import ImportSummary as PeopleSummary
from engine.directory.people import import_people
from engine.directory.schools import SchoolsSummary, import_schools
from engine.plans.events import EventsSummary, event_dates, import_events
from engine.plans.expand import TaskChanges
from engine.plans.importing import reexpand_events


def people(app: App, path: Path) -> PeopleSummary:
    """Add or update persons from a directory CSV, in one transaction."""
    with session_scope(app.writable_engine()) as session:
        return import_people(session, path)


def schools(app: App, path: Path) -> SchoolsSummary:
    """Add or update schools with their heads, aliases and risk flags."""
    with session_scope(app.writable_engine()) as session:
        return import_schools(session, path)


@dataclass(frozen=True)
class CalendarImport:
    events: EventsSummary
    tasks: TaskChanges


def assessment_calendar(app: App, path: Path) -> CalendarImport:
    """Replace the assessment calendar; event-bound tasks move with it, in one transaction."""
    with session_scope(app.writable_engine()) as session:
        summary = import_events(session, path)
        changes = reexpand_events(
            session,
            app.calendar,
            event_dates(session),
            app.config.settings.schedule.continuous_cadence,
            app.workflow.initial,
            app.clock.now(),
        )
        session.commit()
    return CalendarImport(summary, changes)
