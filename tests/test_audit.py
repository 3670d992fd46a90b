"""The hash-chained audit log detects altered, deleted and truncated rows."""

from __future__ import annotations

import sqlalchemy as sa

from engine.app import App
from engine.core.db import session_scope
from engine.lifecycle.audit import verify
from tests.factories import setup


def _fill(app: App) -> None:
    _, tasks = setup(app, count=3)
    for task in tasks:
        assert task.id is not None
        app.lifecycle.fire(app.engine, task.id, "start", "resp")
        app.lifecycle.fire(
            app.engine,
            task.id,
            "report",
            "resp",
            comment=f"Отчёт {task.id}",
            evidence=[f"doc-{task.id}.pdf"],
        )


def _verify(app: App) -> tuple[int, str | None]:
    with session_scope(app.engine) as session:
        result = verify(session)
    return result.checked, result.problem


def _sql(app: App, statement: str) -> None:
    with app.engine.begin() as connection:
        connection.execute(sa.text(statement))


def test_intact_chain(app: App) -> None:
    _fill(app)
    assert _verify(app) == (6, None)


def test_altered_comment_is_found(app: App) -> None:
    _fill(app)
    _sql(app, "UPDATE auditevent SET comment = 'Всё сделано' WHERE seq = 4")
    checked, problem = _verify(app)
    assert checked == 3
    assert problem is not None and "seq 4" in problem and "altered" in problem


def test_altered_actor_is_found(app: App) -> None:
    _fill(app)
    _sql(app, "UPDATE auditevent SET actor_id = actor_id + 1 WHERE seq = 2")
    checked, problem = _verify(app)
    assert checked == 1 and problem is not None and "seq 2" in problem


def test_deleted_middle_row_is_found(app: App) -> None:
    _fill(app)
    _sql(app, "DELETE FROM auditevent WHERE seq = 3")
    checked, problem = _verify(app)
    assert checked == 2 and problem is not None and "seq 3 is missing" in problem


def test_deleted_newest_row_is_found(app: App) -> None:
    _fill(app)
    _sql(app, "DELETE FROM auditevent WHERE seq = 6")
    checked, problem = _verify(app)
    assert checked == 5 and problem is not None and "newest rows were deleted" in problem


def test_rehashed_row_still_breaks_the_next_link(app: App) -> None:
    # Someone alters row 2 and recomputes its hash: row 3's prev_hash no longer matches.
    _fill(app)
    _sql(app, "UPDATE auditevent SET hash = 'f' || substr(hash, 2) WHERE seq = 2")
    checked, problem = _verify(app)
    assert checked == 1 and problem is not None and "seq 2" in problem
