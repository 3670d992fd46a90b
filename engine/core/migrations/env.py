"""Alembic environment: runs on the engine handed over by engine.core.db (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import engine.core.models

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
