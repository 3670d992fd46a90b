"""The CSV plan template: what a committee can fill in by hand in any spreadsheet.

A file is UTF-8 CSV. Lines before the header that start with ``#`` carry the plan's
details as ``# key = value``:

    # title = План мероприятий по обеспечению объективности ВПР
    # issuer = Комитет по образованию
    # order = 149 от 2026-08-27
    # period = 2026-09-01..2027-08-31
    # controller = petrova

Then a header row with the columns ``section,number,title,deadline,responsible,
supervisor,expected_result`` and one row per measure. ``deadline`` is a date
``YYYY-MM-DD`` (Russian deadline phrases arrive with the deadline grammar) or empty;
``responsible`` and ``supervisor`` are directory keys, aliases or exact names.

Every row is checked before anything is written; a problem names file, line and column
and nothing is imported. The same file imported twice is recognised by its SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, or_, select

from engine.errors import InputError
from engine.models import Measure, Person, Plan, Section, Task, pk

COLUMNS = ("section", "number", "title", "deadline", "responsible", "supervisor", "expected_result")
META_KEYS = ("title", "issuer", "order", "period", "controller")
_ORDER = re.compile(r"^\s*(?P<number>\S+)\s+от\s+(?P<date>\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True)
class ImportResult:
    plan: Plan
    measures: int
    tasks: int
    already_imported: bool


def _resolve(session: Session, text: str) -> Person | None:
    """A directory person by key, exact name or alias (aliases are JSON lists)."""
    person = session.exec(
        select(Person).where(or_(Person.key == text, Person.name == text))
    ).first()
    if person is not None:
        return person
    return next((p for p in session.exec(select(Person)) if text in p.aliases), None)


def _school_year(day: date) -> tuple[date, date]:
    start_year = day.year if day.month >= 9 else day.year - 1
    return date(start_year, 9, 1), date(start_year + 1, 8, 31)


def import_plan_csv(session: Session, path: Path, now: datetime) -> ImportResult:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the table as CSV UTF-8") from None
    digest = hashlib.sha256(raw).hexdigest()
    existing = session.exec(select(Plan).where(Plan.source_sha256 == digest)).first()
    if existing is not None:
        return ImportResult(existing, 0, 0, already_imported=True)

    problems: list[str] = []
    meta: dict[str, tuple[int, str]] = {}
    lines = text.splitlines()
    header_at = 0
    for number, line in enumerate(lines, start=1):
        if not line.startswith("#"):
            header_at = number
            break
        key, sep, value = line[1:].partition("=")
        key = key.strip()
        if not sep or key not in META_KEYS:
            problems.append(
                f"{path}:{number}: expected '# key = value' with key one of "
                f"{', '.join(META_KEYS)}, got {line!r}"
            )
            continue
        meta[key] = (number, value.strip())
    if "title" not in meta:
        problems.append(f"{path}: missing '# title = ...' line before the header")

    order_number, order_date = "", None
    if "order" in meta:
        line_no, value = meta["order"]
        match = _ORDER.match(value)
        if match:
            order_number, order_date = match["number"], date.fromisoformat(match["date"])
        else:
            problems.append(
                f"{path}:{line_no}: order: expected 'NUMBER от YYYY-MM-DD', got {value!r}"
            )
    period = _school_year(order_date or now.date())
    if "period" in meta:
        line_no, value = meta["period"]
        try:
            first, _, last = value.partition("..")
            period = (date.fromisoformat(first.strip()), date.fromisoformat(last.strip()))
            if period[1] < period[0]:
                raise ValueError
        except ValueError:
            problems.append(
                f"{path}:{line_no}: period: expected 'YYYY-MM-DD..YYYY-MM-DD', got {value!r}"
            )
    controller = None
    if "controller" in meta:
        line_no, value = meta["controller"]
        controller = _resolve(session, value)
        if controller is None:
            problems.append(f"{path}:{line_no}: controller: no person {value!r} in the directory")

    reader = csv.DictReader(io.StringIO("\n".join(lines[header_at - 1 :]) if header_at else ""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if [c for c in COLUMNS if c not in header] or [h for h in header if h not in COLUMNS]:
        raise InputError(
            f"{path}:{header_at}: expected the header "
            f"{','.join(COLUMNS)}, got {','.join(header) or 'nothing'}"
        )
    rows = []
    for record in reader:
        line_no = header_at + reader.line_num - 1
        cell = {k.strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if not cell["title"]:
            problems.append(f"{path}:{line_no}: title: empty")
        due = None
        if cell["deadline"]:
            try:
                due = date.fromisoformat(cell["deadline"])
            except ValueError:
                problems.append(
                    f"{path}:{line_no}: deadline: expected YYYY-MM-DD, got {cell['deadline']!r}"
                )
        people = {}
        for column in ("responsible", "supervisor"):
            if cell[column]:
                people[column] = _resolve(session, cell[column])
                if people[column] is None:
                    problems.append(
                        f"{path}:{line_no}: {column}: no person {cell[column]!r} "
                        "in the directory (import people first)"
                    )
        rows.append((cell, due, people))
    if not rows:
        problems.append(f"{path}: no measures after the header")
    if problems:
        raise InputError("nothing was imported:\n" + "\n".join(problems))

    title = meta["title"][1]
    plan = Plan(
        title=title,
        issuer=meta.get("issuer", (0, ""))[1],
        order_number=order_number,
        order_date=order_date,
        period_start=period[0],
        period_end=period[1],
        controller_id=controller.id if controller else None,
        source_name=path.name,
        source_sha256=digest,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    sections: dict[str, Section] = {}
    for position, (cell, due, people) in enumerate(rows, start=1):
        section = None
        if cell["section"]:
            section = sections.get(cell["section"])
            if section is None:
                section = Section(
                    plan_id=pk(plan), position=len(sections) + 1, title=cell["section"]
                )
                session.add(section)
                session.flush()
                sections[cell["section"]] = section
        supervisor = people.get("supervisor") or controller
        responsible = people.get("responsible")
        measure = Measure(
            plan_id=pk(plan),
            section_id=section.id if section else None,
            position=position,
            number=cell["number"] or str(position),
            title=cell["title"],
            deadline_phrase=cell["deadline"],
            responsible_text=cell["responsible"],
            expected_result=cell["expected_result"],
            supervisor_id=supervisor.id if supervisor else None,
        )
        session.add(measure)
        session.flush()
        session.add(
            Task(
                measure_id=pk(measure),
                responsible_id=responsible.id if responsible else None,
                supervisor_id=supervisor.id if supervisor else None,
                due_date=due,
                created_at=now,
                updated_at=now,
            )
        )
    session.commit()
    return ImportResult(plan, len(rows), len(rows), already_imported=False)
