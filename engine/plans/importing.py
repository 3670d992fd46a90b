"""A read document → a review the operator checks → one transaction in the database.

:func:`review` interprets a :class:`SourceDocument` without writing anything: parses
every deadline phrase, resolves every responsible, expands the tasks and, if the plan is
already in the database, works out what would change. ``measures import --dry-run``
prints exactly this review; :func:`commit` writes it, all or nothing.

A plan is recognised again by its document's SHA-256 (same file: nothing to do) or by
its identity — order number and date, else the title — for an edited document, whose
measures are matched by section and number and whose tasks keep their states and
history (engine.plans.expand).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.core.models import Measure, Plan, Section, Task, pk
from engine.core.workcalendar import WorkCalendar
from engine.plans.expand import DesiredTask, TaskChanges, desired_tasks, sync_tasks
from engine.plans.readers.document import SourceDocument, SourceRow
from engine.plans.resolve import Directory, normalise, resolve
from engine.plans.schedule import (
    Cadence,
    EventDate,
    missing_events,
    occurrences,
    parse_deadline,
    schedule_json,
)

#: Fields of a measure compared when an edited document is imported again.
_COMPARED = (
    "number",
    "title",
    "deadline_phrase",
    "responsible_text",
    "expected_result",
    "decisions",
)


@dataclass
class MeasureReview:
    key: str
    row: SourceRow
    section: str
    schedule: dict[str, Any]
    responsible: list[str]  # display names; "все ОО (N)" for a fan-out
    supervisor_id: int | None
    co_responsible_ids: list[int]
    tasks: list[DesiredTask]
    problems: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.row.number,
            "title": self.row.title,
            "section": self.section,
            "location": self.row.location,
            "deadline_phrase": self.row.deadline,
            "schedule": self.schedule,
            "responsible": self.responsible,
            "expected_result": self.row.expected_result,
            "tasks": len(self.tasks),
            "problems": self.problems,
        }


@dataclass
class Review:
    document: SourceDocument
    sha256: str
    period: tuple[date, date]
    controller_id: int | None
    measures: list[MeasureReview]
    problems: list[str]  # document-level problems
    existing: Plan | None = None  # the plan this document updates
    unchanged: bool = False  # the very same file was imported before
    diff: dict[str, list[str]] = field(default_factory=dict)

    def all_problems(self) -> list[str]:
        """Every problem, document-level first, each with where it is."""
        listed = list(self.problems)
        for m in self.measures:
            listed.extend(f"{m.row.location}, № {m.row.number}: {p}" for p in m.problems)
        return listed

    def as_json(self) -> dict[str, Any]:
        doc = self.document
        return {
            "plan": {
                "title": doc.title,
                "issuer": doc.issuer,
                "order_number": doc.order_number,
                "order_date": doc.order_date.isoformat() if doc.order_date else None,
                "period": [self.period[0].isoformat(), self.period[1].isoformat()],
                "controller": doc.controller_text,
                "source": doc.source_name,
            },
            "existing_plan_id": self.existing.id if self.existing else None,
            "unchanged": self.unchanged,
            "diff": self.diff or None,
            "measures": [m.as_json() for m in self.measures],
            "problems": self.all_problems(),
        }


def school_year(day: date) -> tuple[date, date]:
    """The school year (1 September – 31 August) that contains ``day``."""
    start = day.year if day.month >= 9 else day.year - 1
    return date(start, 9, 1), date(start + 1, 8, 31)


def _headings(doc: SourceDocument, index: int | None) -> list[str]:
    """Section titles from the innermost outwards, then the document title."""
    titles: list[str] = []
    seen: set[int] = set()
    while index is not None and index not in seen:
        seen.add(index)
        titles.append(doc.sections[index].title)
        index = doc.sections[index].parent
    return [*titles, doc.title]


def _measure_key(section: str, number: str, taken: set[str]) -> str:
    key = f"{normalise(section)[:150]}#{number}"
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}~{n}"
    taken.add(candidate)
    return candidate


def _find_existing(
    session: Session, doc: SourceDocument, sha: str, period: tuple[date, date]
) -> tuple[Plan | None, bool]:
    """The plan this document is (the same file) or updates (an edited version).

    An edited version is the same order (number and date) or, without both, the same
    title *for the same period*: next year's plan with last year's title is a new plan.
    """
    same = session.exec(select(Plan).where(Plan.source_sha256 == sha)).first()
    if same is not None:
        return same, True
    query = select(Plan)
    if doc.order_number and doc.order_date:
        query = query.where(
            Plan.order_number == doc.order_number, Plan.order_date == doc.order_date
        )
    else:
        query = query.where(
            Plan.title == doc.title,
            Plan.period_start == period[0],
            Plan.period_end == period[1],
        )
    return session.exec(query.order_by(col(Plan.id))).first(), False


def _match(stored: Sequence[Measure], incoming: Sequence[MeasureReview]) -> dict[str, Measure]:
    """Incoming measure key → the stored measure it continues.

    First by section and wording (a measure renumbered because one was inserted above
    keeps its tasks), then by section and number (a measure whose wording was corrected).
    """

    def by_text(section_key: str, title: str) -> tuple[str, str]:
        return section_key.rpartition("#")[0], normalise(title)

    free = {m.id: m for m in stored}
    texts = {by_text(m.key, m.title): m for m in stored}
    keys = {m.key: m for m in stored}
    matched: dict[str, Measure] = {}
    for pass_ in ("text", "key"):
        for m in incoming:
            if m.key in matched:
                continue
            candidate = (
                texts.get(by_text(m.key, m.row.title)) if pass_ == "text" else (keys.get(m.key))
            )
            if candidate is not None and candidate.id in free:
                matched[m.key] = free.pop(candidate.id)
    return matched


def review(
    session: Session,
    doc: SourceDocument,
    raw: bytes,
    calendar: WorkCalendar,
    events: Sequence[EventDate],
    continuous_cadence: Cadence,
    today: date,
) -> Review:
    """Interpret the document against the directory and calendar; write nothing."""
    sha = hashlib.sha256(raw).hexdigest()
    problems = [
        f"{p.location}: {p.message}" + (f" («{p.text}»)" if p.text else "") for p in doc.problems
    ]
    period = doc.period
    if period is None:
        period = school_year(doc.order_date or today)
        problems.append(
            f"Период плана не указан: принят учебный год "
            f"{period[0]:%d.%m.%Y}–{period[1]:%d.%m.%Y}"
            + (" (по дате распоряжения)." if doc.order_date else " (текущий).")
        )
    if not doc.rows:
        problems.append("В документе не найдено ни одного мероприятия.")
    directory = Directory.load(session)
    controller_id = None
    if doc.controller_text:
        found = resolve(doc.controller_text, directory, doc.abbreviations)
        if found.persons:
            controller_id = pk(found.persons[0])
        else:
            problems.append(
                f"Контролирующее лицо «{doc.controller_text}» не найдено в справочнике."
            )
    measures: list[MeasureReview] = []
    taken: set[str] = set()
    for row in doc.rows:
        section = doc.sections[row.section].title if row.section is not None else ""
        schedule = parse_deadline(row.deadline, period)
        dated = occurrences(schedule, period, calendar, events, continuous_cadence)
        own: list[str] = list(schedule.problems)
        waiting = missing_events(schedule, dated)
        if waiting:
            own.append(waiting)
        who = resolve(row.responsible, directory, doc.abbreviations, _headings(doc, row.section))
        own.extend(f"Ответственный «{text}» не найден в справочнике." for text in who.unresolved)
        if not row.responsible.strip():
            own.append("Не указан ответственный.")
        supervisor_id = controller_id
        if row.control.strip():
            control = resolve(row.control, directory, doc.abbreviations)
            if control.persons:
                supervisor_id = pk(control.persons[0])
            else:
                own.append(f"Контролирующее лицо «{row.control}» не найдено в справочнике.")
        tasks, task_problems = desired_tasks(dated, who, directory, supervisor_id)
        own.extend(task_problems)
        names = [p.name for p in who.persons]
        if who.fan_out:
            count = len(directory.schools_for(who.flag))
            scope = {
                "non_objective": " с признаками необъективности",
                "low_results": " с низкими результатами",
            }.get(who.flag or "", "")
            names.insert(0, f"все ОО{scope} ({count})")
        co = [pk(p) for p in who.persons[(0 if who.fan_out else 1) :]]
        measures.append(
            MeasureReview(
                key=_measure_key(section, row.number, taken),
                row=row,
                section=section,
                schedule=schedule_json(schedule, dated),
                responsible=names,
                supervisor_id=supervisor_id,
                co_responsible_ids=co,
                tasks=tasks,
                problems=own,
            )
        )
    existing, unchanged = _find_existing(session, doc, sha, period)
    result = Review(doc, sha, period, controller_id, measures, problems, existing, unchanged)
    if existing is not None and not unchanged:
        result.diff = _diff(session, existing, measures)
    return result


def _diff(session: Session, plan: Plan, measures: Sequence[MeasureReview]) -> dict[str, list[str]]:
    stored = list(session.exec(select(Measure).where(Measure.plan_id == plan.id)))
    matched = _match(stored, measures)
    diff: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for m in measures:
        old = matched.get(m.key)
        if old is None:
            diff["added"].append(f"№ {m.row.number} {m.row.title[:80]}")
            continue
        new_values = _measure_fields(m)
        changed = [f for f in _COMPARED if getattr(old, f) != new_values[f]]
        if changed:
            diff["changed"].append(f"№ {old.number}: {', '.join(changed)}")
    kept = {m.id for m in matched.values()}
    diff["removed"] = [f"№ {m.number} {m.title[:80]}" for m in stored if m.id not in kept]
    return {k: v for k, v in diff.items() if v}


def _measure_fields(m: MeasureReview) -> dict[str, Any]:
    return {
        "key": m.key,
        "number": m.row.number,
        "title": m.row.title,
        "deadline_phrase": m.row.deadline,
        "responsible_text": m.row.responsible,
        "expected_result": m.row.expected_result,
        "decisions": m.row.decisions,
        "control_text": m.row.control,
        "source_location": m.row.location,
        "schedule": m.schedule,
        "co_responsible_ids": m.co_responsible_ids,
        "problems": m.problems,
        "supervisor_id": m.supervisor_id,
    }


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    created: bool
    measures: int
    tasks: TaskChanges


def commit(session: Session, result: Review, initial_state: str, now: datetime) -> Outcome:
    """Write the reviewed plan in one transaction (the caller's session is committed here)."""
    doc = result.document
    # The same file is committed too: its tasks are synced again, which changes nothing
    # unless the directory changed meanwhile (a responsible found, a school added).
    plan = result.existing or Plan(
        title=doc.title, period_start=result.period[0], period_end=result.period[1], created_at=now
    )
    plan.title = doc.title
    plan.issuer = doc.issuer
    plan.order_number = doc.order_number
    plan.order_date = doc.order_date
    plan.period_start, plan.period_end = result.period
    plan.controller_id = result.controller_id
    plan.controller_text = doc.controller_text
    plan.abbreviations = dict(doc.abbreviations)
    plan.source_name = doc.source_name
    plan.source_sha256 = result.sha256
    session.add(plan)
    session.flush()
    sections = _sync_sections(session, plan, doc)
    stored = list(session.exec(select(Measure).where(Measure.plan_id == plan.id)))
    matched = _match(stored, result.measures)
    kept_ids = {m.id for m in matched.values()}
    changes = TaskChanges()
    for position, reviewed in enumerate(result.measures, start=1):
        measure = matched.get(reviewed.key) or Measure(
            plan_id=pk(plan), position=position, number="", title=""
        )
        for name, value in _measure_fields(reviewed).items():
            setattr(measure, name, value)
        measure.position = position
        measure.section_id = (
            sections[reviewed.row.section] if reviewed.row.section is not None else None
        )
        session.add(measure)
        session.flush()
        changes.add(sync_tasks(session, measure, reviewed.tasks, initial_state, now))
    for gone in (m for m in stored if m.id not in kept_ids):  # no longer in the document
        changes.add(sync_tasks(session, gone, [], initial_state, now))
        if not session.exec(select(Task).where(Task.measure_id == gone.id)).first():
            session.delete(gone)
        else:
            note = "Мероприятие удалено из документа, но по нему есть история."
            if note not in gone.problems:
                gone.problems = [*gone.problems, note]
                session.add(gone)
    session.flush()
    _drop_unused_sections(session, plan, set(sections.values()))
    session.commit()
    return Outcome(plan, result.existing is None, len(result.measures), changes)


def _sync_sections(session: Session, plan: Plan, doc: SourceDocument) -> dict[int, int]:
    """Document section index → section id, reusing sections with the same title."""
    stored = {
        normalise(s.title): s
        for s in session.exec(select(Section).where(Section.plan_id == plan.id))
    }
    ids: dict[int, int] = {}
    for index, source in enumerate(doc.sections):
        section = stored.get(normalise(source.title)) or Section(
            plan_id=pk(plan), position=0, title=source.title
        )
        section.position = index + 1
        section.title = source.title
        section.parent_id = ids.get(source.parent) if source.parent is not None else None
        session.add(section)
        session.flush()
        ids[index] = pk(section)
    return ids


def _drop_unused_sections(session: Session, plan: Plan, used: set[int]) -> None:
    referenced = set(session.exec(select(Measure.section_id).where(Measure.plan_id == plan.id)))
    for section in session.exec(select(Section).where(Section.plan_id == plan.id)):
        if section.id not in used and section.id not in referenced:
            session.delete(section)


def reexpand_events(
    session: Session,
    calendar: WorkCalendar,
    events: Sequence[EventDate],
    continuous_cadence: Cadence,
    initial_state: str,
    now: datetime,
) -> TaskChanges:
    """After the assessment calendar changed: re-date every event-bound measure's tasks."""
    from engine.plans.redate import redate

    return redate(
        session, calendar, events, continuous_cadence, initial_state, now, kinds=("event",)
    ).changes
