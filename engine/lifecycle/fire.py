"""Firing events on tasks: roles, requirements, four eyes, state change, audit.

The rules live in ``workflows/measure.toml``; they are checked in a fixed order — event
known → allowed from the current state → the actor holds a role the event names →
requirements (a comment) → four eyes. The first two are asked before the Machine is
triggered (so the refusal can list the events that *are* allowed); the other three are
the Machine's own ``conditions`` on each transition, run by ``transitions`` in that order
and raising the refusal with its reason. Then the row has moved, and the audit row is
appended in the same transaction.

Refusals raise :class:`~engine.core.errors.TransitionRefused` with a Russian sentence: it is
shown as-is on the page, in the CLI and in the API.

Concurrency: the task's ``version`` column makes the UPDATE conditional, so of two actors
who loaded the same version exactly one commits; the other gets
:class:`~engine.core.errors.Conflict`. The task is flushed (row lock taken) *before* the audit
chain's head row, always in that order, so two transactions cannot wait on each other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel, col, select
from transitions import EventData

from engine.core.clock import Clock, local_date
from engine.core.db import session_scope
from engine.core.errors import Conflict, DatabaseError, NotFound, TransitionRefused
from engine.core.models import AuditEvent, Person, Task, pk
from engine.core.words import ROLE_NAMES, initials
from engine.directory.people import acts_for, find_person
from engine.lifecycle import audit
from engine.lifecycle.workflow import EventDef, Guard, WorkflowDef, build_machine

log = logging.getLogger(__name__)


@dataclass
class _Attempt:
    """One firing, handed to the Machine's conditions (``trigger(row, attempt=...)``)."""

    session: Session
    task: Task
    actor: Person
    comment: str
    principal_id: int | None = None  # set by the role guard: whom a deputy acts for


def _attempt(data: EventData) -> _Attempt:
    attempt: _Attempt = data.kwargs["attempt"]
    return attempt


@dataclass(frozen=True)
class Fired:
    """What a successful event did."""

    task: Task
    audit: AuditEvent
    actor: Person
    on_behalf_of: Person | None


class Lifecycle:
    """One workflow definition bound to its machine, a clock and the committee's zone."""

    def __init__(
        self, definition: WorkflowDef, clock: Clock, zone: ZoneInfo, audit_key: bytes
    ) -> None:
        self.definition = definition
        self.machine = build_machine(definition, self._guards)
        self.clock = clock
        self.zone = zone
        self.audit_key = audit_key

    # -- who holds which role -------------------------------------------------------------

    def roles_held(self, session: Session, actor: Person, task: Task) -> dict[str, int | None]:
        """Role → the person the actor stands in for (None: acting for themselves).

        Relations (responsible, supervisor) count for the person and their deputy of the
        day; directory roles (supervisor, head, admin) count for their holder only.
        """
        day = local_date(self.clock, self.zone)
        held: dict[str, int | None] = {}
        for role, principal in (
            ("responsible", task.responsible_id),
            ("supervisor", task.supervisor_id),
        ):
            if acts_for(session, actor, principal, day):
                held[role] = None if actor.id == principal else principal
        for role in actor.roles:
            held.setdefault(role, None)
        return held

    # -- the checks, in the order the module docstring gives ------------------------------

    def _event(self, task: Task, name: str) -> EventDef:
        event = self.definition.events.get(name)
        if event is None:
            raise TransitionRefused(
                f"Неизвестное действие «{name}». Действия процесса: "
                f"{', '.join(self.definition.events)}."
            )
        if task.state not in event.source:
            allowed = self.definition.allowed_from(task.state)
            raise TransitionRefused(
                f"Задача {task.id} в состоянии «{self.definition.label(task.state)}» "
                f"({task.state}): действие «{event.label}» ({name}) из него недоступно. "
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
        task, actor = attempt.task, attempt.actor
        held = self.roles_held(attempt.session, actor, task)
        matching = [role for role in event.roles if role in held]
        if not matching:
            needed = " или ".join(ROLE_NAMES[r] for r in event.roles)
            raise TransitionRefused(
                f"{actor.name} ({actor.key}) не может выполнить «{event.label}» ({event.name}) "
                f"по задаче {task.id}: это вправе {needed}."
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

    @staticmethod
    def _four_eyes(attempt: _Attempt, event: EventDef) -> bool:
        """Nobody decides on the state they (or the person they stood in for) brought about."""
        task, actor = attempt.task, attempt.actor
        brought = attempt.session.exec(
            select(AuditEvent)
            .where(AuditEvent.task_id == task.id, AuditEvent.to_state == task.state)
            .order_by(col(AuditEvent.seq).desc())
            .limit(1)
        ).first()
        if brought is not None and actor.id in {brought.actor_id, brought.on_behalf_of_id}:
            raise TransitionRefused(
                f"Нельзя решать по собственному отчёту: отчёт по задаче {task.id} "
                f"представлен с участием сотрудника: {initials(actor.name)} ({actor.key}). "
                "Решение принимает другое контролирующее лицо."
            )
        return True

    # -- firing ---------------------------------------------------------------------------

    def fire(
        self,
        engine: Engine,
        task_id: int,
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
        try:
            with session_scope(engine) as session:
                return self._fire(
                    session,
                    task_id,
                    event_name,
                    actor_ident,
                    comment,
                    evidence,
                    expected_version,
                    also,
                )
        except StaleDataError:
            raise Conflict(
                f"Задачу {task_id} только что изменил другой пользователь; ваше действие "
                "не выполнено. Обновите данные и повторите, если оно ещё нужно."
            ) from None
        except IntegrityError:
            raise Conflict(
                f"Журнал аудита изменился во время действия по задаче {task_id}; "
                "действие не выполнено, повторите его."
            ) from None
        except OperationalError as exc:
            raise DatabaseError(f"база данных отказала в изменении: {exc.orig}") from None

    def _fire(
        self,
        session: Session,
        task_id: int,
        event_name: str,
        actor_ident: str,
        comment: str,
        evidence: Sequence[str],
        expected_version: int | None,
        also: Sequence[SQLModel] = (),
    ) -> Fired:
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound("task", task_id)
        actor = find_person(session, actor_ident)
        if expected_version is not None and task.version != expected_version:
            raise Conflict(
                f"Задача {task_id} изменилась (версия {task.version}, у вас {expected_version}): "
                "её уже обработал другой пользователь. Обновите данные."
            )
        event = self._event(task, event_name)
        from_state = task.state
        attempt = _Attempt(session, task, actor, comment)
        if not self.machine.events[event.name].trigger(task, attempt=attempt):
            raise RuntimeError(f"a guard of {event.name!r} returned False without a reason")
        principal_id = attempt.principal_id
        now = self.clock.now()
        task.updated_at = now
        task.state_since = now
        if "comment" in event.requires and self.definition.meaning(event.dest) == (
            "awaiting_decision"
        ):
            task.report = comment  # what the deciders will read
        session.add(task)
        session.flush()  # take the task's row lock before the audit chain's lock
        row = audit.append(
            session,
            AuditEvent(
                task_id=task_id,
                event=event.name,
                from_state=from_state,
                to_state=task.state,
                actor_id=pk(actor),
                on_behalf_of_id=principal_id,
                at=now,
                comment=comment,
                evidence=list(evidence),
                seq=0,
                prev_hash="",
                hash="",
            ),
            self.audit_key,
        )
        session.add_all(also)
        session.commit()
        principal = session.get(Person, principal_id) if principal_id else None
        log.info(
            "task %s: %s %s -> %s by %s%s",
            task_id,
            event.name,
            from_state,
            task.state,
            actor.key,
            f" for {principal.key}" if principal else "",
        )
        return Fired(task, row, actor, principal)
