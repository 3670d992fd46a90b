"""Deadline phrases → schedules → occurrences.

The fixture file holds every deadline cell of the sample plans verbatim plus our own
variants; the property tests write phrases the way people do (any case, abbreviation, dash
and year form) from random dates and check the dates that come back.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.workcalendar import WorkCalendar
from engine.plans.schedule import (
    AFTER_EVENT_WORKING_DAYS,
    EventDate,
    Occurrence,
    Schedule,
    Window,
    occurrences,
    parse_deadline,
    schedule_from_json,
    schedule_json,
    schedule_to_json,
)

FIXTURE = Path(__file__).parent / "fixtures" / "deadline_phrases.tsv"
SCHOOL_2020 = (date(2020, 9, 1), date(2021, 8, 31))
SCHOOL_2021 = (date(2021, 9, 1), date(2022, 8, 31))
SCHOOL_2026 = (date(2026, 9, 1), date(2027, 8, 31))
CALENDAR = WorkCalendar()


def _period(text: str) -> tuple[date, date]:
    start, end = text.split("..")
    return date.fromisoformat(start), date.fromisoformat(end)


def _describe(schedule: Schedule) -> str:
    """The fixture's ``expected`` column, computed from a schedule."""
    if schedule.kind in ("once", "window", "multiple"):
        return " ; ".join(f"{w.start or ''}..{w.due}" for w in schedule.windows)
    within = " within=" + ",".join(f"{w.start}..{w.due}" for w in schedule.windows)
    if schedule.kind == "recurring":
        return f"cadence={schedule.cadence}" + (within if schedule.windows else "")
    if schedule.kind == "event" and schedule.event is not None:
        event = schedule.event
        text = f"kinds={','.join(event.kinds) or '*'} working={event.offset_working_days}"
        if event.offset_calendar_days:
            text += f" calendar={event.offset_calendar_days}"
        if event.within is not None:
            text += f" within={event.within.start}..{event.within.due}"
        return text
    return "-"


def _rows() -> list[dict[str, str]]:
    lines = [line for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


ROWS = _rows()
SAMPLE_ROWS = [row for row in ROWS if row["source"] != "variant"]


@pytest.mark.parametrize("row", ROWS, ids=[f"{n}:{r['phrase'][:40]}" for n, r in enumerate(ROWS)])
def test_fixture_phrase(row: dict[str, str]) -> None:
    schedule = parse_deadline(row["phrase"], _period(row["period"]))
    assert schedule.kind == row["kind"]
    assert _describe(schedule) == row["expected"]
    assert bool(schedule.problems) == (row["problems"] == "yes"), schedule.problems


def test_fixture_covers_the_four_sample_plans() -> None:
    plans = {row["source"][:3] for row in SAMPLE_ROWS}
    assert plans == {"000", "001", "002", "004"}
    assert len(SAMPLE_ROWS) >= 60


def test_sample_plans_are_read_except_schedules_kept_elsewhere() -> None:
    unscheduled = {row["phrase"] for row in SAMPLE_ROWS if row["kind"] == "unscheduled"}
    assert unscheduled == {
        "Согласно Плану - графику",
        "По плану МИМС",
        "По плану ИМЦ, РМО",
        "в соответствии с планом ОО",  # the tail of a cell split by a page break
    }
    for phrase in unscheduled:
        (problem,) = parse_deadline(phrase, SCHOOL_2021).problems
        assert phrase in problem and "вручную" in problem


def test_a_reference_beside_dates_keeps_the_dates_and_says_so() -> None:
    schedule = parse_deadline("В течение года по плану ЛОИРО", SCHOOL_2021)
    assert schedule.kind == "continuous"
    assert schedule.problems == (
        "Точные сроки определяются другим документом («по плану ЛОИРО»): проверьте даты.",
    )


def test_unread_words_are_quoted_and_dates_outside_the_period_named() -> None:
    schedule = parse_deadline(
        "Внеплановые проверки школ в октябре-декабре 2021 г. и август 2022", SCHOOL_2021
    )
    assert schedule.kind == "multiple"
    assert schedule.problems == (
        "Часть срока не распознана и не учтена: «Внеплановые проверки школ».",
    )
    late = parse_deadline("Сентябрь 2023", (date(2022, 9, 1), date(2023, 8, 31)))
    assert late.windows == (Window(date(2023, 9, 1), date(2023, 9, 30)),)
    assert late.problems == (
        "Срок 01.09.2023–30.09.2023 выходит за период плана (01.09.2022–31.08.2023): "
        "проверьте даты.",
    )


def test_nothing_readable_is_unscheduled_with_the_text_named() -> None:
    for phrase, expected in [
        ("сроки уточняются", "Срок «сроки уточняются» не распознан"),
        ("", "Срок не указан"),
        ("<p> </p>", "Срок не указан"),
        ("31 апреля 2022", "Срок «31 апреля 2022» не распознан"),
    ]:
        schedule = parse_deadline(phrase, SCHOOL_2021)
        assert schedule.kind == "unscheduled"
        assert schedule.problems == (f"{expected}: задайте даты мероприятия вручную.",)


# ------------------------------------------------------------------- phrases from random dates

NOMINATIVE = "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь"
GENITIVE = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
PREPOSITIONAL = "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре"
ABBREVIATED = "янв. февр. мар апр. май июн. июл авг. сент. окт нояб. дек."
MONTH_FORMS = [
    forms.split() for forms in (NOMINATIVE, GENITIVE, PREPOSITIONAL, ABBREVIATED, "сен фев ноя")
]
DASHES = ["-", "–", "—", " - ", " – ", " — ", "- ", " –"]
YEAR_FORMS = ["{}", "{}г.", "{} г.", "{} года", "{}г", "{} г"]


@st.composite
def month_word(draw: st.DrawFn, month: int) -> str:
    forms = [f[month - 1] for f in MONTH_FORMS if len(f) == 12]
    if month in (2, 9, 11):  # the short extra abbreviations
        forms.append({2: "фев", 9: "сен", 11: "ноя"}[month])
    word = draw(st.sampled_from(forms))
    return str(draw(st.sampled_from([word, word.capitalize(), word.upper()])))


def year_word(draw: st.DrawFn, year: int) -> str:
    return draw(st.sampled_from(YEAR_FORMS)).format(year)


def month_window(year: int, month: int) -> Window:
    last = stdlib_calendar.monthrange(year, month)[1]
    return Window(date(year, month, 1), date(year, month, last))


months = st.integers(1, 12)
years = st.integers(2000, 2090)


@given(st.data(), months, years)
def test_a_month_with_a_year_is_that_month(data: st.DataObject, month: int, year: int) -> None:
    phrase = f"{data.draw(month_word(month))} {year_word(data.draw, year)}"
    schedule = parse_deadline(phrase, SCHOOL_2021)
    assert (schedule.kind, schedule.windows) == ("window", (month_window(year, month),)), phrase


@given(st.data(), months, months, years)
def test_a_month_range_takes_its_year_from_the_end(
    data: st.DataObject, first: int, last: int, year: int
) -> None:
    dash = data.draw(st.sampled_from(DASHES))
    phrase = f"{data.draw(month_word(first))}{dash}{data.draw(month_word(last))} "
    phrase += year_word(data.draw, year)
    start_year = year if first <= last else year - 1
    expected = Window(date(start_year, first, 1), month_window(year, last).due)
    assert parse_deadline(phrase, SCHOOL_2021).windows == (expected,), phrase


@given(st.data(), months, months, years, st.integers(0, 2))
def test_a_range_with_two_years(
    data: st.DataObject, first: int, last: int, year: int, later: int
) -> None:
    if later == 0 and last < first:
        first, last = last, first
    dash = data.draw(st.sampled_from(DASHES))
    phrase = (
        f"{data.draw(month_word(first))} {year_word(data.draw, year)}{dash}"
        f"{data.draw(month_word(last))} {year_word(data.draw, year + later)}"
    )
    expected = Window(date(year, first, 1), month_window(year + later, last).due)
    assert parse_deadline(phrase, SCHOOL_2021).windows == (expected,), phrase


@given(st.data(), months, months, st.integers(2000, 2090))
def test_months_without_a_year_fall_inside_the_school_year(
    data: st.DataObject, first: int, last: int, school_year: int
) -> None:
    period = (date(school_year, 9, 1), date(school_year + 1, 8, 31))

    def inside(month: int) -> int:
        return school_year if month >= 9 else school_year + 1

    single = parse_deadline(data.draw(month_word(first)), period)
    assert single.windows == (month_window(inside(first), first),)
    dash = data.draw(st.sampled_from(DASHES))
    ranged = parse_deadline(
        f"{data.draw(month_word(first))}{dash}{data.draw(month_word(last))}", period
    )
    end_year = inside(last)
    start_year = end_year if first <= last else end_year - 1
    assert ranged.windows == (Window(date(start_year, first, 1), month_window(end_year, last).due),)


@given(st.data(), st.dates(date(2000, 1, 1), date(2090, 12, 31)))
def test_a_day_by_which_work_is_due(data: st.DataObject, day: date) -> None:
    lead = data.draw(st.sampled_from(["", "до ", "До ", "не позднее ", "к "]))
    forms = [f"{day:%d.%m.%Y}", f"{day.day}.{day.month}.{day.year}", f"{day:%d.%m.%y}"]
    genitive = GENITIVE.split()[day.month - 1]
    forms += [f"{day.day} {genitive} {year_word(data.draw, day.year)}"]
    phrase = lead + data.draw(st.sampled_from(forms))
    schedule = parse_deadline(phrase, SCHOOL_2021)
    assert (schedule.kind, schedule.windows) == ("once", (Window(None, day),)), phrase


@given(st.data(), st.integers(1, 4), years)
def test_a_quarter_is_a_calendar_quarter(data: st.DataObject, quarter: int, year: int) -> None:
    number = data.draw(st.sampled_from([["I", "II", "III", "IV"][quarter - 1], str(quarter)]))
    unit = data.draw(st.sampled_from(["квартал", "квартале", "квартала", "кв.", "КВАРТАЛ"]))
    lead = data.draw(st.sampled_from(["", "в ", "за "]))
    phrase = f"{lead}{number} {unit} {year_word(data.draw, year)}"
    expected = Window(date(year, 3 * quarter - 2, 1), month_window(year, 3 * quarter).due)
    assert parse_deadline(phrase, SCHOOL_2021).windows == (expected,), phrase


@given(st.data(), st.integers(2000, 2090))
def test_a_pair_of_years_is_the_school_year(data: st.DataObject, year: int) -> None:
    dash = data.draw(st.sampled_from([*DASHES, "/"]))
    tail = data.draw(st.sampled_from(["гг.", " гг.", " учебный год", " уч. год", " учебного года"]))
    second = data.draw(st.sampled_from([str(year + 1), f"{(year + 1) % 100:02d}"]))
    phrase = f"{year}{dash}{second}{tail}"
    schedule = parse_deadline(phrase, SCHOOL_2021)
    assert schedule.windows == (Window(date(year, 9, 1), date(year + 1, 8, 31)),), phrase


def test_half_years_and_terms_follow_the_school_year() -> None:
    assert parse_deadline("I полугодие", SCHOOL_2021).windows == (
        Window(date(2021, 9, 1), date(2021, 12, 31)),
    )
    assert parse_deadline("II полугодие", SCHOOL_2021).windows == (
        Window(date(2022, 1, 1), date(2022, 5, 31)),
    )
    assert parse_deadline("II полугодие 2022 г.", SCHOOL_2021).windows == (
        Window(date(2022, 7, 1), date(2022, 12, 31)),  # one calendar year named: calendar half
    )
    assert parse_deadline("1 четверть", SCHOOL_2021).windows == (
        Window(date(2021, 9, 1), date(2021, 10, 31)),
    )
    calendar_year = (date(2022, 1, 1), date(2022, 12, 31))
    assert parse_deadline("II полугодие", calendar_year).windows == (
        Window(date(2022, 7, 1), date(2022, 12, 31)),
    )


def _words(text: str) -> list[str]:
    return text.split()


VOCABULARY = _words(
    "в до с по не позднее течение года учебного г. гг. 2021 2022 2022-2023 1 15 31 0 99999999 "
    "- – ; , . / ( ) I II IV квартал полугодие четверть раз раза ежемесячно каждый месяца "
    "итогам ВПР НИКО ГИА рабочих дня дней после за мере запросу плану графику согласно "
    "соответствии января мая сентябрь октябре дек. 30.12.2021 29.02.2023 31.02.2022 <p> </p>"
    # issue 7: the wording of other committees, typed as people type it
    " далее затем в дальнейшем числа числу ежегодно ежеквартально мае недель недели двух пяти"
    " двадцати получения результатов со дня с даты четверти полугодия окончании течении"
    " ежекваратльно полугодье постояно сетнябрь 15.05 12.03 (вт) вторник 20.12. 15 . 05. 2022"
    " 09.2021 2021/2022 уч. 5-го п. 2.3 10.00 календарных недели неделю сутки"
)


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=80), st.lists(st.sampled_from(VOCABULARY), max_size=14).map(" ".join)
    ),
    st.sampled_from([SCHOOL_2021, SCHOOL_2026, (date(2022, 1, 1), date(2022, 12, 31))]),
)
def test_any_text_gives_a_schedule_and_never_an_exception(
    phrase: str, period: tuple[date, date]
) -> None:
    schedule = parse_deadline(phrase, period)
    if schedule.kind == "unscheduled":
        assert schedule.problems
    assert all(w.start is None or w.start <= w.due for w in schedule.windows)
    events = [EventDate("ВПР", date(2022, 4, 12)), EventDate("НИКО", date(2027, 4, 27))]
    found = occurrences(schedule, period, CALENDAR, events)
    shown = schedule_json(schedule, found)
    json.dumps(shown)
    # issue 7: a schedule that should have dates has one inside the period, or a problem
    if schedule.kind not in ("on_demand", "unscheduled"):
        inside = [o for o in found if period[0] <= o.due <= period[1]]
        assert inside or shown["problems"], (phrase, schedule)
    # issue 7: the stored form gives back the very same schedule
    stored = json.loads(json.dumps(schedule_to_json(schedule)))
    assert schedule_from_json(stored) == schedule
    assert len({o.key for o in found}) == len(found), found  # every occurrence its own anchor


# ------------------------------------------------------------------------------- occurrences


def _pairs(found: list[Occurrence]) -> list[tuple[date | None, date]]:
    return [(o.start, o.due) for o in found]


def test_quarterly_over_a_school_year_is_the_four_quarter_ends() -> None:
    found = occurrences(parse_deadline("Ежеквартально", SCHOOL_2021), SCHOOL_2021, CALENDAR)
    assert _pairs(found) == [
        (date(2021, 9, 1), date(2021, 9, 30)),
        (date(2021, 10, 1), date(2021, 12, 30)),  # 31 December 2021 was a day off
        (date(2022, 1, 1), date(2022, 3, 31)),
        (date(2022, 4, 1), date(2022, 6, 30)),
    ]
    found = occurrences(parse_deadline("1 раз в квартал", SCHOOL_2026), SCHOOL_2026, CALENDAR)
    assert [o.due for o in found] == [
        date(2026, 9, 30),
        date(2026, 12, 30),  # 31 December 2026 is a day off (moved from 4 January)
        date(2027, 3, 31),
        date(2027, 6, 30),
    ]


def test_recurring_units_end_on_working_days_inside_the_period() -> None:
    weekly = occurrences(parse_deadline("еженедельно", SCHOOL_2026), SCHOOL_2026, CALENDAR)
    assert len(weekly) == 52
    assert all(CALENDAR.is_working_day(o.due) for o in weekly)
    assert weekly[0] == Occurrence(date(2026, 9, 1), date(2026, 9, 4))
    assert date(2027, 11, 5) not in {o.due for o in weekly}
    terms = occurrences(parse_deadline("по четвертям", SCHOOL_2026), SCHOOL_2026, CALENDAR)
    assert [o.due for o in terms] == [
        date(2026, 10, 30),  # Saturday 31 October
        date(2026, 12, 30),
        date(2027, 3, 31),
        date(2027, 5, 31),
    ]
    bounded = parse_deadline("ежемесячно с сентября по май", SCHOOL_2026)
    assert [o.due.month for o in occurrences(bounded, SCHOOL_2026, CALENDAR)] == [
        9,
        10,
        11,
        12,
        1,
        2,
        3,
        4,
        5,
    ]


def test_continuous_work_reports_progress_at_the_configured_cadence() -> None:
    schedule = parse_deadline("Постоянно", SCHOOL_2021)
    assert (schedule.windows, schedule.cadence) == ((Window(*SCHOOL_2021),), None)
    quarterly = occurrences(schedule, SCHOOL_2021, CALENDAR)
    assert [o.due for o in quarterly] == [
        date(2021, 9, 30),
        date(2021, 12, 30),
        date(2022, 3, 31),
        date(2022, 6, 30),
    ]
    halves = occurrences(schedule, SCHOOL_2021, CALENDAR, continuous_cadence="half_yearly")
    assert _pairs(halves) == [
        (date(2021, 9, 1), date(2021, 12, 30)),
        (date(2022, 1, 1), date(2022, 5, 31)),
    ]
    monthly = occurrences(schedule, SCHOOL_2021, CALENDAR, continuous_cadence="monthly")
    assert [o.due.month for o in monthly] == [9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8]


def test_event_offsets_count_working_days_across_the_may_holidays_of_2027() -> None:
    events = [
        EventDate("ВПР", date(2027, 4, 30), "Русский язык, 5 класс"),  # Friday before 1-3 May
        EventDate("ВПР", date(2027, 4, 30), "Математика, 5 класс"),  # same day: one task
        EventDate("НИКО", date(2027, 4, 27)),
        EventDate("ВПР", date(2027, 9, 15)),  # after the period
    ]
    schedule = parse_deadline("в течение 3 рабочих дней после проведения ВПР", SCHOOL_2026)
    assert _pairs(occurrences(schedule, SCHOOL_2026, CALENDAR, events)) == [
        (date(2027, 4, 30), date(2027, 5, 6))  # 3 May off: 4, 5, 6 May
    ]
    results = parse_deadline("по итогам проведения оценочных процедур", SCHOOL_2026)
    assert results.event is not None
    assert results.event.offset_working_days == AFTER_EVENT_WORKING_DAYS
    # 27 and 30 April + 10 working days, skipping 1-3 and 8-10 May.
    assert [o.due for o in occurrences(results, SCHOOL_2026, CALENDAR, events)] == [
        date(2027, 5, 13),
        date(2027, 5, 18),
    ]


def test_before_an_event_counts_back_over_a_transferred_working_saturday() -> None:
    schedule = parse_deadline(
        "не позднее 1 рабочего дня до проведения оценочной процедуры", SCHOOL_2026
    )
    found = occurrences(schedule, SCHOOL_2026, CALENDAR, [EventDate("НИКО", date(2027, 2, 24))])
    # 23 February is a holiday, 22 February a day off; Saturday 20 February works.
    assert _pairs(found) == [(None, date(2027, 2, 20))]
    days = parse_deadline("за 2 дня до проведения ВПР", SCHOOL_2026)
    found = occurrences(days, SCHOOL_2026, CALENDAR, [EventDate("ВПР", date(2027, 5, 17))])
    assert _pairs(found) == [(None, date(2027, 5, 14))]  # Saturday 15 May → Friday


def test_events_are_chosen_by_kind_and_by_the_year_the_phrase_names() -> None:
    schedule = parse_deadline("в соответствии с графиком проведения ВПР в 2022 г.", SCHOOL_2021)
    events = [
        EventDate("ВПР", date(2021, 9, 20)),  # autumn ВПР: not "в 2022 г."
        EventDate("впр", date(2022, 3, 15)),
        EventDate("НИКО", date(2022, 4, 5)),
    ]
    assert _pairs(occurrences(schedule, SCHOOL_2021, CALENDAR, events)) == [
        (date(2022, 3, 15), date(2022, 3, 15))
    ]
    gia = parse_deadline("за 5 рабочих дней до ГИА", SCHOOL_2021)
    found = occurrences(gia, SCHOOL_2021, CALENDAR, [EventDate("ЕГЭ", date(2022, 5, 26))])
    assert [o.due for o in found] == [date(2022, 5, 19)]


def test_plan_dates_on_days_off_are_kept_and_nothing_is_made_up() -> None:
    once = parse_deadline("до 31 декабря 2026 г.", SCHOOL_2026)
    assert occurrences(once, SCHOOL_2026, CALENDAR) == [Occurrence(None, date(2026, 12, 31))]
    events = [EventDate("ВПР", date(2027, 4, 30))]
    for phrase in ("по мере необходимости", "По плану МИМС", "абвгд"):
        assert occurrences(parse_deadline(phrase, SCHOOL_2026), SCHOOL_2026, CALENDAR, events) == []


def test_schedule_json_is_what_the_cli_prints() -> None:
    schedule = parse_deadline("в течение 3 рабочих дней после проведения ВПР", SCHOOL_2026)
    found = occurrences(schedule, SCHOOL_2026, CALENDAR, [EventDate("ВПР", date(2027, 4, 30))])
    assert schedule_json(schedule, found) == {
        "kind": "event",
        "cadence": None,
        "event": {"kinds": ["ВПР"], "offset_working_days": 3, "offset_calendar_days": 0},
        "occurrences": [{"start": "2027-04-30", "due": "2027-05-06"}],
        "problems": [],
        "notes": [],
    }
    once = parse_deadline("До 1 октября 2021 г.", SCHOOL_2021)
    assert schedule_json(once, occurrences(once, SCHOOL_2021, CALENDAR)) == {
        "kind": "once",
        "cadence": None,
        "event": None,
        "occurrences": [{"start": None, "due": "2021-10-01"}],
        "problems": [],
        "notes": [],
    }
    unread = parse_deadline("По плану МИМС", SCHOOL_2021)
    assert schedule_json(unread, []) == {
        "kind": "unscheduled",
        "cadence": None,
        "event": None,
        "occurrences": [],
        "problems": [
            "Срок задан ссылкой на другой документ («По плану МИМС»): задайте даты мероприятия "
            "вручную."
        ],
        "notes": [],
    }


def test_calendar_days_before_an_event_on_a_day_off_count_from_the_event_itself() -> None:
    # Review finding: «за 2 дня до» a Saturday event counted back from the Monday the
    # event was moved to. Saturday 13 March 2027 − 2 days = Thursday 11 March.
    days = parse_deadline("за 2 дня до проведения ВПР", SCHOOL_2026)
    found = occurrences(days, SCHOOL_2026, CALENDAR, [EventDate("ВПР", date(2027, 3, 13))])
    assert _pairs(found) == [(None, date(2027, 3, 11))]
    # Sunday 14 March 2027 − 2 days = Friday 12 March.
    found = occurrences(days, SCHOOL_2026, CALENDAR, [EventDate("ВПР", date(2027, 3, 14))])
    assert _pairs(found) == [(None, date(2027, 3, 12))]
    # 3 calendar days after Friday 30 April 2021 is Monday 3 May, a day off, and 4–7 May
    # are decree days (Указ № 242): the report is due the working day before, 30 April.
    after = parse_deadline("в течение 3 дней после проведения ВПР", SCHOOL_2020)
    found = occurrences(after, SCHOOL_2020, CALENDAR, [EventDate("ВПР", date(2021, 4, 30))])
    assert [o.due for o in found] == [date(2021, 4, 30)]


def test_schedule_json_shows_a_calendar_day_offset() -> None:
    days = parse_deadline("за 2 дня до проведения ВПР", SCHOOL_2026)
    assert schedule_json(days, [])["event"] == {
        "offset_working_days": 0,
        "offset_calendar_days": -2,
        "kinds": ["ВПР"],
    }


# ------------------------------------------------------- issue 7: wording of other committees

SCHOOL_2023 = (date(2023, 9, 1), date(2024, 8, 31))
VPR_2022 = [EventDate("ВПР", date(2022, 3, 15)), EventDate("ВПР", date(2022, 4, 12))]


@pytest.mark.parametrize(
    ("phrase", "period", "kind", "dues"),
    [
        # a first date, then a cadence: October as written, then the quarter ends after it
        (
            "Октябрь 2021, далее ежеквартально",
            SCHOOL_2021,
            "recurring",
            ["2021-10-31", "2021-12-30", "2022-03-31", "2022-06-30"],
        ),
        (
            "сентябрь 2021 г., в дальнейшем - ежемесячно",
            (date(2021, 9, 1), date(2021, 12, 31)),
            "recurring",
            ["2021-09-30", "2021-10-29", "2021-11-30", "2021-12-30"],
        ),
        # recurring with an anchor inside the unit
        ("ежегодно в мае", SCHOOL_2021, "recurring", ["2022-05-31"]),
        ("Ежегодно, до 1 сентября", SCHOOL_2021, "recurring", ["2021-09-01"]),
        (
            "ежемесячно, до 10 числа",
            (date(2022, 1, 1), date(2022, 4, 30)),
            "recurring",
            ["2022-01-10", "2022-02-10", "2022-03-10", "2022-04-08"],  # 10.04: Sunday
        ),
        # an explicit working-day offset after an event, in other words
        (
            "не позднее 5 рабочих дней со дня получения результатов",
            SCHOOL_2021,
            "event",
            ["2022-03-22", "2022-04-19"],
        ),
        (
            "в течение пяти рабочих дней с даты проведения ВПР",
            SCHOOL_2021,
            "event",
            ["2022-03-22", "2022-04-19"],
        ),
        # per school term or half-year results
        (
            "по итогам четверти",
            SCHOOL_2021,
            "recurring",
            ["2021-10-29", "2021-12-30", "2022-03-31", "2022-05-31"],
        ),
        ("По итогам полугодия", SCHOOL_2021, "recurring", ["2021-12-30", "2022-05-31"]),
        # day and month without a year, stray spaces and dots inside dates
        ("до 15.05", SCHOOL_2021, "once", ["2022-05-15"]),
        ("12.03 (вт)", SCHOOL_2023, "once", ["2024-03-12"]),
        ("до 15 . 05. 2022", SCHOOL_2021, "once", ["2022-05-15"]),
        ("до 20.12. 2021 г.", SCHOOL_2021, "once", ["2021-12-20"]),
        ("01. 10.2021 - 30 .10. 2021", SCHOOL_2021, "window", ["2021-10-30"]),
        # numbers in words
        (
            "в течение двух недель после проведения ВПР",
            SCHOOL_2021,
            "event",
            ["2022-03-29", "2022-04-26"],
        ),
        (
            "за три рабочих дня до проведения ВПР",
            SCHOOL_2021,
            "event",
            ["2022-03-10", "2022-04-07"],
        ),
        # a day of the month with a longer cadence: of the month after each quarter
        (
            "ежеквартально, до 5 числа месяца, следующего за отчетным",
            SCHOOL_2021,
            "recurring",
            ["2021-10-05", "2021-12-30", "2022-04-05", "2022-07-05"],  # 5.01: holidays
        ),
        ("2 раза в год (декабрь, май)", SCHOOL_2021, "recurring", ["2021-12-30", "2022-05-31"]),
        ("в начале октября", SCHOOL_2021, "window", ["2021-10-10"]),
        ("конец сентября", SCHOOL_2021, "once", ["2021-09-30"]),
        ("к началу учебного года", SCHOOL_2021, "once", ["2021-09-01"]),
        (
            "в течение месяца после проведения ВПР",
            SCHOOL_2021,
            "event",
            ["2022-04-14", "2022-05-12"],  # 30 calendar days
        ),
        # a named school year inside «в течение … учебного года»: as without it
        (
            "в течение 2021-2022 учебного года",
            SCHOOL_2021,
            "continuous",
            ["2021-09-30", "2021-12-30", "2022-03-31", "2022-06-30"],
        ),
        (
            "В течение 2021/2022 уч. года",
            SCHOOL_2021,
            "continuous",
            ["2021-09-30", "2021-12-30", "2022-03-31", "2022-06-30"],
        ),
    ],
)
def test_wording_of_other_committees(
    phrase: str, period: tuple[date, date], kind: str, dues: list[str]
) -> None:
    schedule = parse_deadline(phrase, period)
    assert schedule.kind == kind, (phrase, schedule)
    found = occurrences(schedule, period, CALENDAR, VPR_2022)
    assert [o.due.isoformat() for o in found] == dues, phrase
    assert schedule.problems == (), schedule.problems


@pytest.mark.parametrize(
    ("phrase", "meant", "kind"),
    [
        ("Ежекваратльно", "ежеквартально", "recurring"),  # two letters swapped
        ("в течении года", "течение", "continuous"),
        ("I полугодье", "полугодие", "window"),
        ("ежемесечно", "ежемесячно", "recurring"),
        ("Сетнябрь 2021", "сентябрь", "window"),
        ("постояно", "постоянно", "continuous"),
    ],
)
def test_a_one_letter_slip_in_the_grammars_own_words_is_read_with_a_note(
    phrase: str, meant: str, kind: str
) -> None:
    schedule = parse_deadline(phrase, SCHOOL_2021)
    assert schedule.kind == kind
    assert schedule.problems == ()
    (note,) = schedule.notes
    assert "прочитано как" in note and f"«{meant}" in note


def test_ordinary_words_near_grammar_words_are_not_corrected() -> None:
    # «карте» is one letter from «марте», «плана» from «плану»: too short to be sure
    schedule = parse_deadline("по дорожной карте", SCHOOL_2021)
    assert schedule.kind == "unscheduled" and schedule.notes == ()


def test_a_weekday_that_does_not_match_the_date_is_a_problem() -> None:
    schedule = parse_deadline("12.03 (вт)", SCHOOL_2026)  # 12.03.2027 is a Friday
    assert [o.due for o in occurrences(schedule, SCHOOL_2026, CALENDAR)] == [date(2027, 3, 12)]
    assert schedule.problems == ("12.03.2027 — пятница, а в сроке указан вторник: проверьте дату.",)


# ------------------------------------------ issue 7: a dated schedule without dates is a problem


def test_yearly_in_a_month_has_its_occurrence() -> None:
    # Before: «ежегодно, в мае» was recurring with zero occurrences and no problem.
    schedule = parse_deadline("ежегодно, в мае", SCHOOL_2021)
    assert _pairs(occurrences(schedule, SCHOOL_2021, CALENDAR)) == [
        (date(2022, 5, 1), date(2022, 5, 31))
    ]


@pytest.mark.parametrize(
    "phrase",
    ["ежеквартально в 2025 году", "ежемесячно с июня по август 2019 г.", "в течение 2025 года"],
)
def test_no_occurrence_inside_the_period_is_a_problem(phrase: str) -> None:
    from engine.plans.schedule import schedule_problems

    schedule = parse_deadline(phrase, SCHOOL_2021)
    assert schedule.kind in ("recurring", "continuous", "window")
    found = occurrences(schedule, SCHOOL_2021, CALENDAR)
    inside = [o for o in found if SCHOOL_2021[0] <= o.due <= SCHOOL_2021[1]]
    assert not inside
    assert any("период" in p for p in schedule_problems(schedule, found))
