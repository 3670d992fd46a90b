"""Firing events on tasks: roles, requirements, four eyes, state change, audit.

The rules live in ``workflows/measure.toml``; this module interprets them in a fixed
order — event known → allowed from the current state → the actor holds a role the event
names → requirements (a comment) → four eyes — and only then moves the row with the one
shared ``transitions`` Machine and appends the audit row in the same transaction.

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
from sqlmodel import Session, col, select

from engine.core.clock import Clock, local_date
from engine.core.db import session_scope
from engine.core.errors import Conflict, DatabaseError, NotFound, TransitionRefused
from engine.core.models import AuditEvent, Person, Task, pk
from engine.core.words import ROLE_NAMES, initials
from engine.directory.people import acts_for, find_person
from engine.lifecycle import audit
from engine.lifecycle.workflow import EventDef, WorkflowDef, build_machine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fired:
    """What a successful event did."""

    task: Task
    audit: AuditEvent
    actor: Person
    on_behalf_of: Person | None


class Lifecycle:
    """One workflow definition bound to its machine, a clock and the committee's zone."""

    def __init__(self, definition: WorkflowDef, clock: Clock, zone: ZoneInfo) -> None:
        self.definition = definition
        self.machine = build_machine(definition)
        self.clock = clock
        self.zone = zone

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

    def _check(
        self, session: Session, task: Task, event: EventDef, actor: Person, comment: str
    ) -> int | None:
        held = self.roles_held(session, actor, task)
        matching = [role for role in event.roles if role in held]
        if not matching:
            needed = " или ".join(ROLE_NAMES[r] for r in event.roles)
            raise TransitionRefused(
                f"{actor.name} ({actor.key}) не может выполнить «{event.label}» ({event.name}) "
                f"по задаче {task.id}: это вправе {needed}."
            )
        if "comment" in event.requires and not comment.strip():
            raise TransitionRefused(
                f"Для действия «{event.label}» ({event.name}) нужен комментарий: "
                "текст отчёта или причина."
            )
        if event.four_eyes:
            self._four_eyes(session, task, actor, event)
        return held[matching[0]]

    def _four_eyes(self, session: Session, task: Task, actor: Person, event: EventDef) -> None:
        report = session.exec(
            select(AuditEvent)
            .where(AuditEvent.task_id == task.id, AuditEvent.to_state == event.source[0])
            .order_by(col(AuditEvent.seq).desc())
            .limit(1)
        ).first()
        if report is None:
            return
        authors = {report.actor_id, report.on_behalf_of_id}
        if actor.id in authors:
            raise TransitionRefused(
                f"Нельзя решать по собственному отчёту: отчёт по задаче {task.id} "
                f"представлен с участием сотрудника: {initials(actor.name)} ({actor.key}). "
                "Решение принимает другое контролирующее лицо."
            )

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
    ) -> Fired:
        """Check and apply one event in one transaction; raise TransitionRefused if not."""
        try:
            with session_scope(engine) as session:
                return self._fire(
                    session, task_id, event_name, actor_ident, comment, evidence, expected_version
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
        principal_id = self._check(session, task, event, actor, comment)
        from_state = task.state
        self.machine.events[event.name].trigger(task)
        now = self.clock.now()
        task.updated_at = now
        task.state_since = now
        if event.requires and event.dest == "reported":
            task.report = comment
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
        )
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
