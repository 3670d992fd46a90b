"""Plans as Word documents (.docx), read with python-docx.

Paragraphs and tables are taken in document order (a heading between two tables belongs
to the rows after it). Word merges are resolved here, once, so the shared row logic in
:mod:`engine.plans.readers.tables` sees plain cells:

* python-docx returns a horizontally merged cell once per grid column it spans; only its
  first occurrence keeps the text, so a heading row merged across the table reads as a
  row whose only filled cell is the first one — which is what a heading is.
* A vertically merged cell is returned again for every row it spans. Those repeats are
  flagged in :attr:`CellRow.merged_above`: a new measure under a merged "Ответственный"
  cell inherits its text, while a sub-row of one measure (its number cell merged) does
  not append the same text twice.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.table import CT_Tc
from docx.table import Table
from docx.text.paragraph import Paragraph as DocxParagraph

from engine.core.errors import InputError
from engine.plans.readers.document import SourceDocument
from engine.plans.readers.tables import Block, CellRow, Paragraph, assemble, word_table_row

_HEADING_STYLES = ("heading", "title", "заголовок", "название")


def _emphasised(paragraph: DocxParagraph) -> bool:
    """Bold throughout, or a heading style: how Word users mark titles and task names."""
    style = paragraph.style
    name = (style.name or "").lower() if style is not None else ""
    if name.startswith(_HEADING_STYLES):
        return True
    style_bold = bool(style is not None and style.font.bold)
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold or (run.bold is None and style_bold) for run in runs)


def _table_rows(table: Table, number: int) -> list[CellRow]:
    rows: list[CellRow] = []
    above: list[CT_Tc] = []
    for index, row in enumerate(table.rows, 1):
        texts: list[str] = []
        merged: set[int] = set()
        current: list[CT_Tc] = []
        for column, cell in enumerate(row.cells):
            tc = cell._tc
            current.append(tc)
            if column > 0 and tc is current[column - 1]:
                texts.append("")  # the same cell again: a horizontal merge
                continue
            if column < len(above) and tc is above[column]:
                merged.add(column)
            texts.append(cell.text)
        rows.append(word_table_row(number, index, texts, merged))
        above = current
    return rows


def docx_blocks(document: Document) -> list[Block]:
    """Paragraphs ("абзац N") and table rows ("таблица T, строка R") in document order."""
    blocks: list[Block] = []
    paragraphs = tables = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            tables += 1
            blocks.extend(_table_rows(item, tables))
            continue
        paragraphs += 1
        if item.text.strip():
            blocks.append(Paragraph(f"абзац {paragraphs}", item.text, _emphasised(item)))
    return blocks


def read_docx(path: Path) -> SourceDocument:
    """Read a Word plan; InputError if the file is not a readable .docx or has no plan table."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        document = docx.Document(str(path))
    except PackageNotFoundError:
        raise InputError(
            f"{path}: not a Word document; expected a .docx file (Word 2007 or later; "
            "save .doc files as .docx first)"
        ) from None
    except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError, OSError) as exc:
        raise InputError(
            f"{path}: damaged or not a Word document ({type(exc).__name__}: {exc}); "
            "expected a .docx file saved by Word or LibreOffice"
        ) from None
    return assemble(path, docx_blocks(document))
