"""A report as a Word document (python-docx).

With ``reports.docx_template`` set, the committee's own file is the starting point: its
letterhead (page header, logo, address block in the body), page setup and styles stay,
and the report is appended after whatever its body holds. Without it the report is a
plain landscape A4 page. Styles the template lacks ("Table Grid", headings) are skipped
rather than refused: a letterhead made in Word need not define them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from engine.reports.model import Chart, Figures, Note, Report, Table, text_of
from engine.reports.render.chart import chart_png

HIGHLIGHT = "F8D7DA"  # overdue rows: light red
GROUP = "E7E9ED"  # section heading rows: light grey
HEADER = "D9DEE7"


def render_docx(report: Report, template: Path | None = None) -> bytes:
    document: Any = Document(str(template)) if template else Document()
    if template is None:
        _plain_page(document)
    _heading(document, report.title, 0)
    _paragraph(document, report.subtitle, bold=True)
    for label, text in report.meta:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(text)
    for block in report.blocks:
        if isinstance(block, Figures):
            _heading(document, block.title, 1)
            table = _table(document, 2, (3, 2))
            for label, value in block.items:
                cells = table.add_row().cells
                cells[0].text = label
                cells[1].text = text_of(value)
        elif isinstance(block, Table):
            if block.where != "workbook":
                _data_table(document, block)
        elif isinstance(block, Chart):
            _heading(document, block.title, 1)
            width = _text_width(document)
            document.add_picture(io.BytesIO(chart_png(block)), width=width)
        elif isinstance(block, Note):
            _paragraph(document, block.text)
    if report.notes:
        _heading(document, "Примечания", 2)
        for note in report.notes:
            _paragraph(document, note, italic=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _plain_page(document: Any) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(10)


def _has_style(document: Any, name: str, kind: WD_STYLE_TYPE) -> bool:
    return any(s.name == name and s.type == kind for s in document.styles)


def _heading(document: Any, text: str, level: int) -> None:
    style = "Title" if level == 0 else f"Heading {level}"
    if _has_style(document, style, WD_STYLE_TYPE.PARAGRAPH):
        document.add_heading(text, level)
    else:
        _paragraph(document, text, bold=True)


def _paragraph(document: Any, text: str, *, bold: bool = False, italic: bool = False) -> None:
    run = document.add_paragraph().add_run(text)
    run.bold = bold
    run.italic = italic


def _text_width(document: Any) -> Any:
    section = document.sections[-1]
    return section.page_width - section.left_margin - section.right_margin


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _table(document: Any, columns: int, weights: tuple[int, ...]) -> Any:
    table = document.add_table(rows=0, cols=columns)
    if _has_style(document, "Table Grid", WD_STYLE_TYPE.TABLE):
        table.style = "Table Grid"
    width = _text_width(document)
    total = sum(weights)
    for column, weight in zip(table.columns, weights, strict=True):
        column.width = int(width * weight / total)  # rows added later inherit it
    return table


def _data_table(document: Any, block: Table) -> None:
    _heading(document, block.title, 1)
    rows = iter(block.rows)
    first = next(rows, None)
    if first is None:
        _paragraph(document, block.empty, italic=True)
        return
    table = _table(document, len(block.columns), tuple(c.width for c in block.columns))
    header = table.add_row()
    flag = OxmlElement("w:tblHeader")  # repeat the header row on every page
    flag.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(flag)
    for cell, column in zip(header.cells, block.columns, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(column.title).bold = True
        _shade(cell, HEADER)
    group = ""
    for row in (first, *rows):
        if row.group and row.group != group:
            group = row.group
            cells = table.add_row().cells
            merged = cells[0].merge(cells[-1])
            merged.paragraphs[0].add_run(group).bold = True
            _shade(merged, GROUP)
        cells = table.add_row().cells
        for cell, value in zip(cells, row.values, strict=True):
            cell.text = text_of(value)
            if row.highlight:
                _shade(cell, HIGHLIGHT)
    if block.note:
        _paragraph(document, block.note, italic=True)
