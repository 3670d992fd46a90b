"""Schema migrations: from an empty database to head, and the refusals around it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from engine.core.db import check_schema, current_revision, head_revision, make_engine, upgrade
from engine.core.errors import ConfigError, DatabaseError


def test_migration_from_empty_database(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(DatabaseError, match="run `measures init` first"):
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


def test_newer_database_is_refused(sqlite_engine: sa.Engine) -> None:
    upgrade(sqlite_engine)
    with sqlite_engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    assert current_revision(sqlite_engine) == "9999"
    with pytest.raises(DatabaseError, match="newer release"):
        check_schema(sqlite_engine)
    with pytest.raises(DatabaseError, match="newer release"):
        upgrade(sqlite_engine)


def test_bad_database_url() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        make_engine("no such thing")
    with pytest.raises(ConfigError, match="cannot use 'oracle"):
        make_engine("oracle+nodriver://x@y/z")


def test_0002_keys_existing_tasks_by_their_anchor(db_url: str) -> None:
    # Issue 7: tasks of a database made before occurrence keys get keys from what they
    # store, and the old measures are marked as stored without their parsed schedule.
    from alembic import command

    from engine.core.db import _alembic_config

    engine = make_engine(db_url)
    command.upgrade(_alembic_config(engine), "0001")
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
    upgrade(engine)
    with engine.connect() as connection:
        keys = dict(connection.execute(sa.text("SELECT id, occurrence_key FROM task")).all())
        versions = set(
            connection.execute(sa.text("SELECT schedule_version FROM measure")).scalars()
        )
    assert keys == {
        1: "d:..2026-10-31",
        2: "d:2027-03-01..2027-03-31",
        3: "e:2027-04-13",
        4: "legacy:1",
        5: "-",
    }
    assert versions == {0}
    engine.dispose()
