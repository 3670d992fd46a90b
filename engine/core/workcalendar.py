"""Working days of the Russian production calendar, with the committee's own corrections.

Deadlines ("в течение 3 рабочих дней") and escalation steps count *working* days, and the
government moves days off around every year (a working Saturday, a Friday off before a
holiday, 31 December off), so weekday arithmetic is wrong several times a year. The
``holidays`` package follows those decrees (through 2027 in 0.107+); what it cannot know —
next year's decree before a release follows it, a regional holiday, a school's six-day week —
comes from the configuration as corrections.

The corrections live in a subclass of the library's calendar that overrides its
``is_working_day``: that is the *definition* of a working day. Counting does not step
through it day by day (the sweep asks the calendar tens of times per task): the days of a
range of years are laid out once as a sorted array of working days, and adding or counting
working days is a ``bisect`` and an index into it. The range grows by whole years when a
date outside it is asked for; a test compares the arithmetic with the day-by-day
definition.

Days the President declared non-working by decree ("нерабочие дни с сохранением
заработной платы": spring 2020, 4–7 May 2021, 30 October – 7 November 2021) are not in
the library at all; they ship as data in ``calendar_decrees.toml`` beside this module,
each with its act, and count as days off like the configured extra holidays.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from holidays.countries.russia import Russia
from holidays.holiday_base import DateLike

from engine.core import tomlfile
from engine.core.errors import ConfigError

SATURDAY = 5
#: Years laid out at once around the first date asked for, and added when one outside
#: is asked for; dates outside ``_FAR`` are counted day by day (nobody plans there).
_SPAN_YEARS = 2
_FAR = (date(1900, 1, 1).toordinal(), date(2200, 12, 31).toordinal())
EXTRA_HOLIDAY_NAME = "Дополнительный нерабочий день (настройка комитета)"
DECREES_FILE = Path(__file__).with_name("calendar_decrees.toml")


def load_decrees(path: Path) -> dict[date, str]:
    """Day → the act that made it non-working, from a ``[[decree]]`` file."""
    data, text = tomlfile.load(path, ConfigError)
    entries = data.get("decree", [])
    if set(data) - {"decree"} or not isinstance(entries, list):
        raise ConfigError(f"{path}: ожидаются только таблицы [[decree]]")
    days: dict[date, str] = {}
    for index, entry in enumerate(entries):
        where = tomlfile.where_item(path, text, "decree", index)
        if not isinstance(entry, dict) or set(entry) != {"act", "first", "last"}:
            raise ConfigError(f"{where}: ожидаются ключи act, first, last")
        act, first, last = entry["act"], entry["first"], entry["last"]
        if not isinstance(act, str) or not act.strip():
            raise ConfigError(f"{where}: act: ожидается название и номер указа")
        if not (isinstance(first, date) and isinstance(last, date)):
            raise ConfigError(f"{where}: first, last: ожидаются даты ГГГГ-ММ-ДД")
        if last < first:
            raise ConfigError(f"{where}: период кончается раньше, чем начинается ({first}..{last})")
        for offset in range((last - first).days + 1):
            days.setdefault(first + timedelta(days=offset), act)
    return days


@cache
def bundled_decrees() -> Mapping[date, str]:
    """The decree days shipped with the program (``calendar_decrees.toml``)."""
    return load_decrees(DECREES_FILE)


class _CorrectedRU(Russia):
    """The library's Russian calendar with the committee's corrections applied first."""

    def __init__(
        self,
        off: frozenset[date],
        on: frozenset[date],
        six_day_week: bool,
        decrees: Mapping[date, str],
        **kwargs: Any,
    ) -> None:
        self.decrees = decrees
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
        if day in self.decrees:
            return False
        if self.six_day_week and day.weekday() == SATURDAY:
            return day not in self
        return super().is_working_day(day)


@dataclass(frozen=True)
class _Layout:
    """Whole years ``first``..``last`` of the calendar: a flag per day and the sorted
    ordinals of the working days. Replaced as a whole when it grows (threads read it)."""

    first: int  # ordinal of 1 January of the first year
    last: int  # ordinal of 31 December of the last year
    working: bytes  # 1 for a working day, indexed by ordinal - first
    days: array[int]  # ordinals of the working days, ascending


def _lay_out(definition: _CorrectedRU, first_year: int, last_year: int) -> _Layout:
    first = date(first_year, 1, 1).toordinal()
    last = date(last_year, 12, 31).toordinal()
    flags = bytes(definition.is_working_day(date.fromordinal(o)) for o in range(first, last + 1))
    days = array("i", (first + i for i, flag in enumerate(flags) if flag))
    return _Layout(first, last, flags, days)


class WorkCalendar:
    """The committee's working-day calendar.

    ``six_day_week`` makes Saturday a working day unless it is a holiday. The decreed
    transfers in the library are those of the five-day week; a six-day school whose
    calendar differs lists the exceptions in ``extra_holidays`` / ``extra_working_days``.
    ``decrees`` (day → act) defaults to the shipped decree file; the configured extra
    working days win over it, as over everything else.
    """

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        six_day_week: bool = False,
        decrees: Mapping[date, str] | None = None,
    ) -> None:
        off = frozenset(extra_holidays)
        on = frozenset(extra_working_days)
        both = sorted(off & on)
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"dates both in extra_holidays and extra_working_days: {listed}")
        chosen = bundled_decrees() if decrees is None else decrees
        self._days = _CorrectedRU(off, on, six_day_week, chosen, language="ru")
        self._layout: _Layout | None = None
        self._growing = threading.Lock()

    # -- the laid-out years -------------------------------------------------------------

    def _covering(self, first: int, last: int) -> _Layout | None:
        """A layout holding the ordinals ``first``..``last``, grown if needed; None when
        they lie outside the years worth laying out."""
        layout = self._layout
        if layout is not None and layout.first <= first and last <= layout.last:
            return layout
        if first < _FAR[0] or last > _FAR[1]:
            return None
        with self._growing:
            layout = self._layout
            low = date.fromordinal(first).year - 1
            high = date.fromordinal(last).year + _SPAN_YEARS
            if layout is not None:
                low = min(low, date.fromordinal(layout.first).year)
                high = max(high, date.fromordinal(layout.last).year)
                if layout.first <= first and last <= layout.last:
                    return layout
            layout = _lay_out(self._days, low, high)
            self._layout = layout
            return layout

    def is_working_day(self, day: date) -> bool:
        ordinal = day.toordinal()
        layout = self._covering(ordinal, ordinal)
        if layout is None:
            return self._days.is_working_day(day)
        return bool(layout.working[ordinal - layout.first])

    def holiday_name(self, day: date) -> str | None:
        """Why a day is off, for messages; None for a working day or a plain weekend."""
        if day in self._days.extra_off:
            return EXTRA_HOLIDAY_NAME
        if self.is_working_day(day):
            return None
        name = self._days.get(day)  # a public holiday keeps its own name
        if name is None:
            return self._days.decrees.get(day)
        return str(name)

    def add_working_days(self, day: date, n: int) -> date:
        """The date ``n`` working days after ``day`` (before it when ``n`` < 0).

        ``day`` itself is never counted: one working day after a Friday is the Monday. With
        ``n`` = 0 the answer is ``day`` when it is a working day and otherwise the next
        working day — "on the day of the event" for an event on a day off means the first
        day people are at work, never a day earlier than the event.
        """
        ordinal = day.toordinal()
        reach = 2 * abs(n) + 31  # a first guess of the days to lay out; grown if short
        while True:
            low, high = (ordinal - reach, ordinal) if n < 0 else (ordinal, ordinal + reach)
            layout = self._covering(low, high)
            if layout is None:
                return self._days.get_nth_working_day(day, n)
            days = layout.days
            # n > 0: the n-th after the day; else from the first on or after it (n = 0:
            # that one itself; n < 0: back from it).
            first_after = bisect_right(days, ordinal) - 1 if n > 0 else bisect_left(days, ordinal)
            index = first_after + n
            if 0 <= index < len(days):
                return date.fromordinal(days[index])
            reach = 2 * reach + 366

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

    def effective_deadline(self, due: date) -> date:
        """The day a deadline written as ``due`` really falls on: ``due`` itself on a
        working day, else the last working day before it.

        The one rule for a date written on a day off ("до 28 февраля" on a Sunday): the
        work is due by the end of Friday 26 February. Reminders, "due today", overdue
        counts, the digest's "срок подходит", ``measures tasks`` and the import review all
        reckon with this date, and show the written one beside it.
        """
        return self.on_or_before(due)

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days one steps from ``a`` to reach ``b`` (negative if ``b`` < ``a``).

        Counted over (a, b], so that ``add_working_days(a, working_days_between(a, b)) == b``
        for a working day ``b`` — the number an overdue message means by "3 рабочих дня".
        """
        if a == b:
            return 0
        low, high = sorted((a.toordinal(), b.toordinal()))
        layout = self._covering(low, high)
        if layout is None:
            if a < b:
                return self._days.get_working_days_count(a + timedelta(days=1), b)
            return -self._days.get_working_days_count(b, a - timedelta(days=1))
        days = layout.days
        count = bisect_right(days, high) - bisect_right(days, low)
        return count if a < b else -count
