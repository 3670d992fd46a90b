"""Finding the school a row of an export means, and recording what a file brought.

Regional exports name a school by its login in the monitoring system, the directory
key, its full or short name, or a name the committee keeps as an alias; any of these
is matched (case, quotes and ё/е ignored). A row that names two different schools, or
none, is a problem with its line — never a guess.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from engine.cases.sources import Sheet
from engine.core.models import DataImport, School, pk
from engine.plans.resolve import normalise


@dataclass
class SchoolIndex:
    by_name: dict[str, list[School]]

    @classmethod
    def load(cls, session: Session) -> SchoolIndex:
        index: dict[str, list[School]] = {}
        for school in session.exec(select(School)):
            for name in {school.key, school.name, school.short_name, *school.aliases}:
                if name:
                    index.setdefault(normalise(name), []).append(school)
        return cls(index)

    def find(self, sheet: Sheet, line: int, login: str, name: str) -> School | None:
        """The school of a row, or None after recording the problem on the sheet."""
        found: dict[int, School] = {}
        for text in (login, name):
            if not text:
                continue
            candidates = {pk(s): s for s in self.by_name.get(normalise(text), [])}
            if len(candidates) > 1:
                sheet.problem(line, f"«{text}» подходит к нескольким школам; укажите логин")
                return None
            found.update(candidates)
            if candidates:
                break  # the login decides when it is known
        if not found:
            shown = " / ".join(f"«{t}»" for t in (login, name) if t) or "(пусто)"
            sheet.problem(
                line,
                f"школа {shown} не найдена в справочнике (логин, ключ, название или "
                "псевдоним; measures schools import)",
            )
            return None
        return next(iter(found.values()))


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def seen_before(session: Session, kind: str, sha: str) -> bool:
    return (
        session.exec(
            select(DataImport.id).where(DataImport.kind == kind, DataImport.sha256 == sha)
        ).first()
        is not None
    )


def record_import(
    session: Session,
    kind: str,
    sheet: Sheet,
    sha: str,
    years: set[int],
    rows: int,
    now: datetime,
) -> DataImport:
    row = DataImport(
        kind=kind,
        source_name=sheet.path.name,
        sha256=sha,
        encoding=sheet.encoding,
        years=sorted(years),
        rows=rows,
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def subject_key(text: str) -> str:
    """Subjects compared as people write them: «Русский язык» = «русский  язык»."""
    return " ".join(text.lower().replace("ё", "е").split())


_GRADE = re.compile(r"^(\d{1,2})(?:\s*(?:-?й|класс|кл\.?))*$", re.IGNORECASE)


def grade_key(text: str) -> str | None:
    """«5», «5 класс», «5 кл.» → "5"; "" stays ""; None for anything else."""
    cleaned = text.strip()
    if not cleaned:
        return ""
    match = _GRADE.match(cleaned)
    if not match or not 1 <= int(match.group(1)) <= 11:
        return None
    return str(int(match.group(1)))


def year_of(text: str) -> int | None:
    cleaned = text.strip().removesuffix(".0")
    if not cleaned.isdigit() or not 2000 <= int(cleaned) <= 2100:
        return None
    return int(cleaned)
