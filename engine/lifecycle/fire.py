"""Firing events on rows with a state: roles, requirements, four eyes, state change, audit.

One :class:`Lifecycle` per workflow definition; a :class:`Subject` says which row type
it moves (a task, a school case, an administrative measure), who holds the relation
roles of such a row and which audit column links its history — so the same checks and
the same audit chain serve every workflow.

The rules live in ``workflows/*.toml``; they are checked in a fixed order — event
known → allowed from the current state → the actor holds a role the event names →
requirements (a comment) → four eyes. The first two are asked before the Machine is
triggered (so the refusal can list the events that *are* allowed); the other three are
the Machine's own ``conditions`` on each transition, run by ``transitions`` in that order
and raising the refusal with its reason. Then the row has moved, and the audit row is
appended in the same transaction.

Refusals raise :class:`~engine.core.errors.TransitionRefused` with a Russian sentence: it is
shown as-is on the page, in the CLI and in the API.

Automatic moves (events with ``when`` in the definition, e.g. a case starting when its
first help task starts) are fired by the ``system`` person (made on first use, role
``system``), through the same checks and into the same chain; no person can act as
it. Observers run inside the firing transaction after the audit row is appended, so a
move they cause (a case following its help task) commits or fails with the task's own.

Concurrency: the task's ``version`` column makes the UPDATE conditional, so of two actors
who loaded the same version exactly one commits; the other gets
:class:`~engine.core.errors.Conflict`. The task is flushed (row lock taken) *before* the audit
chain's head row, always in that order, so two transactions cannot wait on each other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel, col, select
from transitions import EventData

from engine.core.clock import Clock, local_date
from engine.core.db import session_scope
from engine.core.errors import Conflict, DatabaseError, NotFound, TransitionRefused
from engine.core.models import AdministrativeMeasure, AuditEvent, Person, SchoolCase, Task, pk
from engine.core.words import ROLE_NAMES, initials
from engine.directory.people import acts_for, find_person
from engine.lifecycle import audit
from engine.lifecycle.workflow import EventDef, Guard, WorkflowDef, build_machine

log = logging.getLogger(__name__)

#: The directory key of the engine's own actor.
SYSTEM_KEY = "system"


@dataclass(frozen=True)
class Subject:
    """A row type that carries a workflow, as the lifecycle needs to see it.

    ``relations`` maps a relation role to the row's column holding that person (the
    person and their deputy of the day hold the role); ``audit_field`` is the audit
    column naming the row; ``noun`` starts the Russian sentences («Задача 5 …»).
    """

    model: type[Any]
    audit_field: str
    noun: str
    relations: tuple[tuple[str, str], ...] = (
        ("responsible", "responsible_id"),
        ("supervisor", "supervisor_id"),
    )
    report_field: str | None = None  # where an awaited decision's text is kept

    def name(self, row: Any) -> str:
        return f"{self.noun} {row.id}"


TASKS = Subject(Task, "task_id", "Задача", report_field="report")
CASES = Subject(
    SchoolCase,
    "case_id",
    "Дело школы",
    relations=(("responsible", "curator_id"), ("supervisor", "supervisor_id")),
)
ADMINISTRATIVE = Subject(AdministrativeMeasure, "admin_id", "Мера воздействия")


@dataclass
class _Attempt:
    """One firing, handed to the Machine's conditions (``trigger(row, attempt=...)``)."""

    session: Session
    row: Any
    actor: Person
    comment: str
    principal_id: int | None = None  # set by the role guard: whom a deputy acts for


def _attempt(data: EventData) -> _Attempt:
    attempt: _Attempt = data.kwargs["attempt"]
    return attempt


@dataclass(frozen=True)
class Fired:
    """What a successful event did."""

    row: Any  # the moved row (a Task, SchoolCase, AdministrativeMeasure)
    audit: AuditEvent
    actor: Person
    on_behalf_of: Person | None

    @property
    def task(self) -> Task:
        assert isinstance(self.row, Task)
        return self.row


#: Called inside the firing transaction after the audit row is appended.
Observer = Callable[[Session, Fired], None]


def system_actor(session: Session) -> Person:
    """The engine's own actor (automatic moves), made on first use.

    Inactive: it gets no mail and plans cannot name it. Two first uses at once: the
    loser's transaction fails on the unique key and is retried by its caller.
    """
    found = session.exec(select(Person).where(Person.key == SYSTEM_KEY)).first()
    if found is None:
        found = Person(key=SYSTEM_KEY, name="Система (автоматически)", active=False)
        session.add(found)
        session.flush()
    return found


@dataclass
class Lifecycle:
    """One workflow definition bound to its machine, a clock, the committee's zone and
    the row type it moves."""

    definition: WorkflowDef
    clock: Clock
    zone: ZoneInfo
    audit_key: bytes  # signs the audit chain (HMAC; engine.lifecycle.audit)
    subject: Subject = TASKS
    observers: list[Observer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.machine = build_machine(self.definition, self._guards)

    # -- who holds which role -------------------------------------------------------------

    def roles_held(self, session: Session, actor: Person, row: Any) -> dict[str, int | None]:
        """Role → the person the actor stands in for (None: acting for themselves).

        Relations (responsible, supervisor) count for the person and their deputy of the
        day; directory roles (supervisor, head, admin) count for their holder only; the
        role ``system`` only for the engine's own actor.
        """
        if actor.key == SYSTEM_KEY:
            return {"system": None}
        day = local_date(self.clock, self.zone)
        held: dict[str, int | None] = {}
        for role, column in self.subject.relations:
            principal = getattr(row, column)
            if acts_for(session, actor, principal, day):
                held[role] = None if actor.id == principal else principal
        for role in actor.roles:
            if role != "system":
                held.setdefault(role, None)
        return held

    # -- the checks, in the order the module docstring gives ------------------------------

    def _event(self, row: Any, name: str) -> EventDef:
        event = self.definition.events.get(name)
        if event is None:
            raise TransitionRefused(
                f"Неизвестное действие «{name}». Действия процесса: "
                f"{', '.join(self.definition.events)}."
            )
        if row.state not in event.source:
            allowed = self.definition.allowed_from(row.state)
            raise TransitionRefused(
                f"{self.subject.name(row)} в состоянии «{self.definition.label(row.state)}» "
                f"({row.state}): действие «{event.label}» ({name}) из него недоступно. "
                f"Доступные действия: {', '.join(allowed) if allowed else 'нет'}."
            )
        return event

    def _guards(self, event: EventDef) -> list[Guard]:
        """The Machine's conditions for ``event``: role, then requirements, then four eyes."""
        guards: list[Guard] = [lambda data: self._holds_role(_attempt(data), event)]
        if "comment" in event.requires:
            guards.append(lambda data: self._has_comment(_attempt(data), event))
        if event.four_eyes:
            guards.append(lambda data: self._four_eyes(_attempt(data), event))
        return guards

    def _holds_role(self, attempt: _Attempt, event: EventDef) -> bool:
        row, actor = attempt.row, attempt.actor
        held = self.roles_held(attempt.session, actor, row)
        matching = [role for role in event.roles if role in held]
        if not matching:
            needed = " или ".join(ROLE_NAMES[r] for r in event.roles)
            raise TransitionRefused(
                f"{actor.name} ({actor.key}) не может выполнить «{event.label}» ({event.name}) "
                f"по объекту «{self.subject.name(row)}»: это вправе {needed}."
            )
        attempt.principal_id = held[matching[0]]
        return True

    @staticmethod
    def _has_comment(attempt: _Attempt, event: EventDef) -> bool:
        if not attempt.comment.strip():
            raise TransitionRefused(
                f"Для действия «{event.label}» ({event.name}) нужен комментарий: "
                "текст отчёта или причина."
            )
        return True

    def _four_eyes(self, attempt: _Attempt, event: EventDef) -> bool:
        """Nobody decides on the state they (or the person they stood in for) brought about."""
        row, actor = attempt.row, attempt.actor
        link = getattr(AuditEvent, self.subject.audit_field)
        brought = attempt.session.exec(
            select(AuditEvent)
            .where(link == row.id, AuditEvent.to_state == row.state)
            .order_by(col(AuditEvent.seq).desc())
            .limit(1)
        ).first()
        if brought is not None and actor.id in {brought.actor_id, brought.on_behalf_of_id}:
            raise TransitionRefused(
                f"Нельзя решать по собственному отчёту или запросу: «{self.subject.name(row)}» "
                f"приведено в состояние «{self.definition.label(row.state)}» с участием "
                f"сотрудника: {initials(actor.name)} ({actor.key}). Решение принимает другое "
                "контролирующее лицо."
            )
        return True

    # -- firing ---------------------------------------------------------------------------

    def fire(
        self,
        engine: Engine,
        row_id: int,
        event_name: str,
        actor_ident: str,
        *,
        comment: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        also: Sequence[SQLModel] = (),
    ) -> Fired:
        """Check and apply one event in one transaction; raise TransitionRefused if not.

        ``also``: rows committed in the same transaction only if the event is applied
        (e.g. the record that makes an emailed link single-use).
        """
        noun = self.subject.noun
        try:
            with session_scope(engine) as session:
                row = session.get(self.subject.model, row_id)
                if row is None:
                    raise NotFound(self.subject.model.__name__.lower(), row_id)
                actor = find_person(session, actor_ident)
                if expected_version is not None and row.version != expected_version:
                    raise Conflict(
                        f"Запись «{noun} {row_id}» изменилась (версия {row.version}, у вас "
                        f"{expected_version}): её уже обработал другой пользователь. "
                        "Обновите данные."
                    )
                fired = self.fire_in(session, row, event_name, actor, comment, evidence)
                session.add_all(also)
                session.commit()
        except StaleDataError:
            raise Conflict(
                f"{noun} {row_id}: данные только что изменил другой пользователь; ваше "
                "действие не выполнено. Обновите данные и повторите, если оно ещё нужно."
            ) from None
        except IntegrityError:
            raise Conflict(
                f"Журнал аудита изменился во время действия ({noun} {row_id}); "
                "действие не выполнено, повторите его."
            ) from None
        except OperationalError as exc:
            raise DatabaseError(f"база данных отказала в изменении: {exc.orig}") from None
        self._log(fired)
        return fired

    def fire_in(
        self,
        session: Session,
        row: Any,
        event_name: str,
        actor: Person,
        comment: str = "",
        evidence: Sequence[str] = (),
        *,
        system: bool = False,
    ) -> Fired:
        """Apply one event inside the caller's transaction (the caller commits).

        Only the engine itself passes ``system=True`` with the system actor; a person
        who names the system actor is refused.
        """
        if (actor.key == SYSTEM_KEY) != system:
            raise TransitionRefused(
                f"От имени «{actor.name}» ({actor.key}) действует только сама система."
                if actor.key == SYSTEM_KEY
                else "Автоматическое действие выполняет только система."
            )
        event = self._event(row, event_name)
        from_state = row.state
        attempt = _Attempt(session, row, actor, comment)
        if not self.machine.events[event.name].trigger(row, attempt=attempt):
            raise RuntimeError(f"a guard of {event.name!r} returned False without a reason")
        principal_id = attempt.principal_id
        now = self.clock.now()
        row.updated_at = now
        row.state_since = now
        report = self.subject.report_field
        if (
            report
            and "comment" in event.requires
            and self.definition.meaning(event.dest) == "awaiting_decision"
        ):
            setattr(row, report, comment)  # what the deciders will read
        session.add(row)
        session.flush()  # take the row's lock before the audit chain's lock
        audit_row = audit.append(
            session,
            AuditEvent.model_validate(
                {
                    self.subject.audit_field: pk(row),
                    "event": event.name,
                    "from_state": from_state,
                    "to_state": row.state,
                    "actor_id": pk(actor),
                    "on_behalf_of_id": principal_id,
                    "at": now,
                    "comment": comment,
                    "evidence": list(evidence),
                    "seq": 0,
                    "prev_hash": "",
                    "hash": "",
                }
            ),
            self.audit_key,
        )
        principal = session.get(Person, principal_id) if principal_id else None
        fired = Fired(row, audit_row, actor, principal)
        for observer in self.observers:
            observer(session, fired)
        return fired

    def _log(self, fired: Fired) -> None:
        principal = fired.on_behalf_of
        log.info(
            "%s %s: %s %s -> %s by %s%s",
            self.subject.audit_field.removesuffix("_id"),
            fired.row.id,
            fired.audit.event,
            fired.audit.from_state,
            fired.audit.to_state,
            fired.actor.key,
            f" for {principal.key}" if principal else "",
        )
