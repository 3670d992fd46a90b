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

Every daemon registers itself (host, pid, start, last job) for ``measures status``.
Several daemons may share one PostgreSQL database (row locks divide the work); on SQLite
a second one refuses to start: an exclusive ``flock`` on ``<database>.daemon.lock``,
which the kernel releases however the holder ends, tells it that one is running.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.app import App
from engine.app.operations import (
    calendar_moved,
    check_school_cases,
    daemon_seen,
    housekeeping,
    queue_digests,
    register_daemon,
    running_daemons,
    take_due_steps,
)
from engine.core.db import sqlite_file
from engine.core.errors import ConfigError, MeasuresError

T = TypeVar("T")
log = logging.getLogger(__name__)

#: How often the daemon asks whether today's housekeeping (retention) is done.
HOUSEKEEPING_SECONDS = 3600


class RunState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"


class Daemon:
    def __init__(self, app: App, web: bool = True) -> None:
        self.app = app
        self.web = web
        self.state = RunState.STOPPED
        self.stopping = threading.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._mailer = app.mailer()
        self.registered: int | None = None
        # The sweep, the digests, the case check and housekeeping take turns: each holds
        # a day's worth of rows at its peak, and side by side their peaks added up (a
        # country's first sweep beside its digests: 350-419 MiB, each alone 129 / 312-387,
        # bench/RESULTS.md). Delivery is paced by the mail server and goes on meanwhile.
        self._heavy = asyncio.Lock()

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

    async def _in_turn(self, work: Callable[..., T], *args: object) -> T:
        async with self._heavy:
            return await asyncio.to_thread(work, *args)

    async def _sweep(self) -> None:
        await self._in_turn(take_due_steps, self.app, self.stopping)
        if self.registered is not None:
            await asyncio.to_thread(daemon_seen, self.app, self.registered)

    async def _digests(self) -> None:
        await self._in_turn(queue_digests, self.app)

    async def _cases(self) -> None:
        await self._in_turn(check_school_cases, self.app)

    async def _housekeeping(self) -> None:
        done = await self._in_turn(housekeeping, self.app)
        if done is not None:
            log.info(
                "housekeeping: %d old letter(s) and %d spool file(s) deleted",
                done.letters,
                done.files,
            )

    async def _deliver(self) -> None:
        result = await self.app.deliver(self._mailer, stop=self.stopping)
        if result.sent or result.failed:
            log.info(
                "delivery: %d sent, %d retried later, %d failed",
                result.sent,
                result.retried,
                result.failed,
            )

    async def _announce(self, state: RunState) -> None:
        """Move to ``state`` and tell the registry (``measures status``), in a thread."""
        self.state = state
        if self.registered is not None:
            await asyncio.to_thread(daemon_seen, self.app, self.registered, state.value)

    async def _start_web(self, stack: AsyncExitStack) -> None:
        """The web door in this loop: uvicorn's Server as a task, stopped on the way out
        (after it, the scheduler; the handlers' database work runs in threads)."""
        from engine.web import web_server

        server = web_server(self.app)

        async def serve() -> None:
            with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind
                await server.serve()

        task = asyncio.create_task(serve(), name="web")

        async def stop_web() -> None:
            server.should_exit = True
            await asyncio.gather(task, return_exceptions=True)

        stack.push_async_callback(stop_web)
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if task.done():  # e.g. the port is taken: say so and stop, not run half a daemon
            settings = self.app.config.settings.web
            raise ConfigError(
                f"the web pages could not start on {settings.host}:{settings.port} (the port "
                "may be in use): set web.host/web.port, or run `measures run --no-web`"
            )
        log.info("web pages at %s/", self.app.base_url)

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
            self.registered = await asyncio.to_thread(
                register_daemon, app, socket.gethostname(), os.getpid()
            )
            if await asyncio.to_thread(calendar_moved, app):
                log.warning(
                    "the working-day calendar changed since the stored due dates were "
                    "computed; see `measures calendar redate --dry-run`"
                )
            scheduler = AsyncIOScheduler(timezone=cfg.timezone)
            # The scheduler paces itself on real time; the jobs ask the app's clock what
            # "now" means (a --now clock must not delay the first run by months).
            now = datetime.now(UTC)
            for name, job, seconds in (
                ("sweep", self._sweep, cfg.settings.daemon.sweep_seconds),
                ("delivery", self._deliver, cfg.settings.daemon.delivery_seconds),
                ("digests", self._digests, cfg.settings.daemon.sweep_seconds),
                ("cases", self._cases, cfg.settings.daemon.sweep_seconds),
                ("housekeeping", self._housekeeping, HOUSEKEEPING_SECONDS),
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
            if self.web:  # before the jobs: a taken port stops the start, not a running daemon
                await self._start_web(stack)
            scheduler.start()
            stack.callback(scheduler.shutdown, False)
            await self._announce(RunState.RUNNING)
            log.info("daemon %s; stop with Ctrl+C or SIGTERM", self.state.value)
            await stop.wait()
            self.state = RunState.STOPPING
            log.info("daemon %s: finishing the work in flight", self.state.value)
            self.stopping.set()
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._announce(RunState.STOPPED)
        log.info("daemon %s", self.state.value)


def single_daemon_lock(app: App) -> int | None:
    """On SQLite: hold the database's daemon lock, or refuse to start beside another."""
    path = sqlite_file(app.engine)
    if path is None:
        return None
    lock = os.open(path.with_name(path.name + ".daemon.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        others = running_daemons(app)
        zone = app.config.timezone
        who = (
            f" (pid {others[0].pid} на {others[0].host}, запущен "
            f"{others[0].started_at.astimezone(zone):%d.%m.%Y %H:%M})"
            if others
            else ""
        )
        raise MeasuresError(
            f"с базой {path} уже работает демон{who}: с SQLite работает только один. "
            "Остановите его или перейдите на PostgreSQL для нескольких."
        ) from None
    return lock


def run_daemon(app: App, web: bool = True) -> None:
    """Run until stopped; a second daemon on one SQLite database is refused first."""
    lock = single_daemon_lock(app)
    daemon = Daemon(app, web)
    try:
        asyncio.run(daemon.serve())
    except MeasuresError as exc:  # a configuration mistake: one line, no traceback
        log.error("daemon stopped: %s", exc)
        raise
    except BaseException:
        log.exception("daemon crashed")
        raise
    finally:
        if lock is not None:
            os.close(lock)
