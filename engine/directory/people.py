"""The directory of persons: CSV import, lookup, and who acts for whom on a given day.

The people CSV (UTF-8, comma-separated, header row) has the columns::

    key,name,position,organisation,email,roles,aliases,deputies

``key`` is a short unique login; ``roles`` and ``aliases`` are lists separated by ``;``;
``deputies`` lists who stands in for this person and when, e.g.
``petrov 2026-07-01..2026-07-28; sidorova 2026-08-03..2026-08-14``. Only ``key`` and
``name`` are required. Importing upserts by ``key`` and replaces the listed persons'
deputy periods; the whole file is checked first and written in one transaction, so a
bad row changes nothing.

A column the file leaves out leaves that field of existing persons unchanged (a list
of names and emails does not wipe the deputies); an empty cell in a present column does
clear it. Email addresses are unique (compared without case): ``--as EMAIL`` must name
one person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, delete, func, or_, select

from engine.core.csvfile import CsvTable, email_problem, read_csv, split_list
from engine.core.db import finish
from engine.core.errors import InputError, NotFound
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
    kept_columns: tuple[str, ...] = ()  # absent from the file: left as they were


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
            table.problem(
                line, "deputies", f"ожидается 'КЛЮЧ ГГГГ-ММ-ДД..ГГГГ-ММ-ДД', а не {part!r}"
            )
            continue
        if ends < starts:
            table.problem(line, "deputies", f"период {part!r} кончается раньше, чем начинается")
        result.append((match.group(1), starts, ends))
    return result


def import_people(session: Session, path: Path, *, dry_run: bool = False) -> ImportSummary:
    """Validate the whole file, then upsert persons and deputy periods; commit once.

    ``dry_run`` checks and counts everything and writes nothing.
    """
    table = read_csv(path, COLUMNS, required=("key", "name"))
    present = set(table.present)
    stored = {p.key: p for p in session.exec(select(Person))}
    emails = {p.email.lower(): p.key for p in stored.values() if p.email}
    rows: list[tuple[int, dict[str, Any], list[tuple[str, date, date]]]] = []
    seen: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for line, cell in table.rows:
        key = cell["key"]
        if not table.check_key(line, "key", key):
            continue
        if key in seen:
            table.problem(line, "key", f"{key!r} уже на строке {seen[key]}")
            continue
        if key == "system":
            table.problem(line, "key", "'system' is reserved for the program's own actions")
            continue
        seen[key] = line
        if not cell["name"]:
            table.problem(line, "name", "пусто")
        roles = split_list(cell["roles"])
        for role in roles:
            if role not in DIRECTORY_ROLES:
                table.problem(
                    line,
                    "roles",
                    f"неизвестная роль {role!r}; ожидается {', '.join(DIRECTORY_ROLES)}",
                )
        email = cell["email"]
        problem = email_problem(email) if email else None
        if problem:
            table.problem(line, "email", problem)
        elif email:
            other = emails.get(email.lower())
            if email.lower() in seen_emails:
                table.problem(line, "email", f"{email} уже на строке {seen_emails[email.lower()]}")
            elif other is not None and other != key:
                table.problem(line, "email", f"{email} уже у сотрудника {other}")
            seen_emails[email.lower()] = line
        person: dict[str, Any] = {
            f: cell[f] for f in ("key", "name", "position", "organisation", "email") if f in present
        }
        if "roles" in present:
            person["roles"] = roles
        if "aliases" in present:
            person["aliases"] = split_list(cell["aliases"])
        deputies = _deputies(table, line, cell["deputies"]) if "deputies" in present else []
        rows.append((line, person, deputies))
    for line, person, deputies in rows:
        for deputy_key, _, _ in deputies:
            if deputy_key not in seen and deputy_key not in stored:
                table.problem(
                    line,
                    "deputies",
                    f"нет сотрудника с ключом {deputy_key!r} ни в файле, ни в справочнике",
                )
            if deputy_key == person["key"]:
                table.problem(line, "deputies", "сотрудник не может замещать сам себя")
    table.raise_problems()
    periods = 0
    by_key: dict[str, Person] = {}
    status: dict[str, bool | None] = {}
    for _, fields, _ in rows:
        row, status[fields["key"]] = upsert_by_key(session, Person, fields)
        by_key[row.key] = row
    if "deputies" in present:
        for _, fields, deputies in rows:
            owner = by_key[fields["key"]]
            old = {
                (d.deputy_id, d.starts, d.ends)
                for d in session.exec(select(Deputy).where(Deputy.person_id == owner.id))
            }
            new = {
                (pk(by_key.get(k) or find_person(session, k)), starts, ends)
                for k, starts, ends in deputies
            }
            periods += len(new)
            if old == new:
                continue
            session.exec(delete(Deputy).where(col(Deputy.person_id) == owner.id))
            for deputy_id, starts, ends in sorted(new):
                session.add(
                    Deputy(person_id=pk(owner), deputy_id=deputy_id, starts=starts, ends=ends)
                )
            if status[owner.key] is None:
                status[owner.key] = False
    created = sum(1 for s in status.values() if s is True)
    updated = sum(1 for s in status.values() if s is False)
    finish(session, dry_run=dry_run)
    return ImportSummary(created, updated, periods, tuple(sorted(set(COLUMNS) - present)))


def find_person(session: Session, ident: str) -> Person:
    """A person by key or email (what people type after ``--as``).

    An email shared by several persons (a directory from before emails were unique) is
    refused rather than resolved to one of them at random.
    """
    found = list(
        session.exec(
            select(Person).where(
                or_(Person.key == ident, func.lower(Person.email) == ident.lower())
            )
        )
    )
    by_key = [p for p in found if p.key == ident]
    if by_key:
        return by_key[0]
    if not found:
        raise NotFound("person", ident)
    if len(found) > 1:
        keys = ", ".join(sorted(p.key for p in found))
        raise InputError(f"адрес {ident} указан у нескольких сотрудников ({keys}): укажите ключ")
    return found[0]


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
