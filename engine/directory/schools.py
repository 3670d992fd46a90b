"""The schools directory (ОО) and their risk flags, from a CSV people keep by hand.

Columns: ``key,name,short_name,email,head,aliases,flags``. ``head`` is the directory key
of the school's head (the responsible when a measure fans out to "ОО"); ``flags`` lists
the lists the school is on: ``non_objective 2021; low_results`` (kind, optionally the
school year it starts; Russian ``необъективность`` and ``ШНОР`` are accepted too).
Import upserts schools by ``key`` and replaces their own flags (not those of risk lists
imported with ``measures risks import``). A column the file leaves out leaves that field
of existing schools unchanged (as for people).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, delete, select

from engine.core.csvfile import email_problem, read_csv, split_list
from engine.core.db import finish
from engine.core.models import Person, RiskFlag, School, pk, upsert_by_key

COLUMNS = ("key", "name", "short_name", "email", "head", "aliases", "flags")
FLAG_KINDS = {
    "non_objective": "non_objective",
    "необъективность": "non_objective",
    "low_results": "low_results",
    "шнор": "low_results",
}


@dataclass(frozen=True)
class SchoolsSummary:
    created: int
    updated: int
    flags: int


def _flags(value: str) -> list[tuple[str, int | None]] | str:
    """Parsed flags, or the part that could not be read."""
    result: list[tuple[str, int | None]] = []
    for part in split_list(value):
        words = part.split()
        kind = FLAG_KINDS.get(words[0].lower()) if words else None
        if kind is None or len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
            return part
        result.append((kind, int(words[1]) if len(words) == 2 else None))
    return result


def import_schools(session: Session, path: Path, *, dry_run: bool = False) -> SchoolsSummary:
    table = read_csv(path, COLUMNS, required=("key", "name"))
    present = set(table.present)
    heads = {p.key: p for p in session.exec(select(Person))}
    rows: list[tuple[dict[str, Any], list[tuple[str, int | None]]]] = []
    seen: dict[str, int] = {}
    for line, cell in table.rows:
        if not table.check_key(line, "key", cell["key"]):
            continue
        if cell["key"] in seen:
            table.problem(line, "key", f"{cell['key']!r} уже на строке {seen[cell['key']]}")
            continue
        seen[cell["key"]] = line
        if not cell["name"]:
            table.problem(line, "name", "пусто")
        problem = email_problem(cell["email"]) if cell["email"] else None
        if problem:
            table.problem(line, "email", problem)
        head = heads.get(cell["head"]) if cell["head"] else None
        if cell["head"] and head is None:
            table.problem(line, "head", f"сотрудника {cell['head']!r} нет в справочнике")
        flags = _flags(cell["flags"])
        if isinstance(flags, str):
            table.problem(
                line,
                "flags",
                f"ожидается 'non_objective [ГОД]' или 'low_results [ГОД]', а не {flags!r}",
            )
            flags = []
        fields = {
            "key": cell["key"],
            "name": cell["name"],
            "short_name": cell["short_name"],
            "email": cell["email"],
            "head_id": head.id if head else None,
            "aliases": split_list(cell["aliases"]),
        }
        column = {"head_id": "head"}
        fields = {k: v for k, v in fields.items() if column.get(k, k) in present}
        rows.append((fields, flags))
    table.raise_problems()
    created = updated = flag_count = 0
    for fields, flags in rows:
        school, status = upsert_by_key(session, School, fields)
        if "flags" in present:
            own = (col(RiskFlag.school_id) == school.id, col(RiskFlag.source) == "")
            old = {(f.kind, f.year) for f in session.exec(select(RiskFlag).where(*own))}
            flag_count += len(set(flags))
            if old != set(flags):
                # the directory's own flags; those of imported lists stay
                session.exec(delete(RiskFlag).where(*own))
                for kind, year in sorted(set(flags), key=str):
                    session.add(RiskFlag(school_id=pk(school), kind=kind, year=year))
                status = False if status is None else status
        created += status is True
        updated += status is False
    finish(session, dry_run=dry_run)
    return SchoolsSummary(created, updated, flag_count)


def schools_for(session: Session, flag: str | None) -> list[School]:
    """All schools, or those carrying ``flag`` (any year), in key order."""
    query = select(School).order_by(col(School.key))
    if flag is not None:
        flagged = select(RiskFlag.school_id).where(RiskFlag.kind == flag)
        query = query.where(col(School.id).in_(flagged))
    return list(session.exec(query))
