"""Daemons sharing one PostgreSQL: no step taken twice, none lost.

- Two "daemons" as threads, each with its own App — its own engine and connection pool,
  so the database sees two independent clients exactly as with two processes — sweep at
  the same moments of every day of a simulated month.
- Three real ``measures run`` processes take one catch-up sweep together; one of them is
  killed (SIGKILL) in the middle and the two others finish the work.
"""

from __future__ import annotations

import re
import signal
import threading
import time as clock
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from engine.app import App
from engine.core.clock import FixedClock
from engine.core.db import make_engine
from engine.core.settings import load_config
from engine.escalation.simulate import simulate
from engine.escalation.sweep import sweep
from tests.bulk import fill
from tests.conftest import assert_doctor_finds_nothing, write_config
from tests.test_cli import Cli
from tests.test_daemon import _outcome, start_daemon

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.postgres
def test_two_daemons_for_a_month(pg_url: str, tmp_path: Path) -> None:
    start = date(2026, 11, 2)
    config = load_config(write_config(tmp_path, pg_url))
    first = App(config, FixedClock(datetime.combine(start, time(9), tzinfo=MSK)))
    fill(first.engine, tasks=400, first_due=date(2026, 11, 5), days=25)
    first.next_steps_current()  # the bulk insert wrote no next steps: as a daemon's start
    second = App(config, FixedClock(first.clock.now()))
    end = start + timedelta(days=30)
    from engine.core.db import session_scope

    with session_scope(first.engine) as session:
        # From long before: the first sweep also takes what fell due before the month.
        expected = simulate(
            session,
            first.escalator,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime.combine(end, time(23), tzinfo=MSK).astimezone(UTC),
        )
    errors: list[BaseException] = []
    taken = {"first": 0, "second": 0}
    day = start
    while day <= end:
        for hour in (9, 13):
            moment = datetime.combine(day, time(hour), tzinfo=MSK)
            barrier = threading.Barrier(2)

            def run(
                app: App, name: str, moment: datetime = moment, barrier: threading.Barrier = barrier
            ) -> None:
                assert isinstance(app.clock, FixedClock)
                app.clock.set(moment)
                barrier.wait()
                try:
                    taken[name] += sweep(app.engine, app.escalator, app.clock, batch_size=25).steps
                except BaseException as exc:  # pragma: no cover - shown by the assertion
                    errors.append(exc)

            threads = [
                threading.Thread(target=run, args=(first, "first")),
                threading.Thread(target=run, args=(second, "second")),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        day += timedelta(days=1)
    assert errors == []
    steps, messages = _outcome(first.engine)
    assert {(task, key) for task, key, _ in steps} == {(e.task_id, e.key) for e in expected}
    assert len(messages) == len(set(messages))
    assert taken["first"] + taken["second"] == len(steps)
    assert taken["first"] > 0 and taken["second"] > 0  # they shared the work
    assert_doctor_finds_nothing(first)
    first.engine.dispose()
    second.engine.dispose()


def _steps_recorded(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM escalationstep")).scalar_one())


def _wait_for(what: str, condition: Callable[[], bool], seconds: float) -> None:
    deadline = clock.monotonic() + seconds
    while not condition():
        assert clock.monotonic() < deadline, f"waited {seconds} s for {what}"
        clock.sleep(0.2)


@pytest.mark.postgres
def test_three_daemon_processes_share_the_work_and_go_on_after_a_kill(
    pg_server: str, pg_url: str, tmp_path: Path
) -> None:
    now = datetime(2026, 12, 15, 6, 0, tzinfo=UTC)  # 09:00 in Moscow, as MEASURES_NOW below
    filled = make_engine(pg_url)
    fill(filled, tasks=1200, first_due=date(2026, 10, 1), days=70)
    filled.dispose()  # a template database must have no sessions
    # The reference: a copy of the same database swept once by a daemon nobody killed.
    reference = f"r_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        source = pg_url.rsplit("/", 1)[1]
        connection.execute(sa.text(f'CREATE DATABASE "{reference}" TEMPLATE "{source}"'))
    try:
        (tmp_path / "ref").mkdir()
        config = load_config(write_config(tmp_path / "ref", f"{pg_server}/{reference}"))
        ref = App(config, FixedClock(now))
        ref.next_steps_current()  # the bulk insert wrote no next steps: as a daemon's start
        sweep(ref.engine, ref.escalator, ref.clock)
        expected_steps, expected_messages = _outcome(ref.engine)
        ref.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{reference}" WITH (FORCE)'))
        admin.dispose()
    assert len(expected_steps) > 1000

    cli = Cli(tmp_path, pg_url)
    # Small batches, so that three daemons have many to divide; a short pace, so that a
    # batch the killed daemon held is taken by the next sweep of the others.
    write_config(tmp_path, pg_url, "[daemon]\nsweep_seconds = 3\nsweep_batch = 25\n")
    cli.env["MEASURES_NOW"] = "2026-12-15T09:00"
    logs = [tmp_path / f"daemon-{n}.log" for n in range(3)]
    processes = [start_daemon(cli, log) for log in logs]
    engine = make_engine(pg_url)
    try:
        _wait_for("the first steps", lambda: _steps_recorded(engine) > 0, 120)
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait(timeout=30)
        at_kill = _steps_recorded(engine)
        _wait_for("all steps", lambda: _steps_recorded(engine) >= len(expected_steps), 300)
        for process in processes[1:]:
            assert process.poll() is None  # the survivors run on
            process.send_signal(signal.SIGTERM)
        for process in processes[1:]:
            assert process.wait(timeout=60) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        engine.dispose()
    assert at_kill < len(expected_steps)  # the kill fell in the middle of the work
    app = App(load_config(Path(cli.env["MEASURES_CONFIG"])), FixedClock(now))
    steps, messages = _outcome(app.engine)
    assert steps == expected_steps
    assert len(messages) == len(set(messages))  # nothing twice
    assert sorted(messages) == sorted(expected_messages)  # nothing lost
    taken = [_steps_logged(log.read_text(encoding="utf-8")) for log in logs]
    assert sum(n > 0 for n in taken) >= 2, taken  # they shared the work
    assert sum(taken[1:]) + at_kill >= len(expected_steps)  # the survivors did the rest
    assert_doctor_finds_nothing(app)
    app.engine.dispose()


def _steps_logged(log: str) -> int:
    """Steps a daemon says it took (its ``sweep: … step(s) taken`` lines)."""
    return sum(int(n) for n in re.findall(r"sweep: \d+ task\(s\), (\d+) step\(s\) taken", log))
