"""The working-day calendar against real decreed transfers of 2025–2027."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.workcalendar import WorkCalendar

RU = WorkCalendar()


def test_decreed_transfers_of_2026_and_2027() -> None:
    assert RU.is_working_day(date(2027, 2, 20))  # Saturday worked for Monday 22 February
    assert not RU.is_working_day(date(2027, 2, 22))
    assert not RU.is_working_day(date(2026, 12, 31))  # Thursday off, moved from 4 January
    assert not RU.is_working_day(date(2027, 11, 5))  # Friday off, moved from 2 January
    assert not RU.is_working_day(date(2026, 1, 9))  # Friday off, moved from 3 January
    assert RU.is_working_day(date(2026, 12, 30))
    assert not RU.is_working_day(date(2026, 9, 5))  # an ordinary Saturday


def test_the_library_and_the_calendar_agree_on_every_decreed_day() -> None:
    library = holidays.country_holidays("RU", years=range(2025, 2028))
    working_saturdays = set(library.weekend_workdays)
    assert date(2025, 11, 1) in working_saturdays
    assert all(RU.is_working_day(day) for day in working_saturdays)
    assert all(not RU.is_working_day(day) for day in library)


def test_stepping_over_holiday_weekends() -> None:
    # 1 January – 10 January 2027 is off; 31 December 2026 too.
    assert RU.next_working_day(date(2026, 12, 30)) == date(2027, 1, 11)
    # Thursday 4 November 2027 (holiday) and Friday 5 November (moved day off).
    assert RU.previous_working_day(date(2027, 11, 8)) == date(2027, 11, 3)
    # Friday 30 April 2027, then 1–3 May off: 4, 5, 6 May.
    assert RU.add_working_days(date(2027, 4, 30), 3) == date(2027, 5, 6)
    assert RU.add_working_days(date(2027, 5, 4), -1) == date(2027, 4, 30)
    # Backwards into the working Saturday: 23 Feb holiday, 22 Feb moved day off.
    assert RU.add_working_days(date(2027, 2, 24), -1) == date(2027, 2, 20)
    assert RU.next_working_day(date(2026, 6, 11)) == date(2026, 6, 15)  # 12 June is Friday


def test_zero_working_days_is_the_day_or_the_next_working_day() -> None:
    assert RU.add_working_days(date(2027, 4, 30), 0) == date(2027, 4, 30)
    assert RU.add_working_days(date(2027, 5, 1), 0) == date(2027, 5, 4)
    assert RU.on_or_before(date(2027, 5, 1)) == date(2027, 4, 30)
    assert RU.on_or_before(date(2027, 5, 4)) == date(2027, 5, 4)


def test_working_days_between_counts_the_steps() -> None:
    assert RU.working_days_between(date(2027, 4, 30), date(2027, 5, 6)) == 3
    assert RU.working_days_between(date(2027, 5, 6), date(2027, 4, 30)) == -3
    assert RU.working_days_between(date(2027, 5, 6), date(2027, 5, 6)) == 0
    # December 2026: 23 weekdays, of which 31 December is off.
    assert RU.working_days_between(date(2026, 11, 30), date(2026, 12, 31)) == 22


@given(
    st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    st.integers(-40, 40),
)
def test_adding_and_counting_working_days_are_inverse(day: date, n: int) -> None:
    target = RU.add_working_days(day, n)
    assert RU.is_working_day(target)
    if n != 0 and RU.is_working_day(day):
        assert RU.working_days_between(day, target) == n
    if n > 0:
        assert target > day
    elif n < 0:
        assert target < day
    else:
        assert target >= day


def test_extra_holidays_from_the_configuration() -> None:
    calendar = WorkCalendar(extra_holidays=[date(2026, 9, 1), date(2027, 2, 20)])
    assert not calendar.is_working_day(date(2026, 9, 1))
    assert calendar.holiday_name(date(2026, 9, 1)) is not None
    assert calendar.add_working_days(date(2026, 8, 31), 1) == date(2026, 9, 2)
    assert not calendar.is_working_day(date(2027, 2, 20))  # the decreed Saturday, cancelled
    assert calendar.previous_working_day(date(2027, 2, 24)) == date(2027, 2, 19)
    assert RU.is_working_day(date(2026, 9, 1))  # the corrections are not shared


def test_extra_working_days_from_the_configuration() -> None:
    calendar = WorkCalendar(extra_working_days=[date(2026, 9, 5), date(2026, 11, 4)])
    assert calendar.is_working_day(date(2026, 9, 5))  # a Saturday
    assert calendar.add_working_days(date(2026, 9, 4), 1) == date(2026, 9, 5)
    assert calendar.is_working_day(date(2026, 11, 4))  # a holiday made a working day
    assert calendar.working_days_between(date(2026, 9, 4), date(2026, 9, 7)) == 2


def test_six_day_week() -> None:
    calendar = WorkCalendar(six_day_week=True)
    assert calendar.is_working_day(date(2026, 9, 5))  # Saturday
    assert not calendar.is_working_day(date(2026, 9, 6))  # Sunday
    assert not calendar.is_working_day(date(2026, 5, 9))  # Victory Day on a Saturday
    assert not calendar.is_working_day(date(2027, 1, 2))
    assert calendar.next_working_day(date(2026, 9, 4)) == date(2026, 9, 5)
    assert calendar.working_days_between(date(2026, 9, 6), date(2026, 9, 13)) == 6


def test_a_day_both_off_and_on_is_refused() -> None:
    with pytest.raises(ValueError, match="2026-09-01"):
        WorkCalendar(extra_holidays=[date(2026, 9, 1)], extra_working_days=[date(2026, 9, 1)])


def test_years_outside_the_corrections_load_on_demand() -> None:
    calendar = WorkCalendar(extra_holidays=[date(2026, 9, 1)])
    assert not calendar.is_working_day(date(2025, 11, 3))  # Monday off, moved from 1 November
    assert calendar.is_working_day(date(2025, 11, 1))
    assert calendar.add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)


def test_decreed_non_working_days_the_library_lacks() -> None:
    # Указ Президента РФ от 23.04.2021 № 242: 4–7 May 2021 off. With 1–3 May (holidays
    # and the transfer of 3 May) and 8–10 May (weekend, 10 May for 9 May) the next working
    # day after Friday 30 April 2021 is Tuesday 11 May.
    for day in range(4, 8):
        assert not RU.is_working_day(date(2021, 5, day))
    assert RU.next_working_day(date(2021, 4, 30)) == date(2021, 5, 11)
    assert RU.holiday_name(date(2021, 5, 5)) == "Указ Президента РФ от 23.04.2021 № 242"
    # Указ от 20.10.2021 № 595: 30 October – 7 November 2021.
    assert [RU.is_working_day(date(2021, 11, d)) for d in (1, 2, 3)] == [False] * 3
    assert RU.previous_working_day(date(2021, 11, 8)) == date(2021, 10, 29)
    assert RU.working_days_between(date(2021, 10, 29), date(2021, 11, 8)) == 1
    # 2020: the spring non-working days and the parade and the vote.
    assert not RU.is_working_day(date(2020, 4, 15))
    assert not RU.is_working_day(date(2020, 6, 24))
    assert not RU.is_working_day(date(2020, 7, 1))


def test_decree_file_names_an_act_for_every_day() -> None:
    from engine.core.workcalendar import bundled_decrees

    days = bundled_decrees()
    assert len(days) == 5 + 27 + 3 + 1 + 1 + 4 + 9
    assert all(act.startswith("Указ Президента РФ от ") and "№" in act for act in days.values())


def test_a_broken_decree_file_names_the_line(tmp_path: Path) -> None:
    from engine.core.errors import ConfigError
    from engine.core.workcalendar import load_decrees

    path = tmp_path / "decrees.toml"
    path.write_text('[[decree]]\nact = "Указ"\nfirst = 2021-05-07\nlast = 2021-05-04\n')
    with pytest.raises(ConfigError, match=r"decrees.toml:1: decree\[0\]: .*кончается раньше"):
        load_decrees(path)


# -- the laid-out arithmetic against the day-by-day definition ------------------------

_SLOW = WorkCalendar(extra_holidays=[date(2026, 9, 1)], extra_working_days=[date(2026, 11, 7)])
_FAST = WorkCalendar(extra_holidays=[date(2026, 9, 1)], extra_working_days=[date(2026, 11, 7)])
_DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2028, 12, 31))


def _slow_add(day: date, n: int) -> date:
    """The library's own stepping over the corrected definition (what the fast path replaces)."""
    return _SLOW._days.get_nth_working_day(day, n)


def _slow_between(a: date, b: date) -> int:
    if a == b:
        return 0
    step = timedelta(days=1 if a < b else -1)
    count, day = 0, a
    while day != b:
        day += step
        count += _SLOW._days.is_working_day(day if a < b else day + timedelta(days=1))
    return count if a < b else -count


@settings(max_examples=400, deadline=None)
@given(_DAYS, st.integers(min_value=-60, max_value=60))
def test_adding_working_days_matches_stepping_day_by_day(day: date, n: int) -> None:
    assert _FAST.add_working_days(day, n) == _slow_add(day, n)


@settings(max_examples=400, deadline=None)
@given(_DAYS, _DAYS)
def test_counting_working_days_matches_stepping_day_by_day(a: date, b: date) -> None:
    assert _FAST.working_days_between(a, b) == _slow_between(a, b)


@settings(max_examples=200, deadline=None)
@given(_DAYS)
def test_each_day_matches_the_definition(day: date) -> None:
    assert _FAST.is_working_day(day) == _SLOW._days.is_working_day(day)
    assert _FAST.effective_deadline(day) == (
        day if _SLOW._days.is_working_day(day) else _slow_add(day, -1)
    )


def test_the_spring_2020_decree_days_are_crossed_in_one_step() -> None:
    # 28 March – 11 May 2020 had no working day but the decree-free ones the library
    # knows; from Friday 27 March one working day lands on 12 May (Указы № 206, 239, 294).
    fresh = WorkCalendar()
    assert fresh.add_working_days(date(2020, 3, 27), 1) == date(2020, 5, 12)
    assert fresh.add_working_days(date(2020, 5, 12), -1) == date(2020, 3, 27)
    assert fresh.working_days_between(date(2020, 3, 27), date(2020, 5, 12)) == 1


def test_far_years_grow_the_layout_and_stay_exact() -> None:
    fresh = WorkCalendar()
    assert fresh.add_working_days(date(2026, 12, 30), 1) == date(2027, 1, 11)
    # First use far away, then back: the layout grows instead of answering wrongly.
    assert fresh.add_working_days(date(2031, 6, 1), -400) == _SLOW._days.get_nth_working_day(
        date(2031, 6, 1), -400
    )
    assert fresh.working_days_between(date(2019, 1, 1), date(2031, 1, 1)) == sum(
        _SLOW._days.is_working_day(date(2019, 1, 1) + timedelta(days=i))
        for i in range(1, (date(2031, 1, 1) - date(2019, 1, 1)).days + 1)
    )
