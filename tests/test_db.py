"""Schema migrations: from an empty database to head, and the refusals around it."""

from __future__ import annotations

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
