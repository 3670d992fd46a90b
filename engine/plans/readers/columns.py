"""Which column of a plan table is which: by the words of its header, then by its cells.

Plans head their columns a dozen ways: «Мероприятие», «Наименование мероприятия»,
«Содержание работы», «Вид деятельности», «Мероприятия по обеспечению …»; «Сроки»,
«Дата проведения», «Период», «Когда»; «Ответственный», «Исполнители», «Кто проводит»,
«Ф.И.О. ответственного» … So each field has a vocabulary of stems found *anywhere* in
the header text, and the field whose word comes *first* wins: «Ответственный за
проведение мероприятия» is a responsible, «Мероприятия по контролю» a measure,
«Ожидаемый результат мероприятия» a result.

A column whose header names nothing we know (or is empty, as under a merged header
cell) is read by its cells: when most of them are deadlines the grammar reads in full,
it is the deadline; when most name persons, positions or organisations, the
responsible. A header without a title word but with three known columns and exactly
one other takes that one as the measures (the column nobody else claims; or the one
«Направления …» column when there is nothing else). Whatever was
decided other than by a column's usual word is said in the review
(:func:`describe`), so a person can see which column was taken for what.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from engine.plans.schedule import parse_deadline

FIELD_NAMES = {
    "number": "номер",
    "section": "раздел",
    "title": "мероприятие",
    "deadline": "срок",
    "responsible": "ответственный",
    "expected_result": "ожидаемый результат",
    "decisions": "управленческие решения",
    "control": "контроль",
}

#: Stems per field (regular expressions over the lower-cased header). The English names
#: are the columns of the CSV/XLSX template (:mod:`engine.plans.readers.sheet`).
_VOCABULARY: dict[str, tuple[str, ...]] = {
    "number": (r"^(?:№|n|no|#|номер|number)\W*$", r"^№", r"п\s*/\s*п", r"^пп\b"),
    "section": (r"^раздел", r"^section$", r"\bнаправлени"),
    "decisions": (r"управленческ", r"\bрешени", r"^decisions?$"),
    "responsible": (
        r"ответствен", r"исполнител", r"\bкто\b", r"\bкем\b", r"проводит", r"\bф\.?\s*и\.?\s*о\b",
        r"организатор", r"отвечает", r"^responsible$",
    ),
    "expected_result": (
        r"результат", r"показател", r"индикатор", r"итогов", r"\bвыход", r"продукт",
        r"отч[её]тн", r"^expected[_ ]result$",
    ),
    "deadline": (
        r"срок", r"^дата", r"\bдаты?\b", r"\bкогда\b", r"период", r"время", r"график",
        r"календар", r"^deadline$",
    ),
    "control": (r"контрол", r"^(?:supervisor|control|controller)$"),
    "title": (
        r"мероприят", r"наименован", r"содержани", r"деятельност", r"\bвид\b", r"\bработ",
        r"действи", r"\bтема\b", r"^title$",
    ),
}  # fmt: skip
_PATTERNS = {name: [re.compile(p) for p in pats] for name, pats in _VOCABULARY.items()}
#: The words most plans use: a column matched by one of them needs no note.
_USUAL = re.compile(
    r"^(?:№|n|no|#)|п\s*/\s*п|мероприяти|наименовани|срок|ответствен|исполнител|результат"
    r"|управленческ|контрол|^раздел|^(?:title|deadline|responsible|expected_result|number"
    r"|section|supervisor|decisions)$"
)


def column_field(header_text: str) -> str | None:
    """The SourceRow field a header cell names, or None (see the module doc)."""
    text = " ".join(header_text.lower().replace("ё", "е").split())
    if not text or len(text) > 80:
        return None
    best: tuple[int, int, str] | None = None
    for order, (name, patterns) in enumerate(_PATTERNS.items()):
        for pattern in patterns:
            match = pattern.search(text)
            if match and (best is None or (match.start(), order) < best[:2]):
                best = (match.start(), order, name)
    return None if best is None else best[2]


def usual(header_text: str) -> bool:
    """Whether a header cell says what it is in the words nearly every plan uses."""
    return bool(_USUAL.search(header_text.lower()))


# --------------------------------------------------------------------------- by content

_PERSON = re.compile(
    r"(?<![А-Яа-яЁё])[А-ЯЁ]\.\s?[А-ЯЁ]\.?\s?[А-ЯЁ][а-яё]+|[А-ЯЁ][а-яё]+\s+[А-ЯЁ]\.\s?[А-ЯЁ]\."
)
_ROLE = re.compile(
    r"^(?:директор|заместител|руководител|специалист|главн|ведущ|методист|председател|начальник"
    r"|учител|педагог|классн|завуч|координатор|инспектор|эксперт|администрац|заведующ|зам\.?\b"
    r"|мку|мбоу|маоу|мкоу|гбу|мбу|комитет|управлени|отдел|центр|кабинет|служб|объединени"
    r"|организаци|школ|мо\b|шмо|рмо|ммо)",
    re.IGNORECASE,
)
_ABBREVIATION = re.compile(r"^[А-ЯЁA-Z]{2,8}(?:[\s,;]+[А-ЯЁA-Z]{2,8})*$")
#: Any period: only whether the grammar reads the whole cell matters here (so wide that
#: no date is outside it).
_ANY_PERIOD = (date(1900, 1, 1), date(2100, 12, 31))
_SHARE = 0.6


def _is_deadline(text: str) -> bool:
    if len(text) > 80:
        return False
    schedule = parse_deadline(text, _ANY_PERIOD)
    return schedule.kind not in ("unscheduled",) and not schedule.problems


def _is_person(text: str) -> bool:
    if len(text) > 150:
        return False
    return bool(_PERSON.search(text) or _ROLE.match(text) or _ABBREVIATION.match(text))


@dataclass(frozen=True)
class Guess:
    field: str
    matching: int  # cells that look like it
    filled: int  # cells with text


def by_content(column: Sequence[str]) -> Guess | None:
    """What a column is by its cells: the deadline or the responsible, or None."""
    filled = [text for text in column if text]
    if len(filled) < 2:
        return None
    for name, test in (("deadline", _is_deadline), ("responsible", _is_person)):
        matching = sum(1 for text in filled if test(text))
        if matching >= _SHARE * len(filled):
            return Guess(name, matching, len(filled))
    return None


def _label(index: int, header: str) -> str:
    return f"«{header}»" if header else f"столбец {index + 1} (без заголовка)"


def describe(
    texts: Sequence[str], fields: Sequence[str | None], guesses: dict[int, Guess]
) -> str | None:
    """The note the review shows when a column was taken by other than its usual word."""
    unusual = any(
        name and (i in guesses or not usual(texts[i]))
        for i, name in enumerate(fields)
    )  # fmt: skip
    if not unusual:
        return None
    parts = []
    for i, name in enumerate(fields):
        if name is None:
            continue
        how = ""
        if i in guesses:
            guess = guesses[i]
            kind = "сроки" if guess.field == "deadline" else "лица и организации"
            how = f" (по содержанию: {guess.matching} из {guess.filled} ячеек — {kind})"
        elif name == "title" and column_field(texts[i]) != "title":
            how = " (единственный столбец с текстом, не занятый другими)"
        parts.append(f"{_label(i, texts[i])} — {FIELD_NAMES[name]}{how}")
    return "Столбцы прочитаны так: " + "; ".join(parts) + "."
