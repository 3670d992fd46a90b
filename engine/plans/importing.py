"""A read document → a review the operator checks → one transaction in the database.

:func:`review` interprets a :class:`SourceDocument` without writing anything: parses
every deadline phrase, resolves every responsible, expands the tasks and, if the plan is
already in the database, works out what would change. ``measures import --dry-run``
prints exactly this review; :func:`commit` writes it, all or nothing.

A plan is recognised again by its document's SHA-256 (same file: nothing to do) or by
its identity — order number and date, else the title — for an edited document, whose
measures are matched by section and number and whose tasks keep their states and
history (engine.plans.expand).

The period comes from the document (title, order, "Срок реализации"), else from the
order's date, else from the dates in the table (the school year holding most of them),
else it is the current school year; the review says which. Each measure's parsed
schedule is stored in its versioned form: tasks are expanded again from it (after the
assessment calendar changed), and a new reading of the same phrase by a later grammar
is a line of the next import review ("срок прочитан иначе"), never a silent move.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from engine.core.models import Measure, Person, Plan, Section, Task, pk
from engine.core.workcalendar import WorkCalendar
from engine.plans.expand import DesiredTask, TaskChanges, desired_tasks, sync_tasks
from engine.plans.readers.document import SourceDocument, SourceRow
from engine.plans.resolve import Directory, normalise, resolve
from engine.plans.schedule import (
    GRAMMAR_VERSION,
    Cadence,
    EventDate,
    Schedule,
    StoredScheduleError,
    occurrences,
    parse_deadline,
    schedule_from_json,
    schedule_json,
    schedule_problems,
    schedule_to_json,
)

logger = logging.getLogger(__name__)

PeriodSource = Literal["document", "order_date", "table", "today"]
PERIOD_SOURCES: dict[PeriodSource, str] = {
    "document": "из документа",
    "order_date": "по дате приказа",
    "table": "по датам в таблице",
    "today": "текущий учебный год",
}

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
    schedule: dict[str, Any]  # what is shown (engine.plans.schedule.schedule_json)
    responsible: list[str]  # display names; "все ОО (N)" for a fan-out
    supervisor_id: int | None
    co_responsible_ids: list[int]
    tasks: list[DesiredTask]
    problems: list[str]
    spec: dict[str, Any] = field(default_factory=dict)  # the stored form of the schedule
    unresolved: list[str] = field(default_factory=list)  # responsible entries not found
    override: str = ""  # the deadline phrase a clerk gave instead of the document's

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.row.number,
            "title": self.row.title,
            "section": self.section,
            "location": self.row.location,
            "deadline_phrase": self.row.deadline,
            "deadline_override": self.override or None,
            "schedule": self.schedule,
            "responsible_text": self.row.responsible,
            "responsible": self.responsible,
            "unresolved": self.unresolved,
            "expected_result": self.row.expected_result,
            "tasks": len(self.tasks),
            "problems": self.problems,
            "notes": self.schedule.get("notes", []),
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
    period_source: PeriodSource = "document"
    controller: str = ""  # the controller's name in the directory, "" if not found
    controller_unresolved: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """How the document was read, where a person might read it otherwise."""
        return [f"{n.location}: {n.message}" for n in self.document.notes]

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
                "period_source": self.period_source,
                "controller": doc.controller_text,
                "controller_person": self.controller or None,
                "source": doc.source_name,
            },
            "existing_plan_id": self.existing.id if self.existing else None,
            "unchanged": self.unchanged,
            "diff": self.diff or None,
            "measures": [m.as_json() for m in self.measures],
            "problems": self.all_problems(),
            "notes": self.notes(),
        }


def school_year(day: date) -> tuple[date, date]:
    """The school year (1 September – 31 August) that contains ``day``."""
    start = day.year if day.month >= 9 else day.year - 1
    return date(start, 9, 1), date(start + 1, 8, 31)


_MONTH_STEMS = (
    "январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр",
    "ноябр", "декабр",
)  # fmt: skip
_TABLE_DATES = re.compile(
    r"(?P<a>\d{4})\s*[-–—/]\s*(?P<b>\d{4}|\d{2})(?!\d)"
    r"|(?<!\d)\d{1,2}\s*\.\s*(?P<m>\d{1,2})\s*\.\s*(?P<y>\d{4})"
    r"|(?P<word>(?:" + "|".join(_MONTH_STEMS) + r")[а-яё]*)\.?\s+(?P<y2>\d{4})",
    re.IGNORECASE,
)


def _table_school_years(rows: Sequence[SourceRow]) -> Counter[int]:
    """How often each school year (by its first year) is named in the deadline cells."""
    years: Counter[int] = Counter()
    for row in rows:
        for match in _TABLE_DATES.finditer(row.deadline):
            if match["a"]:
                first, second = int(match["a"]), int(match["b"])
                second += first // 100 * 100 if second < 100 else 0
                if second == first + 1:
                    years[first] += 1
                continue
            if match["y"]:
                month, year = int(match["m"]), int(match["y"])
            else:
                word = match["word"].lower()
                month = next(n for n, s in enumerate(_MONTH_STEMS, 1) if word.startswith(s))
                year = int(match["y2"])
            if 1 <= month <= 12 and 1900 <= year <= 2100:
                years[year if month >= 9 else year - 1] += 1
    return years


def plan_period(doc: SourceDocument, today: date) -> tuple[tuple[date, date], PeriodSource]:
    """The plan's period and where it came from (see the module doc).

    An order signed in June–August may approve the plan of the coming school year: the
    dates in the table decide, and without them the coming year is taken.
    """
    if doc.period is not None:
        return doc.period, "document"
    table = _table_school_years(doc.rows)
    if doc.order_date is not None:
        own = school_year(doc.order_date)[0].year
        candidates = [own, own + 1] if doc.order_date.month in (6, 7, 8) else [own]
        chosen = max(reversed(candidates), key=lambda year: table[year])
        return (date(chosen, 9, 1), date(chosen + 1, 8, 31)), "order_date"
    if table:
        top = max(table.values())
        chosen = min(year for year, count in table.items() if count == top)
        return (date(chosen, 9, 1), date(chosen + 1, 8, 31)), "table"
    return school_year(today), "today"


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


def _match(stored: Sequence[Measure], incoming: Sequence[tuple[str, str]]) -> dict[str, Measure]:
    """Incoming measure key → the stored measure it continues (``incoming``: key, title).

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
        for key, title in incoming:
            if key in matched:
                continue
            candidate = texts.get(by_text(key, title)) if pass_ == "text" else keys.get(key)
            if candidate is not None and candidate.id in free:
                matched[key] = free.pop(candidate.id)
    return matched


def _incoming(measures: Sequence[MeasureReview]) -> list[tuple[str, str]]:
    return [(m.key, m.row.title) for m in measures]


def _overrides(
    session: Session, plan: Plan | None, incoming: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """Incoming measure key → the deadline phrase a clerk gave its stored measure.

    The clerk's phrase (``measures measure set --schedule``) stays in force when the
    document is imported again: its schedule is the one reviewed, stored and expanded.
    """
    if plan is None:
        return {}
    stored = list(session.exec(select(Measure).where(Measure.plan_id == plan.id)))
    matched = _match(stored, incoming)
    return {key: m.deadline_override for key, m in matched.items() if m.deadline_override}


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
    period, source = plan_period(doc, today)
    if source != "document":
        problems.append(
            f"Период плана не указан в документе: принят учебный год "
            f"{period[0]:%d.%m.%Y}–{period[1]:%d.%m.%Y} ({PERIOD_SOURCES[source]})."
        )
    if not doc.rows:
        problems.append("В документе не найдено ни одного мероприятия.")
    directory = Directory.load(session)
    controller: Person | None = None
    controller_unresolved: list[str] = []
    if doc.controller_text:
        found = resolve(doc.controller_text, directory, doc.abbreviations)
        if found.persons:
            controller = found.persons[0]
        else:
            controller_unresolved = list(found.unresolved) or [doc.controller_text]
            problems.append(
                f"Контролирующее лицо «{doc.controller_text}» не найдено в справочнике."
            )
    controller_id = None if controller is None else pk(controller)
    taken: set[str] = set()
    titles = [doc.sections[r.section].title if r.section is not None else "" for r in doc.rows]
    keys = [_measure_key(t, r.number, taken) for t, r in zip(titles, doc.rows, strict=True)]
    existing, unchanged = _find_existing(session, doc, sha, period)
    overrides = _overrides(
        session, existing, [(k, r.title) for k, r in zip(keys, doc.rows, strict=True)]
    )
    measures: list[MeasureReview] = []
    for row, section, key in zip(doc.rows, titles, keys, strict=True):
        override = overrides.get(key, "")
        schedule = parse_deadline(override or row.deadline, period)
        dated = occurrences(schedule, period, calendar, events, continuous_cadence)
        own: list[str] = schedule_problems(schedule, dated)
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
                key=key,
                row=row,
                section=section,
                schedule=schedule_json(schedule, dated),
                responsible=names,
                supervisor_id=supervisor_id,
                co_responsible_ids=co,
                tasks=tasks,
                problems=own,
                spec=schedule_to_json(schedule),
                unresolved=list(who.unresolved),
                override=override,
            )
        )
    result = Review(
        doc,
        sha,
        period,
        controller_id,
        measures,
        problems,
        existing,
        unchanged,
        period_source=source,
        controller="" if controller is None else controller.name,
        controller_unresolved=controller_unresolved,
    )
    if existing is not None:
        result.diff = _diff(session, existing, measures)
    return result


def _diff(session: Session, plan: Plan, measures: Sequence[MeasureReview]) -> dict[str, list[str]]:
    stored = list(session.exec(select(Measure).where(Measure.plan_id == plan.id)))
    matched = _match(stored, _incoming(measures))
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
        elif _read_differently(old, m):
            before, after = _dues(old.schedule), _dues(m.schedule)
            diff["changed"].append(f"№ {old.number}: срок прочитан иначе ({before} → {after})")
    kept = {m.id for m in matched.values()}
    diff["removed"] = [f"№ {m.number} {m.title[:80]}" for m in stored if m.id not in kept]
    return {k: v for k, v in diff.items() if v}


def _dues(shown: dict[str, Any]) -> str:
    """The due dates a review showed, as a person reads them."""
    dues = [o.get("due", "") for o in shown.get("occurrences") or [] if isinstance(o, dict)]
    text = ", ".join(".".join(reversed(str(d).split("-"))) for d in dues[:6])
    return (text + (f" … (всего {len(dues)})" if len(dues) > 6 else "")) or "без дат"


def _core(schedule: Schedule) -> tuple[object, ...]:
    """What decides the dates: not the phrase, its problems or notes."""
    return (
        schedule.kind,
        schedule.windows,
        schedule.cadence,
        schedule.event,
        schedule.first,
        schedule.anchors,
    )


def _read_differently(stored: Measure, incoming: MeasureReview) -> bool:
    """The same phrase, read another way than when the tasks were made.

    A schedule stored by this grammar is compared as a schedule; an older one (or one
    stored before schedules were kept) by the dates it showed.
    """
    if (stored.deadline_override or stored.deadline_phrase) != (
        incoming.override or incoming.row.deadline
    ):
        return False
    if stored.schedule_version == GRAMMAR_VERSION:
        try:
            old = schedule_from_json(stored.schedule_spec)
        except StoredScheduleError:
            return True
        return _core(old) != _core(schedule_from_json(incoming.spec))
    return _dues(stored.schedule) != _dues(incoming.schedule)


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
        "schedule_spec": m.spec,
        "schedule_version": GRAMMAR_VERSION,
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
    matched = _match(stored, _incoming(result.measures))
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
