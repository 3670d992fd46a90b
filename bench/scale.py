"""Scale benchmarks of issue 11: each figure beside its floor, measured in the same run.

    .venv/bin/python bench/scale.py sweep  --profiles district region [--db sqlite postgres]
    .venv/bin/python bench/scale.py memory --profile country --db postgres
    .venv/bin/python bench/scale.py send   [--messages 2000]
    .venv/bin/python bench/scale.py fire   [--tasks 2000 --workers 16]
    .venv/bin/python bench/scale.py peer   [--deadlines 100000]

Every command takes ``--folder`` (default ``/tmp/measures-bench``): the generated
databases live there and are reused by the next run (a SQLite file ``<profile>.db``, a
PostgreSQL database ``<profile>`` on the server), because generating the country takes
many minutes. ``--pg URL`` uses a running PostgreSQL server (``postgresql+psycopg://user@
host:port``, no database name); without it one is started in a temporary folder the way
the tests start theirs (``tests/conftest.py``; as the ``postgres`` user when run by root).

What each command measures, and against which floor, is in the docstring of its
``bench_*`` function and in bench/README.md. A benchmark changes the data (a sweep takes
steps, a fire moves tasks): each run restores what it changed (:class:`Mark`) so the
repeats and the next command see the generated state. Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from bench.generate import PROFILES, Moment, generate, moment_for  # noqa: E402
from engine.app import App  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.models import (  # noqa: E402
    AuditEvent,
    AuditHead,
    DaemonState,
    EscalationStep,
    OutboxMessage,
    Person,
    Task,
)
from engine.core.settings import load_config  # noqa: E402
from engine.escalation.sweep import sweep  # noqa: E402

TODAY = date(2026, 11, 25)
SEED = 2026
DEFAULT_FOLDER = Path("/tmp/measures-bench")
DATABASES = ("sqlite", "postgres")

_task: sa.Table = Task.__table__  # type: ignore[attr-defined]
_step: sa.Table = EscalationStep.__table__  # type: ignore[attr-defined]
_outbox: sa.Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_audit: sa.Table = AuditEvent.__table__  # type: ignore[attr-defined]
_head: sa.Table = AuditHead.__table__  # type: ignore[attr-defined]
_state: sa.Table = DaemonState.__table__  # type: ignore[attr-defined]
_person: sa.Table = Person.__table__  # type: ignore[attr-defined]


def peak_mib(pid: int | str = "self") -> float:
    """A process's peak resident memory (VmHWM) in MiB, 0 once it is gone.

    Not ``ru_maxrss``: Linux carries the parent's peak into a child across fork and exec
    (the child of a 130 MiB benchmark would report 130 MiB whatever it does itself)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


# -- databases ---------------------------------------------------------------------------------


@contextlib.contextmanager
def pg_server(external: str | None) -> Iterator[str]:
    """A PostgreSQL server's URL: ``external``, else one started like the tests' own."""
    if external:
        yield external.rstrip("/")
        return
    from tests.conftest import pg_server as fixture

    with contextlib.contextmanager(fixture.__wrapped__)() as url:  # type: ignore[attr-defined]
        yield url


class Servers:
    """Where each kind of database lives; the PostgreSQL server is started on first use."""

    def __init__(self, folder: Path, pg: str | None) -> None:
        self.folder = folder
        self._pg = pg
        self._stack = contextlib.ExitStack()
        self._server: str | None = None

    def __enter__(self) -> Servers:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def pg(self) -> str:
        if self._server is None:
            self._server = self._stack.enter_context(pg_server(self._pg))
        return self._server

    def url(self, kind: str, name: str) -> str:
        """The URL of database ``name`` (created on PostgreSQL if missing)."""
        if kind == "sqlite":
            return f"sqlite:///{self.folder / name}.db"
        server = self.pg()
        admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists is None:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"{server}/{name}"


def write_config(folder: Path, name: str, url: str, extra: str = "") -> Path:
    """A config file for database ``name``; the secret key (audit chain, links) is shared
    by every database of the folder."""
    path = folder / f"config-{name}.toml"
    path.write_text(
        f'data_dir = "{folder / "data"}"\n{extra}\n[database]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    return path


@dataclass
class Installation:
    """A generated profile in one database, and the moment its sweep runs at."""

    kind: str
    profile: str
    config: Path
    app: App
    moment: Moment

    @property
    def engine(self) -> Engine:
        return self.app.engine

    def close(self) -> None:
        self.app.engine.dispose()


def installation(servers: Servers, kind: str, profile: str) -> Installation:
    """The profile in a database of ``kind``, generated on first use (with ``--today``
    fixed, so every run sweeps the same moment)."""
    from engine.app.operations import init

    url = servers.url(kind, profile)
    config = write_config(servers.folder, f"{kind}-{profile}", url)
    app = App(load_config(config), FixedClock(datetime.now(UTC)), moved_clock=False)
    init(app, simulation=True)
    with app.engine.connect() as connection:
        tasks = connection.execute(sa.select(sa.func.count()).select_from(_task)).scalar_one()
    if not tasks:
        print(f"generating {profile} on {kind} …", file=sys.stderr, flush=True)
        made = generate(app, profile, SEED, TODAY)
        print(json.dumps(made, ensure_ascii=False), file=sys.stderr, flush=True)
    moment = moment_for(app, TODAY)
    clock = app.clock
    assert isinstance(clock, FixedClock)
    clock.set(moment.now)
    return Installation(kind, profile, config, app, moment)


def count(engine: Engine, table: sa.Table, *where: Any) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(table).where(*where))
            .scalar_one()
        )  # fmt: skip


def max_id(connection: sa.Connection, table: sa.Table) -> int:
    found = connection.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)))
    return int(found.scalar_one())


# -- putting the data back ---------------------------------------------------------------------


@dataclass
class Mark:
    """What a benchmark may change, remembered so that :meth:`restore` puts it back: rows
    added after it (steps, letters, audit) are deleted, the remembered tasks, the audit
    head and the daemon's state rows are written back."""

    step_id: int
    outbox_id: int
    audit_id: int
    tasks: list[dict[str, Any]]
    head: dict[str, Any]
    states: list[dict[str, Any]]

    @classmethod
    def take(cls, engine: Engine, tasks: sa.ColumnElement[bool]) -> Mark:
        with engine.connect() as connection:
            return cls(
                step_id=max_id(connection, _step),
                outbox_id=max_id(connection, _outbox),
                audit_id=max_id(connection, _audit),
                tasks=[dict(r._mapping) for r in connection.execute(sa.select(_task).where(tasks))],
                head=dict(connection.execute(sa.select(_head)).one()._mapping),
                states=[dict(r._mapping) for r in connection.execute(sa.select(_state))],
            )

    def restore(self, engine: Engine) -> None:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # No foreign-key triggers while putting rows back (the letters go before
                # their steps): with them, each deleted step scans the outbox for
                # references — ``outboxmessage.step_id`` has no index — 200 s at 30k.
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            connection.execute(sa.delete(_outbox).where(_outbox.c.id > self.outbox_id))
            connection.execute(sa.delete(_step).where(_step.c.id > self.step_id))
            connection.execute(sa.delete(_audit).where(_audit.c.id > self.audit_id))
            if self.tasks:
                columns = [c for c in self.tasks[0] if c != "id"]
                connection.execute(
                    sa.update(_task)
                    .where(_task.c.id == sa.bindparam("_id"))
                    .values({c: sa.bindparam(f"_{c}") for c in columns}),
                    [{f"_{k}": v for k, v in row.items()} for row in self.tasks],
                )
            connection.execute(sa.update(_head).values(self.head))
            connection.execute(sa.delete(_state))
            if self.states:
                connection.execute(sa.insert(_state), self.states)
        if engine.dialect.name == "postgresql":  # the deleted rows must not pile up
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                for table in (_task, _step, _outbox, _audit):
                    c.exec_driver_sql(f'VACUUM ANALYZE "{table.name}"')


# -- sweep -------------------------------------------------------------------------------------


@dataclass
class Written:
    """What one sweep wrote: the floor writes exactly this again, without computing it."""

    steps: list[dict[str, Any]]
    letters: list[dict[str, Any]]
    moments: list[dict[str, Any]]

    @classmethod
    def since(cls, engine: Engine, mark: Mark) -> Written:
        ids = [row["id"] for row in mark.tasks]
        with engine.connect() as connection:
            steps = [
                dict(r._mapping)
                for r in connection.execute(
                    sa.select(_step).where(_step.c.id > mark.step_id).order_by(_step.c.id)
                )
            ]
            letters = [
                dict(r._mapping)
                for r in connection.execute(
                    sa.select(_outbox).where(_outbox.c.id > mark.outbox_id).order_by(_outbox.c.id)
                )
            ]
            moments: list[dict[str, Any]] = []
            for start in range(0, len(ids), 1000):
                moments.extend(
                    {"task": task, "at": at}
                    for task, at in connection.execute(
                        sa.select(_task.c.id, _task.c.next_step_at).where(
                            _task.c.id.in_(ids[start : start + 1000])
                        )
                    )
                )
        return cls(steps, letters, moments)


def due_floor(engine: Engine, now: datetime, written: Written) -> None:
    """The bare SQL of a 1 % sweep in one transaction: the due tasks by index (locked),
    the steps they already have, each step recorded once (ids returned), each letter
    queued (already rendered), the tasks' next moments."""
    with engine.begin() as connection:
        due = connection.execute(
            sa.select(_task)
            .where(_task.c.next_step_at <= now)
            .order_by(_task.c.next_step_at, _task.c.id)
            .with_for_update()
        ).all()
        ids = [row.id for row in due]
        for start in range(0, len(ids), 1000):
            connection.execute(
                sa.select(_step.c.task_id, _step.c.key).where(
                    _step.c.task_id.in_(ids[start : start + 1000])
                )
            ).all()
        new_ids: dict[int, int] = {}
        for start in range(0, len(written.steps), 1000):
            chunk = written.steps[start : start + 1000]
            returned = connection.execute(
                sa.insert(_step).returning(_step.c.id, sort_by_parameter_order=True),
                [{k: v for k, v in row.items() if k != "id"} for row in chunk],
            ).scalars()
            new_ids.update(zip((row["id"] for row in chunk), returned, strict=True))
        for start in range(0, len(written.letters), 1000):
            connection.execute(
                sa.insert(_outbox),
                [
                    {**{k: v for k, v in row.items() if k != "id"},
                     "step_id": new_ids.get(row["step_id"], row["step_id"])}
                    for row in written.letters[start : start + 1000]
                ],
            )  # fmt: skip
        if written.moments:
            connection.execute(
                sa.update(_task)
                .where(_task.c.id == sa.bindparam("task"))
                .values(next_step_at=sa.bindparam("at")),
                written.moments,
            )


def idle_floor(engine: Engine, now: datetime) -> None:
    """The bare indexed query an idle sweep needs: the earliest due moment, if any. The
    ORDER BY makes it an index range on every planner estimate (a bare ``LIMIT 1`` lets
    PostgreSQL choose a sequential scan while its statistics still count due rows)."""
    with engine.connect() as connection:
        connection.execute(
            sa.select(_task.c.next_step_at)
            .where(_task.c.next_step_at <= now)
            .order_by(_task.c.next_step_at)
            .limit(1)
        ).first()


@dataclass
class SweepFigures:
    kind: str
    profile: str
    tasks: int
    due: int
    steps: int
    messages: int
    idle: float
    idle_floor: float
    due_sweep: float
    floor: float
    runs: int

    def row(self) -> str:
        return (
            f"| {self.profile} | {self.kind} | {self.tasks:,} | {self.due:,} | "
            f"{self.steps:,} / {self.messages:,} | {self.idle * 1000:.2f} ms | "
            f"{self.idle_floor * 1000:.2f} ms | {self.idle / self.idle_floor:.1f}× | "
            f"{self.due_sweep:.2f} s | {self.floor:.2f} s | {self.due_sweep / self.floor:.1f}× |"
        )


SWEEP_HEADER = (
    "| profile | database | tasks | due | steps / letters | idle sweep | idle floor | ratio "
    "| 1 % sweep | floor | ratio |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
)


def bench_sweep(inst: Installation, repeat: int) -> SweepFigures:
    """The daemon's sweep (engine.escalation.sweep.sweep, batches of 500, letters
    rendered) with about 1 % of the tasks due, then idle (nothing due), each beside its
    floor (:func:`due_floor`, :func:`idle_floor`) in alternation, data restored between."""
    app, now = inst.app, inst.moment.now
    engine, esc = app.engine, app.escalator
    mark = Mark.take(engine, _task.c.next_step_at <= now)
    tasks = count(engine, _task)
    sweeps: list[float] = []
    floors: list[float] = []
    idles: list[float] = []
    idle_floors: list[float] = []
    written: Written | None = None
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = sweep(engine, app.escalator, app.clock)
        sweeps.append(time.perf_counter() - started)
        if written is None:
            written = Written.since(engine, mark)
        idles.append(median([timed(lambda: sweep(engine, esc, app.clock)) for _ in range(5)]))
        idle_floors.append(median([timed(lambda: idle_floor(engine, now)) for _ in range(5)]))
        mark.restore(engine)
        floors.append(timed(lambda w=written: due_floor(engine, now, w)))  # type: ignore[misc]
        mark.restore(engine)
    assert result is not None and written is not None
    assert result.steps == len(written.steps) and result.messages == len(written.letters)
    return SweepFigures(
        inst.kind,
        inst.profile,
        tasks,
        len(mark.tasks),
        result.steps,
        result.messages,
        median(idles),
        median(idle_floors),
        median(sweeps),
        median(floors),
        repeat,
    )


def profile_sweep(inst: Installation, top: int = 25) -> str:
    """cProfile of one 1 % sweep (the data restored after): where its time goes."""
    import cProfile
    import io
    import pstats

    mark = Mark.take(inst.engine, _task.c.next_step_at <= inst.moment.now)
    profiler = cProfile.Profile()
    profiler.enable()
    sweep(inst.engine, inst.app.escalator, inst.app.clock)
    profiler.disable()
    mark.restore(inst.engine)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- memory of the daemon ----------------------------------------------------------------------


def bench_memory(inst: Installation, timeout: float = 1800) -> dict[str, Any]:
    """Peak resident memory of a real ``measures run --no-web`` (its clock at the
    profile's moment, mail into a spool folder) from its start until its first sweep
    and the day's digests are recorded, then SIGTERM; the data restored after. The peak
    is the process's VmHWM, sampled every half second and while it stops."""
    engine = inst.engine
    now = inst.moment.now
    mark = Mark.take(engine, _task.c.next_step_at <= now)
    spool = inst.config.parent / "spool"
    config = write_config(
        inst.config.parent,
        f"daemon-{inst.kind}-{inst.profile}",
        str(engine.url.render_as_string(hide_password=False)),
        f'\n[mail]\ntransport = "spool"\nspool_dir = "{spool}"\n',
    )
    env = {**os.environ, "MEASURES_CONFIG": str(config)}
    env.pop("MEASURES_DATABASE_URL", None)
    command = [str(ROOT / ".venv/bin/measures"), "run", "--no-web", "--now", now.isoformat()]
    started = time.perf_counter()
    log = inst.config.parent / f"daemon-{inst.kind}-{inst.profile}.log"
    with log.open("wb") as sink:  # a file, not a pipe: nobody reads while it runs
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    seen: dict[str, Any] = {}
    peak = 0.0
    try:
        while time.perf_counter() - started < timeout and process.poll() is None:
            time.sleep(0.5)
            peak = max(peak, peak_mib(process.pid))
            with engine.connect() as connection:
                rows = {
                    name: value
                    for name, value in connection.execute(sa.select(_state.c.name, _state.c.value))
                }
            if all(rows.get(job, {}).get("at") == now.isoformat() for job in ("sweep", "digests")):
                seen = rows
                break
        took = time.perf_counter() - started
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        while process.poll() is None:  # the work in flight is finished before it exits
            peak = max(peak, peak_mib(process.pid))
            time.sleep(0.1)
    mark.restore(inst.engine)
    if not seen:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"the daemon did not finish its first sweep: {tail}")
    return {
        "profile": inst.profile,
        "database": inst.kind,
        "peak_mib": round(peak, 1),
        "seconds_to_first_sweep": round(took, 1),
        "sweep": seen["sweep"],
        "exit_status": process.returncode,
    }


def job_worker(config: Path, job: str) -> None:
    """In its own process: one ``sweep`` or one ``digests`` run at the profile's moment,
    then the process's peak memory (which of the daemon's jobs needs the memory)."""
    from engine.escalation.digests import enqueue_digests

    app = App(load_config(config), FixedClock(moment_for_config(config)), moved_clock=False)
    engine, esc = app.engine, app.escalator
    started = time.perf_counter()
    if job == "sweep":
        letters = sweep(engine, esc, app.clock).messages
    else:
        letters = enqueue_digests(engine, esc, app.clock)
    took = round(time.perf_counter() - started, 1)
    print(json.dumps({"job": job, "letters": letters, "seconds": took, "peak_mib": peak_mib()}))


def moment_for_config(config: Path) -> datetime:
    app = App(load_config(config), FixedClock(datetime.now(UTC)), moved_clock=False)
    return moment_for(app, TODAY).now


def bench_job_memory(inst: Installation, job: str) -> dict[str, Any]:
    """Peak memory of one daemon job alone (:func:`job_worker`), the data restored after."""
    mark = Mark.take(inst.engine, _task.c.next_step_at <= inst.moment.now)
    try:
        done = subprocess.run(
            [sys.executable, __file__, "job-worker", str(inst.config), job],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        mark.restore(inst.engine)
    found = json.loads(done.stdout.splitlines()[-1])
    return {"profile": inst.profile, "database": inst.kind, **found}


# -- send --------------------------------------------------------------------------------------


@contextlib.contextmanager
def smtp_sink() -> Iterator[int]:
    """A real SMTP server (aiosmtpd's Sink: accepts and discards) in its own process on
    loopback, as a mail server would be; its port."""
    import socket

    from tests.conftest import _free_port

    port = _free_port()  # port=0 does not work in aiosmtpd (issue #388)
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait()


def _letters(count_: int, now: datetime) -> list[dict[str, Any]]:
    """``count_`` letters as the sweep writes them (a rendered reminder, a calendar part)."""
    from notifications import render

    text = render(
        "reminder",
        {"notice": _sample_notice()},
        None,
    )
    return [
        {
            "dedupe_key": f"bench:{n}",
            "kind": "reminder",
            "task_id": None,
            "step_id": None,
            "person_id": None,
            "on_behalf_of_id": None,
            "recipient_email": f"h{n:05d}@schools.example.org",
            "recipient_name": "Кузнецова Мария Петровна",
            "subject": text.subject,
            "body_text": text.text,
            "body_html": text.html,
            "message_id": f"<bench.{n}@measures.example.org>",
            "created_at": now,
            "not_before": now - timedelta(minutes=1),
            "status": "pending",
            "attempts": 0,
            "lease_until": None,
            "last_error": "",
            "sent_at": None,
            "ics": "",
            "valid_until": None,
            "note": "",
        }
        for n in range(count_)
    ]


def _sample_notice() -> Any:
    """The tests' sample letter facts, with a plain title and one long signed link."""
    from tests.test_notifications import make_notice

    return make_notice(
        measure_title="Проведение мониторинга объективности результатов ВПР",
        links={"Открыть задачу": "http://127.0.0.1:8080/l/" + "x" * 160},
    )


def bench_send(servers: Servers, kind: str, messages: int, repeat: int) -> dict[str, Any]:
    """The daemon's delivery (engine.escalation.outbox.deliver: claim a batch with a
    lease, send on one SMTP connection, record the outcomes) of ``messages`` letters into
    a local aiosmtpd, against the floor: a bare aiosmtplib loop on one connection over
    the same rows, read once, each made into an email by the same ``build_message`` and
    sent. ``wire`` is the same loop with the emails built before the clock starts (what
    SMTP alone costs). Rates in messages per second; the server counts what arrived."""
    import aiosmtplib

    from engine.core.db import upgrade
    from engine.escalation.outbox import _headers, deliver
    from notifications import RenderedMessage, SmtpMailer, build_message

    url = servers.url(kind, "send")
    config = write_config(servers.folder, f"{kind}-send", url)
    app = App(load_config(config), FixedClock(datetime(2026, 11, 25, 8, tzinfo=UTC)))
    upgrade(app.engine)
    now = app.clock.now()
    sink = smtp_sink()
    port = sink.__enter__()
    rows = _letters(messages, now)
    sender, sender_name = "measures@example.org", "Комитет по образованию"

    def build(row: Any) -> Any:
        return build_message(
            RenderedMessage(row.subject, row.body_text, row.body_html),
            recipient_name=row.recipient_name,
            recipient_email=row.recipient_email,
            message_id=row.message_id,
            date=now,
            headers=_headers(row),
            calendar=row.ics,
            sender=sender,
            sender_name=sender_name,
        )

    async def drain() -> int:
        async with SmtpMailer("127.0.0.1", port) as mailer:
            done = await deliver(
                app.engine, mailer, app.clock, app.hours,
                sender=sender, sender_name=sender_name, max_attempts=8,
            )  # fmt: skip
        return done.sent

    async def loop(items: Sequence[Any], make: Callable[[Any], Any]) -> int:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        accepted = 0
        for item in items:
            refused, _ = await client.send_message(make(item))
            accepted += not refused
        await client.quit()
        return accepted

    def stored() -> list[Any]:
        with app.engine.connect() as connection:
            return list(connection.execute(sa.select(_outbox).order_by(_outbox.c.id)))

    def arrived(run: Callable[[], int]) -> float:
        started = time.perf_counter()
        accepted = run()
        took = time.perf_counter() - started
        assert accepted == messages, (accepted, messages)
        return took

    figures: dict[str, list[float]] = {"drain": [], "bare": [], "wire": []}
    try:
        for _ in range(repeat):
            with app.engine.begin() as connection:
                connection.execute(sa.delete(_outbox))
                connection.execute(sa.insert(_outbox), rows)
            figures["drain"].append(arrived(lambda: asyncio.run(drain())))
            assert count(app.engine, _outbox, _outbox.c.status == "sent") == messages
            figures["bare"].append(arrived(lambda: asyncio.run(loop(stored(), build))))
            built = [build(row) for row in stored()]
            figures["wire"].append(arrived(lambda b=built: asyncio.run(loop(b, lambda m: m))))  # type: ignore[misc]
    finally:
        sink.__exit__(None, None, None)
        app.engine.dispose()
    rate = {name: messages / median(times) for name, times in figures.items()}
    return {
        "database": kind,
        "messages": messages,
        **{f"{name}_per_s": round(value) for name, value in rate.items()},
        "ratio": round(rate["drain"] / rate["bare"], 2),
        "runs": repeat,
    }


# -- fire --------------------------------------------------------------------------------------


def bench_fire(inst: Installation, tasks: int, workers: int) -> dict[str, Any]:
    """``workers`` threads fire ``start`` (lifecycle with its audit row in the keyed
    chain, one transaction each) on ``tasks`` planned tasks, every task offered to two
    workers at once: exactly one must win. Then the same transitions as bare SQL (lock
    the task, update it, lock the audit head, append the audit row, move the head) with
    the same threads — the floor. Checks: every task moved once, one audit row each."""
    from engine.core.errors import MeasuresError
    from engine.escalation.nextstep import attach

    engine = inst.engine
    with engine.connect() as connection:
        picked = connection.execute(
            sa.select(_task.c.id, _person.c.key, _person.c.id)
            .join(_person, _person.c.id == _task.c.responsible_id)
            .where(_task.c.state == "planned", _task.c.detached_at.is_(None))
            .order_by(_task.c.id)
            .limit(tasks)
        ).all()
    ids = [task_id for task_id, _, _ in picked]
    mark = Mark.take(engine, _task.c.id.in_(ids))
    offers: list[list[tuple[int, str, int]]] = [[] for _ in range(workers)]
    for n, (task_id, key, person_id) in enumerate(picked):  # each task to two workers
        offers[n % workers].append((task_id, key, person_id))
        offers[(n + 1) % workers].append((task_id, key, person_id))
    # A pool for every worker, with the listener that keeps next_step_at (as App.engine).
    fired = sa.create_engine(engine.url, pool_size=workers + 2, pool_pre_ping=True)
    attach(fired, lambda: inst.app.planner)

    def run(job: Callable[[int, str, int], bool]) -> tuple[float, int, int]:
        won = [0] * workers
        lost = [0] * workers
        gate = threading.Barrier(workers)

        def worker(index: int) -> None:
            gate.wait()
            for task_id, person, person_id in offers[index]:
                if job(task_id, person, person_id):
                    won[index] += 1
                else:
                    lost[index] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started, sum(won), sum(lost)

    def lifecycle(task_id: int, person: str, _: int) -> bool:
        try:
            inst.app.lifecycle.fire(fired, task_id, "start", person)
        except MeasuresError:
            return False
        return True

    dest = inst.app.workflow.events["start"].dest

    def bare(task_id: int, _: str, person_id: int) -> bool:
        with fired.begin() as connection:
            row = connection.execute(
                sa.select(_task.c.state, _task.c.version)
                .where(_task.c.id == task_id)
                .with_for_update()
            ).one()
            if row.state != "planned":
                return False
            connection.execute(
                sa.update(_task).where(_task.c.id == task_id)
                .values(state=dest, version=row.version + 1, state_since=inst.moment.now)
            )  # fmt: skip
            head = connection.execute(sa.select(_head).with_for_update()).one()
            connection.execute(
                sa.insert(_audit).values(
                    seq=head.seq + 1, task_id=task_id, event="start", from_state="planned",
                    actor_id=person_id,
                    to_state=dest, at=inst.moment.now, comment="", evidence=[], changes={},
                    prev_hash=head.hash, hash=f"{head.seq + 1:064x}",
                )
            )  # fmt: skip
            moved = {"seq": head.seq + 1, "hash": f"{head.seq + 1:064x}"}
            connection.execute(sa.update(_head).values(moved))
        return True

    def check(label: str) -> None:
        moved = count(engine, _task, _task.c.id.in_(ids), _task.c.state == dest)
        audits = count(engine, _audit, _audit.c.id > mark.audit_id, _audit.c.event == "start")
        distinct = len(
            {
                r[0]
                for r in engine.connect().execute(
                    sa.select(_audit.c.task_id).where(
                        _audit.c.id > mark.audit_id, _audit.c.event == "start"
                    )
                )
            }
        )
        assert moved == len(ids) == audits == distinct, (label, moved, len(ids), audits, distinct)

    took, won, lost = run(lifecycle)
    assert won == len(ids) and lost == len(ids), (won, lost, len(ids))
    check("lifecycle")
    mark.restore(engine)
    floor, floor_won, _ = run(bare)
    assert floor_won == len(ids)
    check("floor")
    mark.restore(engine)
    fired.dispose()
    return {
        "database": inst.kind,
        "profile": inst.profile,
        "workers": workers,
        "tasks": len(ids),
        "attempts": 2 * len(ids),
        "lifecycle_per_s": round(won / took),
        "floor_per_s": round(floor_won / floor),
        "ratio": round((floor_won / floor) / (won / took), 1),
    }


# -- peer: one APScheduler job per deadline ----------------------------------------------------


def peer_worker(args: argparse.Namespace) -> None:
    """In its own process (its peak memory is its own): ``schedule`` adds one date job per
    deadline to an APScheduler 3 SQLAlchemyJobStore; ``restart`` starts a scheduler on the
    filled store and runs what is due (the catch-up after a restart)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    def deadlines() -> Iterator[tuple[int, datetime]]:  # streamed: not in the peak
        with Path(args.deadlines_file).open(encoding="utf-8") as lines:
            for line in lines:
                task_id, at = line.split()
                yield int(task_id), datetime.fromisoformat(at)

    now = datetime.fromisoformat(args.now)
    store = SQLAlchemyJobStore(url=args.url)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=UTC)
    out: dict[str, Any] = {"deadlines": sum(1 for _ in deadlines())}
    if args.phase == "schedule":
        started = time.perf_counter()
        scheduler.start(paused=True)
        for task_id, at in deadlines():
            scheduler.add_job(
                "time:sleep", "date", run_date=at, args=(0,), id=f"task-{task_id}",
                misfire_grace_time=None, coalesce=True,
            )  # fmt: skip
        out["schedule_s"] = round(time.perf_counter() - started, 2)
        scheduler.shutdown(wait=False)
    else:
        due = sum(1 for _, at in deadlines() if at <= now)
        started = time.perf_counter()
        scheduler.start(paused=True)
        out["start_s"] = round(time.perf_counter() - started, 3)
        # What every wakeup reads: the due jobs (unpickled), the next run time.
        started = time.perf_counter()
        found = store.get_due_jobs(now.astimezone(UTC))
        out["due_jobs_read_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        store.get_next_run_time()
        out["next_run_time_s"] = round(time.perf_counter() - started, 4)
        # The catch-up: each due job run once and removed (a date trigger has no next).
        started = time.perf_counter()
        for job in found:
            job.func(*job.args)
            store.remove_job(job.id)
        out["catch_up_s"] = round(time.perf_counter() - started, 2)
        out["due"] = due
        out["due_found"] = len(found)
        scheduler.shutdown(wait=False)
    out["peak_mib"] = round(peak_mib(), 1)
    print(json.dumps(out))


def bench_peer(servers: Servers, inst: Installation, deadlines: int) -> dict[str, Any]:
    """The naive design beside ours on the same data: one job per task's next ladder
    moment (``next_step_at`` of the first ``deadlines`` tasks that have one)."""
    now = inst.moment.now
    with inst.engine.connect() as connection:
        rows = connection.execute(
            sa.select(_task.c.id, _task.c.next_step_at)
            .where(_task.c.next_step_at.is_not(None))
            .order_by(_task.c.id)
            .limit(deadlines)
        ).all()
    path = servers.folder / f"deadlines-{len(rows)}.txt"
    path.write_text(
        "".join(f"{i} {at.replace(tzinfo=at.tzinfo or UTC).isoformat()}\n" for i, at in rows)
    )
    name = f"peer_{len(rows)}"
    url = servers.url(inst.kind, name)
    if inst.kind == "sqlite":
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        with sa.create_engine(url).begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS apscheduler_jobs")
    found: dict[str, Any] = {"database": inst.kind}
    for phase in ("schedule", "restart"):
        done = subprocess.run(
            [sys.executable, __file__, "peer-worker", phase, url, str(path), now.isoformat()],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        found.update({f"{phase}_{k}" if k == "peak_mib" else k: v for k, v in result.items()})
    return found


# -- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--pg", default=None, help="a running PostgreSQL server's URL")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("sweep")
    one.add_argument("--profiles", nargs="+", choices=list(PROFILES), default=["district"])
    one.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    one.add_argument("--repeat", type=int, default=5)
    one.add_argument("--profile-top", type=int, default=0, help="print a cProfile of one sweep")
    mem = commands.add_parser("memory")
    mem.add_argument("--profile", choices=list(PROFILES), default="district")
    mem.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    mem.add_argument("--job", choices=("daemon", "sweep", "digests"), default="daemon")
    send = commands.add_parser("send")
    send.add_argument("--messages", type=int, default=2000)
    send.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    send.add_argument("--repeat", type=int, default=3)
    fire = commands.add_parser("fire")
    fire.add_argument("--profile", choices=list(PROFILES), default="district")
    fire.add_argument("--tasks", type=int, default=2000)
    fire.add_argument("--workers", type=int, default=16)
    peer = commands.add_parser("peer")
    peer.add_argument("--profile", choices=list(PROFILES), default="district")
    peer.add_argument("--deadlines", type=int, default=100000)
    peer.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    job = commands.add_parser("job-worker")
    job.add_argument("config", type=Path)
    job.add_argument("job", choices=("sweep", "digests"))
    worker = commands.add_parser("peer-worker")
    worker.add_argument("phase", choices=("schedule", "restart"))
    worker.add_argument("url")
    worker.add_argument("deadlines_file")
    worker.add_argument("now")
    args = parser.parse_args(argv)
    if args.command == "peer-worker":
        peer_worker(args)
        return 0
    if args.command == "job-worker":
        job_worker(args.config, args.job)
        return 0
    with Servers(args.folder, args.pg) as servers:
        if args.command == "sweep":
            print(SWEEP_HEADER, flush=True)
            for profile in args.profiles:
                for kind in args.db:
                    inst = installation(servers, kind, profile)
                    print(bench_sweep(inst, args.repeat).row(), flush=True)
                    if args.profile_top:
                        print(profile_sweep(inst, args.profile_top), file=sys.stderr)
                    inst.close()
        elif args.command == "memory":
            for kind in args.db:
                inst = installation(servers, kind, args.profile)
                if args.job == "daemon":
                    print(json.dumps(bench_memory(inst), ensure_ascii=False), flush=True)
                else:
                    print(json.dumps(bench_job_memory(inst, args.job)), flush=True)
                inst.close()
        elif args.command == "send":
            for kind in args.db:
                print(json.dumps(bench_send(servers, kind, args.messages, args.repeat)), flush=True)
        elif args.command == "fire":
            inst = installation(servers, "postgres", args.profile)
            print(json.dumps(bench_fire(inst, args.tasks, args.workers)), flush=True)
            inst.close()
        elif args.command == "peer":
            for kind in args.db:
                inst = installation(servers, kind, args.profile)
                print(json.dumps(bench_peer(servers, inst, args.deadlines)), flush=True)
                inst.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
