"""p50/p95 of the busiest pages with 20 concurrent clients on a region-sized database.

    .venv/bin/python bench/web.py [--schools 1000] [--clients 20] [--requests 25] [--workers 1]

A SQLite file is generated in a temporary folder: 1,000 schools (each with its head), a
plan whose 24 measures fan out to every school (24,000 tasks, states mixed as in the
middle of a school year, with their audit rows), then the real web server — the
``measures web --workers N`` command as its own process(es), so the clients here do not
share an interpreter lock with it — is hammered by ``--clients`` concurrent clients,
each signed in with a session cookie:

* На исполнение (``/tasks``) as school heads (24 tasks each);
* На контроле (``/control``) as the plan's controller (every report waiting);
* План (``/plans/1``) — the dashboard with its progress counts and chart.

Prints a Markdown table for bench/RESULTS.md, with the machine's 1-minute load average
before and after each page (the machine may be shared: read the figures against it).
Requests stay on 127.0.0.1 and stop after ``--requests`` per client per page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from engine.app import App  # noqa: E402
from engine.app.access import new_session  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.db import session_scope, upgrade  # noqa: E402
from engine.core.models import AuditEvent, Measure, Person, Plan, School, Task, pk  # noqa: E402
from engine.core.settings import load_config  # noqa: E402
from engine.lifecycle import audit  # noqa: E402

NOW = datetime(2027, 2, 10, 7, 0, tzinfo=UTC)
CREATED = datetime(2026, 8, 31, 6, 0, tzinfo=UTC)
MEASURES = 24


def generate(app: App, schools: int) -> None:
    """The region: schools, heads, one plan fanned out, states and audit rows."""
    rng = random.Random(2027)
    engine = app.engine
    upgrade(engine)
    with session_scope(engine) as session:
        controller = Person(key="controller", name="Петрова Анна Сергеевна", email="c@example.org")
        admin = Person(key="admin", name="Админов", email="a@example.org", roles=["admin"])
        session.add_all([controller, admin])
        session.flush()
        session.execute(
            insert(Person),
            [
                {
                    "key": f"head{n}",
                    "name": f"Директор школы {n}",
                    "position": "Директор",
                    "organisation": f"Школа {n}",
                    "email": f"head{n}@example.org",
                    "roles": [],
                    "aliases": [],
                    "active": True,
                }
                for n in range(schools)
            ],
        )
        heads = {p.key: pk(p) for p in session.query(Person).filter(Person.key.like("head%"))}  # type: ignore[attr-defined]
        session.execute(
            insert(School),
            [
                {
                    "key": f"s{n}",
                    "name": f"МБОУ «Средняя школа № {n}»",
                    "short_name": f"СШ № {n}",
                    "email": "",
                    "head_id": heads[f"head{n}"],
                    "aliases": [],
                }
                for n in range(schools)
            ],
        )
        school_ids = [pk(s) for s in session.query(School).order_by(School.id)]  # type: ignore[arg-type]
        plan = Plan(
            title="План мероприятий по обеспечению объективности",
            period_start=date(2026, 9, 1),
            period_end=date(2027, 8, 31),
            controller_id=pk(controller),
            created_at=CREATED,
        )
        session.add(plan)
        session.flush()
        measures = []
        for n in range(MEASURES):
            measure = Measure(
                plan_id=pk(plan),
                position=n,
                number=str(n + 1),
                title=f"Мероприятие {n + 1}",
                schedule={"kind": "once"},
            )
            session.add(measure)
            measures.append(measure)
        session.flush()
        rows = []
        for n, measure in enumerate(measures):
            due = date(2026, 10, 1) + timedelta(days=10 * n)
            for school, head in zip(school_ids, heads.values(), strict=False):
                done = due < date(2027, 2, 10)
                state = (
                    rng.choice(["verified", "verified", "reported", "in_progress"])
                    if done
                    else rng.choice(["planned", "in_progress"])
                )
                rows.append(
                    {
                        "measure_id": pk(measure),
                        "occurrence": 1,
                        "school_id": school,
                        "responsible_id": head,
                        "supervisor_id": pk(controller),
                        "due_date": due,
                        "state": state,
                        "version": 1,
                        "report": "Отчёт" if state in ("reported", "verified") else "",
                        "created_at": CREATED,
                        "updated_at": CREATED,
                        "state_since": CREATED,
                    }
                )
        session.execute(insert(Task), rows)
        session.commit()
        key = app.audit_key
        for task in session.query(Task).filter(Task.state == "verified"):  # type: ignore[arg-type]
            audit.append(
                session,
                AuditEvent(
                    task_id=pk(task),
                    event="verify",
                    from_state="reported",
                    to_state="verified",
                    actor_id=pk(controller),
                    at=CREATED + timedelta(days=rng.randint(30, 160)),
                    seq=0,
                    prev_hash="",
                    hash="",
                ),
                key,
            )
        session.commit()


async def hammer(base: str, cookies: list[str], path_for: list[str], requests: int) -> list[float]:
    timings: list[float] = []

    async def client(cookie: str, path: str) -> None:
        async with httpx.AsyncClient(
            base_url=base, cookies={"measures_session": cookie}, timeout=60
        ) as http:
            await http.get(path)  # warm-up: the connection, the pool, compiled templates
            for _ in range(requests):
                started = time.perf_counter()
                response = await http.get(path)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)

    await asyncio.gather(*(client(c, p) for c, p in zip(cookies, path_for, strict=True)))
    return timings


def start_server(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """``measures web`` on the generated database, answering at /signin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEASURES_")}
    env["MEASURES_CONFIG"] = str(folder / "config.toml")
    env["MEASURES_NOW"] = NOW.isoformat()  # the moment the data was generated for
    measures = Path(sys.executable).parent / "measures"
    command = [str(measures), "web", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/signin", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit("measures web did not start")
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its live children, from /proc:
    the server's own cost per request, whatever else the machine is doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--workers", type=int, default=1, help="measures web --workers")
    parser.add_argument("--threads", type=int, default=0, help="web.threads (0: the default)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="measures-bench-web-"))
    port = 18000 + random.randint(0, 999)
    threads = f"threads = {args.threads}\n" if args.threads else ""
    (folder / "config.toml").write_text(
        f'data_dir = "data"\n[web]\nport = {port}\nsession_hours = 720\nrate_limit = 10000\n'
        + threads,
        encoding="utf-8",
    )
    app = App(load_config(folder / "config.toml"), FixedClock(NOW))
    started = time.perf_counter()
    generate(app, args.schools)
    with session_scope(app.engine) as session:
        tasks = session.query(Task).count()
        people = {p.key: p for p in session.query(Person)}
    took = time.perf_counter() - started
    print(f"generated {tasks} tasks for {args.schools} schools in {took:.1f} s")
    app.engine.dispose()
    server = start_server(folder, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for label, path, who in (
            ("На исполнение", "/tasks", [f"head{n}" for n in range(args.clients)]),
            ("На контроле", "/control", ["controller"] * args.clients),
            ("План", "/plans/1", ["controller"] * args.clients),
        ):
            cookies = [new_session(app, people[key])[0] for key in who]
            load_before = os.getloadavg()[0]
            server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
            timings = asyncio.run(hammer(base, cookies, [path] * args.clients, args.requests))
            served = args.clients * (args.requests + 1)  # with the warm-up requests
            server_ms = (cpu_seconds(server.pid) - server_cpu) * 1000 / served
            client_ms = (time.process_time() - client_cpu) * 1000 / served
            load_after = os.getloadavg()[0]
            timings.sort()
            p50 = statistics.median(timings) * 1000
            p95 = timings[int(len(timings) * 0.95) - 1] * 1000
            rows.append(
                (label, path, len(timings), p50, p95, server_ms, client_ms, load_before, load_after)
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    print(
        f"\n{args.clients} concurrent clients, {args.requests} requests each, {tasks} tasks, "
        f"measures web --workers {args.workers}, web.threads {args.threads or 'default'}, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(
        "| page | path | workers | clients | requests | p50, ms | p95, ms "
        "| server CPU, ms/request | clients' CPU, ms/request | load avg |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, path, count, p50, p95, server_ms, client_ms, before, after in rows:
        print(
            f"| {label} | `{path}` | {args.workers} | {args.clients} | {count} | {p50:.0f} "
            f"| {p95:.0f} | {server_ms:.1f} | {client_ms:.1f} | {before:.1f} → {after:.1f} |"
        )


if __name__ == "__main__":
    main()
