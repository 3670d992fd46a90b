"""The idle sweep's one read stays on the index when PostgreSQL's statistics are stale.

Found by bench/scale.py: right after a sweep has moved every due task forward, the
planner still believes most tasks are due and, for ``WHERE next_step_at <= now LIMIT 1``,
scans the whole table (627 ms at three million tasks, against 0.7 ms by the index).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from engine.core.db import make_engine
from engine.escalation.sweep import due_probe
from tests.bulk import fill

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _plan(conn: sa.Connection, statement: sa.Select[object]) -> str:
    compiled = statement.compile(dialect=conn.dialect)
    rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
    return "\n".join(row[0] for row in rows)


def test_the_idle_probe_reads_the_index_after_a_sweep_moved_every_task(pg_url: str) -> None:
    engine = make_engine(pg_url)
    fill(engine, tasks=3000, first_due=date(2026, 11, 1), days=20)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE task SET (autovacuum_enabled = false)")
        # the statistics of the moment before a sweep: every task due
        conn.exec_driver_sql("UPDATE task SET next_step_at = '2026-11-20T00:00:00+00:00'")
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE task")
    with engine.begin() as conn:
        # the sweep has taken every step: nothing is due, the statistics do not know it
        conn.exec_driver_sql("UPDATE task SET next_step_at = '2026-12-01T00:00:00+00:00'")
    with engine.connect() as conn:
        bare = _plan(conn, due_probe(NOW).order_by(None))
        probe = _plan(conn, due_probe(NOW))
        assert conn.execute(due_probe(NOW)).first() is None
    assert "Seq Scan" in bare  # the condition the bench met: the bare LIMIT 1 scans all
    assert "Seq Scan" not in probe and "Index" in probe, probe
    engine.dispose()
