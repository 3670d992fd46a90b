"""Reading the spreadsheets regional systems export: CSV (any Excel flavour) and XLSX.

Regional monitoring systems and Excel export tables in their own ways: a CSV may be
UTF-8 (with or without BOM) or Windows-1251, separated by ``;`` (Excel in a Russian
locale), ``,`` or tabs; numbers are written with decimal commas and sometimes a ``%``.
This module turns any of them into rows of text cells keyed by the canonical column
names a caller declares, each with the line (or sheet row) it came from, and says which
encoding it used. Columns are recognised by their header words in any order.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.errors import InputError

#: Encodings tried for CSV, in order: Excel's "CSV UTF-8" (with BOM) and plain UTF-8,
#: then the Windows Cyrillic code page that Excel's plain "CSV" writes.
ENCODINGS = ("utf-8-sig", "cp1251")
_MAX_SHOWN = 30


def header_key(text: str) -> str:
    """A header cell reduced to compare: lower case, ё as е, no quotes or punctuation."""
    text = text.lower().replace("ё", "е")
    text = re.sub(r"[«»\"'`().,:;%№]", " ", text)
    return " ".join(text.split())


@dataclass
class Sheet:
    """The rows of one table: canonical column → stripped text, with line numbers."""

    path: Path
    encoding: str  # "utf-8-sig", "cp1251" or "xlsx"
    columns: tuple[str, ...]  # canonical names present in the header
    rows: list[tuple[int, dict[str, str]]]
    problems: list[str] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"{self.path.name}:{line}: {message}")

    @property
    def encoding_label(self) -> str:
        return {"utf-8-sig": "UTF-8", "cp1251": "Windows-1251 (cp1251)", "xlsx": "XLSX"}.get(
            self.encoding, self.encoding
        )


def problems_text(problems: Sequence[str]) -> str:
    shown = list(problems[:_MAX_SHOWN])
    more = len(problems) - len(shown)
    return "\n".join(shown) + (f"\n… и ещё {more}" if more else "")


def _decode(path: Path, raw: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputError(  # cp1251 decodes nearly anything; kept for other single-byte pages
        f"{path}: не удалось прочитать текст ни в UTF-8, ни в Windows-1251; "
        "сохраните таблицу как «CSV UTF-8»"
    )


def _csv_rows(path: Path, raw: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    text, encoding = _decode(path, raw)
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: не читается как CSV: {exc}") from None
    return rows, encoding


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    import warnings
    from zipfile import BadZipFile

    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dropped workbook features: irrelevant here
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, TypeError, SyntaxError,
            OSError) as exc:  # fmt: skip
        raise InputError(
            f"{path}: повреждён или не книга Excel (.xlsx) ({type(exc).__name__})"
        ) from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = []
            for value in values:
                if value is None:
                    cells.append("")
                elif isinstance(value, float) and value.is_integer():
                    cells.append(str(int(value)))
                else:
                    cells.append(str(value).strip())
            rows.append((number, cells))
        return rows
    finally:
        book.close()


def read_sheet(path: Path, columns: Mapping[str, Sequence[str]], required: Sequence[str]) -> Sheet:
    """Read ``path`` (CSV or XLSX); ``columns`` maps canonical names to header words.

    The header is the first row in which every required column is found; rows above it
    (a title, an export date) are skipped. Empty rows are skipped.
    """
    if not path.exists():
        raise InputError(f"{path}: файл не найден")
    if path.is_dir():
        raise InputError(f"{path}: это папка; нужен файл CSV или XLSX")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        raw_rows, encoding = _xlsx_rows(path), "xlsx"
    elif suffix in (".csv", ".txt"):
        raw_rows, encoding = _csv_rows(path, path.read_bytes())
    else:
        raise InputError(f"{path}: неизвестный тип файла {suffix!r}; нужен .csv или .xlsx")
    wanted = {name: [header_key(w) for w in words] for name, words in columns.items()}
    for index, (_line, cells) in enumerate(raw_rows):
        positions: dict[str, int] = {}
        for position, cell in enumerate(cells):
            key = header_key(cell)
            for name, words in wanted.items():
                if name not in positions and key in words:
                    positions[name] = position
                    break
        if all(name in positions for name in required):
            rows = []
            for data_line, data in raw_rows[index + 1 :]:
                if not any(data):
                    continue
                rows.append(
                    (
                        data_line,
                        {
                            name: data[pos].strip() if pos < len(data) else ""
                            for name, pos in positions.items()
                        },
                    )
                )
            return Sheet(path, encoding, tuple(positions), rows)
    expected = ", ".join(columns[name][0] for name in required)
    raise InputError(
        f"{path}: не найдена строка заголовка с колонками {expected} "
        f"(кодировка {encoding}); проверьте, что это нужный файл"
    )


_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)?$")


def parse_number(text: str) -> float | None:
    """``41,5`` / ``41.5`` / ``41,5 %`` → 41.5; None for anything else."""
    cleaned = text.replace("\u00a0", "").replace(" ", "").removesuffix("%")
    if not _NUMBER.match(cleaned):
        return None
    return float(cleaned.replace(",", "."))
