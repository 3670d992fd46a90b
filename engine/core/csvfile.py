"""Reading the small CSV files people maintain by hand (directory, schools, events).

One reader for all of them so every file gets the same treatment: UTF-8 with or without
BOM, a header row checked against the expected columns, each problem named as
``file:line: column: what was expected``, and all problems collected before anything is
written — a bad row means nothing is imported.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.errors import InputError

_KEY = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_MAX_SHOWN = 20


@dataclass
class CsvTable:
    path: Path
    rows: list[tuple[int, dict[str, str]]]  # (line number, column → stripped text)
    problems: list[str] = field(default_factory=list)
    # The columns the file has. A column left out of the file is not the same as an empty
    # one: re-importing a file without it must not blank what the directory holds.
    present: tuple[str, ...] = ()

    def problem(self, line: int, column: str, message: str) -> None:
        self.problems.append(f"{self.path}:{line}: {column}: {message}")

    def check_key(self, line: int, column: str, value: str) -> bool:
        """A short identifier people type on the command line."""
        if _KEY.match(value):
            return True
        self.problem(
            line,
            column,
            f"ожидаются латинские буквы, цифры, '_', '.', '-', '@' (не больше 64), а не {value!r}",
        )
        return False

    def raise_problems(self) -> None:
        if self.problems:
            shown = self.problems[:_MAX_SHOWN]
            more = len(self.problems) - len(shown)
            tail = f"\n… и ещё {more}" if more else ""
            raise InputError("ничего не загружено:\n" + "\n".join(shown) + tail)


def read_csv(path: Path, columns: Sequence[str], required: Sequence[str]) -> CsvTable:
    """Read ``path``; a wrong header or an unreadable file raises at once."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            unknown = [h for h in header if h not in columns]
            if missing or unknown:
                what = (
                    f"нет столбцов: {', '.join(missing)}"
                    if missing
                    else f"неизвестные столбцы: {', '.join(unknown)}"
                )
                raise InputError(f"{path}:1: {what}; ожидаются столбцы {', '.join(columns)}")
            table = CsvTable(path, [], present=tuple(c for c in columns if c in header))
            for record in reader:
                if None in record:
                    table.problems.append(
                        f"{path}:{reader.line_num}: ячеек больше, чем столбцов в заголовке"
                    )
                    continue
                cells = {c: (record.get(c) or "").strip() for c in columns}
                table.rows.append((reader.line_num, cells))
            return table
    except FileNotFoundError:
        raise InputError(f"{path}: файл не найден") from None
    except IsADirectoryError:
        raise InputError(f"{path}: это папка, а нужен файл CSV") from None
    except OSError as exc:
        raise InputError(f"{path}: не удаётся прочитать: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: текст не в кодировке UTF-8; сохраните таблицу как «CSV UTF-8»"
        ) from None
    except csv.Error as exc:
        raise InputError(f"{path}: не читается как CSV: {exc}") from None


def email_problem(value: str) -> str | None:
    """Why ``value`` cannot be used as a recipient address, or None if it can.

    The same parser that later builds the message decides, so an address accepted here
    cannot make delivery fail ("ivanova@x.ru;" or a Cyrillic local part would).
    """
    from email.errors import HeaderParseError
    from email.headerregistry import Address

    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError, HeaderParseError):
        return f"не адрес электронной почты: {value!r}"
    if not address.domain or "." not in address.domain or not value.isascii():
        return f"не адрес электронной почты: {value!r} (ожидается имя@домен латиницей)"
    return None


def split_list(cell: str) -> list[str]:
    """Cells that hold several values separate them with ``;``."""
    return [part.strip() for part in cell.split(";") if part.strip()]
