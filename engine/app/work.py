"""A person's work: their folders, a task as they may see it, acting on it with files,
asking for a new deadline and deciding on such requests.

Permissions are checked here, per object, for every door: a task is visible to whoever
holds a role on it by the workflow's own rules (engine.lifecycle.fire.roles_held: the
responsible and their deputy of the day, the supervisor and theirs, directory roles);
anybody else gets :class:`~engine.core.errors.NotFound` — the same answer as for an id
that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.app import App
from engine.core.clock import local_date
from engine.core.db import session_scope
from engine.core.errors import InputError, NotFound, TransitionRefused
from engine.core.files import write_atomically
from engine.core.models import (
    AuditEvent,
    DeadlineRequest,
    Deputy,
    EvidenceFile,
    Measure,
    Person,
    Plan,
    School,
    Section,
    Task,
    pk,
)
from engine.core.words import AUDIT_EVENTS
from engine.lifecycle import audit
from engine.lifecycle.fire import Fired
from engine.plans.redate import phrase_in_force, stored_form
from engine.plans.schedule import Schedule, parse_deadline

log = logging.getLogger(__name__)

#: Directory roles that see every task (the workflow gives them a role on each).
WIDE_ROLES = frozenset({"supervisor", "head", "admin"})


# -- what a person may see ---------------------------------------------------------------


def principals(session: Session, person: Person, day: date) -> list[int]:
    """The person and everybody they stand in for on ``day``."""
    ids = [pk(person)]
    ids.extend(
        session.exec(
            select(Deputy.person_id).where(
                Deputy.deputy_id == pk(person), col(Deputy.starts) <= day, col(Deputy.ends) >= day
            )
        )
    )
    return ids


def roles_on(app: App, session: Session, person: Person, task: Task) -> set[str]:
    return set(app.lifecycle.roles_held(session, person, task))


def visible_task(app: App, session: Session, person: Person, task_id: int) -> Task:
    """The task, if this person holds any role on it; NotFound otherwise."""
    task = session.get(Task, task_id)
    if task is None or not roles_on(app, session, person, task):
        raise NotFound("task", task_id)
    return task


@dataclass(frozen=True)
class TaskLine:
    """One task in a folder or a dashboard list."""

    id: int
    version: int
    plan_id: int
    plan_title: str
    measure_number: str
    title: str
    target: str
    responsible: str
    due: date | None
    state: str
    state_label: str
    overdue: bool
    report: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "version": self.version,
            "plan_id": self.plan_id,
            "plan_title": self.plan_title,
            "measure_number": self.measure_number,
            "title": self.title,
            "target": self.target,
            "responsible": self.responsible,
            "due_date": self.due.isoformat() if self.due else None,
            "state": self.state,
            "state_label": self.state_label,
            "overdue": self.overdue,
        }


def task_lines(app: App, session: Session, query: Any, today: date) -> list[TaskLine]:
    """The rows of :func:`task_query` as lines for a page."""
    workflow = app.workflow
    owing = workflow.owing
    found = []
    for row in session.execute(query):
        due, state = row.due_date, row.state
        found.append(
            TaskLine(
                id=row.id,
                version=row.version,
                plan_id=row.plan_id,
                plan_title=row.plan_title,
                measure_number=row.measure_number,
                title=row.title,
                target=row.school_short or row.school_name or "",
                responsible=row.responsible if row.responsible is not None else "не назначен",
                due=due,
                state=state,
                state_label=workflow.label(state),
                overdue=bool(due and due < today and state in owing),
                report=row.report,
            )
        )
    return found


def task_query() -> Any:
    """The columns a task line shows, not five whole entities per row: a page of 50
    reports loaded 250 ORM objects and decoded 450 JSON columns it never showed, two
    thirds of На контроле's time (bench/RESULTS.md, issue 10)."""
    import sqlalchemy as sa

    responsible = aliased(Person)
    return (
        sa.select(
            col(Task.id),
            col(Task.version),
            col(Task.due_date),
            col(Task.state),
            col(Task.report),
            col(Plan.id).label("plan_id"),
            col(Plan.title).label("plan_title"),
            col(Measure.number).label("measure_number"),
            col(Measure.title).label("title"),
            col(School.short_name).label("school_short"),
            col(School.name).label("school_name"),
            col(responsible.name).label("responsible"),
        )
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .outerjoin(responsible, col(responsible.id) == Task.responsible_id)
        .outerjoin(School, col(School.id) == Task.school_id)
        .where(col(Task.detached_at).is_(None))
    )


def awaiting_states(app: App) -> list[str]:
    """States where a decision on a report is pending (meaning awaiting_decision)."""
    return list(app.workflow.awaiting)


@dataclass
class Folder:
    """На исполнение: a responsible person's open tasks by urgency."""

    overdue: list[TaskLine] = field(default_factory=list)
    soon: list[TaskLine] = field(default_factory=list)
    later: list[TaskLine] = field(default_factory=list)
    waiting: list[TaskLine] = field(default_factory=list)  # reported, awaiting a decision
    requests: list[RequestLine] = field(default_factory=list)


SOON_DAYS = 14
LIST_LIMIT = 500  # a folder shows this many per group; the dashboard has the rest
#: Reports shown at once in На контроле, oldest first: a supervisor decides on a page of
#: them and the next ones move up (the page must stay fast with thousands waiting).
CONTROL_PAGE = 50


def my_tasks(app: App, person: Person) -> Folder:
    today = local_date(app.clock, app.config.timezone)
    with app.reading() as session:
        whom = principals(session, person, today)
        owing = list(app.workflow.owing)
        waiting = awaiting_states(app)
        query = (
            task_query()
            .where(col(Task.responsible_id).in_(whom), col(Task.state).in_(owing + waiting))
            .order_by(col(Task.due_date).asc().nulls_last(), col(Task.id))
            .limit(LIST_LIMIT * 4)
        )
        folder = Folder()
        for line in task_lines(app, session, query, today):
            if line.state in waiting:
                folder.waiting.append(line)
            elif line.overdue:
                folder.overdue.append(line)
            elif line.due is not None and line.due <= today + timedelta(days=SOON_DAYS):
                folder.soon.append(line)
            else:
                folder.later.append(line)
        folder.requests = _requests(
            app, session, col(DeadlineRequest.requested_by).in_(whom), today
        )
        return folder


@dataclass
class ControlQueue:
    """На контроле: reports waiting for this supervisor, and deadline requests."""

    reports: list[TaskLine]
    requests: list[RequestLine]
    total: int


def control_queue(app: App, person: Person) -> ControlQueue:
    today = local_date(app.clock, app.config.timezone)
    with app.reading() as session:
        whom = principals(session, person, today)
        # Directory supervisors and admins hold the supervisor role on every task.
        wide = bool({"supervisor", "admin"} & set(person.roles))
        scope = None if wide else col(Task.supervisor_id).in_(whom)
        query = task_query().where(col(Task.state).in_(awaiting_states(app)))
        count = (
            select(func.count())
            .select_from(Task)
            .where(col(Task.state).in_(awaiting_states(app)), col(Task.detached_at).is_(None))
        )
        if scope is not None:
            query = query.where(scope)
            count = count.where(scope)
        query = query.order_by(col(Task.state_since), col(Task.id)).limit(CONTROL_PAGE)
        reports = task_lines(app, session, query, today)
        total = int(session.exec(count).one())
        pending = col(DeadlineRequest.status) == "pending"
        request_scope = pending if wide else pending & col(Task.supervisor_id).in_(whom)
        return ControlQueue(reports, _requests(app, session, request_scope, today), total)


# -- one task ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    seq: int
    at: object
    event: str
    label: str
    from_label: str
    to_label: str
    actor: str
    on_behalf_of: str
    comment: str
    evidence: list[tuple[str, str]]  # (sha256, file name); sha256 "" for a plain reference
    intact: bool  # its HMAC matches and it links to the row before it

    def as_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat() if hasattr(self.at, "isoformat") else str(self.at),
            "event": self.event,
            "label": self.label,
            "from": self.from_label,
            "to": self.to_label,
            "actor": self.actor,
            "on_behalf_of": self.on_behalf_of or None,
            "comment": self.comment,
            "evidence": [{"sha256": s or None, "name": n} for s, n in self.evidence],
            "intact": self.intact,
        }


def parse_evidence(item: str) -> tuple[str, str]:
    """``sha256:<hex> name`` → (hex, name); anything else is a plain reference."""
    head, _, name = item.partition(" ")
    if head.startswith("sha256:") and len(head) == 71:
        return head[7:], name
    return "", item


def history_lines(app: App, session: Session, rows: Sequence[AuditEvent]) -> list[HistoryLine]:
    """Audit rows for a page, each checked on its own: its keyed hash and its link to the
    previous row of the chain (one lookup per row, not a walk of the whole chain).

    Each row is worded by the workflow of what it is about: a task, a school case or an
    administrative measure."""
    previous_seqs = [r.seq - 1 for r in rows if r.seq > 1]
    previous = dict(
        session.exec(
            select(AuditEvent.seq, AuditEvent.hash).where(col(AuditEvent.seq).in_(previous_seqs))
        ).all()
    )
    people = {
        p.id: p
        for p in session.exec(
            select(Person).where(
                col(Person.id).in_(
                    {r.actor_id for r in rows}
                    | {r.on_behalf_of_id for r in rows if r.on_behalf_of_id}
                )
            )
        )
    }
    lines = []
    for row in rows:
        expected_prev = audit.GENESIS if row.seq == 1 else previous.get(row.seq - 1)
        intact = (
            expected_prev == row.prev_hash
            and audit.compute_hash(row.prev_hash, row, app.audit_key) == row.hash
        )
        workflow = (
            app.case_workflow
            if row.case_id is not None
            else app.admin_workflow
            if row.admin_id is not None
            else app.workflow
        )
        event = workflow.events.get(row.event)
        actor = people.get(row.actor_id)
        behalf = people.get(row.on_behalf_of_id) if row.on_behalf_of_id else None
        lines.append(
            HistoryLine(
                seq=row.seq,
                at=row.at.astimezone(app.config.timezone),
                event=row.event,
                label=event.label if event else AUDIT_EVENTS.get(row.event, row.event),
                from_label=workflow.label(row.from_state),
                to_label=workflow.label(row.to_state),
                actor=actor.name if actor else str(row.actor_id),
                on_behalf_of=behalf.name if behalf else "",
                comment=row.comment,
                evidence=[parse_evidence(e) for e in row.evidence],
                intact=intact,
            )
        )
    return lines


@dataclass(frozen=True)
class TaskView:
    task: Task
    measure: Measure
    plan: Plan
    section: str
    school: School | None
    responsible: Person | None
    supervisor: Person | None
    schedule: Schedule | None
    state_label: str
    overdue: bool
    actions: list[tuple[str, str, bool]]  # (event, label, needs a comment) this person may try
    roles: set[str]
    history: list[HistoryLine]
    requests: list[RequestLine]
    may_request_deadline: bool


def task_view(app: App, person: Person, task_id: int) -> TaskView:
    today = local_date(app.clock, app.config.timezone)
    with app.reading() as session:
        task = visible_task(app, session, person, task_id)
        roles = roles_on(app, session, person, task)
        measure = session.get(Measure, task.measure_id)
        assert measure is not None
        plan = session.get(Plan, measure.plan_id)
        assert plan is not None
        section = session.get(Section, measure.section_id) if measure.section_id else None
        workflow = app.workflow
        actions = [
            (name, workflow.events[name].label, "comment" in workflow.events[name].requires)
            for name in workflow.allowed_from(task.state)
            if roles & set(workflow.events[name].roles)
        ]
        rows = list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.task_id == task_id)
                .order_by(col(AuditEvent.seq))
            )
        )
        schedule = stored_form(measure)  # as the tasks were made; a clerk's phrase wins
        if schedule is None and phrase_in_force(measure):  # stored before schedules were kept
            schedule = parse_deadline(
                phrase_in_force(measure), (plan.period_start, plan.period_end)
            )
        return TaskView(
            task=task,
            measure=measure,
            plan=plan,
            section=section.title if section else "",
            school=session.get(School, task.school_id) if task.school_id else None,
            responsible=session.get(Person, task.responsible_id) if task.responsible_id else None,
            supervisor=session.get(Person, task.supervisor_id) if task.supervisor_id else None,
            schedule=schedule,
            state_label=workflow.label(task.state),
            overdue=bool(task.due_date and task.due_date < today and task.state in workflow.owing),
            actions=actions,
            roles=roles,
            history=history_lines(app, session, rows),
            requests=_requests(app, session, col(DeadlineRequest.task_id) == task_id, today),
            may_request_deadline="responsible" in roles and task.state in workflow.owing,
        )


# -- acting, with evidence ---------------------------------------------------------------

#: What evidence may be: extension → (content type, how the file must begin).
EVIDENCE_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


@dataclass(frozen=True)
class Upload:
    """A file as the door received it (the name as the person's computer called it)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    filename: str
    content_type: str
    size: int

    @property
    def reference(self) -> str:
        """How the audit row names it: the hash is inside the audit chain."""
        return f"sha256:{self.sha256} {self.filename}"


def _clean_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*')
    return base.strip()[:200] or "file"


def check_upload(app: App, upload: Upload) -> StoredFile:
    """Refuse a file of the wrong kind or size, naming it and what is accepted."""
    name = _clean_name(upload.filename)
    limit = app.config.settings.web.upload_max_mb * 1024 * 1024
    kinds = ", ".join(sorted({k.lstrip(".").upper() for k in EVIDENCE_TYPES}))
    suffix = Path(name).suffix.lower()
    if suffix not in EVIDENCE_TYPES:
        raise InputError(f"Файл «{name}»: такой тип не принимается. Допустимые: {kinds}.")
    if len(upload.data) > limit:
        raise InputError(
            f"Файл «{name}» больше {app.config.settings.web.upload_max_mb} МБ: уменьшите его "
            "или разделите на части."
        )
    if not upload.data:
        raise InputError(f"Файл «{name}» пуст.")
    content_type, magics = EVIDENCE_TYPES[suffix]
    if not upload.data.startswith(magics):
        raise InputError(
            f"Файл «{name}»: содержимое не соответствует расширению {suffix} — возможно, "
            "файл повреждён или переименован."
        )
    digest = hashlib.sha256(upload.data).hexdigest()
    return StoredFile(digest, name, content_type, len(upload.data))


def evidence_path(app: App, sha256: str) -> Path:
    return app.config.data_dir / "evidence" / sha256[:2] / sha256


def store_upload(app: App, upload: Upload, checked: StoredFile) -> None:
    """Write the bytes under their hash (atomically; the same content is stored once)."""
    target = evidence_path(app, checked.sha256)
    if target.exists():
        return
    write_atomically(target, upload.data)


def act(
    app: App,
    person: Person,
    task_id: int,
    event: str,
    *,
    comment: str = "",
    uploads: Sequence[Upload] = (),
    version: int | None = None,
    also: Sequence[object] = (),
) -> Fired:
    """Fire an event as this person, with evidence files; refused with the reason.

    Files are checked before anything is stored, stored by content hash, and named in
    the audit row with their SHA-256, so the chain covers what was attached.
    """
    with session_scope(app.ready_engine()) as session:
        visible_task(app, session, person, task_id)
    checked = [check_upload(app, u) for u in uploads]
    for upload, stored in zip(uploads, checked, strict=True):
        store_upload(app, upload, stored)
    now = app.clock.now()
    with session_scope(app.ready_engine()) as session:
        known = set(
            session.exec(
                select(EvidenceFile.sha256).where(
                    col(EvidenceFile.sha256).in_([c.sha256 for c in checked])
                )
            )
        )
    rows: list[object] = list(also)
    for stored in {c.sha256: c for c in checked if c.sha256 not in known}.values():
        rows.append(
            EvidenceFile(
                sha256=stored.sha256,
                filename=stored.filename,
                content_type=stored.content_type,
                size=stored.size,
                uploaded_by=pk(person),
                uploaded_at=now,
            )
        )
    return app.lifecycle.fire(
        app.ready_engine(),
        task_id,
        event,
        person.key,
        comment=comment,
        evidence=[c.reference for c in checked],
        expected_version=version,
        also=rows,  # type: ignore[arg-type]
    )


def evidence_file(app: App, person: Person, task_id: int, sha256: str) -> tuple[Path, StoredFile]:
    """A file attached to a task this person sees; NotFound for anything else."""
    with app.reading() as session:
        visible_task(app, session, person, task_id)
        named = [
            parse_evidence(item)
            for (evidence,) in session.execute(
                select(AuditEvent.evidence).where(AuditEvent.task_id == task_id)
            )
            for item in evidence
        ]
        names = [name for digest, name in named if digest == sha256]
        row = session.get(EvidenceFile, sha256)
        if not names or row is None:
            raise NotFound("file", sha256)
    path = evidence_path(app, sha256)
    if not path.exists():
        raise NotFound("file", sha256)
    return path, StoredFile(sha256, names[-1], row.content_type, row.size)


# -- deadline requests -------------------------------------------------------------------


@dataclass(frozen=True)
class RequestLine:
    id: int
    task_id: int
    measure_number: str
    title: str
    requested_by: str
    old_due: date | None
    new_due: date
    reason: str
    status: str
    decision_comment: str

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "requested_by": self.requested_by,
            "old_due": self.old_due.isoformat() if self.old_due else None,
            "new_due": self.new_due.isoformat(),
            "reason": self.reason,
            "status": self.status,
            "decision_comment": self.decision_comment,
        }


def _requests(app: App, session: Session, where: object, today: date) -> list[RequestLine]:
    query = (
        select(DeadlineRequest, Task, Measure, Person)
        .join(Task, col(Task.id) == DeadlineRequest.task_id)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Person, col(Person.id) == DeadlineRequest.requested_by)
        .where(where)  # type: ignore[arg-type]
        .order_by(col(DeadlineRequest.id).desc())
        .limit(LIST_LIMIT)
    )
    return [
        RequestLine(
            id=pk(request),
            task_id=pk(task),
            measure_number=measure.number,
            title=measure.title,
            requested_by=who.name,
            old_due=request.old_due,
            new_due=request.new_due,
            reason=request.reason,
            status=request.status,
            decision_comment=request.decision_comment,
        )
        for request, task, measure, who in session.exec(query)
    ]


def _date_text(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "без срока"


def _audit_deadline(
    app: App, session: Session, task: Task, person: Person, event: str, comment: str
) -> None:
    audit.append(
        session,
        AuditEvent(
            task_id=pk(task),
            event=event,
            from_state=task.state,
            to_state=task.state,
            actor_id=pk(person),
            on_behalf_of_id=None,
            at=app.clock.now(),
            comment=comment,
            seq=0,
            prev_hash="",
            hash="",
        ),
        app.audit_key,
    )


def request_deadline(
    app: App, person: Person, task_id: int, new_due: date, reason: str
) -> DeadlineRequest:
    """The responsible (or their deputy) asks to move the due date, with a reason."""
    reason = reason.strip()
    with session_scope(app.ready_engine()) as session:
        task = visible_task(app, session, person, task_id)
        if "responsible" not in roles_on(app, session, person, task):
            raise TransitionRefused(
                "Перенос срока запрашивает ответственный исполнитель (или его заместитель)."
            )
        if task.state not in app.workflow.owing:
            raise TransitionRefused(
                f"Задача в состоянии «{app.workflow.label(task.state)}»: перенос срока "
                "запрашивают только по задачам в работе."
            )
        if not reason:
            raise TransitionRefused("Укажите причину переноса срока.")
        today = local_date(app.clock, app.config.timezone)
        if new_due <= today or new_due.year > today.year + 5:
            raise TransitionRefused(
                "Новый срок должен быть позже сегодняшнего дня и не дальше пяти лет."
            )
        if task.due_date is not None and new_due == task.due_date:
            raise TransitionRefused("Новый срок совпадает с действующим.")
        pending = session.exec(
            select(DeadlineRequest).where(
                DeadlineRequest.task_id == task_id, DeadlineRequest.status == "pending"
            )
        ).first()
        if pending is not None:
            raise TransitionRefused(
                f"По задаче уже есть нерассмотренный запрос на перенос срока (на "
                f"{_date_text(pending.new_due)})."
            )
        request = DeadlineRequest(
            task_id=task_id,
            requested_by=pk(person),
            old_due=task.due_date,
            new_due=new_due,
            reason=reason,
            created_at=app.clock.now(),
        )
        session.add(request)
        _audit_deadline(
            app,
            session,
            task,
            person,
            "deadline_request",
            f"Прошу перенести срок с {_date_text(task.due_date)} на {_date_text(new_due)}: "
            f"{reason}",
        )
        session.commit()
    log.info("task %s: %s asks to move the due date to %s", task_id, person.key, new_due)
    return request


def decide_deadline(
    app: App, person: Person, request_id: int, grant: bool, comment: str = ""
) -> DeadlineRequest:
    """The supervisor grants (the due date moves; the ladder re-plans) or refuses.

    Refusing needs a reason. The requester may not decide their own request (four eyes).
    The task's version moves with the date, so links in earlier letters stop working.
    """
    comment = comment.strip()
    with session_scope(app.ready_engine()) as session:
        request = session.get(DeadlineRequest, request_id)
        if request is None:
            raise NotFound("deadline request", request_id)
        task = visible_task(app, session, person, request.task_id)
        roles = roles_on(app, session, person, task)
        if not roles & {"supervisor", "admin"}:
            raise NotFound("deadline request", request_id)
        if request.status != "pending":
            raise TransitionRefused("Этот запрос на перенос срока уже рассмотрен.")
        if pk(person) == request.requested_by:
            raise TransitionRefused("Нельзя решать по собственному запросу на перенос срока.")
        if not grant and not comment:
            raise TransitionRefused("Укажите причину отказа в переносе срока.")
        now = app.clock.now()
        request.status = "granted" if grant else "refused"
        request.decided_by = pk(person)
        request.decided_at = now
        request.decision_comment = comment
        if grant:
            task.due_date = request.new_due
            task.updated_at = now
            session.add(task)
            session.flush()  # the task's row lock before the audit chain's (as in fire)
            text = (
                f"Срок перенесён с {_date_text(request.old_due)} на {_date_text(request.new_due)}"
            )
        else:
            text = f"Отказано в переносе срока на {_date_text(request.new_due)}"
        session.add(request)
        _audit_deadline(
            app,
            session,
            task,
            person,
            "deadline_grant" if grant else "deadline_refuse",
            text + (f": {comment}" if comment else ""),
        )
        session.commit()
    log.info(
        "task %s: deadline request %s %s by %s",
        request.task_id,
        request_id,
        request.status,
        person.key,
    )
    return request


def person_by_id(engine: Engine, person_id: int) -> Person | None:
    with session_scope(engine) as session:
        return session.get(Person, person_id)
