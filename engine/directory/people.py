"""The directory of persons: CSV import, lookup, and who acts for whom on a given day.

The people CSV (UTF-8, comma-separated, header row) has the columns::

    key,name,position,organisation,email,roles,aliases,deputies

``key`` is a short unique login; ``roles`` and ``aliases`` are lists separated by ``;``;
``deputies`` lists who stands in for this person and when, e.g.
``petrov 2026-07-01..2026-07-28; sidorova 2026-08-03..2026-08-14``. Only ``key`` and
``name`` are required. Importing upserts by ``key`` and replaces the listed persons'
deputy periods; the whole file is checked first and written in one transaction, so a
bad row changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, delete, or_, select

from engine.core.csvfile import CsvTable, email_problem, read_csv, split_list
from engine.core.errors import NotFound
from engine.core.models import Deputy, Person, pk, upsert_by_key

#: Roles a person can hold in the directory ("responsible" is a relation to a task).
DIRECTORY_ROLES = ("supervisor", "head", "admin")
COLUMNS = ("key", "name", "position", "organisation", "email", "roles", "aliases", "deputies")
_DEPUTY = re.compile(r"^\s*(\S+)\s+(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    deputy_periods: int


def _deputies(table: CsvTable, line: int, cell: str) -> list[tuple[str, date, date]]:
    result = []
    for part in split_list(cell):
        match = _DEPUTY.match(part)
        try:
            if not match:
                raise ValueError
            starts = date.fromisoformat(match.group(2))
            ends = date.fromisoformat(match.group(3))
        except ValueError:
            table.problem(line, "deputies", f"expected 'KEY YYYY-MM-DD..YYYY-MM-DD', got {part!r}")
            continue
        if ends < starts:
            table.problem(line, "deputies", f"period {part!r} ends before it starts")
        result.append((match.group(1), starts, ends))
    return result


def import_people(session: Session, path: Path) -> ImportSummary:
    """Validate the whole file, then upsert persons and deputy periods; commit once."""
    table = read_csv(path, COLUMNS, required=("key", "name"))
    known = set(session.exec(select(Person.key)))
    rows: list[tuple[int, dict[str, Any], list[tuple[str, date, date]]]] = []
    seen: dict[str, int] = {}
    for line, cell in table.rows:
        key = cell["key"]
        if not table.check_key(line, "key", key):
            continue
        if key in seen:
            table.problem(line, "key", f"{key!r} already on line {seen[key]}")
            continue
        if key == "system":
            table.problem(line, "key", "'system' is reserved for the program's own actions")
            continue
        seen[key] = line
        if not cell["name"]:
            table.problem(line, "name", "empty")
        roles = split_list(cell["roles"])
        for role in roles:
            if role not in DIRECTORY_ROLES:
                table.problem(
                    line, "roles", f"unknown role {role!r}; expected {', '.join(DIRECTORY_ROLES)}"
                )
        problem = email_problem(cell["email"]) if cell["email"] else None
        if problem:
            table.problem(line, "email", problem)
        person: dict[str, Any] = {
            f: cell[f] for f in ("key", "name", "position", "organisation", "email")
        }
        person |= {"roles": roles, "aliases": split_list(cell["aliases"])}
        rows.append((line, person, _deputies(table, line, cell["deputies"])))
    for line, person, deputies in rows:
        for deputy_key, _, _ in deputies:
            if deputy_key not in seen and deputy_key not in known:
                table.problem(
                    line,
                    "deputies",
                    f"no person with key {deputy_key!r} in this file or the directory",
                )
            if deputy_key == person["key"]:
                table.problem(line, "deputies", "a person cannot deputise for themselves")
    table.raise_problems()
    created = updated = periods = 0
    by_key: dict[str, Person] = {}
    for _, fields, _ in rows:
        row, is_new = upsert_by_key(session, Person, fields)
        created += is_new
        updated += not is_new
        by_key[row.key] = row
    for _, fields, deputies in rows:
        owner = by_key[fields["key"]]
        session.exec(delete(Deputy).where(col(Deputy.person_id) == owner.id))
        for deputy_key, starts, ends in deputies:
            deputy = by_key.get(deputy_key) or find_person(session, deputy_key)
            session.add(Deputy(person_id=pk(owner), deputy_id=pk(deputy), starts=starts, ends=ends))
            periods += 1
    session.commit()
    return ImportSummary(created, updated, periods)


def find_person(session: Session, ident: str) -> Person:
    """A person by key or email (what people type after ``--as``)."""
    person = session.exec(
        select(Person).where(or_(Person.key == ident, Person.email == ident))
    ).first()
    if person is None:
        raise NotFound("person", ident)
    return person


def acts_for(session: Session, actor: Person, principal_id: int | None, day: date) -> bool:
    """Whether ``actor`` is ``principal_id`` or their deputy on ``day``."""
    if principal_id is None:
        return False
    if actor.id == principal_id:
        return True
    return (
        session.exec(
            select(Deputy.id).where(
                Deputy.person_id == principal_id,
                Deputy.deputy_id == actor.id,
                col(Deputy.starts) <= day,
                col(Deputy.ends) >= day,
            )
        ).first()
        is not None
    )
