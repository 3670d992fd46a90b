"""Database engine, sessions and the schema version.

SQLite is the embedded default. Its writers are serialised with ``BEGIN IMMEDIATE``:
with SQLite's default deferred transactions two writers that both read first deadlock
and one gets "database is locked" at an arbitrary point; taking the write lock at BEGIN
makes the second wait (``busy_timeout``) and then read the first one's result, which the
version check turns into a clean :class:`~engine.core.errors.Conflict`.

Alembic owns the schema. :func:`upgrade` is ``measures init``; :func:`check_schema` is
called by every other command and refuses a database that is older (say which command
upgrades it) or newer than this program.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from engine.core.errors import ConfigError, DatabaseError

if TYPE_CHECKING:  # alembic is imported by the upgrade only (every command checks the schema)
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and immediate writes."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database.url: это не адрес базы данных: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:  # unknown dialect or missing driver: a configuration mistake
        raise ConfigError(
            f"database.url: не удаётся использовать {parsed.drivername!r}: {exc}"
        ) from None


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" hook issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


#: Execution option of engines made by :func:`read_scope`: begin SQLite DEFERRED.
READ_ONLY = "measures_read_only"


def _sqlite_begin(connection: Any) -> None:
    deferred = connection.get_execution_options().get(READ_ONLY)
    connection.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose objects stay readable after commit (results are shown afterwards)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session for long reads (reports): one consistent snapshot, no write lock.

    On SQLite it begins DEFERRED, so in WAL mode the daemon keeps writing while a report
    reads for minutes; an IMMEDIATE transaction would hold the database's only write
    lock for as long. Nothing may be written through it.
    """
    with Session(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False) as session:
        yield session


def finish(session: Session, *, dry_run: bool) -> None:
    """Commit — or, for a dry run that computed everything, roll it all back."""
    if dry_run:
        session.rollback()
    else:
        session.commit()


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


#: ``revision = "…"`` and ``down_revision = "…" | None`` of a migration file.
_REVISION = re.compile(r'^(down_)?revision(?:\s*:[^=\n]*)?\s*=\s*(?:"([^"]*)"|None)', re.M)


@cache
def revisions() -> dict[str, str | None]:
    """Every revision of the migrations folder and the one it follows, read from the
    files' text without importing alembic (which costs a command a quarter of a second
    to start); tests/test_db.py checks that alembic reads the same."""
    found: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values = {m[1] or "": m[2] for m in _REVISION.finditer(path.read_text(encoding="utf-8"))}
        if values.get(""):
            found[str(values[""])] = values.get("down_")
    return found


def head_revision() -> str:
    known = revisions()
    heads = set(known) - set(known.values())
    if len(heads) != 1:
        raise DatabaseError(f"the migrations have {len(heads)} heads, one expected: {heads}")
    return heads.pop()


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database (None for PostgreSQL or an in-memory database)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def current_revision(engine: Engine) -> str | None:
    """The schema revision; None for an empty database — or a SQLite file that does not
    exist yet, which is not created by asking (only ``measures init`` creates it)."""
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        return None
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            found = connection.execute(text("SELECT version_num FROM alembic_version"))
            return found.scalars().first()
    except OperationalError as exc:
        raise DatabaseError(f"не удаётся открыть базу данных {engine.url!r}: {exc.orig}") from None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to this program's head; returns (before, after)."""
    before = current_revision(engine)
    _refuse_unknown(before)
    path = sqlite_file(engine)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")
    return before, head_revision()


def _refuse_unknown(revision: str | None) -> None:
    if revision is None:
        return
    if revision not in revisions():
        raise DatabaseError(
            f"схема базы данных — версия {revision}, которой эта версия measures не знает: "
            "базу создала более новая версия программы. Обновите measures."
        )


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database that is empty, older or newer than this program."""
    revision = current_revision(engine)
    if revision is None:
        raise DatabaseError(
            f"база данных {engine.url.render_as_string(hide_password=True)} ещё не "
            "создана: сначала выполните `measures init`"
        )
    _refuse_unknown(revision)
    if revision != head_revision():
        raise DatabaseError(
            f"схема базы данных — версия {revision}, программе нужна {head_revision()}: "
            "выполните `measures init`, чтобы обновить её (сначала сделайте резервную копию)"
        )
