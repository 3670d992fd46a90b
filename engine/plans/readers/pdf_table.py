"""Plans published as PDF with a text layer, read with pdfplumber.

Most committees publish their orders as PDF. pdfplumber finds the ruled tables of each
page and the text lines outside them; both are turned into the same blocks as Word
documents, in reading order, so the shared row logic of
:mod:`engine.plans.readers.tables` reads them like any other format:

* Text lines outside the tables become paragraphs. A line that runs to the right edge
  of the text was wrapped, so the next line continues its paragraph ("Контроль за
  исполнением … возложить на" / "Петрову А.С."); short lines (a letterhead, a centred
  heading) stay lines of their own. A paragraph is emphasised when all of it is bold.
* A table continued on the next page is one table: the first row there follows a page
  break (a row split by the break continues the row above; a repeated header is
  skipped).
* Inside a cell, a line break is the cell's width wrapping the text when the next word
  would not have fitted on the line ("образования" under "Главный специалист по
  содержанию"; a word broken with a hyphen is joined again); any other line break is
  the writer's — the next person in a responsible cell.
* A cell pdfplumber reports as missing continues a merged cell: above it (the text is
  repeated and flagged, as Word's vertical merges are) or to its left (empty, as a
  horizontal merge is).

A PDF without a text layer (a scan) has no tables to find: it is refused with a
message saying so; recognising scans is not this program's job.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.core.errors import InputError
from engine.plans.readers.document import SourceDocument
from engine.plans.readers.tables import Block, CellRow, Paragraph, assemble

_HYPHEN_END = re.compile(r"[А-Яа-яЁёA-Za-z]-$")


Box = tuple[float, float, float, float]


def _cell_words(words: Sequence[dict[str, Any]], boxes: Sequence[Box]) -> list[list[Any]]:
    """The page's words in each cell, by where their middle lies (one pass over the words)."""
    found: list[list[Any]] = [[] for _ in boxes]
    for word in words:
        x = (float(word["x0"]) + float(word["x1"])) / 2
        y = (float(word["top"]) + float(word["bottom"])) / 2
        for index, box in enumerate(boxes):
            if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
                found[index].append(word)
                break
    return found


def _cell_text(words: Sequence[dict[str, Any]], box: Box) -> str:
    """A cell's text: lines the cell's width wrapped joined, the writer's own kept.

    A line break is the width's when the next line's first word would not have fitted
    at the end of the line (the cell's padding taken as equal on both sides); a word
    with a hyphen wrapped at it ("учебно-" / "методической") stays one word.
    """
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (round(float(w["top"])), float(w["x0"]))):
        size = float(word.get("size", 0))
        if lines and abs(float(lines[-1][0]["top"]) - float(word["top"])) <= 0.5 * size:
            lines[-1].append(word)
        else:
            lines.append([word])
    if not lines:
        return ""
    right = box[2] - max(0.0, min(float(line[0]["x0"]) for line in lines) - box[0])
    text = " ".join(str(w["text"]) for w in lines[0])
    for previous, line in itertools.pairwise(lines):
        first = line[0]
        size = float(first.get("size", 0))
        width = float(first["x1"]) - float(first["x0"])
        wrapped = float(previous[-1]["x1"]) + 0.25 * size + width > right - 0.5
        line_text = " ".join(str(w["text"]) for w in line)
        if wrapped and text.endswith("\u00ad"):  # a soft hyphen: one word
            text = text[:-1] + line_text
        elif wrapped and _HYPHEN_END.search(text) and line_text[:1].isalpha():
            text += line_text  # "информационно-" / "разъяснительной"
        else:
            text += (" " if wrapped else "\n") + line_text
    return text


#: A wrapped line reaches this share of the text's width.
_WRAPPED = 0.85
#: Lines further apart than this (in font sizes, from one's bottom to the next's top)
#: belong to different paragraphs.
_PARAGRAPH_GAP = 0.6


def _bold(chars: Sequence[dict[str, Any]]) -> bool:
    letters = [c for c in chars if str(c.get("text", "")).strip()]
    return bool(letters) and all("bold" in str(c.get("fontname", "")).lower() for c in letters)


def _rows(
    words: Sequence[dict[str, Any]], table: Any, page_number: int, number: int, continued: bool
) -> list[CellRow]:
    """The table's rows as :class:`CellRow`, merges resolved (see the module doc)."""
    boxes = [list(row.cells) for row in table.rows]
    present = [box for row_boxes in boxes for box in row_boxes if box is not None]
    in_cells = dict(zip(present, _cell_words(words, present), strict=True))
    lefts: dict[int, float] = {}
    for row_boxes in boxes:
        for column, box in enumerate(row_boxes):
            if box is not None:
                lefts[column] = min(lefts.get(column, box[0]), box[0])
    rows: list[CellRow] = []
    for index, row_boxes in enumerate(boxes):
        texts: list[str] = []
        merged: set[int] = set()
        top = min((box[1] for box in row_boxes if box is not None), default=0.0)
        for column, box in enumerate(row_boxes):
            if box is not None:
                texts.append(_cell_text(in_cells[box], box))
                continue
            spanning = next((b for b in reversed(boxes[index][:column]) if b is not None), None)
            if spanning is not None and spanning[2] > lefts.get(column, spanning[2]) + 1:
                texts.append("")  # the cell to the left spans this column
                continue
            above = next(
                (r for r in range(index - 1, -1, -1) if boxes[r][column] is not None), None
            )
            if above is not None and boxes[above][column][3] > top + 1:
                texts.append(rows[above].cells[column])  # a vertically merged cell
                merged.add(column)
            else:
                texts.append("")
        rows.append(
            CellRow(
                f"стр. {page_number}, таблица {number}, строка {index + 1}",
                tuple(texts),
                new_table=index == 0 and not continued,
                after_break=index == 0 and continued,
                merged_above=frozenset(merged),
            )
        )
    return rows


def _paragraphs(lines: Sequence[dict[str, Any]], page_number: int) -> list[tuple[float, Paragraph]]:
    """Text lines outside the tables → paragraphs with the top they start at."""
    if not lines:
        return []
    left = min(float(line["x0"]) for line in lines)
    right = max(float(line["x1"]) for line in lines)
    edge = left + (right - left) * _WRAPPED
    result: list[tuple[float, Paragraph]] = []
    text, bold, top, wrapped, bottom = "", False, 0.0, False, 0.0
    for line in lines:
        line_text = " ".join(str(line["text"]).split())
        chars = line.get("chars") or []
        line_bold = _bold(chars)
        size = max((float(c.get("size", 0)) for c in chars), default=0.0)
        close = float(line["top"]) - bottom <= _PARAGRAPH_GAP * size
        if text and wrapped and close and line_bold == bold:
            joiner = "" if text.endswith("-") and line_text[:1].islower() else " "
            text = (text[:-1] if joiner == "" else text) + joiner + line_text
        else:
            if text:
                result.append((top, Paragraph(f"стр. {page_number}", text, bold)))
            text, bold, top = line_text, line_bold, float(line["top"])
        wrapped = float(line["x1"]) >= edge
        bottom = float(line["bottom"])
    if text:
        result.append((top, Paragraph(f"стр. {page_number}", text, bold)))
    return result


def pdf_blocks(path: Path) -> list[Block]:
    """Paragraphs and table rows of every page, in reading order."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    blocks: list[Block] = []
    tables_seen = 0
    try:
        with pdfplumber.open(path) as pdf:
            for page_number, page in enumerate(pdf.pages, 1):
                tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
                boxes = [t.bbox for t in tables]

                def outside(obj: dict[str, Any], boxes: list[Any] = boxes) -> bool:
                    x = (float(obj["x0"]) + float(obj["x1"])) / 2
                    y = (float(obj["top"]) + float(obj["bottom"])) / 2
                    return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

                text_lines = page.filter(outside).extract_text_lines()
                words = page.extract_words(extra_attrs=["size"])
                items: list[tuple[float, list[Block]]] = [
                    (top, [paragraph]) for top, paragraph in _paragraphs(text_lines, page_number)
                ]
                for position, table in enumerate(tables):
                    tables_seen += 1
                    before = [top for top, _ in items if top < table.bbox[1]]
                    continued = position == 0 and page_number > 1 and not before
                    continued = continued and bool(blocks) and isinstance(blocks[-1], CellRow)
                    rows = _rows(words, table, page_number, position + 1, continued)
                    items.append((float(table.bbox[1]), list(rows)))
                for _top, found in sorted(items, key=lambda item: item[0]):
                    blocks.extend(found)
    except (
        PdfminerException,
        MalformedPDFException,
        PDFSyntaxError,
        OSError,
        ValueError,
        KeyError,
    ) as exc:
        raise InputError(
            f"{path}: damaged or not a PDF document ({type(exc).__name__}); "
            "expected a PDF with a text layer"
        ) from None
    if not tables_seen:
        raise InputError(
            f"{path}: no table found in the PDF; expected a plan table with ruled cells "
            "and a text layer (a scanned PDF has none: use the .docx the plan was made from)"
        )
    return blocks


def read_pdf(path: Path) -> SourceDocument:
    """Read a PDF plan; InputError if it is not a readable PDF or has no plan table."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    return assemble(path, pdf_blocks(path))
