"""Use cases around tasks: lists, firing events, history."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from engine.app import App
from engine.core.clock import local_date
from engine.core.db import session_scope
from engine.core.errors import MeasuresError, NotFound
from engine.core.models import AuditEvent, Person, Task
from engine.directory.people import find_person
from engine.lifecycle.fire import Fired
from engine.queries import TaskRow, iter_tasks
from engine.queries import history as task_history


def list_tasks(
    app: App,
    *,
    state: str | None = None,
    person: str | None = None,
    plan_id: int | None = None,
    overdue: bool = False,
) -> list[TaskRow]:
    """Tasks by due date; ``person`` (key or email) is responsible or supervisor."""
    with stream_tasks(app, state=state, person=person, plan_id=plan_id, overdue=overdue) as rows:
        return list(rows)


@contextmanager
def stream_tasks(
    app: App,
    *,
    state: str | None = None,
    person: str | None = None,
    plan_id: int | None = None,
    overdue: bool = False,
) -> Iterator[Iterator[TaskRow]]:
    """:func:`list_tasks` as a stream, read while the ``with`` block lasts (a listing of
    any size starts at once and is never held whole)."""
    workflow = app.workflow
    if state and state not in workflow.states:
        raise MeasuresError(f"--state: нет состояния {state!r}; есть: {', '.join(workflow.states)}")
    with session_scope(app.ready_engine()) as session:
        who = find_person(session, person) if person else None
        yield iter_tasks(
            session,
            workflow,
            app.calendar,
            local_date(app.clock, app.config.timezone),
            state=state,
            person=who,
            plan_id=plan_id,
            overdue=overdue,
        )


def fire(
    app: App,
    task_id: int,
    event: str,
    actor: str,
    *,
    comment: str = "",
    evidence: Sequence[str] = (),
    expected_version: int | None = None,
) -> Fired:
    """Fire one event as a person; refused with the reason (TransitionRefused) if not allowed."""
    return app.lifecycle.fire(
        app.writable_engine(),
        task_id,
        event,
        actor,
        comment=comment,
        evidence=evidence,
        expected_version=expected_version,
    )


def history(app: App, task_id: int) -> list[tuple[AuditEvent, Person, Person | None]]:
    """Every transition of a task, oldest first."""
    with session_scope(app.ready_engine()) as session:
        if session.get(Task, task_id) is None:
            raise NotFound("task", task_id)
        return task_history(session, task_id)
