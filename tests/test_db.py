"""Schema migrations: from an empty database to head, and the refusals around it."""

from __future__ import annotations

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
    engine.dispose()
