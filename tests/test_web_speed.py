"""What made the pages slow under 20 concurrent clients (bench/web.py, issue 10), each
as a behaviour: page reads never queue for SQLite's write lock; each web worker listens
on its own socket, so connections spread over the workers; an expired plan dashboard is
shown while it is recomputed, not after."""

from __future__ import annotations

import pickle
import socket
import sqlite3
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.app import App, dashboard, work
from engine.core.db import session_scope
from engine.core.models import Measure, Task
from engine.web.listeners import WorkerListener, reserve, reuse_port_supported
from tests.conftest import sqlite_file_app
from tests.factories import setup


@pytest.fixture
def sqlite_app(tmp_path: Path) -> App:
    return sqlite_file_app(tmp_path)


def test_a_page_is_read_while_another_connection_holds_the_write_lock(
    sqlite_app: App, tmp_path: Path
) -> None:
    """Before, every page view began ``BEGIN IMMEDIATE``: it waited for the write lock,
    and 20 readers queued behind each other in SQLite's busy handler (sleeps of up to
    100 ms: the p95 of bench/web.py was 4–12 × its median)."""
    people, tasks = setup(sqlite_app, 3)
    sqlite_app.ready_engine()  # the schema check, once per process (the web's start-up)
    writer = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE task SET report = 'пишется' WHERE id = ?", (tasks[0].id,))
    found: list[work.Folder] = []
    reader = threading.Thread(
        target=lambda: found.append(work.my_tasks(sqlite_app, people["resp"]))
    )
    try:
        reader.start()
        reader.join(timeout=5)
        assert found, "the page waited for another connection's write transaction"
        folder = found[0]
        shown = folder.soon + folder.later + folder.overdue
        assert {line.id for line in shown} == {t.id for t in tasks}
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join()


@pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT balancing is Linux's")
def test_each_worker_listens_on_its_own_socket_and_connections_spread() -> None:
    """Before, the supervisor's one socket went to every worker and the first to wake
    took 18 of 20 connections. What a spawned worker unpickles is a listening socket of
    its own in the port's group; the kernel hands connections to both."""
    held = reserve("127.0.0.1", 0)
    port = held.getsockname()[1]
    first, second = (
        pickle.loads(pickle.dumps(WorkerListener("127.0.0.1", port, 64))) for _ in range(2)
    )
    # asyncio sets TCP_NODELAY on an accepted connection only when the listener says TCP
    assert first.proto == second.proto == socket.IPPROTO_TCP
    first.setblocking(False)
    second.setblocking(False)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
    time.sleep(0.2)
    accepted = {"first": 0, "second": 0}
    for name, listener in (("first", first), ("second", second)):
        while True:
            try:
                connection, _ = listener.accept()
            except BlockingIOError:
                break
            connection.close()
            accepted[name] += 1
    for client in clients:
        client.close()
    for sock in (first, second, held):
        sock.close()
    assert accepted["first"] + accepted["second"] == 40
    assert accepted["first"] > 0 and accepted["second"] > 0, accepted


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    from engine.core.errors import ConfigError
    from engine.web import serve_workers

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    app = sqlite_file_app(tmp_path)
    try:
        with pytest.raises(ConfigError, match=f"web.port: .*127.0.0.1:{port}"):
            serve_workers(app, 2, "127.0.0.1", port)
    finally:
        taken.close()


def test_an_expired_dashboard_is_shown_while_it_is_recomputed(
    sqlite_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the view that found the board expired recomputed it (0.2 s for a region's
    plan) and every view behind it waited; now it gets the last board at once, a thread
    recomputes, and a later view gets the new one."""
    people, tasks = setup(sqlite_app, 2)
    with session_scope(sqlite_app.engine) as session:
        measure = session.get(Measure, tasks[0].measure_id)
        assert measure is not None
        plan_id = measure.plan_id
    filters = dashboard.Filters(None, None, None, None, False)
    clock = [1000.0]
    monkeypatch.setattr(dashboard, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    dashboard._cache.clear()
    first = dashboard.plan_dashboard(sqlite_app, people["sup"], plan_id, filters)
    assert dashboard.plan_dashboard(sqlite_app, people["sup"], plan_id, filters) is first
    clock[0] += dashboard.CACHE_SECONDS + 1
    # An import (it fires nothing, so the audit head stays) adds a task meanwhile.
    with session_scope(sqlite_app.engine) as session:
        extra = session.get(Task, tasks[1].id)
        assert extra is not None
        session.add(
            Task(
                measure_id=extra.measure_id,
                occurrence=9,
                occurrence_key="extra",
                responsible_id=extra.responsible_id,
                supervisor_id=extra.supervisor_id,
                due_date=extra.due_date,
                state="planned",
                state_since=extra.state_since,
                created_at=extra.created_at,
                updated_at=extra.updated_at,
            )
        )
        session.commit()
    stale = dashboard.plan_dashboard(sqlite_app, people["sup"], plan_id, filters)
    assert stale is first and stale.overall.total == 2
    deadline = time.monotonic() + 10
    while dashboard._refreshing and time.monotonic() < deadline:
        time.sleep(0.01)
    fresh = dashboard.plan_dashboard(sqlite_app, people["sup"], plan_id, filters)
    assert fresh is not first and fresh.overall.total == 3


@pytest.mark.parametrize("threads", [1, 3])
def test_a_process_works_on_web_threads_requests_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """Six page views arrive together; at most ``web.threads`` are worked on at once,
    the others wait their turn (with 40 threads on one interpreter lock each page cost
    1.5-2x the CPU, bench/web.py)."""
    import asyncio

    import httpx

    from engine.app.access import new_session
    from engine.web import create_app

    app = sqlite_file_app(tmp_path, f"[web]\nthreads = {threads}\n")
    people, _ = setup(app, 1)
    busy: list[int] = []
    most = [0]
    guard = threading.Lock()
    real = work.my_tasks

    def slow(*args: object) -> work.Folder:
        with guard:
            busy.append(1)
            most[0] = max(most[0], len(busy))
        time.sleep(0.5)  # long enough for the others to arrive meanwhile
        with guard:
            busy.pop()
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(work, "my_tasks", slow)
    web = create_app(app)
    cookie = new_session(app, people["resp"])[0]

    async def views() -> list[int]:
        async with web.router.lifespan_context(web):
            transport = httpx.ASGITransport(app=web)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://t", cookies={"measures_session": cookie}
            ) as client:
                answers = await asyncio.gather(*(client.get("/tasks") for _ in range(6)))
        return [a.status_code for a in answers]

    assert asyncio.run(views()) == [200] * 6
    assert most[0] == threads
