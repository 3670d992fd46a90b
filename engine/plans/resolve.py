"""Who is meant by the "Ответственный" cell: directory persons, or every school.

Plans name the responsible as people write: a position ("Главный специалист по
содержанию образования"), an organisation ("МКУ «Районный методический кабинет»"), an
abbreviation ("РЦОКО", declared in the plan's list or as a directory alias), a person
with initials ("Е.А. Краснова"), several of them ("ОО, МИМС"), or the schools as a whole
("Руководители ОО", "Директор, заместители директора ОО").

Resolution, in order: the whole cell (exactly as a directory name, position,
organisation or alias), then its *entries*: the cell's lines (a Word cell's paragraphs,
``<p>``/``<br>``), split at ``,``/``;``, and a part naming several persons with initials
split between them even without separators («А.Б.Смирнова В.Г.Орлов», «Иванова А.А.
Петров Б.Б.»), then a part split at " и ". Each entry matches a person by key, name,
surname with initials, position, organisation or alias (case, ё/е, quotes and tags
ignored), or by an abbreviation's expansion. Every entry counts: the first person is
the responsible, the others co-responsible, and an entry that matches nobody is
returned as unresolved, by its text. A cell that mentions the schools (ОО, ОУ, школы, or an
abbreviation expanding to "образовательные организации") *fans out*: one task per
school with its head responsible; school-staff words next to it (директор, заместители,
педагоги …) belong to that fan-out. If the measure's section or plan is about schools
"с признаками необъективности" or "с низкими результатами", only the flagged schools
are meant. What matches nothing is returned as unresolved — never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, select

from engine.core.models import Person, RiskFlag, School

_TAGS = re.compile(r"</?[a-zA-Z][^>]*>")
_QUOTES = str.maketrans({c: " " for c in "«»“”„\"'`()"})
_SCHOOL_WORDS = re.compile(
    r"(?<![а-яё])(оо|оу|ооо|оо\(оу\)|школ[а-яё]*|образовательн[а-яё]* организац[а-яё]*|"
    r"общеобразовательн[а-яё]* (организац|учрежден)[а-яё]*)(?![а-яё])"
)
_STAFF_WORDS = re.compile(
    r"^(директор|заместител|руководител|администрац|педагог|учител|классн|школьн|"
    r"методическ[а-яё]* объединени|координатор|мо\b)"
)
#: Two initials as people write them: "А.Б.", "А. Б.", "А.Б" before a capital.
_INITIALS = re.compile(r"(?<![А-Яа-яЁё])([А-ЯЁ])\.\s?([А-ЯЁ])(?:\.|(?=\s|$|[,;)]))")
_SURNAME = r"[А-ЯЁ][А-Яа-яЁё]+(?:-[А-ЯЁ]?[А-Яа-яЁё]+)?"
_SURNAME_AFTER = re.compile(r"\s*(" + _SURNAME + r")(?![А-Яа-яЁё.])")
_SURNAME_BEFORE = re.compile(r"(?<![А-Яа-яЁё])(" + _SURNAME + r")\s+$")
_LINES = re.compile(r"\n|</?(?:p|br|li|div)\b[^>]*>", re.IGNORECASE)
_NON_OBJECTIVE = re.compile(r"необъективн")
_LOW_RESULTS = re.compile(r"низк[а-яё]* (образовательн[а-яё]* )?результат|шнор")


def normalise(text: str) -> str:
    text = _TAGS.sub(" ", text).lower().replace("ё", "е").translate(_QUOTES)
    return " ".join(text.split()).strip(" .,:;-–—")


@dataclass(frozen=True)
class Mention:
    """A person named with initials inside a text: where, and how."""

    start: int
    end: int
    surname: str  # as written, lower case, ё → е
    first: str  # initials, lower case
    middle: str


def person_mentions(
    text: str, known: Callable[[str, str, str], bool] = lambda *_: False
) -> list[Mention]:
    """Every "И.О. Фамилия" / "Фамилия И.О." in ``text``, left to right.

    «Смирнова А.Б. Орлов В.Г.» and «А.Б.Смирнова В.Г.Орлов» are two persons each; in
    «Методист А.Б. Смирнова» the initials could go with either word: the one ``known``
    (surname, first, middle) confirms wins, else the word after the initials (how a
    position and a name are written) — unless that word comes right before the next
    initials, whose surname it then is.
    """
    found: list[Mention] = []
    taken_until = 0
    initials = list(_INITIALS.finditer(text))
    for n, match in enumerate(initials):
        first, middle = match.group(1).lower(), match.group(2).lower()
        next_start = initials[n + 1].start() if n + 1 < len(initials) else len(text)
        before = _SURNAME_BEFORE.search(text[taken_until : match.start()])
        after = _SURNAME_AFTER.match(text, match.end())
        if after is not None and after.end(1) > next_start:
            after = None
        options: list[Mention] = []
        if before is not None:
            start = taken_until + before.start(1)
            options.append(Mention(start, match.end(), _fold(before[1]), first, middle))
        if after is not None:
            options.append(Mention(match.start(), after.end(1), _fold(after[1]), first, middle))
        if not options:
            continue
        chosen = options[-1]
        if len(options) == 2:
            confirmed = [o for o in options if known(o.surname, o.first, o.middle)]
            assert after is not None
            names_next = n + 1 < len(initials) and not text[after.end(1) : next_start].strip()
            if len(confirmed) == 1:
                chosen = confirmed[0]
            elif names_next:
                chosen = options[0]  # "Смирнова А.Б. Орлов В.Г.": surnames first
        found.append(chosen)
        taken_until = chosen.end
    return found


def _fold(text: str) -> str:
    return text.lower().replace("ё", "е")


@dataclass(frozen=True)
class Resolution:
    persons: tuple[Person, ...] = ()
    fan_out: bool = False
    flag: str | None = None  # "non_objective" / "low_results": only flagged schools
    unresolved: tuple[str, ...] = ()


@dataclass
class Directory:
    """Persons and schools loaded once per import, indexed by normalised names."""

    persons: list[Person]
    schools: list[School]
    flags: dict[int, set[str]]  # school id → flag kinds
    # (tier, normalised name) → persons. Tier 0: key, name, aliases; 1: position;
    # 2: organisation. An alias outranks a shared organisation: the organisation's
    # contact person carries its name as an alias, the staff just work there.
    _index: dict[tuple[int, str], list[Person]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Directory:
        flags: dict[int, set[str]] = {}
        for flag in session.exec(select(RiskFlag)):
            flags.setdefault(flag.school_id, set()).add(flag.kind)
        directory = cls(
            list(session.exec(select(Person).where(Person.active == True))),  # noqa: E712
            list(session.exec(select(School))),
            flags,
        )
        for person in directory.persons:
            tiers = (
                [person.key, person.name, *person.aliases],
                [person.position],
                [person.organisation],
            )
            for tier, names in enumerate(tiers):
                for name in names:
                    if name:
                        directory._index.setdefault((tier, normalise(name)), []).append(person)
        return directory

    def schools_for(self, flag: str | None) -> list[School]:
        if flag is None:
            return list(self.schools)
        return [s for s in self.schools if s.id is not None and flag in self.flags.get(s.id, ())]

    def exact(self, text: str, abbreviations: dict[str, str]) -> Person | None:
        """The one person whose key, name, alias, position or organisation is ``text``.

        None if none or several match at the most specific level (never a guess).
        """
        key = normalise(text)
        candidates = [key]
        for short, full in abbreviations.items():
            if normalise(short) == key:
                candidates.append(normalise(full))
        for tier in range(3):
            for candidate in candidates:
                found = {p.key: p for p in self._index.get((tier, candidate), [])}
                if len(found) == 1:
                    return next(iter(found.values()))
                if found:
                    return None  # ambiguous at the most specific level: do not guess
        return None

    def find(self, text: str, abbreviations: dict[str, str]) -> Person | None:
        """One person for one entry of a cell, or None if none or several match.

        Exactly as written, else by the one person named with initials in it ("методист
        А.Б. Смирнова", "возложить на Петрову А.С."); an entry naming several persons is
        no one person.
        """
        person = self.exact(text, abbreviations)
        if person is not None:
            return person
        mentions = self.mentions(text)
        return self.by_initials(mentions[0]) if len(mentions) == 1 else None

    def mentions(self, text: str) -> list[Mention]:
        return person_mentions(
            _TAGS.sub(" ", text), lambda *names: self.by_initials(Mention(0, 0, *names)) is not None
        )

    def by_initials(self, mention: Mention) -> Person | None:
        """The one person with this surname (in any grammatical case) and initials.

        Documents name people in the case the sentence needs ("возложить на Петрову
        А.С."), so surnames are compared by stem: equal but for the last two letters.
        """
        found = []
        for person in self.persons:
            parts = normalise(person.name).split()
            if (
                len(parts) >= 3
                and same_surname(parts[0], mention.surname)
                and parts[1][0] == mention.first
                and parts[2][0] == mention.middle
            ):
                found.append(person)
        return found[0] if len(found) == 1 else None


def same_surname(stored: str, written: str) -> bool:
    """Surnames compared by stem (any grammatical case): equal but for the last two letters."""
    if stored == written:
        return True
    stem = min(len(stored), len(written)) - 2
    return stem >= 3 and stored[:stem] == written[:stem] and abs(len(stored) - len(written)) <= 2


def section_flag(titles: Iterable[str]) -> str | None:
    """The risk list a plan part is about, from its headings (innermost first)."""
    for title in titles:
        text = normalise(title)
        if _NON_OBJECTIVE.search(text):
            return "non_objective"
        if _LOW_RESULTS.search(text):
            return "low_results"
    return None


def _mentions_schools(text: str, abbreviations: dict[str, str]) -> bool:
    if _SCHOOL_WORDS.search(text):
        return True
    for short, full in abbreviations.items():
        if re.search(rf"(?<![а-яё]){re.escape(normalise(short))}(?![а-яё])", text) and (
            _SCHOOL_WORDS.search(normalise(full))
        ):
            return True
    return False


def entries(text: str, split_mentions: Callable[[str], list[Mention]]) -> list[str]:
    """The entries of a responsible cell, as written (see the module doc).

    Lines first (a Word cell's paragraphs, ``<p>``), then ``,``/``;``; a part naming
    several persons with initials is cut before each of them, so a position written
    before a name stays with it ("Директор Иванова А.А. Заместитель Петров Б.Б.").
    """
    found: list[str] = []
    for line in _LINES.split(text):
        for piece in re.split(r"[,;]", line):
            piece = _TAGS.sub(" ", piece).strip(" :-–—\t")
            if not normalise(piece):
                continue
            mentions = split_mentions(piece)
            if len(mentions) < 2:
                found.append(piece)
                continue
            start = 0
            for n, mention in enumerate(mentions):
                end = len(piece) if n == len(mentions) - 1 else mention.end
                found.append(piece[start:end].strip(" :-–—"))
                start = end
    return [" ".join(entry.split()) for entry in found if normalise(entry)]


def resolve(
    text: str,
    directory: Directory,
    abbreviations: dict[str, str],
    headings: Sequence[str] = (),
) -> Resolution:
    """Resolve a responsible cell; ``headings`` are the enclosing section/plan titles."""
    if not normalise(text):
        return Resolution()
    whole = directory.exact(text, abbreviations)
    if whole is not None:
        return Resolution(persons=(whole,))
    fan_out = _mentions_schools(normalise(text), abbreviations)
    persons: list[Person] = []
    unresolved: list[str] = []

    def named_in(entry: str) -> None:
        """The persons named with initials inside an entry about the schools."""
        for mention in directory.mentions(entry):
            person = directory.by_initials(mention)
            if person is not None:
                persons.append(person)
            else:
                unresolved.append(entry[mention.start : mention.end])

    for entry in entries(text, directory.mentions):
        norm = normalise(entry)
        if fan_out and (_mentions_schools(norm, abbreviations) or _STAFF_WORDS.match(norm)):
            named_in(entry)  # the schools' own staff ("директор", "заместители"): the fan-out
            continue
        person = directory.find(entry, abbreviations)
        if person is None and " и " in norm:
            parts = [directory.find(p, abbreviations) for p in re.split(r"\s+и\s+", entry)]
            if all(parts):
                persons.extend(p for p in parts if p is not None)
                continue
        if person is not None:
            persons.append(person)
        else:
            unresolved.append(entry)
    unique = tuple({p.key: p for p in persons}.values())
    flag = section_flag(headings) if fan_out else None
    return Resolution(unique, fan_out, flag, tuple(dict.fromkeys(unresolved)))
