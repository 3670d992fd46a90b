"""Database tables.

Every timestamp is stored timezone-aware in UTC; dates (due dates, deputy periods) are
calendar dates in the committee's time zone. The schema is owned by Alembic
(``engine/migrations``): a change here needs a new revision, which a test checks.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import JSON, CheckConstraint, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

_Row = TypeVar("_Row", bound=SQLModel)


def pk(row: SQLModel) -> int:
    """The primary key of a flushed row; None there is a programming error."""
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush it first")
    return value


def upsert_by_key(
    session: Session, model: type[_Row], fields: dict[str, Any]
) -> tuple[_Row, bool | None]:
    """Insert or update the row whose ``key`` is ``fields["key"]``; flushed, with its id.

    Directory files are re-imported as a whole; rows are matched by their human key.
    Returns the row and True (created), False (changed) or None (already so): a file
    imported again reports no changes.
    """
    key_column = cast(Any, model).key  # every model passed here has a unique ``key``
    row = session.exec(select(model).where(key_column == fields["key"])).first()
    if row is None:
        row = model.model_validate(fields)
        status: bool | None = True
    else:
        status = None
        for name, value in fields.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                status = False
    session.add(row)
    session.flush()
    return row, status


class Person(SQLModel, table=True):
    """Somebody in the committee's directory: responsible, supervisor, head, admin."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=64)  # short login, e.g. "ivanova"
    name: str = Field(max_length=200)
    position: str = Field(default="", max_length=300)
    organisation: str = Field(default="", max_length=300)
    email: str = Field(default="", max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True


class Deputy(SQLModel, table=True):
    """``deputy`` acts for ``person`` from ``starts`` to ``ends`` inclusive (leave, illness)."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    deputy_id: int = Field(foreign_key="person.id")
    starts: date
    ends: date


class School(SQLModel, table=True):
    """A general-education organisation (ОО) that measures may fan out to."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=400)
    short_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)
    head_id: int | None = Field(default=None, foreign_key="person.id")
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RiskFlag(SQLModel, table=True):
    """A school is on a list: non-objective results or low results (ШНОР), for a year.

    Plan sections about such schools fan out to the flagged schools only. Flags written
    by ``measures risks import`` carry the list's ``source`` (and the federal markers);
    those from the schools directory have an empty source and are replaced by it.
    """

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    kind: str = Field(max_length=40)  # "non_objective" | "low_results"
    year: int | None = None  # school year start (2021 = 2021-2022); None: current lists
    subject: str = Field(default="", max_length=100)
    grade: str = Field(default="", max_length=20)
    source: str = Field(default="", max_length=300)  # the list it came from; "": directory
    marker: str = Field(default="", max_length=40)  # as the federal list writes it: «5 МА»


class AssessmentEvent(SQLModel, table=True):
    """A dated assessment (ВПР, НИКО, ГИА, ...) that event-bound deadlines refer to."""

    __table_args__ = (UniqueConstraint("kind", "name", "subject", "grade", "date"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=40, index=True)
    subject: str = Field(default="", max_length=100)
    grade: str = Field(default="", max_length=20)
    date: date


class Plan(SQLModel, table=True):
    """An approved action plan (план мероприятий, дорожная карта)."""

    id: int | None = Field(default=None, primary_key=True)
    title: str
    issuer: str = ""
    order_number: str = Field(default="", max_length=100)
    order_date: date | None = None
    period_start: date
    period_end: date
    controller_id: int | None = Field(default=None, foreign_key="person.id")
    controller_text: str = ""
    ladder: str = Field(default="default", max_length=64)  # workflows/escalation.toml
    abbreviations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    source_name: str = Field(default="", max_length=400)
    source_sha256: str = Field(default="", max_length=64, index=True)
    created_at: datetime
    # Set when the plan is archived (`measures plan archive`): its tasks are detached and
    # it leaves the lists of open work, its history stays.
    archived_at: datetime | None = None


class Section(SQLModel, table=True):
    """A group of measures inside a plan (раздел, задача)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="section.id")
    position: int
    title: str


class Measure(SQLModel, table=True):
    """One line item of a plan, as written in the document."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    section_id: int | None = Field(default=None, foreign_key="section.id")
    position: int
    key: str = Field(default="", max_length=200)  # section path + number: stable across edits
    number: str = Field(max_length=40)
    title: str
    deadline_phrase: str = ""
    responsible_text: str = ""
    expected_result: str = ""
    decisions: str = ""
    control_text: str = ""
    source_location: str = Field(default="", max_length=100)
    # What the review showed (kind, dates, problems); re-written whenever tasks are.
    schedule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The parsed schedule itself (engine.plans.schedule.schedule_to_json) and the grammar
    # version that read it: tasks are expanded again from this, never from a re-parse.
    # Version 0: stored before the schedule itself was kept (only ``schedule``).
    schedule_spec: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    schedule_version: int = 0
    co_responsible_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    problems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    supervisor_id: int | None = Field(default=None, foreign_key="person.id")
    ladder: str | None = Field(default=None, max_length=64)  # overrides the plan's ladder
    # A deadline phrase a clerk gave instead of the document's (`measures measure set
    # --schedule`); the document's own phrase stays in ``deadline_phrase``.
    deadline_override: str = ""


class Task(SQLModel, table=True):
    """One occurrence of a measure for one target: this row carries the state machine.

    ``occurrence_key`` says what the occurrence is — the written date or window, the
    calendar unit, the assessment day (engine.plans.schedule.occurrence_key) — so an
    edited plan or calendar moves a task only when its own anchor moved; ``occurrence``
    is just its position among the measure's occurrences, for display.
    ``version`` is SQLAlchemy's optimistic lock: an UPDATE that finds another version
    changes nothing and raises, so of two concurrent actors exactly one wins.
    """

    __table_args__ = (
        UniqueConstraint("measure_id", "occurrence_key", "school_id", name="uq_task_occurrence"),
        # На контроле: the oldest reports waiting for one supervisor, and how many, read
        # from the index in its order (without it: every report sorted, 3.4 ms of a page
        # with 3,500 waiting). The second serves supervisors who see every task.
        Index(
            "ix_task_awaiting",
            "state",
            "supervisor_id",
            "state_since",
            "id",
            "detached_at",
        ),
        Index("ix_task_state_since", "state", "state_since", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    occurrence: int = 1
    occurrence_key: str = Field(default="-", max_length=120)
    school_id: int | None = Field(default=None, foreign_key="school.id")
    responsible_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    supervisor_id: int | None = Field(default=None, foreign_key="person.id")
    start_date: date | None = None
    due_date: date | None = Field(default=None, index=True)
    state: str = Field(max_length=40, index=True)  # the workflow's initial state on creation
    state_since: datetime | None = None  # when the task entered its state (ladder anchor)
    # Set when an edited document (or calendar) no longer has this task but it has a
    # history to keep: it is then left out of sweeps, digests and lists of open work.
    detached_at: datetime | None = None
    # When the next ladder step falls due (engine.escalation.nextstep keeps it current in
    # the transaction of every change that moves it); None: nothing is planned. The sweep
    # reads only the tasks whose moment has come.
    next_step_at: datetime | None = Field(default=None, index=True)
    report: str = ""
    # Fields a clerk set by hand ("dates", "responsible", "supervisor"): a re-import or a
    # re-dating keeps them as they are.
    set_by_hand: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime
    updated_at: datetime

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version.sa_column}  # type: ignore[attr-defined]


class AuditEvent(SQLModel, table=True):
    """One transition or clerk's change, append-only and hash-chained (engine.lifecycle.audit).

    ``actor_id`` is who acted; ``on_behalf_of_id`` the person they stood in for as a
    deputy (None when acting for themselves). A transition names exactly one subject: a
    task, a school case or an administrative measure (one chain for every decision). A
    change made by a clerk (dates, responsible, a withdrawn plan) names what it changed —
    a task, or a measure with its plan, or a plan — and lists ``changes`` as field →
    [before, after]. The check: at most one workflow subject, and something named.
    """

    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN task_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN case_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN admin_id IS NULL THEN 0 ELSE 1 END) <= 1"
            " AND COALESCE(task_id, case_id, admin_id, measure_id, plan_id) IS NOT NULL",
            name="auditevent_one_subject",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    # Plain ids, not foreign keys: the audit outlives what it speaks of (a withdrawn plan).
    measure_id: int | None = Field(default=None, index=True)
    plan_id: int | None = Field(default=None, index=True)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    case_id: int | None = Field(default=None, foreign_key="schoolcase.id", index=True)
    admin_id: int | None = Field(default=None, foreign_key="administrativemeasure.id", index=True)
    event: str = Field(max_length=40)
    from_state: str = Field(max_length=40)
    to_state: str = Field(max_length=40)
    actor_id: int = Field(foreign_key="person.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="person.id")
    at: datetime
    comment: str = ""
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The newest link of the audit chain; one row, locked by every append.

    Locking this row serialises appends on PostgreSQL (SQLite's immediate transaction
    already does), and comparing it with the last row detects deleted newest rows.
    """

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)
    # How the links are computed: "hmac-sha256" (keyed with the instance secret), or
    # "sha256" for a chain written before keying, until `measures init` re-keys it.
    scheme: str = Field(default="hmac-sha256", max_length=20)


class EscalationStep(SQLModel, table=True):
    """A ladder step taken for a task: recorded once, before anything is sent.

    ``key`` is ``step@anchor#n`` (engine.escalation.timeline): the unique (task, key) pair is what
    makes a step happen exactly once, however many sweeps or daemons see it due.
    """

    __table_args__ = (UniqueConstraint("task_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    step: str = Field(max_length=64)
    key: str = Field(max_length=200)
    fire_at: datetime
    taken_at: datetime
    skipped: bool = False  # a pre-due reminder found only after the due date passed
    note: str = ""


class OutboxMessage(SQLModel, table=True):
    """One email to one person, rendered and stored in the transaction that decided it.

    ``dedupe_key`` (e.g. ``step:12:7``: step 12 for person 7) is unique: a message is
    enqueued once. Delivery claims rows with a lease, so a crash mid-send leads to a
    resend with the same Message-ID, never to a lost message.
    """

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=64)  # template name
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="escalationstep.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="person.id")
    recipient_email: str = Field(max_length=200)
    recipient_name: str = Field(max_length=200)
    subject: str
    body_text: str
    body_html: str
    message_id: str = Field(max_length=250)
    created_at: datetime = Field(index=True)  # retention deletes by it
    not_before: datetime = Field(index=True)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    lease_until: datetime | None = None
    last_error: str = ""
    sent_at: datetime | None = None
    ics: str = ""  # an iCalendar attachment (the deadline), rendered with the letter
    # The letter speaks of one working day ("сегодня", "через 1 рабочий день"): past this
    # moment its text is out of date and the sender re-renders or drops it (``note``).
    valid_until: datetime | None = None
    note: str = ""


class DatabaseFlag(SQLModel, table=True):
    """A fact about the database itself: ``simulation`` (``measures init --simulation``
    lets commands run at a moved clock), ``calendar`` (the fingerprint of the working-day
    calendar the stored due dates were computed with), ``schedule`` (that of the ladders,
    hours and calendar the stored ``Task.next_step_at`` were computed with)."""

    name: str = Field(primary_key=True, max_length=64)
    value: str = ""
    set_at: datetime


class DaemonProcess(SQLModel, table=True):
    """One ``measures run`` process, registered at start for ``measures status``."""

    id: int | None = Field(default=None, primary_key=True)
    host: str = Field(max_length=200)
    pid: int
    started_at: datetime
    seen_at: datetime  # the last job it ran: a daemon not seen for long is gone
    stopped_at: datetime | None = None
    state: str = Field(default="starting", max_length=20)


class DaemonState(SQLModel, table=True):
    """What the daemon last did, for ``measures status`` (one row per name)."""

    name: str = Field(primary_key=True, max_length=64)
    value: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class LinkUse(SQLModel, table=True):
    """A one-time link (sign-in, or an action from a letter) that has been used.

    Signed links are replayable by design; the unique nonce recorded here, in the same
    transaction as what the link did, makes each such link work once.
    """

    nonce: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=20)  # "signin" | an event name
    task_id: int | None = Field(default=None, foreign_key="task.id")
    person_id: int = Field(foreign_key="person.id")
    used_at: datetime


class EvidenceFile(SQLModel, table=True):
    """An uploaded evidence file, stored once by content under ``data_dir/evidence``.

    Audit rows name files as ``sha256:<hex> <file name>``, so the chain covers what
    was attached; this row only remembers how to serve the bytes back.
    """

    sha256: str = Field(primary_key=True, max_length=64)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    uploaded_by: int = Field(foreign_key="person.id")
    uploaded_at: datetime


class DeadlineRequest(SQLModel, table=True):
    """A responsible person asks to move a task's due date; the supervisor decides.

    ``status``: pending → granted | refused. A granted request moves the task's due date
    (the ladder's future steps are planned anew from it); the row keeps the old date.
    """

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    requested_by: int = Field(foreign_key="person.id")
    old_due: date | None = None
    new_due: date
    reason: str
    created_at: datetime
    status: str = Field(default="pending", max_length=20, index=True)
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = None
    decision_comment: str = ""


class DataImport(SQLModel, table=True):
    """One results file or risk list taken in: what, for which years, how many rows.

    The file's SHA-256 recognises a re-import; ``years`` tells the case check that a
    new round's data (results or a list) has arrived.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # "results" | "risks"
    source_name: str = Field(max_length=400)
    sha256: str = Field(max_length=64, index=True)
    encoding: str = Field(default="", max_length=20)
    years: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rows: int = 0
    added: int = 0
    updated: int = 0
    at: datetime


class AssessmentResult(SQLModel, table=True):
    """One school's results in one subject and grade of one assessment round.

    Shares are percent of participants, as the regional export gives them; the
    comparison with the school's own marks (lowered / confirmed / raised) is optional.
    """

    __table_args__ = (UniqueConstraint("year", "procedure", "grade", "subject", "school_id"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    procedure: str = Field(default="ВПР", max_length=20)  # ВПР, ОГЭ, ЕГЭ
    grade: str = Field(max_length=20)
    subject: str = Field(max_length=100)  # normalised: lower case, ё as е
    school_id: int = Field(foreign_key="school.id", index=True)
    municipality: str = Field(default="", max_length=200)
    participants: int
    share_2: float
    share_3: float
    share_4: float
    share_5: float
    lowered: float | None = None
    confirmed: float | None = None
    raised: float | None = None
    in_depth: bool = False  # the school teaches the subject in depth (профильный класс)
    import_id: int = Field(foreign_key="dataimport.id")


class SchoolCase(SQLModel, table=True):
    """A school on a risk list, one per school and risk kind while it is open.

    Carries the workflows/school_case.toml lifecycle. ``year`` is the list's year (the
    round whose results put the school on it); its help programme is a plan whose tasks
    for this school are the help (``help_plan_id``). ``curator_id`` and
    ``supervisor_id`` hold the roles ``responsible`` and ``supervisor`` for the case.
    """

    __table_args__ = (UniqueConstraint("school_id", "kind", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    kind: str = Field(max_length=40)
    year: int
    state: str = Field(max_length=40, index=True)
    state_since: datetime
    help_plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    curator_id: int | None = Field(default=None, foreign_key="person.id")
    supervisor_id: int | None = Field(default=None, foreign_key="person.id")
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime
    updated_at: datetime

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version.sa_column}  # type: ignore[attr-defined]


class CaseEvaluation(SQLModel, table=True):
    """The positive-shift rules applied to a case: verdict, deciding rules, numbers.

    ``details`` holds one entry per flagged subject and grade: the rule that decided,
    the numbers before and after, and the Russian sentence shown to people.
    ``data_stamp`` is the newest data import seen, so the same data is judged once.
    """

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="schoolcase.id", index=True)
    at: datetime
    year_before: int
    year_after: int
    verdict: str = Field(max_length=20)  # shift | no_shift | insufficient | no_data
    summary: str = ""
    details: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    data_stamp: int = 0


class AdministrativeMeasure(SQLModel, table=True):
    """A request for a measure of administrative influence on a school (inspection, ...).

    Opened only through the gate (engine.cases.gate) or by an admin's override with a
    written reason (``override``); it carries workflows/administrative.toml (a
    supervisor approves, four eyes) and, once approved, becomes ``task_id``: a task
    with the ordinary lifecycle and ladder.
    """

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="schoolcase.id", index=True)
    kind: str = Field(max_length=64)
    state: str = Field(max_length=40, index=True)
    state_since: datetime
    requested_by_id: int = Field(foreign_key="person.id")
    responsible_id: int | None = Field(default=None, foreign_key="person.id")
    supervisor_id: int | None = Field(default=None, foreign_key="person.id")
    reason: str = ""
    override: bool = False  # opened against the gate by an admin, with ``reason``
    task_id: int | None = Field(default=None, foreign_key="task.id")
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime
    updated_at: datetime

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version.sa_column}  # type: ignore[attr-defined]
