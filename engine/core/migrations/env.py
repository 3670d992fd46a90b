"""Alembic environment: runs on the engine handed over by engine.core.db (no alembic.ini).

On SQLite, ``batch_alter_table`` rebuilds a table (copy, drop, rename); with foreign keys
enforced the drop of a referenced table fails, so they are switched off for the
migration — outside the transaction, where SQLite allows it — and checked afterwards.
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
    raw = connection.connection.driver_connection  # the sqlite3 connection, autocommit
    if sqlite:
        raw.execute("PRAGMA foreign_keys=OFF")
    with connection.begin():
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=sqlite,
        )
        context.run_migrations()
        if sqlite:
            broken = connection.execute(text("PRAGMA foreign_key_check")).first()
            if broken is not None:
                raise RuntimeError(f"migration left a broken foreign key: {tuple(broken)}")
    if sqlite:
        raw.execute("PRAGMA foreign_keys=ON")
