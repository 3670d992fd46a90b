"""Working days of the Russian production calendar, with the committee's own corrections.

Deadlines ("в течение 3 рабочих дней") and escalation steps count *working* days, and the
government moves days off around every year (a working Saturday, a Friday off before a
holiday, 31 December off), so weekday arithmetic is wrong several times a year. The
``holidays`` package follows those decrees (through 2027 in 0.107+); what it cannot know —
next year's decree before a release follows it, a regional holiday, a school's six-day week —
comes from the configuration as corrections.

The corrections live in a subclass of the library's calendar that overrides its
``is_working_day``, so the library's own counting (``get_nth_working_day``,
``get_working_days_count``) sees them and no second stepping loop has to be kept in line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from holidays.countries.russia import Russia
from holidays.holiday_base import DateLike

SATURDAY = 5
EXTRA_HOLIDAY_NAME = "Дополнительный нерабочий день (настройка комитета)"


class _CorrectedRU(Russia):
    """The library's Russian calendar with the committee's corrections applied first."""

    def __init__(
        self, off: frozenset[date], on: frozenset[date], six_day_week: bool, **kwargs: Any
    ) -> None:
        self.extra_off = off
        self.extra_on = on
        self.six_day_week = six_day_week
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # untyped in holidays

    def is_working_day(self, key: DateLike) -> bool:
        day = self.__keytransform__(key)
        if day in self.extra_off:
            return False
        if day in self.extra_on:
            return True
        if self.six_day_week and day.weekday() == SATURDAY:
            return day not in self
        return super().is_working_day(day)


class WorkCalendar:
    """The committee's working-day calendar.

    ``six_day_week`` makes Saturday a working day unless it is a holiday. The decreed
    transfers in the library are those of the five-day week; a six-day school whose
    calendar differs lists the exceptions in ``extra_holidays`` / ``extra_working_days``.
    """

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        six_day_week: bool = False,
    ) -> None:
        off = frozenset(extra_holidays)
        on = frozenset(extra_working_days)
        both = sorted(off & on)
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"dates both in extra_holidays and extra_working_days: {listed}")
        self._days = _CorrectedRU(off, on, six_day_week, language="ru")

    def is_working_day(self, day: date) -> bool:
        return self._days.is_working_day(day)

    def holiday_name(self, day: date) -> str | None:
        """Why a day is off, for messages; None for a working day or a plain weekend."""
        if day in self._days.extra_off:
            return EXTRA_HOLIDAY_NAME
        if self.is_working_day(day):
            return None
        name = self._days.get(day)
        return None if name is None else str(name)

    def add_working_days(self, day: date, n: int) -> date:
        """The date ``n`` working days after ``day`` (before it when ``n`` < 0).

        ``day`` itself is never counted: one working day after a Friday is the Monday. With
        ``n`` = 0 the answer is ``day`` when it is a working day and otherwise the next
        working day — "on the day of the event" for an event on a day off means the first
        day people are at work, never a day earlier than the event.
        """
        return self._days.get_nth_working_day(day, n)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        return self.add_working_days(day, -1)

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a working day, else the last working day before it.

        This is where a computed due date on a day off goes: earlier, so that nobody is
        late because of a weekend, and the reminder lands on a day someone reads it.
        """
        return day if self.is_working_day(day) else self.previous_working_day(day)

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days one steps from ``a`` to reach ``b`` (negative if ``b`` < ``a``).

        Counted over (a, b], so that ``add_working_days(a, working_days_between(a, b)) == b``
        for a working day ``b`` — the number an overdue message means by "3 рабочих дня".
        """
        if a == b:
            return 0
        if a < b:
            return self._days.get_working_days_count(a + timedelta(days=1), b)
        return -self._days.get_working_days_count(b, a - timedelta(days=1))
