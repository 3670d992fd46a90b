"""Facts about the database itself, one row each in ``databaseflag``.

``simulation``: the database is a test or demonstration copy; commands may run at a moved
clock (``--now``) and write. ``calendar``: the fingerprint of the working-day calendar the
stored due dates were computed with (engine.plans.redate).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from engine.core.models import DatabaseFlag

SIMULATION = "simulation"
CALENDAR = "calendar"


def get_flag(session: Session, name: str) -> str | None:
    row = session.get(DatabaseFlag, name)
    return None if row is None else row.value


def set_flag(session: Session, name: str, value: str, now: datetime) -> None:
    """Set or replace a flag; the caller commits."""
    row = session.get(DatabaseFlag, name) or DatabaseFlag(name=name, set_at=now)
    row.value, row.set_at = value, now
    session.add(row)
