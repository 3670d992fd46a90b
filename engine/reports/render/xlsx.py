"""A report as an Excel workbook (openpyxl, write-only: rows stream to disk).

The first sheet, «Сводка», holds the title block, the key figures and the small tables;
every table with a sheet name gets its own sheet with a frozen, bold header row,
auto-filter over the data and column widths; the chart's numbers get a sheet of their
own with a native line chart. Values stay typed (numbers, dates) so people can sort and
sum; overdue rows are shaded as in the documents.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.chart import LineChart, Reference  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from engine.reports.model import Chart, Column, Figures, Note, Report, Table, Value

HIGHLIGHT = PatternFill("solid", fgColor="F8D7DA")
HEADER = PatternFill("solid", fgColor="D9DEE7")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
DATE_FORMAT = "DD.MM.YYYY"
SUMMARY = "Сводка"
_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique (case-insensitive)."""
    base = _BAD.sub(" ", title).strip() or "Лист"
    name = base[:31].strip()
    number = 2
    while name.casefold() in used:
        suffix = f" ({number})"
        name = base[: 31 - len(suffix)].strip() + suffix
        number += 1
    used.add(name.casefold())
    return name


def _cell(sheet: Any, value: Value, *, fill: PatternFill | None = None, font: Font | None = None,
          wrap: bool = False) -> WriteOnlyCell:  # fmt: skip
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif isinstance(value, float):
        cell.number_format = "0.0"
    if fill is not None:
        cell.fill = fill
    if font is not None:
        cell.font = font
    if wrap:
        cell.alignment = WRAP
    return cell


def _values(sheet: Any, values: Sequence[Value], highlight: bool) -> list[Any]:
    """A data row: plain values stay plain (openpyxl reuses one cell object for them);
    only dates, fractions and shaded rows need a styled cell of their own — on 100k rows
    that is most of the writing time."""
    if highlight:
        return [_cell(sheet, v, fill=HIGHLIGHT) for v in values]
    return [_cell(sheet, v) if isinstance(v, date | float) else v for v in values]


def _header(sheet: Any, titles: Sequence[str]) -> list[WriteOnlyCell]:
    return [_cell(sheet, t, fill=HEADER, font=BOLD, wrap=True) for t in titles]


def render_xlsx(report: Report) -> bytes:
    book = Workbook(write_only=True)
    used = {SUMMARY.casefold()}
    summary = book.create_sheet(SUMMARY)
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 60
    for letter in "CDEFGHIJ":
        summary.column_dimensions[letter].width = 14
    summary.append([_cell(summary, report.title, font=TITLE)])
    summary.append([_cell(summary, report.subtitle, font=BOLD)])
    for label, text in report.meta:
        summary.append([_cell(summary, label, font=BOLD), text])
    for block in report.blocks:
        if isinstance(block, Figures):
            summary.append([])
            summary.append([_cell(summary, block.title, font=BOLD)])
            for label, value in block.items:
                summary.append([label, _cell(summary, value)])
        elif isinstance(block, Table) and block.where != "document":
            if block.sheet:
                _table_sheet(book, block, sheet_name(block.sheet, used))
            else:
                summary.append([])
                summary.append([_cell(summary, block.title, font=BOLD)])
                summary.append(_header(summary, [c.title for c in block.columns]))
                for row in block.rows:
                    summary.append(_values(summary, row.values, row.highlight))
        elif isinstance(block, Chart):
            _chart_sheet(book, block, sheet_name(block.sheet, used))
        elif isinstance(block, Note):
            summary.append([block.text])
    if report.notes:
        summary.append([])
        for note in report.notes:
            summary.append([note])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _table_sheet(book: Workbook, block: Table, name: str) -> None:
    sheet: Any = book.create_sheet(name)
    columns: list[Column] = list(block.columns)
    if block.group_title:
        columns.insert(0, Column(block.group_title, 30))
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"  # set before the first row: write-only sheets write it first
    sheet.append(_header(sheet, [c.title for c in columns]))
    count = 0
    for row in block.rows:
        values: tuple[Value, ...] = (row.group, *row.values) if block.group_title else row.values
        sheet.append(_values(sheet, values, row.highlight))
        count += 1
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"  # written after the rows
    if count == 0:
        sheet.append([block.empty])


def _chart_sheet(book: Workbook, block: Chart, name: str) -> None:
    sheet: Any = book.create_sheet(name)
    titles = ["Дата", *(label for label, _ in block.series)]
    for index in range(1, len(titles) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 14 if index == 1 else 24
    sheet.freeze_panes = "A2"
    sheet.append(_header(sheet, titles))
    for position, day in enumerate(block.days):
        sheet.append([_cell(sheet, day), *(values[position] for _, values in block.series)])
    if block.days:
        chart = LineChart()
        chart.title = block.title
        chart.y_axis.title = "задач"
        chart.height, chart.width = 9, 22
        rows = len(block.days) + 1
        data = Reference(sheet, min_col=2, max_col=len(titles), min_row=1, max_row=rows)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows))
        sheet.add_chart(chart, f"{get_column_letter(len(titles) + 2)}2")
