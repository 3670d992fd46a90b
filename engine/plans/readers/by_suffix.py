"""One entry point for every plan format: the suffix picks the reader.

The suffix, not the content, decides: a person who saved the wrong file gets a message
about that file's type instead of a guess that half works.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.core.errors import InputError
from engine.plans.readers.document import SourceDocument
from engine.plans.readers.docx_table import read_docx
from engine.plans.readers.odt_table import read_odt
from engine.plans.readers.pdf_table import read_pdf
from engine.plans.readers.sheet import read_csv, read_xlsx
from engine.plans.readers.text_table import read_text_table

READERS: dict[str, Callable[[Path], SourceDocument]] = {
    ".txt": read_text_table,
    ".docx": read_docx,
    ".xlsx": read_xlsx,
    ".csv": read_csv,
    ".pdf": read_pdf,
    ".odt": read_odt,
}


def read_document(path: Path) -> SourceDocument:
    """Read a plan document into the neutral form.

    Raises InputError (naming the file and what was expected) for an unsupported type, a
    missing, empty, binary or damaged file, or a file without a plan table. Problems inside
    a readable plan are in ``SourceDocument.problems``.
    """
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        supported = ", ".join(sorted(READERS))
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; "
            f"expected one of {supported}"
        )
    return reader(path)
