"""A district, a region or the country in the configured database, for the benchmarks.

    measures init                                   # (init --simulation with --today)
    .venv/bin/python bench/generate.py --profile district|region|country [--seed S] [--today DATE]
    measures sweep                                  # about 1 % of the tasks have a step due

Profiles (schools; tasks in a school year): district 20 (≈1.5 thousand), region 1,000
(≈75 thousand), country 40,000 (≈3 million). What is written, and how:

1. Through the application's own use cases, exactly as an operator would: the committee
   (``examples/people.csv``), a few *template* schools of every kind (unflagged, with
   signs of non-objectivity, with low results) with their heads, an assessment calendar
   for the school year (ВПР for grades 4–8 in Russian and mathematics, НИКО), and the
   plans — ``examples/plan.txt`` and ``bench/plan_schools.txt``, in the style of the sample
   plans, re-dated to the school year of ``today``: once, recurring (monthly, quarterly,
   half-yearly), continuous, event-bound and on-demand measures, fanned out to the
   schools the plan names.
2. In bulk (COPY on PostgreSQL, executemany in big batches on SQLite): the other schools
   and their heads (some with a deputy for the days around ``today``), their risk flags,
   and for every measure the tasks of the template school of the same kind copied to each
   school of that kind — every column copied, so the copies are what the importer would
   have written.
3. History, as if the committee had worked since the plans were approved and the daemon
   had run throughout: tasks due well before ``today`` mostly verified, the ones around it
   started or reported, later ones mostly planned — each transition an audit row in the
   keyed hash chain (``measures audit verify`` passes) — and every ladder step that fell
   due before the last working-day opening recorded as taken. Only the steps of that
   opening are left, so a sweep right after finds about 1 % of the tasks due.
4. Through the use cases again: the risk list of the flagged schools (a case each) and a
   help programme from the template for every one of them.

Every task's ``next_step_at`` is computed with the application's planner, and the run
ends with the doctor's check (it must find nothing) and the number of tasks due.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import Connection  # noqa: E402

from engine.app import App  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.models import (  # noqa: E402
    AuditEvent,
    AuditHead,
    Deputy,
    EscalationStep,
    Measure,
    Person,
    Plan,
    RiskFlag,
    School,
    Task,
)
from engine.core.settings import load_config  # noqa: E402
from engine.escalation.timeline import PlannedStep, TaskFacts, walk  # noqa: E402
from engine.lifecycle.audit import compute_hash  # noqa: E402

EXAMPLES = ROOT / "examples"
PLANS = (EXAMPLES / "plan.txt", ROOT / "bench" / "plan_schools.txt")
PROFILES = {"district": 20, "region": 1000, "country": 40000}
#: Template schools: (flag kind or "", count). Every kind a plan section can name.
TEMPLATES = (("", 2), ("non_objective", 2), ("low_results", 2))
#: Share of the other schools on each list.
FLAGGED = {"non_objective": 0.03, "low_results": 0.03}
DEPUTY_SHARE = 0.05
#: Of the tasks with a step at the last opening, the share left for the sweep after the
#: run (the others' steps were taken by the daemon that ran): about 1 % of all tasks due.
LEFT_DUE = 0.5
PAGE = 20000


@dataclass(frozen=True)
class Moment:
    """The generated installation's "now": the sweep right after the run happens then."""

    now: datetime
    today: date
    cutoff: datetime  # the last working-day opening at or before now: its steps stay due
    year: int  # the school year's first calendar year


def moment_for(app: App, today: date | None) -> Moment:
    hours = app.hours
    if today is None:
        now = datetime.now(UTC)
        today = hours.local_date(now)
    else:
        now = hours.at(today, clock_time(12))
    day = hours.local_date(now)
    opening = hours.at(day, hours.start)
    if not hours.calendar.is_working_day(day) or now < opening:
        opening = hours.at(hours.calendar.previous_working_day(day), hours.start)
    return Moment(now, today, opening, today.year if today.month >= 9 else today.year - 1)


# -- bulk writing -------------------------------------------------------------------------


def bulk(connection: Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert many rows: COPY on PostgreSQL, executemany in big batches on SQLite."""
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= PAGE:
            count += _write(connection, table, batch)
            batch = []
    if batch:
        count += _write(connection, table, batch)
    return count


def _write(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), list(rows))
        return len(rows)
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    raw: Any = connection.connection.dbapi_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[c], ensure_ascii=False) if c in json_columns else row[c]
                    for c in columns
                ]
            )
    return len(rows)


def next_id(connection: Connection, table: sa.Table) -> int:
    return (
        int(
            connection.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
        )
        + 1
    )


def fix_sequences(connection: Connection, tables: Iterable[sa.Table]) -> None:
    """Explicit ids were written: move PostgreSQL's sequences past them."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 1))'
        )


# -- through the use cases ------------------------------------------------------------------


def _redated(path: Path, year: int, folder: Path) -> Path:
    """The plan re-dated to the school year ``year``/``year + 1`` (it is written for 2026/27)."""
    text = path.read_text(encoding="utf-8")
    shifted = re.sub(r"\b(2026|2027)\b", lambda m: str(int(m.group(1)) - 2026 + year), text)
    target = folder / path.name
    target.write_text(shifted, encoding="utf-8")
    return target


def _events(year: int, folder: Path) -> Path:
    """ВПР for grades 4–8 in Russian and mathematics in April, НИКО in October."""
    path = folder / "events.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "kind", "subject", "grade", "date"])
        day = date(year + 1, 4, 6)
        for grade in range(4, 9):
            for subject in ("русский язык", "математика"):
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                writer.writerow(
                    [f"ВПР по предмету «{subject}»", "ВПР", subject, grade, day.isoformat()]
                )
                day += timedelta(days=1)
        writer.writerow(
            [
                "НИКО по литературному чтению",
                "НИКО",
                "литературное чтение",
                4,
                date(year, 10, 14).isoformat(),
            ]
        )
    return path


def _school(number: int, flag: str, year: int) -> dict[str, str]:
    return {
        "key": f"s{number:05d}",
        "name": "Муниципальное бюджетное общеобразовательное учреждение "
        f"«Средняя школа № {number}»",
        "short_name": f"МБОУ «СШ № {number}»",
        "email": f"s{number:05d}@schools.example.org",
        "head": f"h{number:05d}",
        "aliases": f"СШ № {number}",
        "flags": f"{flag} {year}" if flag else "",
    }


def _head(number: int) -> dict[str, str]:
    return {
        "key": f"h{number:05d}",
        "name": _NAMES[number % len(_NAMES)],
        "position": "Директор",
        "organisation": f"МБОУ «СШ № {number}»",
        "email": f"h{number:05d}@schools.example.org",
        "roles": "",
        "aliases": "",
        "deputies": "",
    }


_NAMES = (
    "Кузнецова Мария Петровна",
    "Белов Иван Сергеевич",
    "Зайцева Анна Ивановна",
    "Морозов Пётр Андреевич",
    "Васильева Елена Олеговна",
    "Новиков Сергей Павлович",
)


def _csv(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def through_use_cases(app: App, moment: Moment, folder: Path) -> dict[int, str]:
    """Committee, template schools, events and plans; template school id → its kind."""
    from engine.app.directory import assessment_calendar, people, schools
    from engine.app.plans import import_plan

    people(app, EXAMPLES / "people.csv")
    numbers: list[tuple[int, str]] = []
    for kind, count in TEMPLATES:
        base = len(numbers) + 1
        numbers.extend((base + i, kind) for i in range(count))
    heads = [_head(n) for n, _ in numbers]
    people(app, _csv(folder / "heads.csv", heads))
    schools(app, _csv(folder / "schools.csv", [_school(n, k, moment.year) for n, k in numbers]))
    assessment_calendar(app, _events(moment.year, folder))
    for plan in PLANS:
        done = import_plan(app, _redated(plan, moment.year, folder), dry_run=False)
        assert done.outcome is not None
    keys = {f"s{n:05d}": kind for n, kind in numbers}
    with app.engine.connect() as connection:
        table = School.__table__  # type: ignore[attr-defined]
        return {
            school_id: keys[key]
            for school_id, key in connection.execute(sa.select(table.c.id, table.c.key))
            if key in keys
        }


# -- the other schools ----------------------------------------------------------------------


def other_schools(
    connection: Connection, count: int, rng: random.Random, moment: Moment
) -> dict[str, list[tuple[int, int]]]:
    """Schools after the templates, their heads (some with a deputy), their flags; kind →
    [(school id, head id)]."""
    first = sum(n for _, n in TEMPLATES) + 1
    person_id = next_id(connection, Person.__table__)  # type: ignore[attr-defined]
    school_id = next_id(connection, School.__table__)  # type: ignore[attr-defined]
    people: list[dict[str, Any]] = []
    school_rows: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    deputies: list[dict[str, Any]] = []
    kinds: dict[str, list[tuple[int, int]]] = {"": [], "non_objective": [], "low_results": []}
    for number in range(first, count + 1):
        head = _head(number)
        people.append(
            {
                "id": person_id,
                "key": head["key"],
                "name": head["name"],
                "position": head["position"],
                "organisation": head["organisation"],
                "email": head["email"],
                "roles": [],
                "aliases": [],
                "active": True,
            }
        )
        head_id = person_id
        person_id += 1
        if rng.random() < DEPUTY_SHARE:
            people.append(
                {
                    "id": person_id,
                    "key": f"d{number:05d}",
                    "name": f"Заместителева Ольга Павловна {number}",
                    "position": "Заместитель директора",
                    "organisation": head["organisation"],
                    "email": f"d{number:05d}@schools.example.org",
                    "roles": [],
                    "aliases": [],
                    "active": True,
                }
            )
            deputies.append(
                {
                    "person_id": head_id,
                    "deputy_id": person_id,
                    "starts": moment.today - timedelta(days=7),
                    "ends": moment.today + timedelta(days=7),
                }
            )
            person_id += 1
        draw = rng.random()
        kind = ""
        for name, share in FLAGGED.items():
            if draw < share:
                kind = name
                break
            draw -= share
        row = _school(number, kind, moment.year)
        school_rows.append(
            {
                "id": school_id,
                "key": row["key"],
                "name": row["name"],
                "short_name": row["short_name"],
                "email": row["email"],
                "head_id": head_id,
                "aliases": [row["aliases"]],
            }
        )
        if kind:
            flags.append(
                {
                    "school_id": school_id,
                    "kind": kind,
                    "year": moment.year,
                    "subject": "",
                    "grade": "",
                    "source": "",
                    "marker": "",
                }
            )
        kinds[kind].append((school_id, head_id))
        school_id += 1
    bulk(connection, Person.__table__, people)  # type: ignore[attr-defined]
    bulk(connection, School.__table__, school_rows)  # type: ignore[attr-defined]
    bulk(connection, RiskFlag.__table__, flags)  # type: ignore[attr-defined]
    bulk(connection, Deputy.__table__, deputies)  # type: ignore[attr-defined]
    return kinds


# -- tasks and their history ----------------------------------------------------------------


@dataclass
class History:
    """What is written beside the tasks: ladder steps and audit rows (the chain)."""

    audit_seq: int
    audit_hash: str
    key: bytes
    steps: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    step_id: int
    audit_id: int


class Worker:
    """States, transitions and taken steps of one task, from its dates and a die."""

    def __init__(self, app: App, moment: Moment, rng: random.Random, system_ids: dict[str, int]):
        self.app = app
        self.planner = app.planner
        self.moment = moment
        self.rng = rng
        self.workflow = app.workflow
        self.ids = system_ids
        self._walks: dict[tuple[Any, ...], tuple[list[PlannedStep], datetime | None]] = {}

    def story(self, due: date | None, responsible: int | None) -> list[str]:
        """The events the task went through (start, report, verify), by its due date."""
        if due is None or responsible is None:
            return []
        today = self.moment.today
        draw = self.rng.random()
        if due < today - timedelta(days=15):
            if draw < 0.85:
                return ["start", "report", "verify"]
            return ["start"] if draw < 0.95 else []
        if due <= today + timedelta(days=15):
            if draw < 0.3:
                return ["start", "report"]
            return ["start"] if draw < 0.6 else []
        return ["start"] if draw < 0.15 else []

    def moments(self, due: date, events: Sequence[str], created: datetime) -> list[datetime]:
        """When each event happened: before the due date, never after now."""
        hours = self.app.hours
        latest = self.moment.now - timedelta(hours=1)
        start = max(created + timedelta(days=1), hours.at(due - timedelta(days=20), clock_time(10)))
        report = hours.at(due - timedelta(days=1), clock_time(11))
        verify = hours.at(due + timedelta(days=2), clock_time(15))
        found = [min(m, latest) for m in (start, report, verify)[: len(events)]]
        for i in range(1, len(found)):  # keep them in order when "now" clipped them
            found[i] = max(found[i], found[i - 1] + timedelta(minutes=1))
        return found

    def steps(
        self, facts: TaskFacts, ladder_key: str, detached: bool
    ) -> tuple[list[PlannedStep], datetime | None]:
        """Steps that fell due before the cutoff (taken), and the next moment."""
        if detached or facts.state not in self.planner.watched:
            return [], None
        left = self.rng.random() < LEFT_DUE
        key = (ladder_key, facts.state, facts.start_date, facts.due_date, facts.state_since, left)
        found = self._walks.get(key)
        if found is None:
            ladder = self.planner.ladders[ladder_key]
            cutoff = self.moment.cutoff
            until = cutoff - timedelta(microseconds=1) if left else cutoff
            found = walk(facts, ladder, self.planner.hours, until)
            self._walks[key] = found
        return found


def _audit_row(
    history: History,
    task_id: int,
    event: str,
    source: str,
    dest: str,
    actor: int,
    at: datetime,
    comment: str,
) -> None:
    history.audit_seq += 1
    # compute_hash reads the row's attributes; a plain namespace is enough (a SQLModel
    # instance per row costs ten times the hash).
    row: Any = SimpleNamespace(
        seq=history.audit_seq,
        task_id=task_id,
        case_id=None,
        admin_id=None,
        measure_id=None,
        plan_id=None,
        changes={},
        event=event,
        from_state=source,
        to_state=dest,
        actor_id=actor,
        on_behalf_of_id=None,
        at=at,
        comment=comment,
        evidence=[],
        prev_hash=history.audit_hash,
    )
    row.hash = compute_hash(history.audit_hash, row, history.key)
    history.audit_hash = row.hash
    history.audit.append(
        {
            "id": history.audit_id,
            "seq": row.seq,
            "task_id": task_id,
            "measure_id": None,
            "plan_id": None,
            "changes": {},
            "case_id": None,
            "admin_id": None,
            "event": event,
            "from_state": source,
            "to_state": dest,
            "actor_id": actor,
            "on_behalf_of_id": None,
            "at": at,
            "comment": comment,
            "evidence": [],
            "prev_hash": row.prev_hash,
            "hash": row.hash,
        }
    )
    history.audit_id += 1


def live(
    worker: Worker,
    history: History,
    row: dict[str, Any],
    ladder: str,
    supervisor: int | None,
    transitions: bool,
) -> dict[str, Any]:
    """Give one task row its history: transitions (audited), taken steps, next moment."""
    workflow = worker.workflow
    state = row["state"]
    if transitions and row["detached_at"] is None:
        events = worker.story(row["due_date"], row["responsible_id"])
        if events and (supervisor is None or supervisor == row["responsible_id"]):
            events = events[:2]  # nobody else could verify: left waiting
        moments = worker.moments(row["due_date"], events, row["created_at"]) if events else []
        for event, at in zip(events, moments, strict=True):
            definition = workflow.events[event]
            actor = supervisor if event == "verify" else row["responsible_id"]
            comment = "Отчёт о выполнении представлен." if event == "report" else ""
            _audit_row(history, row["id"], event, state, definition.dest, actor, at, comment)
            state = definition.dest
            row["state_since"] = at
            row["updated_at"] = at
            row["version"] += 1
            if comment:
                row["report"] = comment
        row["state"] = state
    facts = TaskFacts(row["id"], state, row["start_date"], row["due_date"], row["state_since"])
    taken, following = worker.steps(facts, ladder, row["detached_at"] is not None)
    for planned in taken:
        history.steps.append(
            {
                "id": history.step_id,
                "task_id": row["id"],
                "step": planned.step.name,
                "key": planned.key,
                "fire_at": planned.fire_at,
                "taken_at": planned.send_at,
                "skipped": False,
                "note": "",
            }
        )
        history.step_id += 1
    row["next_step_at"] = following
    return row


def tasks_and_history(
    app: App,
    connection: Connection,
    moment: Moment,
    rng: random.Random,
    templates: dict[int, str],
    kinds: dict[str, list[tuple[int, int]]],
    help_plans: set[int],
) -> tuple[int, int, int]:
    """Every template task copied to the schools of its kind, with history; the template
    tasks themselves (and the committee's own) get theirs in place."""
    task_table: sa.Table = Task.__table__  # type: ignore[attr-defined]
    worker = Worker(app, moment, rng, {})
    head = connection.execute(
        sa.select(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)
    ).one()  # type: ignore[attr-defined]
    history = History(
        audit_seq=head.seq,
        audit_hash=head.hash,
        key=app.audit_key,
        steps=[],
        audit=[],
        step_id=next_id(connection, EscalationStep.__table__),  # type: ignore[attr-defined]
        audit_id=next_id(connection, AuditEvent.__table__),  # type: ignore[attr-defined]
    )
    ladders: dict[int, tuple[str, int | None]] = {}
    helping: set[int] = set()  # measures of help programmes: no transitions (their case)
    measures = connection.execute(
        sa.select(
            Measure.__table__,
            Plan.__table__.c.ladder.label("plan_ladder"),
            Plan.__table__.c.controller_id,
        ).join(Plan.__table__, Plan.__table__.c.id == Measure.__table__.c.plan_id)  # type: ignore[attr-defined]  # type: ignore[attr-defined]
    ).all()
    for m in measures:
        ladder = app.planner.ladder_named(m.plan_ladder, m.ladder, m.schedule or {})
        ladders[m.id] = (ladder.name, m.supervisor_id or m.controller_id)
        if m.plan_id in help_plans:
            helping.add(m.id)
    existing = [
        dict(r._mapping)
        for r in connection.execute(sa.select(task_table).order_by(task_table.c.id))
    ]
    by_measure: dict[int, list[dict[str, Any]]] = {}
    for row in existing:
        by_measure.setdefault(row["measure_id"], []).append(row)
    # The template tasks (and committee tasks) in place: delete and write them back.
    connection.execute(sa.delete(task_table))
    written = bulk(
        connection,
        task_table,
        (
            live(worker, history, dict(row), *ladders[m], m not in helping)
            for row in existing
            for m in [row["measure_id"]]
        ),
    )
    steps = bulk(connection, EscalationStep.__table__, _drain(history.steps))  # type: ignore[attr-defined]
    audits = bulk(connection, AuditEvent.__table__, _drain(history.audit))  # type: ignore[attr-defined]
    next_task = next_id(connection, task_table)

    def copies() -> Iterator[dict[str, Any]]:
        nonlocal next_task
        for measure_id, rows in by_measure.items():
            kind = _fan_out(rows, templates)
            if kind is None or measure_id in helping:
                continue  # a committee measure or a school's own programme: not copied
            model = min(r["school_id"] for r in rows if templates.get(r["school_id"]) == kind[0])
            model_rows = [r for r in rows if r["school_id"] == model]
            targets = [t for k in kind for t in kinds[k]]
            for school_id, head_id in targets:
                for template in model_rows:
                    row = dict(template)
                    row["id"] = next_task
                    next_task += 1
                    row["school_id"] = school_id
                    row["responsible_id"] = (
                        head_id if template["responsible_id"] is not None else None
                    )
                    yield live(worker, history, row, *ladders[measure_id], True)

    written += bulk_with_history(connection, task_table, copies(), history)
    steps += bulk(connection, EscalationStep.__table__, _drain(history.steps))  # type: ignore[attr-defined]
    audits += bulk(connection, AuditEvent.__table__, _drain(history.audit))  # type: ignore[attr-defined]
    connection.execute(
        sa.update(AuditHead.__table__)
        .where(AuditHead.__table__.c.id == 1)
        .values(seq=history.audit_seq, hash=history.audit_hash)  # type: ignore[attr-defined]
    )
    return written, steps, audits


def bulk_with_history(
    connection: Connection, table: sa.Table, rows: Iterable[dict[str, Any]], history: History
) -> int:
    """Tasks page by page, each page followed by the steps and audit rows it produced
    (the tasks first: the others refer to them)."""
    count = 0
    page: list[dict[str, Any]] = []
    for row in rows:
        page.append(row)
        if len(page) >= PAGE:
            count += _write(connection, table, page)
            page = []
            bulk(connection, EscalationStep.__table__, _drain(history.steps))  # type: ignore[attr-defined]
            bulk(connection, AuditEvent.__table__, _drain(history.audit))  # type: ignore[attr-defined]
    if page:
        count += _write(connection, table, page)
    return count


def _drain(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    while items:
        chunk = items[:]
        items.clear()
        yield from chunk


def _fan_out(rows: Sequence[dict[str, Any]], templates: dict[int, str]) -> tuple[str, ...] | None:
    """Which kinds of school a measure's tasks reached among the templates (None: not a
    fan-out — a committee measure)."""
    reached = {templates[r["school_id"]] for r in rows if r["school_id"] in templates}
    if not reached:
        return None
    return tuple(sorted(reached))


def cases_and_help(app: App, moment: Moment, folder: Path) -> set[int]:
    """The risk list of the flagged schools (a case each) and a help programme from the
    template for every one, through the use cases; the help plans' ids."""
    from engine.app.cases import assign_help, risks_import

    table = School.__table__  # type: ignore[attr-defined]
    flags = RiskFlag.__table__  # type: ignore[attr-defined]
    with app.engine.connect() as connection:
        flagged = connection.execute(
            sa.select(table.c.key, table.c.short_name, flags.c.kind)
            .join(flags, flags.c.school_id == table.c.id)
            .order_by(table.c.id)
        ).all()
    path = folder / "risks.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Год", "Логин", "ОО", "Вид", "Предмет", "Класс", "Источник"])
        for key, name, kind in flagged:
            writer.writerow([moment.year, key, name, kind, "", "", "Перечень (сгенерирован)"])
    risks_import(app, path)
    for key, _, kind in flagged:
        assign_help(app, key, "petrova", template=True, kind=kind)
    with app.engine.connect() as connection:
        plans = Plan.__table__  # type: ignore[attr-defined]
        return {
            plan_id
            for (plan_id,) in connection.execute(
                sa.select(plans.c.id).where(plans.c.source_name == app.help_template.path.name)
            )
        }


def analyse(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE")
    else:
        connection.exec_driver_sql("ANALYZE")


def generate(app: App, profile: str, seed: int, today: date | None) -> dict[str, Any]:
    """Write the profile into ``app``'s (initialised, empty) database; what was written."""
    from engine.app.operations import doctor

    started = time.monotonic()
    rng = random.Random(seed)
    engine = app.writable_engine()
    with engine.connect() as connection:
        if connection.execute(sa.select(sa.func.count()).select_from(Plan.__table__)).scalar_one():  # type: ignore[attr-defined]
            raise SystemExit(
                "the database already has plans: generate into a fresh one (measures init)"
            )
    moment = moment_for(app, today)
    clock = app.clock
    assert isinstance(clock, FixedClock)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # The plans were approved at the end of August; the lists came in September.
        clock.set(app.hours.at(date(moment.year, 8, 28), clock_time(10)))
        templates = through_use_cases(app, moment, folder)
        with engine.begin() as connection:
            kinds = other_schools(connection, PROFILES[profile], rng, moment)
            fix_sequences(
                connection,
                (Person.__table__, School.__table__, RiskFlag.__table__, Deputy.__table__),
            )  # type: ignore[attr-defined]
        clock.set(app.hours.at(date(moment.year, 9, 10), clock_time(10)))
        help_plans = cases_and_help(app, moment, folder)
    clock.set(moment.now)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("LOCK TABLE audithead IN EXCLUSIVE MODE")
        tasks_and_history(app, connection, moment, rng, templates, kinds, help_plans)
        fix_sequences(connection, (Task.__table__, EscalationStep.__table__, AuditEvent.__table__))  # type: ignore[attr-defined]
    with engine.begin() as connection:
        analyse(connection)
        task_table = Task.__table__  # type: ignore[attr-defined]
        due = connection.execute(
            sa.select(sa.func.count()).where(task_table.c.next_step_at <= moment.now)
        ).scalar_one()
        steps, audits = (
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (EscalationStep.__table__, AuditEvent.__table__)  # type: ignore[attr-defined]
        )
    report = doctor(app, fix=False)
    return {
        "profile": profile,
        "now": moment.now.isoformat(),
        "schools": PROFILES[profile],
        "tasks": report.checked,
        "steps": steps,
        "audit": audits,
        "due": due,
        "due_share": round(due / max(report.checked, 1), 4),
        "doctor_differences": report.count,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    config = load_config(args.config)
    # The generator writes a synthetic past on purpose (plans approved in August,
    # transitions since): its clock moves, whatever the database is marked as. With
    # --today the sweep afterwards runs at that moment (MEASURES_NOW), which needs a
    # database made with `measures init --simulation`.
    app = App(config, FixedClock(datetime.now(UTC)), moved_clock=False)
    result = generate(app, args.profile, args.seed, args.today)
    print(json.dumps(result, ensure_ascii=False))
    return 1 if result["doctor_differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
