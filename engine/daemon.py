"""``measures run``: the long-running process.

APScheduler 3.11 (the stable line; 4.x is alpha) with an ``AsyncIOScheduler`` holding a
few fixed jobs; the database is the source of truth, so there is no job per deadline and
nothing is lost when the process stops. Jobs are kept in memory (3.x job stores must not
be shared between processes) and ``misfire_grace_time=None`` so a late run still runs.

Today the sweep only counts what is due and overdue; reminders and escalation ladders
(issue 4) plug into :func:`sweep`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from enum import Enum

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.app import App
from engine.clock import local_date
from engine.db import session_scope
from engine.queries import list_tasks

log = logging.getLogger(__name__)


class RunState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"


def sweep(app: App) -> int:
    """One pass over the database; returns the number of overdue tasks."""
    with session_scope(app.ready_engine()) as session:
        overdue = list_tasks(
            session, app.workflow, local_date(app.clock, app.config.timezone), overdue=True
        )
    log.info("sweep: %d overdue task(s)", len(overdue))
    return len(overdue)


async def _serve(app: App, sweep_seconds: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    scheduler = AsyncIOScheduler(timezone=app.config.timezone)
    scheduler.add_job(
        sweep,
        "interval",
        seconds=sweep_seconds,
        args=[app],
        id="sweep",
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
        next_run_time=app.clock.now(),
    )
    state = RunState.STARTING
    log.info(
        "daemon %s (database %s)", state.value, app.engine.url.render_as_string(hide_password=True)
    )
    scheduler.start()
    state = RunState.RUNNING
    log.info("daemon %s; stop with Ctrl+C or SIGTERM", state.value)
    try:
        await stop.wait()
    finally:
        state = RunState.STOPPING
        log.info("daemon %s", state.value)
        scheduler.shutdown(wait=True)
        log.info("daemon %s", RunState.STOPPED.value)


def run_daemon(app: App, sweep_seconds: int = 60) -> None:
    try:
        asyncio.run(_serve(app, sweep_seconds))
    except BaseException:
        log.exception("daemon crashed")
        raise
