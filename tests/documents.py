"""Plan documents for the tests: what a text-export fixture came from, and PDFs.

:func:`prose_line` reads the prose lines of a text export (``**bold**`` spans, ``##``
headings) for the builders of the Word and PDF documents. PDFs are built with fpdf2 and
Debian's DejaVu fonts (Cyrillic): :func:`write_pdf` lays out paragraphs and ruled tables
as a committee's PDF has them — long tables run over several pages with the header
repeated, a heading row of a table spans all its columns, bold paragraphs are titles.
:func:`pdf_like` makes the PDF a text-export fixture came from, as far as it can be told
(as ``docx_like`` does for Word).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.plans.readers.document import SourceDocument
from engine.plans.readers.tables import clean

FONTS = Path("/usr/share/fonts/truetype/dejavu")


@dataclass
class Table:
    header: list[str]  # empty: a table that goes on under the previous one's header
    rows: list[list[str] | str] = field(default_factory=list)  # a str is a heading row
    widths: list[float] | None = None


Item = tuple[str, bool] | Table  # (paragraph, bold) or a table


def prose_line(text: str, in_bold: bool) -> tuple[str, bool, bool, bool]:
    """A prose line of a text export: (text, bold, heading, a bold span goes on after it)."""
    bold, heading = in_bold, False
    if in_bold:
        in_bold = not text.endswith("**")
    elif text.startswith("#"):
        heading = True
    elif text.startswith("**"):
        bold = True
        in_bold = not (len(text) > 4 and text.endswith("**"))
    return text.strip("*# "), bold, heading, in_bold


def write_pdf(path: Path, items: list[Item]) -> None:
    """Render paragraphs and tables on A4 pages; skips the test without DejaVu fonts."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    if not (FONTS / "DejaVuSans.ttf").is_file():
        reason = f"no DejaVu fonts in {FONTS} (apt-get install fonts-dejavu-core)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"fonts are required under CI: {reason}")  # CI must not pass by skipping
        pytest.skip(reason)
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    for item in items:
        if isinstance(item, tuple):
            text, bold = item
            pdf.set_font("DejaVu", "B" if bold else "", 10)
            pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            continue
        pdf.set_font("DejaVu", "", 7)
        widths = item.widths or [1.0] * len(item.header)
        width = len(widths)
        with pdf.table(
            col_widths=widths,
            first_row_as_headings=bool(item.header),
            repeat_headings=1 if item.header else 0,
            line_height=4,
        ) as table:
            if item.header:
                header = table.row()
                for text in item.header:
                    header.cell(text)
            for row in item.rows:
                cells = table.row()
                if isinstance(row, str):
                    cells.cell(row, colspan=width, style=FontFace(emphasis="BOLD"))
                    continue
                for text in row:
                    cells.cell(text)
        pdf.ln(3)
    pdf.output(str(path))


def _widths(header: list[str]) -> list[float]:
    """Wide title columns, narrow number columns: as plans are laid out."""
    result = []
    for text in header:
        lowered = text.lower()
        if "№" in text or "п/п" in lowered:
            result.append(0.5)
        elif any(w in lowered for w in ("мероприят", "наименован", "содержан", "деятельн")):
            result.append(3.0)
        else:
            result.append(1.6)
    return result


def pdf_like(source: Path, parsed: SourceDocument, target: Path) -> None:
    """The PDF a text-export plan came from (see :func:`document_items`)."""
    write_pdf(target, document_items(source, parsed))


def odt_like(source: Path, parsed: SourceDocument, target: Path) -> None:
    """The OpenDocument text a text-export plan came from (see :func:`document_items`)."""
    write_odt(target, document_items(source, parsed))


def write_odt(path: Path, items: list[Item]) -> None:
    """Paragraphs (bold by a paragraph style) and tables; a heading row spans the table."""
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties
    from odf.table import CoveredTableCell, TableCell, TableColumn, TableRow
    from odf.table import Table as OdfTable
    from odf.text import P

    document = OpenDocumentText()
    bold = Style(name="Bold", family="paragraph")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)

    def cell(text: str, span: int = 1) -> object:
        made = TableCell(numbercolumnsspanned=span) if span > 1 else TableCell()
        for line in text.split("\n") or [""]:
            made.addElement(P(text=line))
        return made

    for number, item in enumerate(items, 1):
        if isinstance(item, tuple):
            text, is_bold = item
            document.text.addElement(P(stylename=bold, text=text) if is_bold else P(text=text))
            continue
        width = len(item.widths or item.header)
        table = OdfTable(name=f"Table{number}")
        table.addElement(TableColumn(numbercolumnsrepeated=width))
        rows: list[list[str] | str] = [item.header] if item.header else []
        for row in [*rows, *item.rows]:
            made = TableRow()
            if isinstance(row, str):
                made.addElement(cell(row, width))
                for _ in range(width - 1):
                    made.addElement(CoveredTableCell())
            else:
                for text in row:
                    made.addElement(cell(text))
            table.addElement(made)
        document.text.addElement(table)
    document.save(str(path))


def document_items(source: Path, parsed: SourceDocument) -> list[Item]:
    """The document a text-export plan came from, as far as it can be told.

    Prose lines are paragraphs (bold for ``**…**`` and ``##``); each plan table is a
    ruled table with its header once, every measure as ONE row (a PDF has no page-break
    fragments: the parsed document supplies the joined cells) and every heading or
    outline row as written. Tab lines outside a plan table (a date and a number, a
    signature) are one paragraph each.
    """
    from engine.plans.readers.columns import column_field

    lines = source.read_text(encoding="utf-8").split("\n")
    rows = {int(r.location.split()[-1]): r for r in parsed.rows}
    headings = {int(s.location.split()[-1]) for s in parsed.sections}
    items: list[Item] = []
    table: Table | None = None
    names: list[str | None] = []
    widths: list[float] = []
    in_bold = False
    for number, line in enumerate(lines, 1):
        if "\t" not in line:
            text = line.strip()
            if not text:
                continue
            table = None
            text, bold, heading, in_bold = prose_line(text, in_bold)
            items.append((text, bold or heading))
            continue
        cells = [clean(cell) for cell in line.split("\t")]
        if sum(1 for cell in cells if column_field(cell)) >= 3:
            while cells and not cells[-1]:
                cells.pop()
            if table is None or cells != table.header:
                names, widths = [column_field(cell) for cell in cells], _widths(cells)
                table = Table(cells, widths=widths)
                items.append(table)
        elif names and table is None and (number in rows or number in headings):
            table = Table([], widths=widths)  # the table goes on under a heading line
            items.append(table)
        if table is None:
            items.append(("      ".join(cell for cell in cells if cell), False))
        elif number in rows:
            measure = rows[number]
            table.rows.append([str(getattr(measure, name)) if name else "" for name in names])
        elif number in headings and sum(1 for cell in cells if cell) == 1:
            table.rows.append(next(cell for cell in cells if cell))  # merged across, as in Word
        elif number in headings:
            table.rows.append((cells + [""] * len(names))[: len(names)])
    return items
