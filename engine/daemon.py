"""``measures run``: the long-running process.

APScheduler 3.11 (the stable line; 4.x is alpha) with an ``AsyncIOScheduler`` holding a
few fixed jobs calling the application layer (engine.app.operations) — the sweep, the
daily digest and weekly summary, the school cases' check, and the outbox delivery. The
database is the source of truth: no job per deadline, nothing held only in memory, so a
start after any downtime simply finds what became due meanwhile. Jobs are kept in
memory (3.x job stores must not be shared between processes), ``coalesce`` folds missed
runs into one and ``misfire_grace_time=None`` lets a late run still happen.

The database work runs in a worker thread so the event loop stays free to hear SIGTERM;
on SIGTERM/SIGINT the daemon stops taking new runs, lets the batch in flight commit and
exits 0. The log always ends with "stopped" or "crashed".
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from enum import Enum

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.app import App
from engine.app.operations import check_school_cases, queue_digests, record_daemon, take_due_steps

log = logging.getLogger(__name__)


class RunState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"


class Daemon:
    def __init__(self, app: App) -> None:
        self.app = app
        self.state = RunState.STOPPED
        self.stopping = threading.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._mailer = app.mailer()

    def _guarded(
        self, name: str, job: Callable[[], Awaitable[None]]
    ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self.stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)
            try:
                await job()
            except Exception:
                log.exception("job %s failed; it runs again at its next time", name)
            finally:
                self._in_flight.discard(task)

        return run

    async def _sweep(self) -> None:
        await asyncio.to_thread(take_due_steps, self.app, self.stopping)

    async def _digests(self) -> None:
        await asyncio.to_thread(queue_digests, self.app)

    async def _cases(self) -> None:
        await asyncio.to_thread(check_school_cases, self.app)

    async def _deliver(self) -> None:
        result = await self.app.deliver(self._mailer, stop=self.stopping)
        if result.sent or result.failed:
            log.info(
                "delivery: %d sent, %d retried later, %d failed",
                result.sent,
                result.retried,
                result.failed,
            )

    def _announce(self, state: RunState) -> None:
        """Move to ``state`` and tell ``measures status`` which process is in it."""
        self.state = state
        record_daemon(
            self.app, {"pid": os.getpid(), "host": socket.gethostname(), "state": state.value}
        )

    async def serve(self) -> None:
        app = self.app
        cfg = app.config
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        self.state = RunState.STARTING
        log.info(
            "daemon %s (database %s, pid %d)",
            self.state.value,
            app.engine.url.render_as_string(hide_password=True),
            os.getpid(),
        )
        async with AsyncExitStack() as stack:
            scheduler = AsyncIOScheduler(timezone=cfg.timezone)
            # The scheduler paces itself on real time; the jobs ask the app's clock what
            # "now" means (a --now clock must not delay the first run by months).
            now = datetime.now(UTC)
            for name, job, seconds in (
                ("sweep", self._sweep, cfg.settings.daemon.sweep_seconds),
                ("delivery", self._deliver, cfg.settings.daemon.delivery_seconds),
                ("digests", self._digests, cfg.settings.daemon.sweep_seconds),
                ("cases", self._cases, cfg.settings.daemon.sweep_seconds),
            ):
                scheduler.add_job(
                    self._guarded(name, job),
                    "interval",
                    seconds=seconds,
                    id=name,
                    name=name,
                    misfire_grace_time=None,
                    coalesce=True,
                    max_instances=1,
                    next_run_time=now,
                )
            closer = getattr(self._mailer, "aclose", None)
            if closer is not None:  # an SMTP connection is closed after the last job
                stack.push_async_callback(closer)
            scheduler.start()
            stack.callback(scheduler.shutdown, False)
            self._announce(RunState.RUNNING)
            log.info("daemon %s; stop with Ctrl+C or SIGTERM", self.state.value)
            await stop.wait()
            self.state = RunState.STOPPING
            log.info("daemon %s: finishing the work in flight", self.state.value)
            self.stopping.set()
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
        self._announce(RunState.STOPPED)
        log.info("daemon %s", self.state.value)


def run_daemon(app: App) -> None:
    daemon = Daemon(app)
    try:
        asyncio.run(daemon.serve())
    except BaseException:
        log.exception("daemon crashed")
        raise
