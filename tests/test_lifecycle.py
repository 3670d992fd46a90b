"""The task lifecycle as workflows/measure.toml defines it, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from engine.app import App
from engine.core.clock import FixedClock
from engine.core.db import session_scope, upgrade
from engine.core.errors import Conflict, NotFound, TransitionRefused
from engine.core.models import AuditEvent, OutboxMessage, Task
from engine.core.settings import load_config
from tests.conftest import NOW, ROOT, write_config
from tests.factories import ACTORS, setup

#: Who may fire what, written out by hand from the rules in the issue — not derived
#: from the workflow file, so a wrong edit of the file or of the engine fails here.
RESPONSIBLE = {"resp", "deputy_on"}
SUPERVISING = {"sup", "sup_deputy", "dirsup", "admin"}
MAY: dict[str, set[str]] = {
    "start": RESPONSIBLE,
    "report": RESPONSIBLE,
    "verify": SUPERVISING,
    "return": SUPERVISING,
    "cancel": SUPERVISING,
    "reopen": {"admin"},
}
#: event → (a state it is fired from, the state it leads to)
MOVES = {
    "start": ("planned", "in_progress"),
    "report": ("in_progress", "reported"),
    "verify": ("reported", "verified"),
    "return": ("reported", "in_progress"),
    "cancel": ("in_progress", "cancelled"),
    "reopen": ("verified", "in_progress"),
}
STATES = ["planned", "in_progress", "reported", "verified", "cancelled"]
SOURCES = {
    "start": {"planned"},
    "report": {"in_progress"},
    "verify": {"reported"},
    "return": {"reported"},
    "cancel": {"planned", "in_progress", "reported"},
    "reopen": {"verified"},
}


def _audit_rows(app: App, task_id: int) -> list[AuditEvent]:
    with session_scope(app.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.task_id == task_id)))


def _task(app: App, task_id: int) -> Task:
    with session_scope(app.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


@pytest.mark.parametrize("event", list(MAY))
def test_every_role_allowed_or_refused(app: App, event: str) -> None:
    source, dest = MOVES[event]
    _, tasks = setup(app, count=len(ACTORS), state=source)
    for actor, task in zip(ACTORS, tasks, strict=True):
        assert task.id is not None
        if actor in MAY[event]:
            fired = app.lifecycle.fire(app.engine, task.id, event, actor, comment="Отчёт")
            assert fired.task.state == dest
            assert _task(app, task.id).state == dest
            rows = _audit_rows(app, task.id)
            assert [(r.event, r.from_state, r.to_state) for r in rows] == [(event, source, dest)]
            assert rows[0].actor_id == fired.actor.id
        else:
            with pytest.raises(TransitionRefused, match="не может выполнить") as caught:
                app.lifecycle.fire(app.engine, task.id, event, actor, comment="Отчёт")
            assert not isinstance(caught.value, Conflict)
            assert _task(app, task.id).state == source
            assert _audit_rows(app, task.id) == []


@pytest.mark.parametrize("event", list(SOURCES))
def test_event_refused_from_every_other_state(app: App, event: str) -> None:
    wrong = [s for s in STATES if s not in SOURCES[event]]
    _, tasks = setup(app, count=len(wrong))
    with session_scope(app.engine) as session:
        for task, state in zip(tasks, wrong, strict=True):
            task.state = state
            session.add(task)
        session.commit()
    for task, state in zip(tasks, wrong, strict=True):
        assert task.id is not None
        allowed = [e for e, sources in SOURCES.items() if state in sources]
        with pytest.raises(TransitionRefused) as caught:
            app.lifecycle.fire(app.engine, task.id, event, "admin", comment="причина")
        message = str(caught.value)
        assert f"({state})" in message
        assert ("Доступные действия: " + (", ".join(allowed) or "нет")) in message
        assert _task(app, task.id).state == state


def test_deputy_acts_for_the_responsible_and_both_are_recorded(app: App) -> None:
    people, (task,) = setup(app)
    assert task.id is not None
    app.lifecycle.fire(app.engine, task.id, "start", "deputy_on")
    (row,) = _audit_rows(app, task.id)
    assert row.actor_id == people["deputy_on"].id
    assert row.on_behalf_of_id == people["resp"].id


def test_deputy_period_is_checked_on_the_day_of_the_action(app: App) -> None:
    from datetime import timedelta

    from engine.core.clock import FixedClock

    _, (task,) = setup(app)
    assert task.id is not None and isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=11))  # the deputy period ended yesterday
    with pytest.raises(TransitionRefused, match="не может выполнить"):
        app.lifecycle.fire(app.engine, task.id, "start", "deputy_on")
    app.lifecycle.fire(app.engine, task.id, "start", "resp")


def test_report_and_return_require_a_comment(app: App) -> None:
    _, (task,) = setup(app, state="in_progress")
    assert task.id is not None
    with pytest.raises(TransitionRefused, match="нужен комментарий"):
        app.lifecycle.fire(app.engine, task.id, "report", "resp", comment="   ")
    assert _task(app, task.id).state == "in_progress"
    app.lifecycle.fire(
        app.engine, task.id, "report", "resp", comment="Сделано", evidence=["protocol-12.pdf"]
    )
    task_now = _task(app, task.id)
    assert task_now.report == "Сделано"
    with pytest.raises(TransitionRefused, match="нужен комментарий"):
        app.lifecycle.fire(app.engine, task.id, "return", "sup")
    assert _audit_rows(app, task.id)[-1].evidence == ["protocol-12.pdf"]


def test_no_one_verifies_their_own_report(app: App) -> None:
    # The supervisor is also the responsible: reporting is allowed, deciding is not.
    _, (task,) = setup(app, state="in_progress", responsible="dirsup", supervisor="dirsup")
    assert task.id is not None
    app.lifecycle.fire(app.engine, task.id, "report", "dirsup", comment="Готово")
    for event in ("verify", "return"):
        with pytest.raises(TransitionRefused, match="собственному отчёту"):
            app.lifecycle.fire(app.engine, task.id, event, "dirsup", comment="нет")
    assert _task(app, task.id).state == "reported"
    app.lifecycle.fire(app.engine, task.id, "verify", "admin")
    assert _task(app, task.id).state == "verified"


def test_four_eyes_covers_the_person_a_deputy_reported_for(app: App) -> None:
    # sup is responsible and supervisor; sup_deputy reports on sup's behalf today.
    # Neither of them may decide on that report; an independent supervisor may.
    people, (task,) = setup(app, state="in_progress", responsible="sup", supervisor="sup")
    assert task.id is not None
    app.lifecycle.fire(app.engine, task.id, "report", "sup_deputy", comment="Готово")
    (row,) = _audit_rows(app, task.id)
    assert row.on_behalf_of_id == people["sup"].id
    for actor in ("sup", "sup_deputy"):
        with pytest.raises(TransitionRefused, match="собственному отчёту"):
            app.lifecycle.fire(app.engine, task.id, "verify", actor)
    app.lifecycle.fire(app.engine, task.id, "verify", "dirsup")
    assert _task(app, task.id).state == "verified"


def test_unknown_event_task_and_person(app: App) -> None:
    _, (task,) = setup(app)
    assert task.id is not None
    with pytest.raises(TransitionRefused, match="Неизвестное действие «finish»"):
        app.lifecycle.fire(app.engine, task.id, "finish", "resp")
    with pytest.raises(NotFound, match="задача 999 не найдена"):
        app.lifecycle.fire(app.engine, 999, "start", "resp")
    with pytest.raises(NotFound, match="сотрудник nobody не найден"):
        app.lifecycle.fire(app.engine, task.id, "start", "nobody")


def test_full_cycle_with_return_and_reopen(app: App) -> None:
    _, (task,) = setup(app)
    assert task.id is not None
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("start", "resp", {}),
        ("report", "resp", {"comment": "Первый отчёт"}),
        ("return", "sup", {"comment": "Нет протокола"}),
        ("report", "deputy_on", {"comment": "Протокол приложен"}),
        ("verify", "dirsup", {}),
        ("reopen", "admin", {"comment": "Ошибка в протоколе"}),
    ]
    for event, actor, kwargs in steps:
        app.lifecycle.fire(app.engine, task.id, event, actor, **kwargs)
    assert [r.event for r in _audit_rows(app, task.id)] == [s[0] for s in steps]
    assert _task(app, task.id).state == "in_progress"


def _race(
    app: App, task_id: int, attempts: list[tuple[str, str]], expected_version: int | None
) -> list[object]:
    barrier = threading.Barrier(len(attempts))
    results: list[object] = [None] * len(attempts)

    def attempt(index: int, event: str, actor: str) -> None:
        barrier.wait()
        try:
            results[index] = app.lifecycle.fire(
                app.engine,
                task_id,
                event,
                actor,
                comment="решение",
                expected_version=expected_version,
            )
        except TransitionRefused as exc:
            results[index] = exc

    threads = [
        threading.Thread(target=attempt, args=(i, e, a)) for i, (e, a) in enumerate(attempts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("round_", range(5))
def test_two_supervisors_at_once_exactly_one_wins(app: App, round_: int) -> None:
    _, (task,) = setup(app, state="reported")
    assert task.id is not None
    results = _race(
        app, task.id, [("verify", "sup"), ("return", "dirsup")], expected_version=task.version
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    wins = [r for r in results if not isinstance(r, Exception)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    assert "другой пользователь" in str(conflicts[0]) or "изменилась" in str(conflicts[0])
    assert len(_audit_rows(app, task.id)) == 1


def test_concurrent_transitions_on_many_tasks_keep_one_audit_chain(app: App) -> None:
    from engine.lifecycle.audit import verify

    _, tasks = setup(app, count=8)
    barrier = threading.Barrier(len(tasks))
    errors: list[BaseException] = []

    def start(task_id: int) -> None:
        barrier.wait()
        try:
            app.lifecycle.fire(app.engine, task_id, "start", "resp")
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(t.id,)) for t in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with session_scope(app.engine) as session:
        result = verify(session, app.audit_key, app.workflow.initial)
    assert result.ok and result.checked == len(tasks)


#: The shipped states under other names: nothing in Python may know the shipped ones.
RENAMED = {
    "planned": "draft",
    "in_progress": "doing",
    "reported": "submitted",
    "verified": "accepted",
    "cancelled": "dropped",
}


def _renamed_workflows(folder: Path) -> Path:
    folder.mkdir()
    for name in ("measure.toml", "escalation.toml"):
        text = (ROOT / "workflows" / name).read_text(encoding="utf-8")
        for old, new in RENAMED.items():
            text = re.sub(rf"\b{old}\b", new, text)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_workflow_with_other_state_names_needs_no_python(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the engine does with a state comes from its declared meaning, so the same
    # rules under other names behave the same: the report text is kept when the task
    # reaches the state awaiting a decision, four eyes holds, and the digest lists the
    # report for its supervisor.
    from engine.escalation.digests import enqueue_digests

    monkeypatch.delenv("MEASURES_DATABASE_URL", raising=False)
    folder = _renamed_workflows(tmp_path / "wf")
    config = load_config(write_config(tmp_path, db_url, f'[workflows]\ndir = "{folder}"'))
    app = App(config, FixedClock(NOW))
    upgrade(app.engine)
    try:
        assert app.workflow.initial == "draft"
        _, (task,) = setup(app, state="doing", responsible="dirsup", supervisor="dirsup")
        assert task.id is not None
        app.lifecycle.fire(app.engine, task.id, "report", "dirsup", comment="Перечень составлен")
        stored = _task(app, task.id)
        assert (stored.state, stored.report) == ("submitted", "Перечень составлен")
        with pytest.raises(TransitionRefused, match="собственному отчёту"):
            app.lifecycle.fire(app.engine, task.id, "verify", "dirsup")
        assert enqueue_digests(app.engine, app.escalator, app.clock) >= 1
        with session_scope(app.engine) as session:
            letter = session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == "daily_digest")
            ).first()
        assert letter is not None
        assert "ожидают проверки — 1" in letter.subject  # listed as waiting for a decision
        assert "Мероприятие 1" in letter.body_text
        app.lifecycle.fire(app.engine, task.id, "verify", "admin")
        assert _task(app, task.id).state == "accepted"
    finally:
        app.engine.dispose()
