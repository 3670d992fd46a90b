"""Alembic environment: runs on the engine handed over by engine.core.db (no alembic.ini).

SQLite changes most constraints by copying a table and dropping the old one
(``render_as_batch``); with foreign keys enforced, dropping a table that others refer
to fails. So on SQLite foreign keys are switched off around the migration — outside
its transaction, where the pragma has effect — and checked with ``foreign_key_check``
before the transaction commits, as the SQLite documentation prescribes for schema
changes.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import engine.core.models

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")  # autocommit mode: outside any transaction
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=SQLModel.metadata,
                render_as_batch=sqlite,
            )
            context.run_migrations()
            if sqlite:
                broken = connection.execute(text("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")
