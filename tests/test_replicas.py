"""Two daemons on one PostgreSQL: a simulated month, no step taken twice.

Each "daemon" is a thread with its own App — its own engine and connection pool, so the
database sees two independent clients exactly as with two processes — and both sweep
at the same moments of every day of the month.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.app import App
from engine.core.clock import FixedClock
from engine.core.settings import load_config
from engine.escalation.simulate import simulate
from engine.escalation.sweep import sweep
from tests.bulk import fill
from tests.conftest import write_config
from tests.test_daemon import _outcome

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.postgres
def test_two_daemons_for_a_month(pg_url: str, tmp_path: Path) -> None:
    start = date(2026, 11, 2)
    config = load_config(write_config(tmp_path, pg_url))
    first = App(config, FixedClock(datetime.combine(start, time(9), tzinfo=MSK)))
    fill(first.engine, tasks=400, first_due=date(2026, 11, 5), days=25)
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
    first.engine.dispose()
    second.engine.dispose()
