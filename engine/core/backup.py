"""Backups of the embedded SQLite database, and restoring one.

SQLite's online-backup API copies a consistent snapshot while the daemon keeps running.
PostgreSQL is backed up with its own tools (``pg_dump``); we do not wrap them.
Restoring refuses a backup whose schema is newer than this program, and writes through
the same API, so a half-written restore cannot leave a torn database file: it is one
SQLite transaction. Stop the daemon before restoring.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from engine.core.db import check_schema, make_engine
from engine.core.errors import DatabaseError, InputError

PG_ADVICE = (
    "the database is PostgreSQL: back it up with its own tools, e.g. "
    "`pg_dump --format=custom --file=measures.dump DBNAME`, and restore with "
    "`pg_restore --clean --dbname=DBNAME measures.dump` (then `measures init`)"
)


def _sqlite_path(engine: Engine) -> Path:
    if engine.dialect.name != "sqlite":
        raise DatabaseError(PG_ADVICE)
    database = engine.url.database
    if not database or database == ":memory:":
        raise DatabaseError("база данных — не файл SQLite: копировать нечего")
    return Path(database)


def backup(engine: Engine, target: Path) -> Path:
    """Copy the live database to ``target`` (a file; refused if it exists)."""
    source = _sqlite_path(engine)
    if target.exists():
        raise InputError(f"{target}: уже существует; выберите новое имя файла")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
            live.backup(copy)
        copy.close()
    except (OSError, sqlite3.Error) as exc:
        raise InputError(f"{target}: не удаётся записать туда копию: {exc}") from None
    return target


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's content with the backup ``source``."""
    target = _sqlite_path(engine)
    if not source.is_file():
        raise InputError(f"{source}: файл не найден")
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as probe:
            probe.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        raise InputError(f"{source}: не резервная копия measures (нет версии схемы)") from None
    candidate = make_engine(f"sqlite:///{source}")
    try:
        check_schema(candidate)  # newer or older than this program: refuse
    finally:
        candidate.dispose()
    engine.dispose()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as backup_db, sqlite3.connect(target) as live:
            backup_db.backup(live)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseError(
            f"{target}: восстановить не удалось, база не изменилась: {exc}"
        ) from None
