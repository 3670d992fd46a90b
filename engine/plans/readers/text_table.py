"""Plans as text exports of Word documents (the samples in ``shared/plans``).

The format is what document converters produce: one line per paragraph, table rows as
tab-separated cells, a blank line where the page broke (a row split by the break goes on
below it, starting with a tab), headings as ``**bold**`` or ``## …`` lines, stray
``<p>``/``<b>`` tags. This module only cuts the text into blocks; everything that needs
judgement (what a fragment belongs to, which row is a header) is in
:mod:`engine.plans.readers.tables` so the DOCX and spreadsheet readers share it.
"""

from __future__ import annotations

from pathlib import Path

from engine.plans.readers.document import SourceDocument
from engine.plans.readers.tables import Block, CellRow, Paragraph, assemble, read_text_file

EXPECTED = "a plan as UTF-8 text with tab-separated table rows"


def text_blocks(text: str) -> list[Block]:
    """Lines → blocks; ``location`` is the 1-based line number ("строка N").

    A bold span may cover several lines (``**Об утверждении плана`` … ``год**``): every
    line in it is emphasised, as if each were a Word paragraph in bold.
    """
    blocks: list[Block] = []
    in_table = False  # the previous non-blank line was a table row
    in_bold = False
    after_break = False
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        location = f"строка {number}"
        line = line.replace("\f", "")
        if not line.strip():
            after_break = True
            continue
        if "\t" in line:
            cells = tuple(line.split("\t"))
            blocks.append(CellRow(location, cells, not in_table, after_break and in_table))
            in_table, after_break = True, False
            continue
        after_break = False
        in_table = False
        text_line = line.strip()
        emphasis = in_bold
        if in_bold:
            if text_line.endswith("**"):
                in_bold, text_line = False, text_line[:-2]
        elif text_line.startswith("#"):
            emphasis, text_line = True, text_line.lstrip("#")
        elif text_line.startswith("**"):
            emphasis, text_line = True, text_line[2:]
            if text_line.rstrip().endswith("**"):
                text_line = text_line.rstrip()[:-2]
            else:
                in_bold = True
        if text_line.strip():
            blocks.append(Paragraph(location, text_line, emphasis))
    return blocks


def read_text_table(path: Path) -> SourceDocument:
    """Read a text-export plan; InputError if it is empty, binary or has no plan table."""
    return assemble(path, text_blocks(read_text_file(path, EXPECTED)))
