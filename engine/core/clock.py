"""Time as an injectable dependency.

Everything that asks "what time is it" takes a :class:`Clock`, so tests and
demonstrations can run the committee's calendar at any date: ``measures --now
2026-12-01T10:00+03:00 ...`` or ``MEASURES_NOW``. Times are always timezone-aware and
stored in UTC; the committee's time zone only decides what "today" means.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from engine.core.errors import ConfigError

NOW_ENV = "MEASURES_NOW"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and ``--now``."""

    def __init__(self, moment: datetime) -> None:
        self._moment = _aware(moment)

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = _aware(moment)

    def advance(self, delta: timedelta) -> None:
        self._moment += delta


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("FixedClock needs a timezone-aware datetime")
    return moment.astimezone(UTC)


def stored_utc(moment: datetime) -> datetime:
    """A timestamp read from the database, in UTC: SQLite hands them back naive (they
    are stored in UTC), PostgreSQL aware."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_now(text: str, zone: ZoneInfo) -> datetime:
    """Read ``--now``: ISO date or date-time; without an offset it is committee time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--now / {NOW_ENV}: ожидается дата или дата-время ISO, например "
            f"2026-12-01 или 2026-12-01T10:00+03:00, а не {text!r}"
        ) from None
    if not 1900 <= moment.year <= 2200:
        raise ConfigError(f"--now / {NOW_ENV}: {text!r} — вне 1900–2200 годов")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def clock_for(now: str | None, zone: ZoneInfo) -> Clock:
    """The clock a command should use: ``--now``, else ``$MEASURES_NOW``, else real time."""
    text = now or os.environ.get(NOW_ENV)
    return FixedClock(parse_now(text, zone)) if text else SystemClock()


def moved_clock(now: str | None) -> bool:
    """Whether ``--now`` or ``$MEASURES_NOW`` moves the clock (see App.writable_engine)."""
    return bool(now or os.environ.get(NOW_ENV))


def local_date(clock: Clock, zone: ZoneInfo) -> date:
    """Today's date in the committee's time zone."""
    return clock.now().astimezone(zone).date()
