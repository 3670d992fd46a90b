"""Reading TOML files so that every complaint can name a line.

``tomllib`` returns plain dicts without positions; for messages like
``workflows/measure.toml:14: events.verify.roles: ...`` we find the line of a key again
in the text. The search follows TOML's simple forms (``[table]`` headers and
``key = value`` lines), which is what our files use.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from engine.core.errors import MeasuresError


def load(path: Path, error: type[MeasuresError]) -> tuple[dict[str, Any], str]:
    """Parse ``path``; a missing file or a syntax error raises ``error`` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: файл не найден") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: не удаётся прочитать: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: ошибка синтаксиса TOML: {exc}") from None


def line_of(text: str, table: str, key: str | None = None) -> int | None:
    """Line number (1-based) of ``[table]`` or of ``key`` inside it; None if not found.

    ``table`` is dotted (``events.verify``); an empty table means top-level keys.
    """
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$")
    current = ""
    table_line: int | None = 1 if table == "" else None
    for number, raw in enumerate(text.splitlines(), start=1):
        match = header.match(raw)
        if match:
            current = match.group(1).replace('"', "").replace(" ", "")
            if current == table:
                table_line = number
            continue
        if key is not None and current == table:
            key_match = re.match(r'^\s*"?([A-Za-z0-9_.-]+)"?\s*=', raw)
            if key_match and key_match.group(1) == key:
                return number
    return table_line


def where(path: Path, text: str, table: str, key: str | None = None) -> str:
    """``file:line: table.key`` prefix for a message."""
    line = line_of(text, table, key)
    dotted = ".".join(part for part in (table, key) if part)
    return f"{path}:{line}: {dotted}" if line else f"{path}: {dotted}"


def where_item(path: Path, text: str, table: str, index: int) -> str:
    """``file:line: table[index]`` for the index-th ``[[table]]`` (0-based)."""
    seen = -1
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip().replace(" ", "") == f"[[{table}]]":
            seen += 1
            if seen == index:
                return f"{path}:{number}: {table}[{index}]"
    return f"{path}: {table}[{index}]"
