"""Deadline phrases of real plans → :class:`Schedule` → dated occurrences.

Plans are written by people, not forms: "Октябрь-ноябрь 2021", "Сентябрь –май 2022-2023г.",
"не позднее 1 рабочего дня до проведения оценочной процедуры", "<p>Май-июль 2021г</p>".
So the phrase is tokenized (months in any case or abbreviation, any dash, years as
``2021г.``/``2021 года``/``2022-2023гг.``, dates, Roman or Arabic ordinals) and read by a
small grammar of *clauses*; a cell may hold several clauses ("Сентябрь 2022 года Январь -
Апрель 2023 г."). Whatever the grammar cannot read is never guessed: it becomes a problem
sentence (Russian, for the committee staff) and, when nothing is readable, the kind
``unscheduled`` — the operator then sets the dates by hand.

Decisions, so that staff and code mean the same thing:

* **Months, quarters and terms without a year** are placed inside the plan's period: at
  the first occurrence on or after the period's start. For a school year (1 Sep – 31 Aug)
  that is September–December → the first year, January–August → the second.
* **A range takes its year from its last end** and its start counts back from there:
  "ноябрь-февраль 2022" is November 2021 – February 2022; "август-сентябрь" in the plan
  2021/22 is August–September 2021 (the due date sits inside the period, the start is
  reported as outside it). "Сентябрь –май 2022-2023г." puts May in 2023, September in 2022.
* **Half-years ("полугодие")** follow the school year when the period (or the year range
  named in the phrase) is a school year: I = 1 Sep – 31 Dec, II = 1 Jan – 31 May — the
  second half ends with the lessons; the summer holidays belong to no half-year. Named
  with one calendar year ("I полугодие 2022"), a half-year is the calendar one (Jan–Jun,
  Jul–Dec). **Quarters ("квартал")** are calendar quarters, as in every official report;
  **school terms ("четверть")** are approximated by months: Sep–Oct, Nov–Dec, Jan–Mar,
  Apr–May (each school sets its own holidays). "Ежегодно" in a school-year period is once
  per school year.
* **A pair of consecutive years** ("2022-2023гг.", "2022/23 учебный год") is the school
  year 1 Sep – 31 Aug when the words say "учебный" or the plan's period is a school year;
  other year ranges are calendar years.
* **"до"** before a day is that day (by 30 December inclusive); before a month, quarter or
  year it is the day before it starts ("до октября" = by 30 September). "не позднее",
  "до конца", "по итогам", "в конце" take the last day instead.
* **Event offsets**: "по итогам/после …" is :data:`AFTER_EVENT_WORKING_DAYS` working days
  after the event (time to get and discuss results); "до/перед …" is
  :data:`BEFORE_EVENT_WORKING_DAYS`; "в соответствии с графиком проведения …" is the
  event day itself (the next working day if the event falls on a day off). "за 2 дня до"
  counts calendar days from the event's own date (even a day off), "рабочих дня" working
  days. Several events of one day (ВПР in several subjects) make one occurrence.
* **Due dates on days off**: dates written in the plan (once/window/multiple) are kept as
  written — the plan is a legal document; their *effective* deadline (what letters,
  digests and lists show) is the last working day before (``Occurrence.effective``,
  WorkCalendar.effective_deadline). Dates the code computes (recurring unit ends,
  continuous progress reports, calendar-day event offsets) move to the previous working
  day, so that nobody is late because of a weekend and the report is asked for on a day
  someone reads mail.
* **Recurring** occurrences are the calendar units (weeks Mon–Sun, months, quarters,
  half-years and years as above, school terms) whose last day falls inside the period —
  "ежеквартально" over a school year is the four quarter ends 30 Sep, 31 Dec, 31 Mar,
  30 Jun. **Continuous** work ("постоянно") reports progress on the same units, at the
  cadence the configuration gives (``schedule.continuous_cadence``).
* **Several clauses in a cell**: an event binding or a cadence decides the kind (dates
  beside a cadence bound it: "ежемесячно с сентября по май"); otherwise dates do, and
  "В течение года Март 2023 г." is ``multiple``: the whole period and March.
* Parts of a cell that name a schedule kept elsewhere ("по плану ЛОИРО", "(по графику)")
  do not stop the rest from being read, but always add a problem: the exact dates live in
  that other document.
* **A first date, then a cadence** ("Октябрь 2021, далее ежеквартально"): the written date
  is the first occurrence, then every unit of the cadence that ends after it.
* **An anchor inside the unit** ("ежегодно в мае", "ежемесячно до 5 числа", "ежегодно до
  1 сентября"): one occurrence per unit, on the anchor (a computed date: a day off moves
  it to the working day before). A day of the month with a longer cadence ("ежеквартально
  до 10 числа") is that day of the month after the unit — how reports are due — and
  the review says so.
* **Per unit results** ("по итогам четверти", "по окончании полугодия") are the ends of
  every such unit, like "по итогам каждой четверти"; "по итогам I полугодия" stays one
  date.
* **Dates as typed**: "15.05" and "12.03 (вт)" (no year) are placed in the period like
  a month; stray spaces and dots ("15 . 05. 2022", "20.12. 2021 г.") are read; a weekday
  written beside a date that falls on another weekday is a problem.
* **Numbers in words** ("в течение двух недель", "пяти рабочих дней"); a week is seven
  calendar days. Without an event, "в течение двух недель" counts from the start of the
  plan's period, and the review says so.
* **"Со дня получения результатов"**: the results' date is not in the calendar; the offset
  counts from the assessment itself (earlier, never later), and the review says so.
* **A named year inside "в течение … года"** ("в течение 2021-2022 учебного года") is
  continuous work, as without it, bounded by the year named.
* **One-letter slips** in the grammar's own words («в течении», «ежекваратльно») are read
  as the word meant (:mod:`engine.plans.spelling`), each with a note in the review.
* **Any dated or recurring schedule without an occurrence in the period** is a problem
  (:func:`schedule_problems`): a task that is never due is never reminded.

Every occurrence carries a **key** that names what anchors it — the written date or
window, the calendar unit, the assessment's day — so that tasks are matched to
occurrences by meaning, not position (:mod:`engine.plans.expand`). The parsed schedule
is stored in a versioned form (:func:`schedule_to_json`, :data:`GRAMMAR_VERSION`) and
expanded again from that form, never re-parsed behind a person's back.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal, cast

from engine.core.workcalendar import WorkCalendar
from engine.plans.spelling import Speller

Kind = Literal[
    "once", "window", "multiple", "recurring", "continuous", "event", "on_demand", "unscheduled"
]
Cadence = Literal["weekly", "monthly", "quarterly", "half_yearly", "yearly", "school_quarterly"]

#: "по итогам проведения оценочных процедур": results arrive and are discussed in about two
#: working weeks; the deadline for the follow-up is that long after the event.
AFTER_EVENT_WORKING_DAYS = 10
#: "до проведения ВПР": ready on the last working day before the event.
BEFORE_EVENT_WORKING_DAYS = -1

#: EventDate kinds that "ГИА" covers (the calendar lists the exams themselves).
GIA_KINDS = ("ГИА", "ОГЭ", "ЕГЭ", "ГВЭ")
#: The version of the grammar that read a stored schedule. Raise it whenever the same
#: phrase may be read differently; a stored schedule of another version is compared
#: with the new reading in the next import review instead of being re-dated silently.
GRAMMAR_VERSION = 2

Lead = Literal["by_start", "by_end", "from", "in", "early"]


@dataclass(frozen=True)
class Window:
    """A dated stretch of work; ``start`` None means "by ``due``" (kind ``once``)."""

    start: date | None
    due: date


@dataclass(frozen=True)
class EventBinding:
    """Due relative to assessment events: ``offset_working_days`` < 0 is before the event.

    ``offset_calendar_days`` carries "за 2 дня до …" (no "рабочих"), which the plan counts in
    calendar days; ``within`` restricts the events ("… ВПР в 2022 г.").
    """

    kinds: tuple[str, ...]  # ("ВПР",), ("ВПР", "НИКО"), () = any assessment event
    offset_working_days: int
    offset_calendar_days: int = 0
    within: Window | None = None


@dataclass(frozen=True)
class EventDate:
    """One assessment event as the schedule needs it (the table row has more)."""

    kind: str  # ВПР, НИКО, ГИА, ...
    date: date
    name: str = ""


@dataclass(frozen=True)
class Occurrence:
    """One dated occurrence; ``key`` names what anchors it (see :func:`occurrence_key`).

    The key takes no part in equality: two occurrences with the same dates are the same
    dates, whatever made them.
    """

    start: date | None
    due: date
    key: str = field(default="", compare=False)
    # The working day the due date really falls on (WorkCalendar.effective_deadline);
    # set by occurrences(), not part of an occurrence's identity.
    effective: date | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Anchor:
    """Where in each unit of a cadence the work is due: "в мае", "до 5 числа".

    ``month`` 0: any month of the unit; ``day`` 0: the whole month. ``lead`` as for
    dated phrases: "до мая" (``by_start``) is by 30 April, "до 1 сентября" by that day.
    """

    month: int = 0
    day: int = 0
    lead: Lead = "in"


@dataclass(frozen=True)
class Schedule:
    """The parsed phrase.

    ``windows``: the dates of once/window/multiple; the bounds of a recurring schedule
    ("ежемесячно с сентября по май"); the whole period of a continuous one (or the year
    it names). ``cadence`` of a continuous schedule is None unless the phrase names one —
    the configured default then applies when occurrences are made. ``first``: a written
    date before a cadence ("Октябрь 2021, далее ежеквартально"); ``anchors``: where in
    each unit a recurring schedule is due. ``notes`` say how a phrase was read where a
    person might read it otherwise (a corrected misspelling, an assumed start).
    """

    kind: Kind
    phrase: str
    windows: tuple[Window, ...] = ()  # once / window / multiple
    cadence: Cadence | None = None  # recurring / continuous
    event: EventBinding | None = None  # event
    problems: tuple[str, ...] = ()  # Russian sentences for the review
    first: Window | None = None  # recurring: a written first occurrence
    anchors: tuple[Anchor, ...] = ()  # recurring: where in each unit
    notes: tuple[str, ...] = ()  # Russian sentences for the review, not problems


# --------------------------------------------------------------------------- calendar units

#: Month segments (first, last) of one cycle of each cadence; a segment may wrap the year
#: (September–August). The same table places named quarters, half-years and terms.
_SEGMENTS: dict[str, tuple[tuple[int, int], ...]] = {
    "monthly": tuple((m, m) for m in range(1, 13)),
    "quarterly": ((1, 3), (4, 6), (7, 9), (10, 12)),
    "half_yearly": ((1, 6), (7, 12)),
    "school_half_yearly": ((9, 12), (1, 5)),
    "yearly": ((1, 12),),
    "school_yearly": ((9, 8),),
    "school_quarterly": ((9, 10), (11, 12), (1, 3), (4, 5)),
}


def _is_school_year(period: tuple[date, date]) -> bool:
    return period[0].month == 9


_SCHOOL_VARIANTS = {"half_yearly": "school_half_yearly", "yearly": "school_yearly"}


def _segments(cadence: str, school: bool) -> tuple[tuple[int, int], ...]:
    return _SEGMENTS[_SCHOOL_VARIANTS.get(cadence, cadence) if school else cadence]


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _segment_window(segment: tuple[int, int], year: int) -> Window:
    first, last = segment
    return Window(date(year, first, 1), _month_end(year if last >= first else year + 1, last))


def _units(cadence: Cadence, period: tuple[date, date]) -> Iterator[Window]:
    """Calendar units of ``cadence`` overlapping ``period``, in order."""
    start, end = period
    if cadence == "weekly":
        monday = start - timedelta(days=start.weekday())
        while monday <= end:
            yield Window(monday, monday + timedelta(days=6))
            monday += timedelta(days=7)
        return
    segments = _segments(cadence, _is_school_year(period))
    for year in range(start.year - 1, end.year + 1):
        for segment in segments:
            unit = _segment_window(segment, year)
            if unit.due >= start and unit.start is not None and unit.start <= end:
                yield unit


# ------------------------------------------------------------------------------- tokenizer

TokenKind = Literal["date", "daymonth", "monthyear", "num", "word", "dash"]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    text: str  # lower case, ё → е; a corrected misspelling is the word meant
    start: int  # span in the cleaned phrase, for quoting it back
    end: int
    value: int = 0  # num; the month of daymonth / monthyear
    day: date | None = None  # date
    dom: int = 0  # daymonth: the day of the month; monthyear: the year


_FOLD = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-") | {"ё": "е", "і": "i"})
_TAGS = re.compile(r"<[^>]*>")
_YEAR_SLASH = re.compile(r"(?<=\d)\s*/\s*(?=\d)")
#: Dates as typed: "15.09.2021", "15 . 09. 2021", "20.12. 2021", "15.09.21", "09.2021"
#: (a month), "15.05" (no year). Spaces around the dots only before a four-digit year:
#: "15.09. 21" is too unsure to read.
_TOKEN = re.compile(
    r"(?P<date>(?<!\d)(?P<d>\d{1,2})\s*\.\s*(?P<m>\d{1,2})\s*\.\s*(?P<y>\d{4})(?!\d)"
    r"|(?<!\d)(?P<d2>\d{1,2})\.(?P<m2>\d{1,2})\.(?P<y2>\d{2})(?!\d))"
    r"|(?P<monthyear>(?<!\d)(?P<mm>\d{1,2})\s*\.\s*(?P<my>\d{4})(?!\d))"
    r"|(?P<daymonth>(?<![\d.])(?P<dd>\d{1,2})\s*\.\s*(?P<dm>\d{1,2})(?!\d)\.?)"
    r"|(?P<num>\d+)(?:-?(?:ого|ому|ый|ий|ой|ая|ое|го|му|х|й|я|е|м)(?![а-яa-z]))?"
    r"|(?P<word>[а-яa-z]+)"
    r"|(?P<dash>-)"
)
#: Words after which "2.3" is a clause of a document, not the 2nd of March.
_NOT_A_DATE_AFTER = frozenset(
    [
        "п",
        "пп",
        "пункт",
        "пункта",
        "пункте",
        "пункту",
        "раздел",
        "раздела",
        "разделе",
        "ст",
        "статьи",
    ]
)


def _clean(phrase: str) -> str:
    """The phrase as shown back to people: no markup, one space between words."""
    text = unicodedata.normalize("NFKC", html.unescape(_TAGS.sub(" ", phrase)))
    return " ".join(text.split())


def _date_token(m: re.Match[str]) -> _Token:
    """A dd.mm.yyyy / dd.mm.yy token, or a word (quoted back unread) if impossible."""
    digits = m.group("y") or m.group("y2")
    year = int(digits) + (2000 if len(digits) == 2 else 0)
    day_text, month_text = (m.group("d"), m.group("m")) if m.group("y") else (m["d2"], m["m2"])
    try:
        day = date(year, int(month_text), int(day_text))
    except ValueError:
        day = None
    if day is None or not 1900 <= year <= 2100:
        return _Token("word", m.group(), m.start(), m.end())
    return _Token("date", m.group(), m.start(), m.end(), day=day)


def _tokenize(display: str) -> list[_Token]:
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in display)
    text = _YEAR_SLASH.sub(lambda m: "-" + " " * (len(m.group()) - 1), lowered.translate(_FOLD))
    tokens: list[_Token] = []
    for m in _TOKEN.finditer(text):
        after_clause = bool(tokens) and tokens[-1].text in _NOT_A_DATE_AFTER
        if m.group("date"):
            tokens.append(_date_token(m))
        elif m.group("monthyear"):
            month, year = int(m.group("mm")), int(m.group("my"))
            ok = 1 <= month <= 12 and 1900 <= year <= 2100 and not after_clause
            kind: TokenKind = "monthyear" if ok else "word"
            tokens.append(_Token(kind, m.group(), m.start(), m.end(), value=month, dom=year))
        elif m.group("daymonth"):
            day, month = int(m.group("dd")), int(m.group("dm"))
            ok = 1 <= month <= 12 and 1 <= day <= _month_end(2000, month).day
            kind = "daymonth" if ok and not after_clause else "word"
            tokens.append(_Token(kind, m.group(), m.start(), m.end(), value=month, dom=day))
        elif m.group("num"):
            digits = m.group("num")
            value = int(digits) if len(digits) <= 6 else -1
            tokens.append(_Token("num", digits, m.start(), m.end(), value=value))
        elif m.group("word"):
            tokens.append(_Token("word", m.group(), m.start(), m.end()))
        else:
            tokens.append(_Token("dash", "-", m.start(), m.end()))
    return tokens


def _spell(tokens: list[_Token], display: str) -> tuple[list[_Token], list[str]]:
    """Misspelt grammar words replaced by the words meant, with a note for each."""
    notes: list[str] = []
    fixed: list[_Token] = []
    for token in tokens:
        meant = _SPELLER.correct(token.text) if token.kind == "word" else None
        if meant is None:
            fixed.append(token)
            continue
        written = display[token.start : token.end]
        notes.append(f"«{written}» прочитано как «{meant}».")
        fixed.append(_Token("word", meant, token.start, token.end))
    return fixed, notes


# ------------------------------------------------------------------------------ vocabulary


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _month_forms() -> dict[str, int]:
    soft = {"январ": 1, "феврал": 2, "апрел": 4, "июн": 6, "июл": 7}
    soft |= {"сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12}
    forms = {stem + end: m for stem, m in soft.items() for end in ("ь", "я", "е", "ю", "ем")}
    forms |= {
        stem + end: m
        for stem, m in {"март": 3, "август": 8}.items()
        for end in ("", "а", "е", "у", "ом")
    }
    forms |= dict.fromkeys(("май", "мая", "мае", "маю", "маем"), 5)
    abbreviations = {"янв": 1, "фев": 2, "февр": 2, "мар": 3, "апр": 4, "июн": 6, "июл": 7}
    abbreviations |= {"авг": 8, "сен": 9, "сент": 9, "окт": 10, "ноя": 11, "нояб": 11, "дек": 12}
    return forms | abbreviations


MONTHS = _month_forms()
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _number_words() -> dict[str, int]:
    """Cardinal numbers in the case forms deadlines use: "двух недель", "пяти рабочих дней"."""
    words = {
        **dict.fromkeys(
            [
                "один",
                "одного",
                "одному",
                "одним",
                "одном",
                "одна",
                "одной",
                "одну",
                "одно",
                "однократно",
            ],
            1,
        ),
        **dict.fromkeys(["два", "две", "двух", "двум", "двумя", "дважды"], 2),
        **dict.fromkeys(["три", "трех", "трем", "тремя", "трижды"], 3),
        **dict.fromkeys(["четыре", "четырех", "четырем", "четырьмя"], 4),
        "восемь": 8,
        "восьми": 8,
        "восьмью": 8,
    }
    stems = {"пят": 5, "шест": 6, "сем": 7, "девят": 9, "десят": 10, "двадцат": 20, "тридцат": 30}
    teens = "одиннадцат двенадцат тринадцат четырнадцат пятнадцат шестнадцат семнадцат"
    stems |= {stem: n for n, stem in enumerate((teens + " восемнадцат девятнадцат").split(), 11)}
    for stem, value in stems.items():
        words |= {stem + ending: value for ending in ("ь", "и", "ью")}
    return words


_NUMBER_WORDS = _number_words()
_ADVERB_TIMES = {"однократно", "дважды", "трижды"}
_ORDINAL_STEMS = {"перв": 1, "втор": 2, "трет": 3}
_FOURTH = {"четверт" + e for e in ("ый", "ого", "ом", "ому", "ая", "ой", "ую", "ое")}
_YEAR_WORDS = {"г", "гг", "год", "года", "году", "годы", "годов", "годах"}
_YEAR_UNIT_WORDS = {"год", "года", "году", "годам", "годов", "лет"}
_SCHOOL_WORDS = {
    "уч", "учебн", "учебный", "учебного", "учебном", "учебному", "учебным", "учебных", "учебной"
}  # fmt: skip
_TERM_WORDS = {"четверть", "четверти", "четвертям", "четвертей", "четвертью"}
#: Unit words → (cadence, units per year); "четверть" is a school term.
_UNIT_STEMS: tuple[tuple[str, Cadence, int], ...] = (
    ("недел", "weekly", 52),
    ("месяц", "monthly", 12),
    ("квартал", "quarterly", 4),
    ("полугоди", "half_yearly", 2),
)
#: How people name each cadence (the review and notes say it so).
CADENCE_WORDS: dict[Cadence, str] = {
    "weekly": "еженедельно",
    "monthly": "ежемесячно",
    "quarterly": "ежеквартально",
    "half_yearly": "раз в полугодие",
    "yearly": "ежегодно",
    "school_quarterly": "по четвертям",
}
_PER_YEAR: dict[int, Cadence] = {
    52: "weekly",
    12: "monthly",
    4: "quarterly",
    2: "half_yearly",
    1: "yearly",
}
_WEEKDAYS: dict[str, int] = {
    **{w: n for n, w in enumerate(["пн", "вт", "ср", "чт", "пт", "сб", "вс"])},
    **{
        stem + ending: n
        for n, stem in enumerate(
            ["понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресень"]
        )
        for ending in ("", "а", "у", "е", "ам", "ям", "ья", "ье", "ю")
    },
}
_WEEKDAY_NAMES = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"]
#: "Октябрь 2021, далее ежеквартально": what comes after the first date.
_THEN_WORDS = _wordset("далее дальнейшем затем впоследствии потом")
#: "до 5 числа": a day of the month.
_DAY_OF_MONTH = _wordset("числа число числу")
#: Words left over between clauses that carry no meaning of their own.
_FILLERS = (
    _wordset(
        "в во и а с со на до по к за от или но не позднее позже течение также срок сроки срока"
        " т д п текущего текущий этого данного каждого каждой период периода проведения"
        " отчет отчета отчеты отчетом отчетов отчетность отчетности"
    )
    | _YEAR_WORDS
    | _SCHOOL_WORDS
    | _THEN_WORDS
    | frozenset(_WEEKDAYS)
)


def _unit(token: _Token) -> tuple[Cadence, int] | None:
    """The calendar unit a word names, as (cadence, units per year)."""
    if token.kind != "word":
        return None
    text = token.text
    if text in _TERM_WORDS:
        return "school_quarterly", 4
    if text in _YEAR_UNIT_WORDS:
        return "yearly", 1
    if text == "кв":
        return "quarterly", 4
    for stem, cadence, per_year in _UNIT_STEMS:
        if text.startswith(stem):
            return cadence, per_year
    return None


def _ordinal(token: _Token) -> int | None:
    if token.kind == "num":
        return token.value if 1 <= token.value <= 4 else None
    if token.kind != "word":
        return None
    if token.text in _ROMAN:
        return _ROMAN[token.text]
    if token.text in _FOURTH:
        return 4
    return next((n for stem, n in _ORDINAL_STEMS.items() if token.text.startswith(stem)), None)


def _count(token: _Token) -> int | None:
    if token.kind == "num":
        return token.value if token.value >= 0 else None
    return _NUMBER_WORDS.get(token.text) if token.kind == "word" else None


# ------------------------------------------------------------------------------ the grammar

#: Named points a phrase may contain before they are placed in years.
PointUnit = Literal["day", "month", "quarterly", "half_yearly", "school_quarterly", "fixed"]


@dataclass(frozen=True)
class _Years:
    first: int
    last: int
    school: bool

    def span(self) -> tuple[date, date]:
        if self.school:
            return date(self.first, 9, 1), date(self.last, 8, 31)
        return date(self.first, 1, 1), date(self.last, 12, 31)


@dataclass(frozen=True)
class _Point:
    """A date expression before it has a year: "октября", "15 марта", "II полугодие"."""

    unit: PointUnit
    index: int = 0  # month, or ordinal of a quarter / half / term
    day: int = 0  # unit "day"; a bare day number ("с 1 по 15 октября") has index 0
    years: _Years | None = None
    fixed: Window | None = None  # a dd.mm.yyyy date or a year expression

    def segment(self, school: bool) -> tuple[int, int]:
        if self.unit in ("day", "month"):
            return self.index, self.index
        return _segments(self.unit, school)[self.index - 1]

    def place(self, year: int, school: bool) -> Window | None:
        """The point in ``year`` (the year its first month falls in); None: no such date."""
        if self.fixed is not None:
            return self.fixed
        segment = self.segment(school)
        if self.unit != "day":
            return _segment_window(segment, year)
        try:
            day = date(year, segment[0], self.day)
        except ValueError:
            return None
        return Window(day, day)


ClauseWhat = Literal[
    "dated", "event", "recurring", "continuous", "on_demand", "reference", "anchor"
]


@dataclass(frozen=True)
class _Clause:
    what: ClauseWhat
    first: int  # token indices [first, end)
    end: int
    windows: tuple[Window, ...] = ()
    cadence: Cadence | None = None
    binding: EventBinding | None = None
    anchor: Anchor | None = None  # a point without a year: may anchor a cadence
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def _alts(text: str) -> tuple[str, ...]:
    """ "по итог* | после" → ("по итог*", "после"); a trailing * takes any ending."""
    return tuple(" ".join(alt.split()) for alt in text.split("|"))


_LEADS: dict[Lead, tuple[str, ...]] = {
    "by_end": _alts(
        "не позднее | не позже | до конца | до окончани* | к концу | в конце | по итог*"
        " | по окончани* | по завершени* | конец | в конец"
    ),
    "by_start": _alts("до | к | в срок до"),
    "from": _alts("с | со | начиная с"),
    "in": _alts("в | во | в течение | на протяжении | в период | за | на"),
    "early": _alts("в начале | начало | в начал*"),
}
#: "в начале октября": the first days of the month, said in a note.
EARLY_DAYS = 10
#: "в течение месяца после …": a month counted as this many calendar days, said in a note.
MONTH_DAYS = 30
_AFTER_EVENT = _alts("по итог* | по результат* | после | по окончани* | по завершени* | по факту")
_AT_EVENT = _alts(
    "в соответстви* с | в соответстви* со | согласно | по план* | по график* | в день | в дни"
    " | в период | во время | в ходе | при | в сроки | в рамках"
)
_BEFORE_EVENT = _alts("до | перед | накануне | в преддверии")
_OFFSET_LEADS = _alts(
    "не позднее | не позже | в течение | в срок | за | через | спустя | в срок не позднее"
)
_AFTER_WORDS = _alts(
    "после | с момента | со дня | с дня | с даты | от даты | от | по итог* | по окончани*"
    " | по завершени*"
)
#: "со дня получения результатов [ВПР]": the results of an assessment.
_RESULTS = _alts("получени* результат* | поступлени* результат*")
#: Offset units in calendar days; "рабочих" before a day unit makes it working days.
_OFFSET_UNITS: tuple[tuple[str, int], ...] = (
    ("ден*", 1), ("дн*", 1), ("сут*", 1), ("недел*", 7), ("месяц*", MONTH_DAYS)
)  # fmt: skip
_BEFORE_WORDS = _alts("до | перед | накануне")
_EVENT_NOUNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("впр", ("ВПР",)),
    ("всероссийск* проверочн* работ*", ("ВПР",)),
    ("нико", ("НИКО",)),
    ("национальн* исследовани*", ("НИКО",)),
    ("гиа", GIA_KINDS),
    ("государственн* итогов* аттестаци*", GIA_KINDS),
    ("огэ", ("ОГЭ",)),
    ("егэ", ("ЕГЭ",)),
    ("гвэ", ("ГВЭ",)),
    ("рпр", ("РПР",)),
    ("региональн* проверочн* работ*", ("РПР",)),
    ("оценочн* процедур*", ()),
)
_ON_DEMAND = _alts(
    "по мере | по запрос* | при необходимост* | по необходимост* | в случае | при наличии"
    " | при выявлени* | по требовани* | по обращени* | по заявк* | при поступлени* | по факту"
)
_REFERENCE_LEADS = _alts("в соответстви* с | в соответстви* со | согласно | соответственно | по")
_REFERENCE_NOUNS = _alts(
    "план* | график* | отдельн* | расписани* | приказ* | положени* | регламент* | циклограмм*"
    " | дорожн*"
)
_REFERENCE_WHOLE = _alts("по согласовани* | в установленн* срок* | в сроки установл*")
_CONTINUOUS_WORDS = _alts(
    "постоянно | круглогодичн* | ежедневно | регулярно | систематически | непрерывно"
)
_CONTINUOUS_LEADS = _alts("в течение | на протяжении | весь | круглый")
_CONTINUOUS_MODIFIERS = _wordset(
    "всего весь всей учебного учебный текущего отчетного данного этого"
)
_CONTINUOUS_HEADS = _alts("год | года | период* | срок*")
_CONTINUOUS_TAIL = _wordset("реализации действия плана программы дорожной карты")
_RECURRING_WORDS: tuple[tuple[str, Cadence], ...] = (
    ("еженедельн*", "weekly"),
    ("ежемесячн*", "monthly"),
    ("помесячн*", "monthly"),
    ("ежеквартальн*", "quarterly"),
    ("поквартальн*", "quarterly"),
    ("ежеполугодн*", "half_yearly"),
    ("ежегодн*", "yearly"),
)
_EACH_LEADS = _alts("в конце | по итог* | по окончани* | до конца | в течение | в начале")
#: "до 5 числа месяца, следующего за отчётным": the anchor as it is read anyway.
_NEXT_MONTH = _alts("месяца следующего за отчетн* | месяца следующего за отчетн* период*")
#: "по итогам четверти": the results of every unit, without "каждой".
_UNIT_RESULTS_LEADS = _alts("по итог* | по окончани* | по завершени* | по результат*")
_UNIT_RESULTS_SKIP = _wordset("учебной учебного отчетного отчетной")


def _build_speller() -> Speller:
    """The grammar's own vocabulary: what a misspelt word may be read as."""
    specs = [
        *(spec for specs in _LEADS.values() for spec in specs),
        *_AFTER_EVENT, *_AT_EVENT, *_BEFORE_EVENT, *_OFFSET_LEADS, *_AFTER_WORDS,
        *_BEFORE_WORDS, *_RESULTS, *_ON_DEMAND, *_REFERENCE_LEADS, *_REFERENCE_NOUNS,
        *_REFERENCE_WHOLE, *_CONTINUOUS_WORDS, *_CONTINUOUS_LEADS, *_CONTINUOUS_HEADS,
        *_EACH_LEADS, *_UNIT_RESULTS_LEADS, *_NEXT_MONTH,
        *(spec for spec, _ in _RECURRING_WORDS), *(spec for spec, _ in _EVENT_NOUNS),
        *(spec for spec, _ in _OFFSET_UNITS), *(stem + "*" for stem, _, _ in _UNIT_STEMS),
        *MONTHS, *_NUMBER_WORDS, *_TERM_WORDS, *_YEAR_UNIT_WORDS, *_FOURTH,
        *(stem + "*" for stem in _ORDINAL_STEMS), "раз раза кажд* рабоч* календарн* числ*",
    ]  # fmt: skip
    fillers = [
        *_FILLERS, *_CONTINUOUS_MODIFIERS, *_CONTINUOUS_TAIL, *_UNIT_RESULTS_SKIP, *_WEEKDAYS,
        *_NOT_A_DATE_AFTER,
    ]  # fmt: skip
    return Speller(known=[*specs, *fillers], targets=specs)


_SPELLER = _build_speller()


class _Reader:
    """Recursive-descent reader over the token list.

    Every rule returns a clause (which knows where it ends) or None and keeps no state, so
    rules are simply tried in turn at each position and a failed one costs nothing.
    """

    def __init__(self, tokens: list[_Token], period: tuple[date, date]) -> None:
        self.tokens = tokens
        self.period = period
        self.school = _is_school_year(period)

    # ---- primitives

    def word(self, i: int, spec: str) -> bool:
        if i >= len(self.tokens) or self.tokens[i].kind != "word":
            return False
        text = self.tokens[i].text
        return text.startswith(spec[:-1]) if spec.endswith("*") else text == spec

    def seq(self, i: int, spec: str) -> int | None:
        """End index if the words of ``spec`` ("по итог*": * takes any ending) start at ``i``."""
        parts = spec.split()
        if all(self.word(i + offset, part) for offset, part in enumerate(parts)):
            return i + len(parts)
        return None

    def first_of(self, i: int, specs: Sequence[str]) -> int | None:
        """End of the longest of ``specs`` starting at ``i``."""
        ends = [end for spec in specs if (end := self.seq(i, spec)) is not None]
        return max(ends, default=None)

    def kind_at(self, i: int) -> TokenKind | None:
        return self.tokens[i].kind if i < len(self.tokens) else None

    def month_at(self, i: int) -> int | None:
        return MONTHS.get(self.tokens[i].text) if self.kind_at(i) == "word" else None

    # ---- the phrase

    def clauses(self) -> tuple[list[_Clause], list[int]]:
        """All clauses left to right, and the indices of tokens no clause took."""
        found: list[_Clause] = []
        unread: list[int] = []
        i = 0
        while i < len(self.tokens):
            match = self.clause(i, swallowing=True)
            if match is None:
                # "31 апреля 2022" is an impossible date, not April 2022 with a stray 31.
                end = i + 1
                if self.kind_at(i) == "num" and self.month_at(end) is not None:
                    end = self.years(end + 1)[1]
                unread.extend(range(i, end))
                i = end
            else:
                found.append(match)
                i = match.end
        return found, unread

    def clause(self, i: int, swallowing: bool) -> _Clause | None:
        rules: list[Callable[[int], _Clause | None]] = [
            self.event,
            self.recurring,
            self.continuous,
            self.elapsed,
            self.dated,
        ]
        if swallowing:  # these take the rest of their words, so never inside a swallow
            rules[1:1] = [self.on_demand, self.reference]
        for rule in rules:
            match = rule(i)
            if match is not None:
                return match
        return None

    def swallow(self, i: int) -> int:
        """Skip the free words after "по мере …", "по плану …" up to the next clause."""
        while self.kind_at(i) in ("word", "dash") and self.clause(i, swallowing=False) is None:
            i += 1
        return i

    # ---- clause rules

    def on_demand(self, i: int) -> _Clause | None:
        end = self.first_of(i, _ON_DEMAND)
        if end is None:
            return None
        end = self.swallow(end)
        return _Clause("on_demand", i, end)

    def reference(self, i: int) -> _Clause | None:
        end = self.first_of(i, _REFERENCE_WHOLE)
        if end is None:
            lead = self.first_of(i, _REFERENCE_LEADS)
            end = None if lead is None else self.first_of(lead, _REFERENCE_NOUNS)
        if end is None:
            return None
        end = self.swallow(end)
        return _Clause("reference", i, end)

    def continuous(self, i: int) -> _Clause | None:
        """ "постоянно", "в течение года", "в течение 2021-2022 учебного года" (bounded)."""
        end = self.first_of(i, _CONTINUOUS_WORDS)
        if end is not None:
            return _Clause("continuous", i, end)
        j = self.first_of(i, _CONTINUOUS_LEADS)
        if j is None:
            return None
        while self.kind_at(j) == "word" and self.tokens[j].text in _CONTINUOUS_MODIFIERS:
            j += 1
        years, after_years = self.years(j)
        named = years is not None and any(
            self.tokens[k].text in _YEAR_WORDS for k in range(j, after_years)
        )
        if years is not None and named:  # the year is named: as without it, but bounded
            return _Clause("continuous", i, after_years, windows=(Window(*years.span()),))
        end = self.first_of(j, _CONTINUOUS_HEADS)
        if end is None:
            return None
        while self.kind_at(end) == "word" and self.tokens[end].text in _CONTINUOUS_TAIL:
            end += 1
        years, after_years = self.years(end)  # "в течение учебного года 2021-2022"
        if years is not None:
            return _Clause("continuous", i, after_years, windows=(Window(*years.span()),))
        return _Clause("continuous", i, end)

    def recurring(self, i: int) -> _Clause | None:
        for spec, cadence in _RECURRING_WORDS:
            end = self.seq(i, spec)
            if end is not None:
                return _Clause("recurring", i, end, cadence=cadence)
        return self.times_per_unit(i) or self.each_unit(i) or self.unit_results(i)

    def times_per_unit(self, i: int) -> _Clause | None:
        """ "1 раз в квартал", "раз в полугодие", "дважды в год", "по четвертям"."""
        if i >= len(self.tokens) or (i > 0 and _count(self.tokens[i - 1]) is not None):
            return None  # "3 раза в год" is not "раз в год" with a stray 3
        times = _count(self.tokens[i])
        if times is not None and self.tokens[i].text in _ADVERB_TIMES:
            j: int | None = i + 1  # "дважды" stands for "2 раза"
        else:
            j = self.first_of(i if times is None else i + 1, ("раз", "раза"))
        if j is not None:
            j = self.first_of(j, ("в", "за"))
            if j is None or j >= len(self.tokens):
                return None
            unit = _unit(self.tokens[j])
        elif self.word(i, "по") and i + 1 < len(self.tokens):
            j = i + 1
            unit = _unit(self.tokens[j])  # "по кварталам", "по четвертям"
            if unit is not None and unit[0] == "yearly":
                return None  # "по году" names no cadence
        else:
            return None
        if unit is None:
            return None
        times = 1 if times is None else times
        cadence: Cadence | None = unit[0] if times == 1 else _PER_YEAR.get(times * unit[1])
        if cadence is None or (times > 1 and unit[0] == "school_quarterly"):
            return None
        return _Clause("recurring", i, j + 1, cadence=cadence)

    def each_unit(self, i: int) -> _Clause | None:
        """ "каждый месяц", "в конце каждого квартала", "по итогам каждой четверти"."""
        lead = self.first_of(i, _EACH_LEADS)
        j = i if lead is None else lead
        if not self.word(j, "кажд*") or j + 1 >= len(self.tokens):
            return None
        unit = _unit(self.tokens[j + 1])
        if unit is None:
            return None
        return _Clause("recurring", i, j + 2, cadence=unit[0])

    def unit_results(self, i: int) -> _Clause | None:
        """ "по итогам четверти", "по окончании полугодия": every such unit's end.

        A named unit ("по итогам I полугодия") is one date, read by :meth:`dated`; the
        year ("по итогам года") is the plan's end, not a cadence.
        """
        j = self.first_of(i, _UNIT_RESULTS_LEADS)
        if j is None:
            return None
        while self.kind_at(j) == "word" and self.tokens[j].text in _UNIT_RESULTS_SKIP:
            j += 1
        unit = _unit(self.tokens[j]) if j < len(self.tokens) else None
        if unit is None or unit[0] in ("yearly", "weekly"):
            return None
        if self.years(j + 1)[0] is not None:
            return None  # "по итогам квартала 2022 года": that year's quarter, not a cadence
        return _Clause("recurring", i, j + 1, cadence=unit[0])

    def event(self, i: int) -> _Clause | None:
        offset = self.event_offset(i)
        if offset is not None:
            working, calendar, j = offset
        else:
            j_after = self.first_of(i, _AFTER_EVENT)
            j_at = self.first_of(i, _AT_EVENT)
            j_before = self.first_of(i, _BEFORE_EVENT)
            if j_after is not None:
                working, calendar, j = AFTER_EVENT_WORKING_DAYS, 0, j_after
            elif j_at is not None:
                working, calendar, j = 0, 0, j_at
            elif j_before is not None:
                working, calendar, j = BEFORE_EVENT_WORKING_DAYS, 0, j_before
            else:
                return None
        found = self.event_nouns(j)
        if found is None:
            return None
        kinds, end = found
        within: Window | None = None
        # "… ВПР в 2022 г.", "… ВПР 2022 года": which of the events the plan means.
        restriction = self.span(end + 1 if self.first_of(end, ("в", "во")) else end, "in")
        if restriction is not None:
            window, end, _single = restriction
            within = Window(window.start or self.period[0], window.due)
        binding = EventBinding(kinds, working, calendar, within)
        notes = self.month_note(i, j)
        if self.first_of(j, _RESULTS) is not None:
            notes += (
                "Срок «со дня получения результатов» отсчитан от даты самой процедуры: "
                "дата получения результатов в календаре не указана.",
            )
        return _Clause("event", i, end, binding=binding, notes=notes)

    def month_note(self, i: int, end: int) -> tuple[str, ...]:
        """A duration in months is counted in days: the review says how many."""
        if any(self.word(k, "месяц*") for k in range(i, end)):
            return (f"Месяц в сроке считается как {MONTH_DAYS} календарных дней.",)
        return ()

    def elapsed(self, i: int) -> _Clause | None:
        """ "в течение двух недель" with nothing to count from: from the period's start."""
        span = self.duration(i)
        if span is None or span[0]:
            return None  # working days need a calendar and a start the plan names
        _working, days, end = span
        start = self.period[0]
        due = start + timedelta(days=days - 1)
        note = (
            f"Срок «{' '.join(t.text for t in self.tokens[i:end])}» отсчитан от начала "
            f"периода плана ({_ru(start)}): до {_ru(due)}."
        )
        notes = (note, *self.month_note(i, end))
        return _Clause("dated", i, end, windows=(Window(start, due),), notes=notes)

    def event_offset(self, i: int) -> tuple[int, int, int] | None:
        """ "не позднее 1 рабочего дня до", "за 2 дня до", "в течение двух недель после",
        "в течение 3 рабочих дней со дня" → (working days, calendar days, index after)."""
        span = self.duration(i)
        if span is None:
            return None
        working, days, j = span
        after = self.first_of(j, _AFTER_WORDS)
        before = self.first_of(j, _BEFORE_WORDS)
        if after is not None:
            signed, end = days, after
        elif before is not None:
            signed, end = -days, before
        else:
            return None
        return (signed, 0, end) if working else (0, signed, end)

    def duration(self, i: int) -> tuple[bool, int, int] | None:
        """ "в течение двух недель", "не позднее 5 рабочих дней", "за неделю"
        → (working days?, days, index after)."""
        j = self.first_of(i, _OFFSET_LEADS)
        if j is None or j >= len(self.tokens):
            return None
        counted = self.count_at(j)
        count, size = (1, 0) if counted is None else counted  # "в течение недели", "за день"
        j += size
        if count > 365:
            return None
        working = self.word(j, "рабоч*")
        if working or self.word(j, "календарн*"):
            j += 1
        for spec, days in _OFFSET_UNITS:
            if self.word(j, spec):
                if working and days != 1:
                    return None  # "рабочих недель": not a unit anyone counts in
                return working, count * days, j + 1
        return None

    def count_at(self, i: int) -> tuple[int, int] | None:
        """A number at ``i``, in digits or words ("двадцати пяти"): (value, tokens used)."""
        if i >= len(self.tokens):
            return None
        first = _count(self.tokens[i])
        if first is None:
            return None
        if first in (20, 30) and i + 1 < len(self.tokens):
            units = _count(self.tokens[i + 1])
            if units is not None and 1 <= units <= 9 and self.tokens[i + 1].kind == "word":
                return first + units, 2
        return first, 1

    def event_nouns(self, i: int) -> tuple[tuple[str, ...], int] | None:
        """The assessment(s) named within a few words: "проведения ВПР и НИКО".

        "получения результатов" with no assessment named means any assessment's results.
        """
        results = self.first_of(i, _RESULTS)
        for skip in range(5):
            found = self.event_noun(i + skip)
            if found is not None:
                break
            if self.kind_at(i + skip) not in ("word", "dash"):
                found = None
                break
        else:
            found = None
        if found is None:
            return None if results is None else ((), results)
        kinds, end = found
        while (joined := self.first_of(end, ("и", "или"))) is not None:
            more = self.event_noun(joined)
            if more is None:
                break
            kinds = () if not kinds or not more[0] else kinds + more[0]
            end = more[1]
        return tuple(dict.fromkeys(kinds)), end

    def event_noun(self, i: int) -> tuple[tuple[str, ...], int] | None:
        for spec, kinds in _EVENT_NOUNS:
            end = self.seq(i, spec)
            if end is not None:
                return kinds, end
        return None

    def dated(self, i: int) -> _Clause | None:
        leads = [
            (end, kind)
            for kind, specs in _LEADS.items()
            if (end := self.first_of(i, specs)) is not None
        ]
        j, lead = max(leads, default=(i, "in"))
        if self.kind_at(j) == "num" and self.word(j + 1, "числ*"):  # "до 5 числа"
            day = self.tokens[j].value
            if not 1 <= day <= 31:
                return None
            # "… месяца, следующего за отчётным (кварталом)": how the anchor is read anyway
            end = self.first_of(j + 2, _NEXT_MONTH) or j + 2
            if end > j + 2 and end < len(self.tokens) and _unit(self.tokens[end]) is not None:
                end += 1
            return _Clause("anchor", i, end, anchor=Anchor(0, day, "in"))
        if lead == "by_end" and (to_end := self.plan_end(j)) is not None:
            return _Clause("dated", i, to_end[1], windows=(to_end[0],))
        if lead == "by_start" and (to_start := self.plan_start(j)) is not None:
            return _Clause("dated", i, to_start[1], windows=(to_start[0],))
        span = self.span(j, lead)
        if span is None:
            return None
        window, end, single = span
        notes: tuple[str, ...] = ()
        if lead == "early" and window.start is not None:
            notes = (
                f"«{' '.join(t.text for t in self.tokens[i:end])}» прочитано как первые "
                f"{EARLY_DAYS} дней месяца: до {_ru(window.due)}.",
            )
        anchor = None
        yearless = single is not None and single.years is None and single.fixed is None
        if yearless and single is not None and single.index and single.unit in ("day", "month"):
            # "в мае", "до 1 сентября": no year named, so it may anchor a cadence
            day = single.day if single.unit == "day" else 0
            anchor = Anchor(single.index, day, lead if not day else "in")  # a day is a day
        problems = self.weekday_problems(single, window, end)
        if problems is not None:
            return _Clause("dated", i, end + 1, windows=(window,), anchor=anchor, problems=problems)
        return _Clause("dated", i, end, windows=(window,), anchor=anchor, notes=notes)

    def weekday_problems(
        self, single: _Point | None, window: Window, i: int
    ) -> tuple[str, ...] | None:
        """ "12.03 (вт)": None if no weekday follows the day; else the mismatch, if any."""
        if single is None or single.unit != "day" or self.kind_at(i) != "word":
            return None
        weekday = _WEEKDAYS.get(self.tokens[i].text)
        if weekday is None:
            return None
        day = window.due
        if day.weekday() == weekday:
            return ()
        return (
            f"{_ru(day)} — {_WEEKDAY_NAMES[day.weekday()]}, а в сроке указан "
            f"{_WEEKDAY_NAMES[weekday]}: проверьте дату.",
        )

    def plan_start(self, i: int) -> tuple[Window, int] | None:
        """ "к началу (учебного) года", "до начала периода": by the plan's first day."""
        if not self.word(i, "начал*"):
            return None
        j = i + 1
        while self.kind_at(j) == "word" and self.tokens[j].text in ("учебного", "текущего"):
            j += 1
        end = self.first_of(j, ("год", "года", "периода"))
        return None if end is None else (Window(None, self.period[0]), end)

    def plan_end(self, i: int) -> tuple[Window, int] | None:
        """ "по итогам (учебного) года", "до конца периода": the plan's own year ends."""
        j = i
        while self.kind_at(j) == "word" and self.tokens[j].text in ("учебного", "текущего"):
            j += 1
        end = self.first_of(j, ("год", "года", "периода"))
        return None if end is None else (Window(None, self.period[1]), end)

    def span(self, i: int, lead: Lead) -> tuple[Window, int, _Point | None] | None:
        """A dated span at ``i``: (window, end, the point if it was a single one)."""
        first = self.point(i)
        if first is None:
            return None
        a, j = first
        to = None
        if self.kind_at(j) == "dash":
            to = j + 1
        elif lead == "from":
            to = self.first_of(j, ("по", "до"))
        second = None if to is None else self.point(to)
        if second is not None:
            b, end = second
            window = self.resolve_range(a, b)
            return None if window is None else (window, end, None)
        if a.unit == "day" and a.index == 0:
            return None  # a bare number is a day only inside a range
        placed = self.resolve(a)
        if placed is None or placed.start is None:
            return None
        if lead == "from":
            return Window(placed.start, max(placed.start, self.period[1])), j, None
        if lead == "by_end" or a.unit == "day":
            return Window(None, placed.due), j, a
        if lead == "by_start":
            return Window(None, placed.start - timedelta(days=1)), j, a
        if lead == "early" and a.unit == "month":
            return Window(placed.start, placed.start + timedelta(days=EARLY_DAYS - 1)), j, a
        if lead == "early":
            return None
        return placed, j, a

    def point(self, i: int) -> tuple[_Point, int] | None:
        if i >= len(self.tokens):
            return None
        token = self.tokens[i]
        if token.kind == "date" and token.day is not None:
            day = token.day
            return _Point("day", day.month, day=day.day, fixed=Window(day, day)), i + 1
        if token.kind == "daymonth":  # "15.05": placed like "15 мая"
            years, end = self.years(i + 1)
            return _Point("day", token.value, day=token.dom, years=years), end
        if token.kind == "monthyear":  # "09.2021", "09.2021 г."
            end = i + 1
            while self.kind_at(end) == "word" and self.tokens[end].text in _YEAR_WORDS:
                end += 1
            return _Point("month", token.value, years=_Years(token.dom, token.dom, False)), end
        month = self.month_at(i)
        if month is not None:
            years, end = self.years(i + 1)
            return _Point("month", month, years=years), end
        month = self.month_at(i + 1) if token.kind == "num" else None
        if month is not None:
            if not 1 <= token.value <= _month_end(2000, month).day:  # 2000: 29 February exists
                return None
            years, end = self.years(i + 2)
            return _Point("day", month, day=token.value, years=years), end
        ordinal = _ordinal(token)
        unit = _unit(self.tokens[i + 1]) if ordinal and i + 1 < len(self.tokens) else None
        if ordinal is not None and unit is not None and unit[0] != "yearly":
            limit = {"half_yearly": 2}.get(unit[0], 4)
            if ordinal > limit or unit[0] not in ("quarterly", "half_yearly", "school_quarterly"):
                return None
            years, end = self.years(i + 2)
            return _Point(unit[0], ordinal, years=years), end
        years, end = self.years(i)
        if years is not None:
            start, due = years.span()
            return _Point("fixed", fixed=Window(start, due)), end
        if token.kind == "num" and 1 <= token.value <= 31:
            return _Point("day", 0, day=token.value), i + 1
        return None

    def years(self, i: int) -> tuple[_Years | None, int]:
        """ "2021", "2021г.", "2021 года", "2022-2023гг.", "2022-23 учебного года"."""
        if self.kind_at(i) != "num" or not 1900 <= self.tokens[i].value <= 2100:
            return None, i
        first = last = self.tokens[i].value
        j = i + 1
        if self.kind_at(j) == "dash" and self.kind_at(j + 1) == "num":
            second = self.tokens[j + 1].value
            second += first // 100 * 100 if second < 100 else 0
            if first < second <= first + 50:
                last, j = second, j + 2
        school = False
        while self.kind_at(j) == "word" and (
            self.tokens[j].text in _YEAR_WORDS or self.tokens[j].text in _SCHOOL_WORDS
        ):
            school = school or self.tokens[j].text in _SCHOOL_WORDS
            j += 1
        if school and last == first:
            last = first + 1
        school = last == first + 1 and (school or self.school)
        return _Years(first, last, school), j

    # ---- placing points in years

    def resolve(self, point: _Point) -> Window | None:
        """Place a point in its own years, or in the plan's period when it names none."""
        local = point.years.span() if point.years else self.period
        school = _is_school_year(local)
        first_month = point.segment(school)[0] if point.fixed is None else 1
        year = local[0].year if first_month >= local[0].month else local[0].year + 1
        return point.place(year, school)

    def resolve_beside(self, point: _Point, anchor: date, before: bool) -> Window | None:
        """Place a point nearest to ``anchor`` on one side — the other end of its range."""
        key = (point.segment(self.school)[0], point.day or 1)
        anchor_key = (anchor.month, anchor.day)
        if before:
            year = anchor.year if key <= anchor_key else anchor.year - 1
        else:
            year = anchor.year if key >= anchor_key else anchor.year + 1
        return point.place(year, self.school)

    def resolve_range(self, a: _Point, b: _Point) -> Window | None:
        own_a = a.years is not None or a.fixed is not None
        own_b = b.years is not None or b.fixed is not None
        wa: Window | None
        wb: Window | None
        if own_b or not own_a:
            wb = self.resolve(b)
            if wb is None or wb.start is None:
                return None
            if a.unit == "day" and a.index == 0:  # "с 1 по 15 октября", "1-15.10.2021"
                if b.unit != "day" or a.day > wb.start.day:
                    return None
                wa = Window(wb.start.replace(day=a.day), wb.start.replace(day=a.day))
            else:
                wa = self.resolve(a) if own_a else self.resolve_beside(a, wb.start, True)
        else:
            wa = self.resolve(a)
            if wa is None or wa.start is None:
                return None
            wb = self.resolve_beside(b, wa.start, False)
        if wa is None or wb is None or wa.start is None or wa.start > wb.due:
            return None
        return Window(wa.start, wb.due)


# ----------------------------------------------------------------------------- the schedule


def _ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _runs(indices: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of token indices as [first, end)."""
    run: list[int] = []
    for index in indices:
        if run and index != run[-1] + 1:
            yield run[0], run[-1] + 1
            run = []
        run.append(index)
    if run:
        yield run[0], run[-1] + 1


def _manual(reason: str) -> str:
    return f"{reason}: задайте даты мероприятия вручную."


def parse_deadline(phrase: str, period: tuple[date, date]) -> Schedule:
    """Read a deadline cell of a plan; never raises, never guesses silently."""
    display = _clean(phrase)
    if not display:
        return Schedule("unscheduled", phrase, problems=(_manual("Срок не указан"),))
    tokens, notes = _spell(_tokenize(display), display)
    clauses, unread = _Reader(tokens, period).clauses()

    def of(what: ClauseWhat) -> list[_Clause]:
        return [c for c in clauses if c.what == what]

    def quote(first: int, end: int) -> str:
        return display[tokens[first].start : tokens[end - 1].end]

    # Which clauses decide the kind when a cell holds several: an event binding or a
    # cadence says more than dates (dates then bound a cadence, anchor it in its unit or
    # come first), dates more than "по мере" or "постоянно"; a reference to another
    # document never decides alone.
    kind: Kind
    windows: list[Window] = [w for c in of("dated") for w in c.windows]
    cadence: Cadence | None = None
    binding: EventBinding | None = None
    first: Window | None = None
    anchors: list[Anchor] = []
    used = of("dated")
    continuous = [w for c in of("continuous") for w in c.windows] or [Window(*period)]
    if of("event"):
        kind, used, binding, windows = "event", of("event")[:1], of("event")[0].binding, []
    elif of("recurring"):
        kind, cadence, first, anchors, windows = _recurring(of("recurring")[0], clauses, tokens)
        used = of("recurring")[:1] + used + of("anchor")
    elif windows:
        if of("continuous"):  # "В течение года Март 2023 г.": all year and, in March, again
            windows.extend(continuous)
        windows = list(dict.fromkeys(sorted(windows, key=lambda w: (w.due, w.start or w.due))))
        single: Kind = "once" if windows[0].start is None else "window"
        kind = "multiple" if len(windows) > 1 else single
    elif of("on_demand"):
        kind = "on_demand"
    elif of("continuous"):
        kind, windows, used = "continuous", continuous[:1], of("continuous")[:1]
    else:
        kind = "unscheduled"

    problems: list[str] = []
    references = [f"«{quote(c.first, c.end)}»" for c in of("reference")]
    if kind == "unscheduled" and references:
        reason = f"Срок задан ссылкой на другой документ ({'; '.join(references)})"
        problems.append(_manual(reason))
    elif kind == "unscheduled":
        problems.append(_manual(f"Срок «{display}» не распознан"))
    else:
        problems += [
            f"Точные сроки определяются другим документом ({r}): проверьте даты."
            for r in references
        ]
        problems += [
            f"Часть срока не учтена: «{quote(c.first, c.end)}»."
            for c in clauses
            if c.what in ("event", "recurring", "dated", "anchor") and c not in used
        ]
        problems += [
            f"Часть срока не распознана и не учтена: «{quote(first, end)}»."
            for first, end in _runs(unread)
            if any(t.kind != "dash" and t.text not in _FILLERS for t in tokens[first:end])
        ]
    problems += [p for c in used for p in c.problems]
    notes += [n for c in used for n in c.notes]
    if cadence not in (None, "monthly") and any(a.month == 0 for a in anchors):
        notes.append(
            f"День месяца при периодичности «{CADENCE_WORDS[cadence]}» прочитан как день "
            "месяца, следующего за каждым периодом (как сдают отчёты за период)."
        )
    if kind != "continuous" or windows != [Window(*period)]:
        problems += _outside_period(windows + ([first] if first else []), binding, period)
    return Schedule(
        kind,
        phrase,
        windows=tuple(windows),
        cadence=cadence,
        event=binding,
        problems=tuple(dict.fromkeys(problems)),
        first=first,
        anchors=tuple(dict.fromkeys(anchors)),
        notes=tuple(dict.fromkeys(notes)),
    )


def _recurring(
    clause: _Clause, clauses: Sequence[_Clause], tokens: Sequence[_Token]
) -> tuple[Kind, Cadence | None, Window | None, list[Anchor], list[Window]]:
    """A cadence and the dates beside it: a first date, anchors in the unit, or bounds.

    A dated clause followed by "далее"/"затем" before the cadence is the first
    occurrence ("Октябрь 2021, далее ежеквартально"); a month or day without a year is
    where in each unit the work is due ("ежегодно в мае", "до 5 числа"); anything else
    bounds the cadence ("ежемесячно с сентября по май").
    """
    dated = [c for c in clauses if c.what == "dated"]
    first_clause = next(
        (
            c
            for c in dated
            if c.end <= clause.first and len(c.windows) == 1
            and any(t.text in _THEN_WORDS for t in tokens[c.end : clause.first])
        ),
        None,
    )  # fmt: skip
    anchors = [c.anchor for c in clauses if c.what == "anchor" and c.anchor is not None]
    anchors += [c.anchor for c in dated if c.anchor is not None and c is not first_clause]
    bounds = [w for c in dated if c is not first_clause and c.anchor is None for w in c.windows]
    first = first_clause.windows[0] if first_clause is not None else None
    return "recurring", clause.cadence, first, anchors, bounds


def _outside_period(
    windows: list[Window], binding: EventBinding | None, period: tuple[date, date]
) -> list[str]:
    """Dates outside the plan are kept — the plan says so — but someone must look at them."""
    span = f"{_ru(period[0])}–{_ru(period[1])}"
    problems = [
        f"Срок {_ru(w.due) if w.start is None else f'{_ru(w.start)}–{_ru(w.due)}'} выходит за"
        f" период плана ({span}): проверьте даты."
        for w in windows
        if w.due > period[1] or (w.start or w.due) < period[0]
    ]
    within = None if binding is None else binding.within
    if within is not None and (within.due < period[0] or (within.start or within.due) > period[1]):
        problems.append(
            f"События {_ru(within.start or within.due)}–{_ru(within.due)} вне периода плана"
            f" ({span}): проверьте даты."
        )
    return problems


# -------------------------------------------------------------------------- occurrences


def occurrence_key(kind: Literal["date", "unit", "event"], *parts: object) -> str:
    """What anchors an occurrence, as stored on its task (``Task.occurrence_key``).

    ``d:START..DUE`` a written date or window, ``u:CADENCE:UNIT-START[@MM-DD]`` a calendar
    unit (and the anchor in it), ``e:DAY`` an assessment day. Undated tasks have
    :data:`UNDATED_KEY`.
    """
    if kind == "date":
        start, due = parts
        return f"d:{'' if start is None else start}..{due}"
    if kind == "unit":
        return "u:" + ":".join(str(p) for p in parts)
    return f"e:{parts[0]}"


UNDATED_KEY = "-"


def occurrences(
    schedule: Schedule,
    period: tuple[date, date],
    calendar: WorkCalendar,
    events: Sequence[EventDate] = (),
    continuous_cadence: Cadence = "quarterly",
) -> list[Occurrence]:
    """The concrete dated occurrences of a schedule in the plan's period (see module doc)."""
    return [
        replace(o, effective=calendar.effective_deadline(o.due))
        for o in _occurrences(schedule, period, calendar, events, continuous_cadence)
    ]


def _occurrences(
    schedule: Schedule,
    period: tuple[date, date],
    calendar: WorkCalendar,
    events: Sequence[EventDate],
    continuous_cadence: Cadence,
) -> list[Occurrence]:
    if schedule.kind in ("once", "window", "multiple"):
        return [_written(w) for w in schedule.windows]
    if schedule.kind == "continuous" or (schedule.kind == "recurring" and schedule.cadence):
        cadence = schedule.cadence or continuous_cadence
        return _unit_occurrences(schedule, cadence, period, calendar)
    if schedule.kind == "event" and schedule.event is not None:
        return _event_occurrences(schedule.event, period, calendar, events)
    return []


def _written(window: Window) -> Occurrence:
    return Occurrence(window.start, window.due, occurrence_key("date", window.start, window.due))


def _unit_occurrences(
    schedule: Schedule, cadence: Cadence, period: tuple[date, date], calendar: WorkCalendar
) -> list[Occurrence]:
    """Recurring and continuous work: one occurrence per unit (per anchor in it)."""
    start, end = period
    bounds = schedule.windows or (Window(start, end),)
    found: list[Occurrence] = [] if schedule.first is None else [_written(schedule.first)]
    after = schedule.first.due if schedule.first is not None else None
    for unit in _units(cadence, period):
        assert unit.start is not None
        if schedule.anchors:
            for anchor in schedule.anchors:
                placed = _in_unit(anchor, unit, cadence)
                if placed is None or not start <= placed.due <= end:
                    continue
                if after is not None and placed.due <= after:
                    continue
                where = f"@{anchor.month:02d}-{anchor.day:02d}"
                if not anchor.day and anchor.lead != "in":
                    where += f"-{anchor.lead}"
                key = occurrence_key("unit", cadence, unit.start, where)
                occurrence = _computed(max(placed.start or unit.start, start), placed.due, calendar)
                found.append(replace(occurrence, key=key))
            continue
        if not start <= unit.due <= end:
            continue
        if not any((b.start or start) <= unit.due <= b.due for b in bounds):
            continue
        if after is not None and unit.due <= after:
            continue
        occurrence = _computed(max(unit.start, start), unit.due, calendar)
        found.append(replace(occurrence, key=occurrence_key("unit", cadence, unit.start)))
    return found


def _in_unit(anchor: Anchor, unit: Window, cadence: Cadence) -> Window | None:
    """Where ``anchor`` falls in ``unit``: "в мае" → May, "до 5 числа" → the 5th.

    A day without a month in a unit longer than a month is that day of the month after
    the unit — when reports on a quarter or a half-year are due.
    """
    assert unit.start is not None
    if anchor.month == 0:
        month_start = unit.start if cadence in ("monthly", "weekly") else unit.due + timedelta(1)
        if cadence == "weekly":
            return None
        last = _month_end(month_start.year, month_start.month).day
        day = month_start.replace(day=min(anchor.day, last))
        return Window(None, day)
    for year in (unit.start.year, unit.start.year + 1):
        month = Window(date(year, anchor.month, 1), _month_end(year, anchor.month))
        assert month.start is not None
        if not (unit.start <= month.start and month.due <= unit.due):
            continue
        if anchor.day:
            day = month.start.replace(day=min(anchor.day, month.due.day))
            return Window(None, day)
        if anchor.lead == "by_start":
            return Window(None, month.start - timedelta(days=1))
        if anchor.lead == "by_end":
            return Window(None, month.due)
        if anchor.lead == "early":
            return Window(month.start, month.start + timedelta(days=EARLY_DAYS - 1))
        return month
    return None


def _computed(start: date, due: date, calendar: WorkCalendar) -> Occurrence:
    due = calendar.on_or_before(due)
    return Occurrence(min(start, due), due)


def _event_occurrences(
    binding: EventBinding,
    period: tuple[date, date],
    calendar: WorkCalendar,
    events: Sequence[EventDate],
) -> list[Occurrence]:
    wanted = {k.upper() for k in binding.kinds}
    low, high = period
    if binding.within is not None:
        low, high = max(low, binding.within.start or low), min(high, binding.within.due)
    result: list[Occurrence] = []
    days: set[date] = set()
    for event in sorted(events, key=lambda e: e.date):
        if not low <= event.date <= high or (wanted and event.kind.strip().upper() not in wanted):
            continue
        if event.date in days:
            continue  # several subjects on one day: one occurrence
        days.add(event.date)
        if binding.offset_calendar_days:
            # Calendar days count from the event's own date, even when that is a day off
            # ("за 2 дня до" a Saturday event is the Thursday), then back to a working day.
            due = calendar.on_or_before(event.date + timedelta(days=binding.offset_calendar_days))
        else:
            due = calendar.add_working_days(event.date, binding.offset_working_days)
        after = binding.offset_working_days >= 0 and binding.offset_calendar_days >= 0
        start = event.date if after else None
        result.append(Occurrence(start, due, occurrence_key("event", event.date)))
    return result


def schedule_problems(schedule: Schedule, found: Sequence[Occurrence]) -> list[str]:
    """The schedule's problems, and one more when a dated kind yields nothing to remind.

    A task that is never due is never reminded or escalated: any schedule that should
    have dates but has none in the period is a problem, always.
    """
    problems = list(schedule.problems)
    if found or schedule.kind in ("on_demand", "unscheduled"):
        return problems
    if schedule.kind == "event":
        kinds = ", ".join(schedule.event.kinds) if schedule.event else ""
        problems.append(
            f"В календаре оценочных процедур нет событий ({kinds or 'оценочных процедур'}) в "
            "периоде плана: задача создана без даты и не будет напоминаться, пока календарь "
            "не загружен (measures events import)."
        )
    else:
        problems.append(
            "Ни одного срока в периоде плана: у задачи не будет даты, напоминаний и контроля; "
            "проверьте срок или задайте даты вручную."
        )
    return problems


def schedule_json(schedule: Schedule, occurrences: Sequence[Occurrence]) -> dict[str, Any]:
    """What ``measures schedule explain --json`` prints and the review shows."""
    event = schedule.event
    return {
        "kind": schedule.kind,
        "cadence": schedule.cadence,
        "event": (
            None
            if event is None
            else {
                "kinds": list(event.kinds),
                "offset_working_days": event.offset_working_days,
                "offset_calendar_days": event.offset_calendar_days,
            }
        ),
        "occurrences": [
            {
                "start": None if o.start is None else o.start.isoformat(),
                "due": o.due.isoformat(),
                **(
                    {"effective_due": o.effective.isoformat()}
                    if o.effective is not None and o.effective != o.due
                    else {}
                ),
            }
            for o in occurrences
        ],
        "problems": schedule_problems(schedule, occurrences),
        "notes": list(schedule.notes),
    }


# ----------------------------------------------------------------- the stored, versioned form


def _window_json(window: Window | None) -> list[str | None] | None:
    if window is None:
        return None
    return [None if window.start is None else window.start.isoformat(), window.due.isoformat()]


def _window_from(data: Any) -> Window | None:
    if data is None:
        return None
    start, due = data
    return Window(None if start is None else date.fromisoformat(start), date.fromisoformat(due))


def schedule_to_json(schedule: Schedule) -> dict[str, Any]:
    """The parsed schedule as stored on its measure: everything needed to expand it again.

    :func:`schedule_from_json` gives back an equal :class:`Schedule`; ``version`` says
    which grammar read it (:data:`GRAMMAR_VERSION`).
    """
    event = schedule.event
    return {
        "version": GRAMMAR_VERSION,
        "kind": schedule.kind,
        "phrase": schedule.phrase,
        "windows": [_window_json(w) for w in schedule.windows],
        "cadence": schedule.cadence,
        "event": None
        if event is None
        else {
            "kinds": list(event.kinds),
            "offset_working_days": event.offset_working_days,
            "offset_calendar_days": event.offset_calendar_days,
            "within": _window_json(event.within),
        },
        "first": _window_json(schedule.first),
        "anchors": [[a.month, a.day, a.lead] for a in schedule.anchors],
        "problems": list(schedule.problems),
        "notes": list(schedule.notes),
    }


class StoredScheduleError(ValueError):
    """A stored schedule this release cannot read back (another version, damaged)."""


def schedule_from_json(data: dict[str, Any]) -> Schedule:
    """The :class:`Schedule` stored by :func:`schedule_to_json` (this grammar version)."""
    if data.get("version") != GRAMMAR_VERSION:
        raise StoredScheduleError(f"stored schedule version {data.get('version')!r}")
    try:
        event = data["event"]
        windows = tuple(w for w in (_window_from(x) for x in data["windows"]) if w is not None)
        return Schedule(
            kind=cast(Kind, data["kind"]),
            phrase=str(data["phrase"]),
            windows=windows,
            cadence=cast("Cadence | None", data["cadence"]),
            event=None
            if event is None
            else EventBinding(
                kinds=tuple(event["kinds"]),
                offset_working_days=int(event["offset_working_days"]),
                offset_calendar_days=int(event["offset_calendar_days"]),
                within=_window_from(event["within"]),
            ),
            problems=tuple(data["problems"]),
            first=_window_from(data["first"]),
            anchors=tuple(
                Anchor(int(month), int(day), cast(Lead, lead))
                for month, day, lead in data["anchors"]
            ),
            notes=tuple(data["notes"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StoredScheduleError(f"damaged stored schedule: {exc}") from None
