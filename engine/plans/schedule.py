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
  counts calendar days, "рабочих дня" working days. Several events of one day (ВПР in
  several subjects) make one occurrence.
* **Due dates on days off**: dates written in the plan (once/window/multiple) are kept as
  written — the plan is a legal document, and reminders and escalation run on working days
  anyway. Dates the code computes (recurring unit ends, continuous progress reports,
  calendar-day event offsets) move to the previous working day, so that nobody is late
  because of a weekend and the report is asked for on a day someone reads mail.
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
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from engine.core.workcalendar import WorkCalendar

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
    start: date | None
    due: date
    # The working day the due date really falls on (WorkCalendar.effective_deadline);
    # set by occurrences(), not part of an occurrence's identity.
    effective: date | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Schedule:
    """The parsed phrase.

    ``windows``: the dates of once/window/multiple; the bounds of a recurring schedule
    ("ежемесячно с сентября по май"); the whole period of a continuous one. ``cadence`` of a
    continuous schedule is None unless the phrase names one — the configured default then
    applies when occurrences are made.
    """

    kind: Kind
    phrase: str
    windows: tuple[Window, ...] = ()  # once / window / multiple
    cadence: Cadence | None = None  # recurring / continuous
    event: EventBinding | None = None  # event
    problems: tuple[str, ...] = ()  # Russian sentences for the review


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

TokenKind = Literal["date", "num", "word", "dash"]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    text: str  # lower case, ё → е
    start: int  # span in the cleaned phrase, for quoting it back
    end: int
    value: int = 0  # num
    day: date | None = None  # date


_FOLD = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-") | {"ё": "е", "і": "i"})
_TAGS = re.compile(r"<[^>]*>")
_YEAR_SLASH = re.compile(r"(?<=\d)\s*/\s*(?=\d)")
_TOKEN = re.compile(
    r"(?P<date>(?<!\d)(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})(?!\d))"
    r"|(?P<num>\d+)(?:-?(?:ого|ому|ый|ий|ой|ая|ое|го|му|х|й|я|е|м)(?![а-яa-z]))?"
    r"|(?P<word>[а-яa-z]+)"
    r"|(?P<dash>-)"
)


def _clean(phrase: str) -> str:
    """The phrase as shown back to people: no markup, one space between words."""
    text = unicodedata.normalize("NFKC", html.unescape(_TAGS.sub(" ", phrase)))
    return " ".join(text.split())


def _tokenize(display: str) -> list[_Token]:
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in display)
    text = _YEAR_SLASH.sub(lambda m: "-" + " " * (len(m.group()) - 1), lowered.translate(_FOLD))
    tokens: list[_Token] = []
    for m in _TOKEN.finditer(text):
        if m.group("date"):
            year = int(m.group("y"))
            year += 2000 if year < 100 else 0
            try:
                day = date(year, int(m.group("m")), int(m.group("d")))
            except ValueError:
                day = None
            if day is None or not 1900 <= year <= 2100:
                tokens.append(_Token("word", m.group(), m.start(), m.end()))
            else:
                tokens.append(_Token("date", m.group(), m.start(), m.end(), day=day))
        elif m.group("num"):
            digits = m.group("num")
            value = int(digits) if len(digits) <= 6 else -1
            tokens.append(_Token("num", digits, m.start(), m.end(), value=value))
        elif m.group("word"):
            tokens.append(_Token("word", m.group(), m.start(), m.end()))
        else:
            tokens.append(_Token("dash", "-", m.start(), m.end()))
    return tokens


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
_NUMBER_WORDS = {
    **dict.fromkeys(("один", "одного", "одному", "одним", "однократно"), 1),
    **dict.fromkeys(("два", "двух", "дважды"), 2),
    **dict.fromkeys(("три", "трех", "трижды"), 3),
    **dict.fromkeys(("четыре", "четырех"), 4),
    **dict.fromkeys(("пять", "пяти"), 5),
    **dict.fromkeys(("шесть", "шести"), 6),
    **dict.fromkeys(("семь", "семи"), 7),
    **dict.fromkeys(("десять", "десяти"), 10),
    **dict.fromkeys(("двенадцать", "двенадцати"), 12),
    **dict.fromkeys(("четырнадцать", "четырнадцати"), 14),
}
_ADVERB_TIMES = {"однократно", "дважды", "трижды"}
_ORDINAL_STEMS = {"перв": 1, "втор": 2, "трет": 3}
_FOURTH = {"четверт" + e for e in ("ый", "ого", "ом", "ому", "ая", "ой", "ую", "ое")}
_YEAR_WORDS = {"г", "гг", "год", "года", "году", "годы", "годов", "годах"}
_YEAR_UNIT_WORDS = {"год", "года", "году", "годам", "годов", "лет"}
_SCHOOL_WORDS = {"уч", "учебный", "учебного", "учебном", "учебному", "учебным", "учебн"}
_TERM_WORDS = {"четверть", "четверти", "четвертям", "четвертей", "четвертью"}
#: Unit words → (cadence, units per year); "четверть" is a school term.
_UNIT_STEMS: tuple[tuple[str, Cadence, int], ...] = (
    ("недел", "weekly", 52),
    ("месяц", "monthly", 12),
    ("квартал", "quarterly", 4),
    ("полугоди", "half_yearly", 2),
)
_PER_YEAR: dict[int, Cadence] = {
    52: "weekly",
    12: "monthly",
    4: "quarterly",
    2: "half_yearly",
    1: "yearly",
}
#: Words left over between clauses that carry no meaning of their own.
_FILLERS = (
    _wordset(
        "в во и а с со на до по к за от или но не позднее позже течение также срок сроки срока"
        " т д п текущего текущий этого данного каждого каждой период периода проведения"
    )
    | _YEAR_WORDS
    | _SCHOOL_WORDS
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


Lead = Literal["by_start", "by_end", "from", "in"]
ClauseWhat = Literal["dated", "event", "recurring", "continuous", "on_demand", "reference"]


@dataclass(frozen=True)
class _Clause:
    what: ClauseWhat
    first: int  # token indices [first, end)
    end: int
    windows: tuple[Window, ...] = ()
    cadence: Cadence | None = None
    binding: EventBinding | None = None


def _alts(text: str) -> tuple[str, ...]:
    """ "по итог* | после" → ("по итог*", "после"); a trailing * takes any ending."""
    return tuple(" ".join(alt.split()) for alt in text.split("|"))


_LEADS: dict[Lead, tuple[str, ...]] = {
    "by_end": _alts(
        "не позднее | не позже | до конца | до окончани* | к концу | в конце | по итог*"
        " | по окончани* | по завершени*"
    ),
    "by_start": _alts("до | к | в срок до"),
    "from": _alts("с | со | начиная с"),
    "in": _alts("в | во | в течение | на протяжении | в период | за | на"),
}
_AFTER_EVENT = _alts("по итог* | по результат* | после | по окончани* | по завершени* | по факту")
_AT_EVENT = _alts(
    "в соответствии с | в соответствии со | согласно | по план* | по график* | в день | в дни"
    " | в период | во время | в ходе | при | в сроки | в рамках"
)
_BEFORE_EVENT = _alts("до | перед | накануне | в преддверии")
_OFFSET_LEADS = _alts("не позднее | не позже | в течение | в срок | за | через | спустя")
_AFTER_WORDS = _alts("после | с момента | со дня | от | по итог* | по окончани* | по завершени*")
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
_REFERENCE_LEADS = _alts("в соответствии с | в соответствии со | согласно | соответственно | по")
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
        end = self.first_of(i, _CONTINUOUS_WORDS)
        if end is None:
            j = self.first_of(i, _CONTINUOUS_LEADS)
            if j is None:
                return None
            while self.kind_at(j) == "word" and self.tokens[j].text in _CONTINUOUS_MODIFIERS:
                j += 1
            end = self.first_of(j, _CONTINUOUS_HEADS)
            if end is None:
                return None
            while self.kind_at(end) == "word" and self.tokens[end].text in _CONTINUOUS_TAIL:
                end += 1
        return _Clause("continuous", i, end)

    def recurring(self, i: int) -> _Clause | None:
        for spec, cadence in _RECURRING_WORDS:
            end = self.seq(i, spec)
            if end is not None:
                return _Clause("recurring", i, end, cadence=cadence)
        return self.times_per_unit(i) or self.each_unit(i)

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
            window, end = restriction
            within = Window(window.start or self.period[0], window.due)
        binding = EventBinding(kinds, working, calendar, within)
        return _Clause("event", i, end, binding=binding)

    def event_offset(self, i: int) -> tuple[int, int, int] | None:
        """ "не позднее 1 рабочего дня до", "за 2 дня до", "в течение 3 рабочих дней после"
        → (working days, calendar days, index after)."""
        j = self.first_of(i, _OFFSET_LEADS)
        if j is None or j >= len(self.tokens):
            return None
        count = _count(self.tokens[j])
        if count is None or count > 365:
            return None
        j += 1
        working = self.word(j, "рабоч*")
        if working or self.word(j, "календарн*"):
            j += 1
        if not (self.word(j, "ден*") or self.word(j, "дн*")):
            return None
        j += 1
        after = self.first_of(j, _AFTER_WORDS)
        before = self.first_of(j, _BEFORE_WORDS)
        if after is not None:
            signed, end = count, after
        elif before is not None:
            signed, end = -count, before
        else:
            return None
        return (signed, 0, end) if working else (0, signed, end)

    def event_nouns(self, i: int) -> tuple[tuple[str, ...], int] | None:
        """The assessment(s) named within a few words: "проведения ВПР и НИКО"."""
        for skip in range(5):
            found = self.event_noun(i + skip)
            if found is not None:
                break
            if self.kind_at(i + skip) not in ("word", "dash"):
                return None
        else:
            return None
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
        span = self.span(j, lead) if lead != "by_end" else self.plan_end(j) or self.span(j, lead)
        if span is None:
            return None
        window, end = span
        return _Clause("dated", i, end, windows=(window,))

    def plan_end(self, i: int) -> tuple[Window, int] | None:
        """ "по итогам (учебного) года", "до конца периода": the plan's own year ends."""
        j = i
        while self.kind_at(j) == "word" and self.tokens[j].text in ("учебного", "текущего"):
            j += 1
        end = self.first_of(j, ("год", "года", "периода"))
        return None if end is None else (Window(None, self.period[1]), end)

    def span(self, i: int, lead: Lead) -> tuple[Window, int] | None:
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
            return None if window is None else (window, end)
        if a.unit == "day" and a.index == 0:
            return None  # a bare number is a day only inside a range
        placed = self.resolve(a)
        if placed is None or placed.start is None:
            return None
        if lead == "from":
            return Window(placed.start, max(placed.start, self.period[1])), j
        if lead == "by_end" or a.unit == "day":
            return Window(None, placed.due), j
        if lead == "by_start":
            return Window(None, placed.start - timedelta(days=1)), j
        return placed, j

    def point(self, i: int) -> tuple[_Point, int] | None:
        if i >= len(self.tokens):
            return None
        token = self.tokens[i]
        if token.kind == "date" and token.day is not None:
            day = token.day
            return _Point("day", day.month, day=day.day, fixed=Window(day, day)), i + 1
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
    tokens = _tokenize(display)
    clauses, unread = _Reader(tokens, period).clauses()

    def of(what: ClauseWhat) -> list[_Clause]:
        return [c for c in clauses if c.what == what]

    def quote(first: int, end: int) -> str:
        return display[tokens[first].start : tokens[end - 1].end]

    # Which clauses decide the kind when a cell holds several: an event binding or a
    # cadence says more than dates (dates then bound a cadence), dates more than "по мере"
    # or "постоянно"; a reference to another document never decides alone.
    kind: Kind
    windows: list[Window] = [w for c in of("dated") for w in c.windows]
    cadence: Cadence | None = None
    binding: EventBinding | None = None
    used = of("dated")
    if of("event"):
        kind, used, binding, windows = "event", of("event")[:1], of("event")[0].binding, []
    elif of("recurring"):
        kind, cadence = "recurring", of("recurring")[0].cadence
        used = of("recurring")[:1] + used
    elif windows:
        if of("continuous"):  # "В течение года Март 2023 г.": all year and, in March, again
            windows.append(Window(*period))
        windows = list(dict.fromkeys(sorted(windows, key=lambda w: (w.due, w.start or w.due))))
        single: Kind = "once" if windows[0].start is None else "window"
        kind = "multiple" if len(windows) > 1 else single
    elif of("on_demand"):
        kind = "on_demand"
    elif of("continuous"):
        kind, windows = "continuous", [Window(*period)]
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
            if c.what in ("event", "recurring", "dated") and c not in used
        ]
        problems += [
            f"Часть срока не распознана и не учтена: «{quote(first, end)}»."
            for first, end in _runs(unread)
            if any(t.kind != "dash" and t.text not in _FILLERS for t in tokens[first:end])
        ]
    if kind != "continuous":
        problems += _outside_period(windows, binding, period)
    return Schedule(
        kind,
        phrase,
        windows=tuple(windows),
        cadence=cadence,
        event=binding,
        problems=tuple(problems),
    )


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
    start, end = period
    if schedule.kind in ("once", "window", "multiple"):
        return [Occurrence(w.start, w.due) for w in schedule.windows]
    cadence = schedule.cadence or continuous_cadence
    if schedule.kind == "continuous" or (schedule.kind == "recurring" and schedule.cadence):
        bounds = schedule.windows or (Window(start, end),)
        return [
            _computed(max(unit.start or start, start), unit.due, calendar)
            for unit in _units(cadence, period)
            if start <= unit.due <= end
            and any((b.start or start) <= unit.due <= b.due for b in bounds)
        ]
    if schedule.kind == "event" and schedule.event is not None:
        return _event_occurrences(schedule.event, period, calendar, events)
    return []


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
    for event in sorted(events, key=lambda e: e.date):
        if not low <= event.date <= high or (wanted and event.kind.strip().upper() not in wanted):
            continue
        if binding.offset_calendar_days:
            # Calendar days count from the event's own date, even when that is a day off
            # ("за 2 дня до" a Saturday event is the Thursday), then back to a working day.
            due = calendar.on_or_before(event.date + timedelta(days=binding.offset_calendar_days))
        else:
            due = calendar.add_working_days(event.date, binding.offset_working_days)
        after = binding.offset_working_days >= 0 and binding.offset_calendar_days >= 0
        occurrence = Occurrence(event.date if after else None, due)
        if occurrence not in result:
            result.append(occurrence)
    return result


def missing_events(schedule: Schedule, dated: Sequence[Occurrence]) -> str | None:
    """The problem of an event-bound deadline whose events are not in the calendar yet."""
    if schedule.kind != "event" or schedule.event is None or dated:
        return None
    kinds = ", ".join(schedule.event.kinds) or "оценочных процедур"
    return (
        f"В календаре оценочных процедур нет событий ({kinds}) в периоде плана: задача "
        "создана без даты и не будет напоминаться, пока календарь не загружен "
        "(measures events import)."
    )


def schedule_json(schedule: Schedule, occurrences: Sequence[Occurrence]) -> dict[str, Any]:
    """What ``measures schedule explain --json`` prints."""
    return {
        "kind": schedule.kind,
        "cadence": schedule.cadence,
        "event": (
            None
            if schedule.event is None
            else {
                "offset_working_days": schedule.event.offset_working_days,
                "offset_calendar_days": schedule.event.offset_calendar_days,
                "kinds": list(schedule.event.kinds),
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
        "problems": list(schedule.problems),
    }
