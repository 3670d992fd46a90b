"""Schema migrations: from an empty database to head, and the refusals around it."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from engine.core.db import check_schema, current_revision, head_revision, make_engine, upgrade
from engine.core.errors import ConfigError, DatabaseError


def test_migration_from_empty_database(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(DatabaseError, match="сначала выполните `measures init`"):
        check_schema(engine)
    assert upgrade(engine) == (None, head_revision())
    check_schema(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {
        "person",
        "deputy",
        "school",
        "plan",
        "section",
        "measure",
        "task",
        "auditevent",
        "audithead",
    } <= tables
    assert upgrade(engine) == (head_revision(), head_revision())  # repeatable
    engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    # A model change without a new Alembic revision fails here.
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    engine.dispose()


def test_revisions_read_without_alembic_are_alembic_s() -> None:
    """Every command checks the schema without importing alembic (engine.core.db reads
    the migration files' text): the revisions, their order and the head must be what
    alembic itself finds in the same files."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from engine.core.db import MIGRATIONS, revisions

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert revisions() == {r.revision: r.down_revision for r in script.walk_revisions()}
    assert head_revision() == script.get_current_head()


def test_newer_database_is_refused(sqlite_engine: sa.Engine) -> None:
    upgrade(sqlite_engine)
    with sqlite_engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    assert current_revision(sqlite_engine) == "9999"
    with pytest.raises(DatabaseError, match="более новая версия"):
        check_schema(sqlite_engine)
    with pytest.raises(DatabaseError, match="более новая версия"):
        upgrade(sqlite_engine)


def test_bad_database_url() -> None:
    with pytest.raises(ConfigError, match="это не адрес базы данных"):
        make_engine("no such thing")
    with pytest.raises(ConfigError, match="не удаётся использовать 'oracle"):
        make_engine("oracle+nodriver://x@y/z")


def test_a_long_read_does_not_hold_sqlite_write_lock(tmp_path: Path) -> None:
    # A report reads for seconds to minutes inside one transaction; the daemon must be
    # able to write meanwhile. Every other session begins IMMEDIATE (it takes the write
    # lock at BEGIN); a read scope begins DEFERRED and, in WAL mode, blocks no writer.
    from engine.core.db import read_scope, session_scope

    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)

    def write(timeout: float) -> None:  # another process's writer: plain sqlite3
        with closing(sqlite3.connect(path, timeout=timeout, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            other.execute("DELETE FROM daemonstate")
            other.execute("COMMIT")

    with read_scope(engine) as reading:
        assert reading.execute(sa.text("SELECT count(*) FROM task")).scalar_one() == 0
        write(timeout=1)  # the read transaction is open: the writer still gets through
        assert reading.execute(sa.text("SELECT count(*) FROM task")).scalar_one() == 0
    with session_scope(engine) as session:  # writers still begin IMMEDIATE
        session.execute(sa.text("SELECT 1"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            write(timeout=0.2)


def test_upgrade_from_0001_keeps_the_data_and_its_audit_chain(db_url: str) -> None:
    from alembic import command
    from sqlmodel import Session, select

    from engine.core.db import _alembic_config
    from engine.core.models import AuditEvent, Task
    from engine.lifecycle.audit import verify

    engine = make_engine(db_url)
    command.upgrade(_alembic_config(engine), "0001")
    stamp = "2026-11-25 07:00:00"
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO person (id, key, name, position, organisation, email, roles, aliases,"
            " active) VALUES (1, 'ivanova', 'Иванова', '', '', '', '[]', '[]', true)",
            "INSERT INTO plan (id, title, issuer, order_number, period_start, period_end,"
            " controller_text, ladder, abbreviations, source_name, source_sha256, created_at)"
            f" VALUES (1, 'План', '', '', '2026-09-01', '2027-08-31', '', 'default', '{{}}', '',"
            f" '', '{stamp}')",
            "INSERT INTO measure (id, plan_id, position, key, number, title, deadline_phrase,"
            " responsible_text, expected_result, decisions, control_text, source_location,"
            " schedule, co_responsible_ids, problems) VALUES (1, 1, 1, '#1', '1', 'М', '', '',"
            " '', '', '', '', '{}', '[]', '[]')",
            "INSERT INTO task (id, measure_id, occurrence, state, report, version, created_at,"
            f" updated_at) VALUES (1, 1, 1, 'in_progress', '', 2, '{stamp}', '{stamp}')",
        ):
            connection.execute(sa.text(statement))
    from engine.lifecycle import audit
    from tests.conftest import NOW

    with Session(engine) as session:
        row = AuditEvent.model_validate(
            {
                "task_id": 1,
                "event": "start",
                "from_state": "planned",
                "to_state": "in_progress",
                "actor_id": 1,
                "at": NOW,
                "seq": 0,
                "prev_hash": "",
                "hash": "",
            }
        )
        # Written by the 0001 program: plain SHA-256, no measure, plan or changes columns.
        row.seq, row.prev_hash = 1, audit.GENESIS
        row.hash = audit.compute_hash(audit.GENESIS, row, None)
        names = ("seq", "task_id", "event", "from_state", "to_state", "actor_id", "at")
        values = {c: getattr(row, c) for c in (*names, "comment", "prev_hash", "hash")}
        session.rollback()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO auditevent (seq, task_id, event, from_state, to_state, actor_id,"
                " at, comment, evidence, prev_hash, hash) VALUES (:seq, :task_id, :event,"
                " :from_state, :to_state, :actor_id, :at, :comment, '[]', :prev_hash, :hash)"
            ),
            values,
        )
        connection.execute(
            sa.text("UPDATE audithead SET seq = 1, hash = :hash WHERE id = 1"), values
        )
    upgrade(engine)
    with Session(engine) as session:
        task = session.exec(select(Task)).one()
        assert task.set_by_hand == [] and task.state == "in_progress"
        key = b"k" * 32
        rekeyed = audit.rekey(session, key)  # what `measures init` does after upgrading
        assert rekeyed is not None and rekeyed.ok
        session.commit()
        assert verify(session, key, "planned").ok
    engine.dispose()


def test_0005_keys_existing_tasks_by_their_anchor(db_url: str) -> None:
    # Issue 7: tasks of a database made before occurrence keys (schema 0004) get keys from
    # what they store, and the old measures are marked as stored without their parsed
    # schedule; what a clerk set by hand stays.
    from alembic import command

    from engine.core.db import _alembic_config

    engine = make_engine(db_url)
    command.upgrade(_alembic_config(engine), "0004_cases")
    now = "2026-11-25 07:00:00+00:00"
    with engine.begin() as connection:
        run = connection.execute
        run(
            sa.text(
                "INSERT INTO plan (id, title, issuer, order_number, period_start, period_end,"
                " controller_text, ladder, abbreviations, source_name, source_sha256, created_at)"
                " VALUES (1, 'План', '', '', '2026-09-01', '2027-08-31', '', 'default', '{}',"
                " '', '', :now)"
            ),
            {"now": now},
        )
        measures = [
            (1, {"kind": "multiple"}),
            (2, {"kind": "event", "event": {"offset_working_days": 10}}),
            (3, {"kind": "recurring", "cadence": "quarterly"}),
            (4, {"kind": "on_demand"}),
        ]
        for measure_id, schedule in measures:
            run(
                sa.text(
                    "INSERT INTO measure (id, plan_id, position, key, number, title,"
                    " deadline_phrase, responsible_text, expected_result, decisions, control_text,"
                    " source_location, schedule, co_responsible_ids, problems)"
                    " VALUES (:id, 1, :id, '', :number, 'М', '', '', '', '', '', '', :schedule,"
                    " '[]', '[]')"
                ),
                {"id": measure_id, "number": str(measure_id), "schedule": json.dumps(schedule)},
            )
        tasks = [
            (1, 1, 1, None, "2026-10-31"),
            (2, 1, 2, "2027-03-01", "2027-03-31"),
            (3, 2, 1, "2027-04-13", "2027-04-27"),
            (4, 3, 1, "2026-09-01", "2026-09-30"),
            (5, 4, 1, None, None),
        ]
        for task_id, measure_id, occurrence, start, due in tasks:
            run(
                sa.text(
                    "INSERT INTO task (id, measure_id, occurrence, start_date, due_date, state,"
                    " report, version, created_at, updated_at)"
                    " VALUES (:id, :measure, :occurrence, :start, :due, 'planned', '', 1, :now,"
                    " :now)"
                ),
                {
                    "id": task_id,
                    "measure": measure_id,
                    "occurrence": occurrence,
                    "start": start,
                    "due": due,
                    "now": now,
                },
            )
        # what a clerk set by hand (schema 0003), and a history that refers to a task
        run(sa.text("UPDATE measure SET deadline_override = 'до 30.11.2026' WHERE id = 4"))
        run(sa.text("UPDATE task SET set_by_hand = '[\"dates\"]' WHERE id = 5"))
        run(
            sa.text(
                "INSERT INTO person (id, key, name, position, organisation, email, roles,"
                " aliases, active) VALUES (1, 'ivanova', 'Иванова', '', '', '', '[]', '[]', true)"
            )
        )
        run(
            sa.text(
                "INSERT INTO auditevent (seq, task_id, event, from_state, to_state, actor_id,"
                " at, comment, evidence, prev_hash, hash) VALUES (1, 3, 'start', 'planned',"
                " 'in_progress', 1, :now, '', '[]', '', '')"
            ),
            {"now": now},
        )
    upgrade(engine)  # on SQLite the task table is rebuilt: the history still points at it
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT task_id FROM auditevent")).scalar_one() == 3
        keys = dict(connection.execute(sa.text("SELECT id, occurrence_key FROM task")).all())
        versions = set(
            connection.execute(sa.text("SELECT schedule_version FROM measure")).scalars()
        )
        override = connection.execute(
            sa.text("SELECT deadline_override FROM measure WHERE id = 4")
        ).scalar_one()
        by_hand = connection.execute(
            sa.text("SELECT set_by_hand FROM task WHERE id = 5")
        ).scalar_one()
    assert override == "до 30.11.2026"
    assert (json.loads(by_hand) if isinstance(by_hand, str) else by_hand) == ["dates"]
    assert keys == {
        1: "d:..2026-10-31",
        2: "d:2027-03-01..2027-03-31",
        3: "e:2027-04-13",
        4: "legacy:1",
        5: "-",
    }
    assert versions == {0}
    engine.dispose()
