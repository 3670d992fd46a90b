"""Reading generated reports back as a person's software would: python-docx and openpyxl."""

from __future__ import annotations

import io
from typing import Any

import docx
import openpyxl


def docx_tables(content: bytes) -> dict[str, list[list[str]]]:
    """Each table of a Word report under the heading just before it: rows of cell texts."""
    document = docx.Document(io.BytesIO(content))
    found: dict[str, list[list[str]]] = {}
    heading = ""
    for item in document.iter_inner_content():
        if isinstance(item, docx.table.Table):
            rows = []
            for row in item.rows:
                texts = [cell.text for cell in row.cells]
                if len(set(texts)) == 1 and len(texts) > 1:  # a merged section heading row
                    texts = [texts[0]]
                rows.append(texts)
            found[heading] = rows
        elif item.text.strip():
            heading = item.text.strip()
    return found


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def figures(rows: list[list[str]]) -> dict[str, str]:
    return {row[0]: row[1] for row in rows}


def by_first(rows: list[list[str]]) -> dict[str, list[str]]:
    """Data rows (after the header) keyed by their first cell."""
    return {row[0]: row[1:] for row in rows[1:] if len(row) > 1}


def workbook(content: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_rows(book: Any, name: str) -> list[list[Any]]:
    return [list(row) for row in book[name].iter_rows(values_only=True)]


def summary_figures(book: Any) -> dict[str, Any]:
    """Label → value from the two-column lines of the «Сводка» sheet."""
    found = {}
    for row in book["Сводка"].iter_rows(values_only=True):
        if len(row) >= 2 and isinstance(row[0], str) and row[1] is not None:
            found.setdefault(row[0], row[1])
    return found


def shaded(cell: Any) -> bool:
    return bool(cell.fill is not None and cell.fill.fgColor.rgb in ("00F8D7DA", "FFF8D7DA"))
