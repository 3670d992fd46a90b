"""Use cases around the reference data: people, schools, the assessment calendar."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from engine.app import App
from engine.app.calendar import redate_now
from engine.core.db import finish, session_scope
from engine.core.models import AssessmentEvent, Deputy, Person, RiskFlag, School, pk
from engine.directory.people import ImportSummary as PeopleSummary
from engine.directory.people import import_people
from engine.directory.schools import SchoolsSummary, import_schools
from engine.plans.events import EventsSummary, import_events
from engine.plans.expand import TaskChanges


def people(app: App, path: Path, *, dry_run: bool = False) -> PeopleSummary:
    """Add or update persons from a directory CSV, in one transaction (or only check)."""
    with session_scope(app.engine_for(dry_run)) as session:
        return import_people(session, path, dry_run=dry_run)


def schools(app: App, path: Path, *, dry_run: bool = False) -> SchoolsSummary:
    """Add or update schools with their heads, aliases and risk flags (or only check)."""
    with session_scope(app.engine_for(dry_run)) as session:
        return import_schools(session, path, dry_run=dry_run)


@dataclass(frozen=True)
class CalendarImport:
    events: EventsSummary
    tasks: TaskChanges


def assessment_calendar(app: App, path: Path, *, dry_run: bool = False) -> CalendarImport:
    """Replace the assessment calendar; event-bound tasks move with it, in one transaction.

    ``dry_run`` computes the same summary and rolls it back.
    """
    with session_scope(app.engine_for(dry_run)) as session:
        summary = import_events(session, path)
        changes = redate_now(app, session, kinds=("event",)).changes
        finish(session, dry_run=dry_run)
    return CalendarImport(summary, changes)


@dataclass(frozen=True)
class PersonRow:
    key: str
    name: str
    position: str
    email: str
    roles: tuple[str, ...]
    active: bool
    deputies: tuple[str, ...]  # "orlova 21.12.2026–15.01.2027"


def list_people(app: App) -> list[PersonRow]:
    """The directory of persons with their roles and deputy periods, by key."""
    with session_scope(app.ready_engine()) as session:
        people = list(session.exec(select(Person).order_by(col(Person.key))))
        keys = {p.id: p.key for p in people}
        periods: dict[int, list[str]] = {}
        for d in session.exec(select(Deputy).order_by(col(Deputy.starts))):
            periods.setdefault(d.person_id, []).append(
                f"{keys.get(d.deputy_id, d.deputy_id)} {d.starts:%d.%m.%Y}–{d.ends:%d.%m.%Y}"
            )
        return [
            PersonRow(
                p.key,
                p.name,
                p.position,
                p.email,
                tuple(p.roles),
                p.active,
                tuple(periods.get(pk(p), ())),
            )
            for p in people
        ]


@dataclass(frozen=True)
class SchoolRow:
    key: str
    name: str
    short_name: str
    head: str | None  # the head's name
    flags: tuple[str, ...]  # "non_objective 2026"


def list_schools(app: App) -> list[SchoolRow]:
    with session_scope(app.ready_engine()) as session:
        heads = {p.id: p.name for p in session.exec(select(Person))}
        flags: dict[int, list[str]] = {}
        for flag in session.exec(select(RiskFlag)):
            flags.setdefault(flag.school_id, []).append(
                f"{flag.kind} {flag.year}" if flag.year else flag.kind
            )
        return [
            SchoolRow(
                s.key,
                s.name,
                s.short_name,
                heads.get(s.head_id) if s.head_id else None,
                tuple(flags.get(pk(s), ())),
            )
            for s in session.exec(select(School).order_by(col(School.key)))
        ]


def list_events(app: App) -> list[AssessmentEvent]:
    """The assessment calendar by date."""
    with session_scope(app.ready_engine()) as session:
        return list(
            session.exec(
                select(AssessmentEvent).order_by(
                    col(AssessmentEvent.date), col(AssessmentEvent.kind)
                )
            )
        )
