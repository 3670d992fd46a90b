"""Use cases around the working-day calendar: has it changed since the dates were
computed, and re-dating the stored tasks with a review of what moves."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from engine.app import App
from engine.core.db import finish, session_scope
from engine.core.flags import CALENDAR, get_flag, set_flag
from engine.plans.events import event_dates
from engine.plans.redate import (
    COMPUTED_KINDS,
    Redated,
    fingerprint,
    fingerprint_span,
    plans_span,
    redate,
)


def current_fingerprint(app: App, session: Session) -> str | None:
    span = plans_span(session)
    return None if span is None else fingerprint(app.calendar, span)


def calendar_changed(app: App, session: Session) -> bool:
    """Whether the calendar differs, over the days the stored dates were computed for,
    from the one they were computed with. More plans are not a change of the calendar."""
    stored = get_flag(session, CALENDAR)
    if stored is None:
        return False
    span = fingerprint_span(stored)
    if span is None:  # stored by an older release: compare over today's plans
        return stored != current_fingerprint(app, session)
    return stored != fingerprint(app.calendar, span)


def remember_calendar(app: App, session: Session, *, only_if_unset: bool) -> None:
    """Record that the stored dates follow the current calendar (the caller commits).

    ``only_if_unset`` (after an import): the days of a new plan join the fingerprint,
    unless the calendar has changed since — then the warning stays until a redate.
    """
    if only_if_unset and calendar_changed(app, session):
        return
    stored = get_flag(session, CALENDAR)
    span = plans_span(session)
    known = fingerprint_span(stored) if stored else None
    if span is None:
        return
    if known is not None:
        span = (min(span[0], known[0]), max(span[1], known[1]))
    value = fingerprint(app.calendar, span)
    if value != stored:
        set_flag(session, CALENDAR, value, app.clock.now())


def redate_now(app: App, session: Session, kinds: Collection[str] = COMPUTED_KINDS) -> Redated:
    """Recompute the stored dates of measures of ``kinds`` (the caller commits)."""
    return redate(
        session,
        app.calendar,
        event_dates(session),
        app.config.settings.schedule.continuous_cadence,
        app.workflow.initial,
        app.clock.now(),
        kinds,
    )


def redate_calendar(app: App, *, dry_run: bool) -> Redated:
    """Recompute every computed due date on the current calendar; list what moves.

    A dry run shows the same list and writes nothing.
    """
    with session_scope(app.engine_for(dry_run)) as session:
        result = redate_now(app, session)
        if not dry_run:
            remember_calendar(app, session, only_if_unset=False)
        finish(session, dry_run=dry_run)
    return result
