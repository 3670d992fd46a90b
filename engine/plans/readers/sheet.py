"""Plans as spreadsheets: the first sheet of an .xlsx workbook, or a .csv file.

The template (one sheet, nothing else required)::

    Название:   | План мероприятий по повышению объективности ВПР на 2023-2024 учебный год
    Орган:      | Комитет по образованию администрации … района
    Приказ:     | № 57 от 01.09.2023
    Период:     | 2023-2024 учебный год          (or 2023-09-01..2024-08-31)
    Контроль:   | Заместитель председателя комитета Сидорова О.П.
    (blank rows are fine)
    № п/п | Мероприятие | Сроки | Ответственный | Ожидаемый результат   ← the header row
    Раздел 1. Организационные меры                                    ← a heading: first cell only
    1     | Анализ результатов ВПР | Октябрь 2023 | РМК | Справка
    1.1   | …

* Metadata rows come **above** the header: a key ending with ":" in the first cell and
  the value in the next cell, or ``Ключ: значение`` in one cell, or ``# key = value``.
  Keys: Название / title, Орган / issuer, Приказ / Распоряжение / order, Период / period, Контроль /
  controller. All are optional; a single-cell line such as "План мероприятий …" is read
  like a heading of a Word document. An unknown ``# key`` is a problem.
* The header row is found by its words, exactly as in Word and text plans (any column
  order; Russian words or the CSV template's English names ``number, title, deadline,
  responsible, expected_result, supervisor, section``). A ``Раздел``/``section`` column
  names each row's section; a row with only its first cell filled is a section heading.
* Values: numbers typed as numbers are fine (1, 1.1); dates become ``ДД.ММ.ГГГГ`` so
  the deadline grammar reads them like text. Merged cells behave as in Word.
* CSV: UTF-8 (with or without BOM) or Windows-1251, separated by ``,`` ``;`` or tab.

Locations: "лист «Имя», строка N" for XLSX, "строка N" (the file line) for CSV.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from engine.core.errors import InputError
from engine.plans.readers.document import SourceDocument
from engine.plans.readers.tables import (
    Block,
    CellRow,
    MetaField,
    assemble,
    clean,
    is_header_row,
    meta_key,
    read_text_file,
)

CSV_EXPECTED = "a plan table as CSV text (UTF-8 or Windows-1251)"


def _value_text(value: Any) -> str:
    """A cell value as the text a person sees: 1.0 → "1", a date → "01.09.2023"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d.%m.%Y")
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _metadata(location: str, cells: Sequence[str]) -> MetaField | None:
    """A template metadata row above the header, or None for anything else."""
    filled = [cell.strip() for cell in cells if cell.strip()]
    if not filled:
        return None
    first = filled[0]
    if first.startswith("#"):
        key, sep, value = ", ".join(filled)[1:].partition("=")
        return MetaField(location, key.strip(), value.strip()) if sep else None
    if first.endswith(":") and len(filled) >= 2 and meta_key(first):
        return MetaField(location, first, " ".join(filled[1:]))
    key, sep, value = first.partition(":")
    if sep and len(filled) == 1 and meta_key(key):
        return MetaField(location, key, value.strip())
    return None


def sheet_blocks(rows: Iterable[tuple[str, Sequence[str], frozenset[int]]]) -> list[Block]:
    """Rows (location, cell texts, vertically merged cells) → blocks.

    Above the header, template metadata rows become :class:`MetaField`; every other row
    (and all rows below the header) stays a :class:`CellRow` for the shared logic.
    """
    blocks: list[Block] = []
    header_seen = False
    first = True
    for location, cells, merged in rows:
        texts = list(cells)
        while texts and not texts[-1].strip():
            texts.pop()
        if not texts:
            continue
        if not header_seen:
            header_seen = is_header_row(texts)
            meta = None if header_seen else _metadata(location, [clean(t) for t in texts])
            if meta is not None:
                blocks.append(meta)
                continue
        blocks.append(CellRow(location, tuple(texts), new_table=first, merged_above=merged))
        first = False
    return blocks


def _xlsx_rows(path: Path) -> list[tuple[str, Sequence[str], frozenset[int]]]:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about workbook features it drops (validation, styles):
            # irrelevant to the text of a plan
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError,
            SyntaxError, OSError) as exc:  # fmt: skip
        raise InputError(
            f"{path}: damaged or not an Excel workbook ({type(exc).__name__}); "
            "expected an .xlsx file with the plan table on its first sheet"
        ) from None
    sheet = workbook.worksheets[0]
    origin: dict[tuple[int, int], tuple[int, int]] = {}
    for merged_range in sheet.merged_cells.ranges:
        top, left = merged_range.min_row, merged_range.min_col
        for row in range(top, merged_range.max_row + 1):
            for column in range(left, merged_range.max_col + 1):
                if (row, column) != (top, left):
                    origin[(row, column)] = (top, left)
    rows: list[tuple[str, Sequence[str], frozenset[int]]] = []
    for row_number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        texts: list[str] = []
        merged: set[int] = set()
        for column, value in enumerate(values, 1):
            source = origin.get((row_number, column))
            if source is None:
                texts.append(_value_text(value))
            elif source[1] == column:  # below the merge's top: carries its text
                texts.append(_value_text(sheet.cell(*source).value))
                merged.add(column - 1)
            else:
                texts.append("")
        rows.append((f"лист «{sheet.title}», строка {row_number}", texts, frozenset(merged)))
    workbook.close()
    return rows


def read_xlsx(path: Path) -> SourceDocument:
    """Read the first sheet of a workbook in the template above."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    return assemble(path, sheet_blocks(_xlsx_rows(path)))


def _csv_rows(path: Path) -> list[tuple[str, Sequence[str], frozenset[int]]]:
    text = read_text_file(path, CSV_EXPECTED)
    lines = text.splitlines(keepends=True)
    rows: list[tuple[str, Sequence[str], frozenset[int]]] = []
    # "# key = value" lines may contain the separator: they are taken before csv sees them
    skip = 0
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):
            rows.append((f"строка {number}", [line.strip()], frozenset()))
        elif line.strip():
            break
        skip = number
    body = "".join(lines[skip:])
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            body[:8192], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(body), dialect)
    start = skip + 1
    try:
        for record in reader:
            rows.append((f"строка {start}", record, frozenset()))
            start = skip + reader.line_num + 1
    except csv.Error as exc:
        raise InputError(
            f"{path}:{skip + reader.line_num}: not readable as CSV ({exc}); expected {CSV_EXPECTED}"
        ) from None
    return rows


def read_csv(path: Path) -> SourceDocument:
    """Read a CSV plan in the template above."""
    return assemble(path, sheet_blocks(_csv_rows(path)))
