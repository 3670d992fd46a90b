"""The neutral form of a plan document, whatever file it came from.

Readers (text table, DOCX, XLSX, CSV template) turn a file into a
:class:`SourceDocument`; everything after that — deadline parsing, resolving responsible
persons, expanding tasks, the review, the database write — works on this form only, so
a DOCX and its text export import to the same result.

``location`` strings say where a thing is in the *source* so the review can point a
person at it: ``"строка 42"`` for text files, ``"таблица 2, строка 5"`` for DOCX/XLSX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Problem:
    """Something the importer could not understand; shown in the review, never dropped."""

    location: str  # e.g. "строка 42" / "таблица 2, строка 5"
    field: str  # "deadline", "responsible", "number", "header", "document", ...
    message: str  # Russian sentence for the operator
    text: str = ""  # the text that failed


@dataclass(frozen=True)
class SourceRow:
    """One measure as written: cells mapped to their meaning by the header words."""

    location: str
    section: int | None  # index into SourceDocument.sections, None before any section
    number: str  # normalised: "1", "2.3" ("1. 1" → "1.1", "1." → "1")
    title: str  # мероприятие / наименование
    deadline: str  # срок(и) исполнения, whitespace collapsed, as written otherwise
    responsible: str  # ответственный / исполнитель; the cell's own lines kept ("\n")
    expected_result: str = ""  # ожидаемый / планируемый результат
    decisions: str = ""  # управленческие решения
    control: str = ""  # контроль (per-row controller, if the table has the column)


@dataclass(frozen=True)
class SourceSection:
    """A heading inside the document's tables.

    One document may hold several plans (an order with two appendices): each plan's
    title becomes a top-level section and its own headings point to it via ``parent``.
    """

    location: str
    title: str  # "Задача 1. Обеспечение объективности …", "1. На муниципальном уровне"
    parent: int | None = None  # index of the enclosing section in SourceDocument.sections


@dataclass
class SourceDocument:
    """A whole plan document after reading, before interpretation."""

    source_name: str
    title: str = ""
    issuer: str = ""
    order_number: str = ""  # "149"
    order_date: date | None = None
    period_text: str = ""  # "2020-2021 учебный год" as found, "" if absent
    period: tuple[date, date] | None = None  # parsed period, None if absent
    controller_text: str = ""  # "Контроль … возложить на <this>"
    abbreviations: dict[str, str] = field(default_factory=dict)  # "ОИВ" → full name
    sections: list[SourceSection] = field(default_factory=list)
    rows: list[SourceRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # How the document was read where a person might read it otherwise: which column was
    # taken for what, an outline row taken as a section. Shown in the review; not problems.
    notes: list[Problem] = field(default_factory=list)
