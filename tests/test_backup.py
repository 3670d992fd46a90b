"""Backup of the live SQLite database and a tested restore."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app import App
from engine.core.backup import backup, restore
from engine.core.db import make_engine, session_scope, upgrade
from engine.core.errors import DatabaseError, InputError
from engine.core.models import Task
from engine.lifecycle.audit import verify
from tests.factories import setup


def _state(app: App, task_id: int) -> str:
    with session_scope(app.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.state


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_backup_then_restore(app: App, tmp_path: Path) -> None:
    _, (task,) = setup(app)
    assert task.id is not None
    app.lifecycle.fire(app.engine, task.id, "start", "resp")
    copy = backup(app.engine, tmp_path / "backups" / "before-report.db")
    app.lifecycle.fire(app.engine, task.id, "report", "resp", comment="Готово")
    assert _state(app, task.id) == "reported"
    with pytest.raises(InputError, match="уже существует"):
        backup(app.engine, copy)
    restore(app.engine, copy)
    assert _state(app, task.id) == "in_progress"
    with session_scope(app.engine) as session:
        result = verify(session, app.audit_key, app.workflow.initial)
    assert result.ok and result.checked == 1
    app.lifecycle.fire(app.engine, task.id, "report", "resp", comment="Готово снова")
    assert _state(app, task.id) == "reported"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_restore_refuses_what_is_not_a_backup(app: App, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="не резервная копия measures"):
        restore(app.engine, junk)
    with pytest.raises(InputError, match="файл не найден"):
        restore(app.engine, tmp_path / "missing.db")
    newer = make_engine(f"sqlite:///{tmp_path / 'newer.db'}")
    upgrade(newer)
    with newer.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    newer.dispose()
    with pytest.raises(DatabaseError, match="более новая версия"):
        restore(app.engine, tmp_path / "newer.db")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_backup_is_pg_dump(app: App, tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="pg_dump"):
        backup(app.engine, tmp_path / "x.db")
