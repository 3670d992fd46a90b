"""Shared fixtures: real databases (a SQLite file, a PostgreSQL server), a fake clock.

PostgreSQL: the session starts its own server from the installed binaries in a temporary
folder (as the unprivileged ``postgres`` user when we are root — the server refuses to
run as root) and gives each test a fresh database. ``MEASURES_TEST_PG_URL`` points the
tests at an existing server instead. Where no server can be had the PostgreSQL tests
skip with the reason — except under CI (``CI=true``), where they fail: CI must not pass
by skipping.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.app import App
from engine.core.clock import FixedClock
from engine.core.db import make_engine, upgrade
from engine.core.settings import load_config

#: Fixtures that live in their own module (a real browser, the in-process web client).
pytest_plugins = ["tests.browser", "tests.webclient"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: 10:00 Moscow time on a Wednesday in the middle of the school year.
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing(what: str, reason: str) -> None:
    """Skip a test whose real part (a server, a browser) is missing — but fail under CI:
    CI must not pass by skipping."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI: {reason}")
    pytest.skip(f"{what} tests skipped: {reason}")


def _unavailable(reason: str) -> None:
    missing("PostgreSQL", reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a PostgreSQL server (without database name)."""
    external = os.environ.get("MEASURES_TEST_PG_URL")
    if external:
        yield external.rstrip("/")
        return
    bindir = _pg_bindir()
    if bindir is None:
        _unavailable("no initdb found (apt-get install postgresql)")
    assert bindir is not None
    as_user: list[str] = []
    if os.geteuid() == 0:
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            _unavailable("running as root and no unprivileged 'postgres' user to run the server")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="measures-pg-"))
    datadir, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    if as_user:
        shutil.chown(base, "postgres")
        shutil.chown(sockdir, "postgres")
    port = _free_port()
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "measures",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-l",
            str(base / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://measures@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{pg_server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'measures.db'}"
    return str(request.getfixturevalue("pg_url"))


def write_config(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(f'data_dir = "data"\n{extra}\n[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


def sqlite_file_app(folder: Path, extra: str = "") -> App:
    """An initialised application on a SQLite file in ``folder``, its clock at :data:`NOW`
    (``extra``: configuration lines before ``[database]``). For tests about one database's
    behaviour; the ``app`` fixture runs a test on both."""
    instance = App(
        load_config(write_config(folder, f"sqlite:///{folder / 'm.db'}", extra)), FixedClock(NOW)
    )
    upgrade(instance.engine)
    return instance


def assert_doctor_finds_nothing(app: App) -> None:
    """``measures doctor``: every task's stored next step equals the one computed from
    scratch — whatever the scenario did went through the one mechanism that keeps it."""
    from engine.app.operations import doctor

    report = doctor(app, fix=False)
    assert report.count == 0, f"next_step_at differs from scratch: {report.differences}"


@pytest.fixture
def app(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[App]:
    """An initialised application on ``db_url`` with the clock fixed at :data:`NOW`.

    After the test the doctor recomputes every task's next step and must find nothing
    (``@pytest.mark.no_doctor`` for a test that breaks the data on purpose).
    """
    monkeypatch.delenv("MEASURES_DATABASE_URL", raising=False)
    monkeypatch.delenv("MEASURES_NOW", raising=False)
    config = load_config(write_config(tmp_path, db_url))
    instance = App(config, FixedClock(NOW))
    upgrade(instance.engine)
    yield instance
    passed = getattr(request.node, "rep_call", None)
    if passed is not None and passed.passed and not request.node.get_closest_marker("no_doctor"):
        assert_doctor_finds_nothing(instance)
    instance.engine.dispose()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Keep each phase's report on the test item (the ``app`` fixture asks whether the
    test itself passed before it runs the doctor)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    yield engine
    engine.dispose()
