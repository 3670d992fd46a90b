"""Plans as OpenDocument text (.odt, LibreOffice's own format), read with odfpy.

The same blocks as a Word document, in document order: paragraphs (``text:h`` headings
and bold paragraphs emphasised, bold read from the paragraph's or its spans' styles)
and table rows. Merges are resolved as for Word: a cell covered by one spanning
columns to its left is empty; a cell covered by one spanning rows above repeats its text
and is flagged ``merged_above``. A cell's paragraphs are its lines (the next person in
a responsible cell). Cells LibreOffice stores once with a repeat count are expanded.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from engine.core.errors import InputError
from engine.plans.readers.document import SourceDocument
from engine.plans.readers.tables import Block, CellRow, Paragraph, assemble, word_table_row

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
#: More repeated empty cells than this are the rest of an empty row, not columns.
_MAX_REPEAT = 64


def _name(node: Any) -> tuple[str, str] | None:
    """The element's (namespace, tag); None for text between elements."""
    return getattr(node, "qname", None)


def _bold_styles(document: Any) -> set[str]:
    """Names of the paragraph and text styles that set a bold font."""
    bold: set[str] = set()
    for styles in (document.automaticstyles, document.styles):
        for style in styles.childNodes:
            for prop in getattr(style, "childNodes", []):
                if _name(prop) == (_STYLE, "text-properties") and str(
                    prop.attributes.get((_FO, "font-weight"), "")
                ).startswith(("bold", "7", "8", "9")):
                    bold.add(str(style.attributes.get((_STYLE, "name"), "")))
    return bold


def _text(node: Any) -> str:
    from odf import teletype

    return str(teletype.extractText(node))


def _emphasised(paragraph: Any, bold: set[str]) -> bool:
    if _name(paragraph) == (_TEXT, "h"):
        return True
    if str(paragraph.attributes.get((_TEXT, "style-name"), "")) in bold:
        return True
    spans = [
        node
        for node in paragraph.childNodes
        if _name(node) == (_TEXT, "span") and _text(node).strip()
    ]
    loose = [
        node
        for node in paragraph.childNodes
        if node.nodeType == node.TEXT_NODE and str(node).strip()
    ]
    return (
        bool(spans)
        and not loose
        and all(str(s.attributes.get((_TEXT, "style-name"), "")) in bold for s in spans)
    )


def _cell_text(cell: Any) -> str:
    """The cell's paragraphs as its lines."""
    return "\n".join(
        _text(node) for node in cell.childNodes if _name(node) in ((_TEXT, "p"), (_TEXT, "h"))
    )


def _table_rows(table: Any, number: int) -> list[CellRow]:
    rows: list[CellRow] = []
    above: list[str] = []
    index = 0
    for row in table.getElementsByType(_row_type()):
        index += 1
        texts: list[str] = []
        merged: set[int] = set()
        spanned = 0  # covered cells still belonging to a cell to the left
        for cell in row.childNodes:
            if _name(cell) not in ((_TABLE, "table-cell"), (_TABLE, "covered-table-cell")):
                continue
            repeat = int(cell.attributes.get((_TABLE, "number-columns-repeated"), 1))
            for _ in range(min(repeat, _MAX_REPEAT)):
                column = len(texts)
                if _name(cell) == (_TABLE, "table-cell"):
                    texts.append(_cell_text(cell))
                    spanned = int(cell.attributes.get((_TABLE, "number-columns-spanned"), 1)) - 1
                elif spanned > 0:
                    texts.append("")  # a horizontal merge
                    spanned -= 1
                elif column < len(above):
                    texts.append(above[column])  # a vertical merge: the text above, flagged
                    merged.add(column)
                else:
                    texts.append("")
        rows.append(word_table_row(number, index, texts, merged))
        above = texts
    return rows


def _row_type() -> Any:
    from odf.table import TableRow

    return TableRow


def odt_blocks(document: Any) -> list[Block]:
    """Paragraphs ("абзац N") and table rows ("таблица T, строка R") in document order."""
    bold = _bold_styles(document)
    blocks: list[Block] = []
    paragraphs = tables = 0

    def walk(node: Any) -> None:
        nonlocal paragraphs, tables
        for child in node.childNodes:
            if _name(child) == (_TABLE, "table"):
                tables += 1
                blocks.extend(_table_rows(child, tables))
            elif _name(child) in ((_TEXT, "p"), (_TEXT, "h")):
                paragraphs += 1
                text = _text(child)
                if text.strip():
                    blocks.append(Paragraph(f"абзац {paragraphs}", text, _emphasised(child, bold)))
            elif _name(child) in ((_TEXT, "section"), (_TEXT, "list"), (_TEXT, "list-item")):
                walk(child)

    walk(document.text)
    return blocks


def read_odt(path: Path) -> SourceDocument:
    """Read an OpenDocument plan; InputError if the file is not a readable .odt."""
    from odf.opendocument import load

    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        document = load(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, AttributeError) as exc:
        raise InputError(
            f"{path}: damaged or not an OpenDocument text ({type(exc).__name__}); "
            "expected an .odt file saved by LibreOffice or Word"
        ) from None
    except Exception as exc:  # odfpy raises the XML parser's own errors for a broken file
        if type(exc).__module__.startswith(("xml.", "odf.")):
            raise InputError(
                f"{path}: damaged OpenDocument text ({type(exc).__name__}); expected an .odt "
                "file saved by LibreOffice or Word"
            ) from None
        raise
    return assemble(path, odt_blocks(document))
