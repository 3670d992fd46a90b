"""Who is meant by the "Ответственный" cell: directory persons, or every school.

Plans name the responsible as people write: a position ("Главный специалист по
содержанию образования"), an organisation ("МКУ «Районный методический кабинет»"), an
abbreviation ("РЦОКО", declared in the plan's list or as a directory alias), a person
with initials ("Е.А. Краснова"), several of them ("ОО, МИМС"), or the schools as a whole
("Руководители ОО", "Директор, заместители директора ОО").

Resolution, in order: the whole cell, then its parts split at ``,``/``;``, then a part
split at " и ". Each piece matches a person by key, name, surname with initials,
position, organisation or alias (case, ё/е, quotes and tags ignored), or by an
abbreviation's expansion. A cell that mentions the schools (ОО, ОУ, школы, or an
abbreviation expanding to "образовательные организации") *fans out*: one task per
school with its head responsible; school-staff words next to it (директор, заместители,
педагоги …) belong to that fan-out. If the measure's section or plan is about schools
"с признаками необъективности" or "с низкими результатами", only the flagged schools
are meant. What matches nothing is returned as unresolved — never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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
_INITIALS = re.compile(
    r"(?:(?<![а-яё])([а-яё])\.\s*([а-яё])\.?\s*([а-яё-]{2,})"
    r"|([а-яё-]{2,})\s+([а-яё])\.\s*([а-яё])(?![а-яё]))"
)
_NON_OBJECTIVE = re.compile(r"необъективн")
_LOW_RESULTS = re.compile(r"низк[а-яё]* (образовательн[а-яё]* )?результат|шнор")


def normalise(text: str) -> str:
    text = _TAGS.sub(" ", text).lower().replace("ё", "е").translate(_QUOTES)
    return " ".join(text.split()).strip(" .,:;-–—")


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

    def find(self, text: str, abbreviations: dict[str, str]) -> Person | None:
        """One person for one piece of text, or None if none or several match."""
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
        return self._by_initials(key)

    def _by_initials(self, key: str) -> Person | None:
        """ "Е.А. Краснова", "Петрову А.С." — anywhere in the text, surname in any case.

        Documents name people in the case the sentence needs ("возложить на Петрову
        А.С."), so surnames are compared by stem: equal but for the last two letters.
        """
        match = _INITIALS.search(normalise(key).replace("ё", "е"))
        if not match:
            return None
        if match.group(3):
            first, middle, surname = match.group(1), match.group(2), match.group(3)
        else:
            surname, first, middle = match.group(4), match.group(5), match.group(6)
        found = []
        for person in self.persons:
            parts = normalise(person.name).split()
            if (
                len(parts) >= 3
                and same_surname(parts[0], surname)
                and parts[1][0] == first
                and parts[2][0] == middle
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


def _pieces(text: str) -> list[str]:
    return [p for p in (piece.strip() for piece in re.split(r"[,;\n]", text)) if p]


def resolve(
    text: str,
    directory: Directory,
    abbreviations: dict[str, str],
    headings: Sequence[str] = (),
) -> Resolution:
    """Resolve a responsible cell; ``headings`` are the enclosing section/plan titles."""
    if not normalise(text):
        return Resolution()
    whole = directory.find(text, abbreviations)
    if whole is not None:
        return Resolution(persons=(whole,))
    fan_out = _mentions_schools(normalise(text), abbreviations)
    persons: list[Person] = []
    unresolved: list[str] = []
    for piece in _pieces(text):
        norm = normalise(piece)
        if fan_out and (_mentions_schools(norm, abbreviations) or _STAFF_WORDS.match(norm)):
            continue  # the schools' own staff ("директор", "заместители"): the fan-out
        person = directory.find(piece, abbreviations)
        if person is None and " и " in norm:
            parts = [directory.find(p, abbreviations) for p in norm.split(" и ")]
            if all(parts):
                persons.extend(p for p in parts if p is not None)
                continue
        if person is not None:
            persons.append(person)
        else:
            unresolved.append(_TAGS.sub("", piece).strip())
    unique = tuple({p.key: p for p in persons}.values())
    flag = section_flag(headings) if fan_out else None
    return Resolution(unique, fan_out, flag, tuple(unresolved))
