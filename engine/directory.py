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

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, delete, or_, select

from engine.errors import InputError, NotFound
from engine.models import Deputy, Person, pk

#: Roles a person can hold in the directory ("responsible" is a relation to a task).
DIRECTORY_ROLES = ("supervisor", "head", "admin")
COLUMNS = ("key", "name", "position", "organisation", "email", "roles", "aliases", "deputies")
_KEY = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_DEPUTY = re.compile(r"^\s*(\S+)\s+(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$")
_MAX_SHOWN = 20


@dataclass(frozen=True)
class _Row:
    line: int
    person: dict[str, object]
    deputies: tuple[tuple[str, date, date], ...]


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    deputy_periods: int


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _parse_rows(path: Path, lines: Iterable[str]) -> tuple[list[_Row], list[str]]:
    reader = csv.DictReader(lines)
    problems: list[str] = []
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("key", "name") if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        what = (
            f"missing column(s) {', '.join(missing)}"
            if missing
            else f"unknown column(s) {', '.join(unknown)}"
        )
        raise InputError(f"{path}:1: {what}; expected the columns {', '.join(COLUMNS)}")
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        cell = {k.strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if None in record:
            problems.append(f"{path}:{line}: more cells than columns in the header")
            continue
        key = cell.get("key", "")
        if not _KEY.match(key):
            problems.append(
                f"{path}:{line}: key: expected letters, digits, '_', '.', '-', "
                f"'@' (at most 64), got {key!r}"
            )
            continue
        if key in seen:
            problems.append(f"{path}:{line}: key: {key!r} already on line {seen[key]}")
            continue
        seen[key] = line
        if not cell.get("name"):
            problems.append(f"{path}:{line}: name: empty")
        roles = _split(cell.get("roles", ""))
        for role in roles:
            if role not in DIRECTORY_ROLES:
                problems.append(
                    f"{path}:{line}: roles: unknown role {role!r}; expected "
                    f"{', '.join(DIRECTORY_ROLES)}"
                )
        email = cell.get("email", "")
        if email and not re.match(r"^[^@\s]+@[^@\s]+$", email):
            problems.append(f"{path}:{line}: email: not an address: {email!r}")
        deputies: list[tuple[str, date, date]] = []
        for part in _split(cell.get("deputies", "")):
            match = _DEPUTY.match(part)
            try:
                if not match:
                    raise ValueError
                starts = date.fromisoformat(match.group(2))
                ends = date.fromisoformat(match.group(3))
            except ValueError:
                problems.append(
                    f"{path}:{line}: deputies: expected 'KEY YYYY-MM-DD..YYYY-MM-DD', got {part!r}"
                )
                continue
            if ends < starts:
                problems.append(f"{path}:{line}: deputies: period {part!r} ends before it starts")
            deputies.append((match.group(1), starts, ends))
        rows.append(
            _Row(
                line,
                {
                    "key": key,
                    "name": cell.get("name", ""),
                    "position": cell.get("position", ""),
                    "organisation": cell.get("organisation", ""),
                    "email": email,
                    "roles": roles,
                    "aliases": _split(cell.get("aliases", "")),
                },
                tuple(deputies),
            )
        )
    return rows, problems


def import_people(session: Session, path: Path) -> ImportSummary:
    """Validate the whole file, then upsert persons and deputy periods; commit once."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows, problems = _parse_rows(path, handle)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the table as CSV UTF-8") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file: {exc}") from None
    in_file = {row.person["key"] for row in rows}
    known = set(session.exec(select(Person.key)))
    for row in rows:
        for deputy_key, _, _ in row.deputies:
            if deputy_key not in in_file and deputy_key not in known:
                problems.append(
                    f"{path}:{row.line}: deputies: no person with key {deputy_key!r}"
                    " in this file or the directory"
                )
            if deputy_key == row.person["key"]:
                problems.append(
                    f"{path}:{row.line}: deputies: a person cannot deputise for themselves"
                )
    if problems:
        shown = problems[:_MAX_SHOWN]
        more = f"\n… and {len(problems) - _MAX_SHOWN} more" if len(problems) > _MAX_SHOWN else ""
        raise InputError("nothing was imported:\n" + "\n".join(shown) + more)
    created = updated = periods = 0
    by_key: dict[str, Person] = {}
    for row in rows:
        person = session.exec(select(Person).where(Person.key == row.person["key"])).first()
        if person is None:
            person = Person.model_validate(row.person)
            created += 1
        else:
            for field, value in row.person.items():
                setattr(person, field, value)
            updated += 1
        session.add(person)
        by_key[person.key] = person
    session.flush()
    for row in rows:
        person = by_key[str(row.person["key"])]
        session.exec(delete(Deputy).where(col(Deputy.person_id) == person.id))
        for deputy_key, starts, ends in row.deputies:
            deputy = by_key.get(deputy_key) or find_person(session, deputy_key)
            session.add(
                Deputy(person_id=pk(person), deputy_id=pk(deputy), starts=starts, ends=ends)
            )
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
