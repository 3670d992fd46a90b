"""The neutral report: what a report says, before any file format.

Each report module (``engine/reports/plan.py``, ``discipline.py``, ``public.py``; a
school case report slots in the same way) builds one :class:`Report`; the renderers in
``engine/reports/render`` turn any report into DOCX, XLSX, HTML or PDF by the same code
path. A report is a title block and a sequence of blocks — key figures, tables, a chart,
notes. Tables say where they belong: large per-task tables only in the workbook
(``where="workbook"``), where a person filters them; capped lists only in documents.

Cells hold typed values (numbers, dates) so the workbook keeps them sortable; documents
format them the Russian way (``25.11.2026``, ``8,8``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Value = str | int | float | date | None
Where = Literal["all", "document", "workbook"]


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 14  # characters: workbook column width, document proportions


@dataclass(frozen=True, slots=True)
class Row:
    values: tuple[Value, ...]
    highlight: bool = False  # overdue: shaded in every format
    group: str = ""  # documents: a heading row when it changes; workbooks: a first column


class Rows:
    """Rows produced on demand: a large table is streamed from the database when rendered.

    Iterating calls the factory anew, so a report can be rendered more than once.
    """

    def __init__(self, factory: Callable[[], Iterable[Row]]) -> None:
        self._factory = factory

    def __iter__(self) -> Iterator[Row]:
        return iter(self._factory())


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: Iterable[Row]
    sheet: str = ""  # workbook: its own sheet under this name; "": on the summary sheet
    where: Where = "all"
    group_title: str = ""  # workbook: title of the column that holds Row.group
    note: str = ""  # shown under the table
    empty: str = "Нет данных."


@dataclass(frozen=True)
class Figures:
    """Key figures: a label and a value per line."""

    title: str
    items: tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Chart:
    """Lines over days; documents get a picture, the workbook the numbers and a chart."""

    title: str
    days: tuple[date, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]
    sheet: str = "Динамика"


@dataclass(frozen=True)
class Note:
    text: str


Block = Figures | Table | Chart | Note


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str
    meta: tuple[tuple[str, str], ...]  # the title block: «Состояние на» → «25.11.2026»
    blocks: tuple[Block, ...]
    filename: str  # without extension, e.g. "plan-3-2026-11-25"
    notes: tuple[str, ...] = field(default=())  # footnotes: definitions, limits


def day_text(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def text_of(value: Value) -> str:
    """A cell as a person reads it in a document."""
    if value is None:
        return "—"
    if isinstance(value, date):
        return day_text(value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)
