"""`measures run`: starts, sweeps at once, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import assert_doctor_finds_nothing, write_config
from tests.test_cli import MEASURES, Cli, web_process


def test_run_sweeps_serves_the_web_and_stops_on_sigterm(tmp_path: Path) -> None:
    import urllib.request

    from tests.conftest import _free_port

    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'data' / 'measures.db'}")
    port = _free_port()
    write_config(
        tmp_path, f"sqlite:///{tmp_path / 'data' / 'measures.db'}", f"[web]\nport = {port}\n"
    )
    cli("init", "--simulation")
    del cli.env["MEASURES_NOW"]  # the option instead of the environment
    process = subprocess.Popen(
        [MEASURES, "run", "--now", "2027-03-01T10:00"],
        env=cli.env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "sweep:" in line:
            break
    assert any("sweep: 0 task(s), 0 step(s) taken" in line for line in lines), lines
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=10) as response:
        page = response.read().decode("utf-8")
    assert response.status == 200 and "Прислать ссылку" in page
    # Review finding: a second daemon started without a word and `status` then reported
    # the wrong one. On SQLite the second refuses; `status` names the first.
    second = cli("run", "--now", "2027-03-01T10:00", ok=False)
    assert f"уже работает демон (pid {process.pid} на " in second.stderr
    daemons = cli.json("status")["daemons"]  # type: ignore[index]
    assert [(d["pid"], d["state"]) for d in daemons] == [(process.pid, "running")]
    assert f"Демон: pid {process.pid} на " in cli("status").stdout
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=30)[1]
    assert process.returncode == 0
    assert "daemon stopped" in rest and "Traceback" not in rest
    assert cli.json("status")["daemons"] == []  # type: ignore[index]
    assert "Демон: не запущен." in cli("status").stdout


def test_web_alone_serves_and_stops_and_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    from tests.conftest import _free_port

    url = f"sqlite:///{tmp_path / 'data' / 'measures.db'}"
    cli = Cli(tmp_path, url)
    cli("init", "--simulation")
    process = web_process(cli, _free_port())
    try:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0 and "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()  # closes the pipes too
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        write_config(tmp_path, url, f"[web]\nport = {taken.getsockname()[1]}\n")
        result = cli("run", ok=False)
    assert "could not start on 127.0.0.1:" in result.stderr and "--no-web" in result.stderr


def test_run_refuses_an_uninitialised_database(tmp_path: Path) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'data' / 'measures.db'}")
    result = cli("run", ok=False)
    assert "сначала выполните `measures init`" in result.stderr


def _outcome(engine: object) -> tuple[set[tuple[int, str, bool]], list[tuple[int, str, int]]]:
    """Steps taken (task, key, skipped) and messages (task, step key, person)."""
    from sqlmodel import select

    from engine.core.db import session_scope
    from engine.core.models import EscalationStep, OutboxMessage

    with session_scope(engine) as session:  # type: ignore[arg-type]
        steps = {s.id: s for s in session.exec(select(EscalationStep))}
        messages = [
            (m.task_id or 0, steps[m.step_id].key, m.person_id or 0)
            for m in session.exec(select(OutboxMessage))
            if m.step_id is not None
        ]
    return {(s.task_id, s.key, s.skipped) for s in steps.values()}, messages


def start_daemon(cli: Cli, log: Path | None = None) -> subprocess.Popen[bytes]:
    """``measures run --no-web`` in the background (the kill and replica tests), its log
    to ``log`` or nowhere."""
    with open(log or os.devnull, "wb") as stderr:
        return subprocess.Popen(
            [MEASURES, "run", "--no-web"],
            env=cli.env,
            cwd=cli.folder,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def test_sigkill_at_random_moments_loses_and_repeats_nothing(tmp_path: Path) -> None:
    import random
    import sqlite3
    from datetime import UTC, date, datetime

    from engine.app import App
    from engine.core.clock import FixedClock
    from engine.core.db import make_engine
    from engine.core.settings import load_config
    from engine.escalation.sweep import sweep
    from tests.bulk import fill

    url = f"sqlite:///{tmp_path / 'data' / 'measures.db'}"
    fill(make_engine(url), tasks=1000, first_due=date(2026, 10, 1), days=70)
    cli = Cli(tmp_path, url)
    cli.env["MEASURES_NOW"] = "2026-12-15T09:00"
    now = datetime(2026, 12, 15, 6, 0, tzinfo=UTC)
    # The reference: the same data swept once by a daemon nobody killed.
    reference_db = tmp_path / "reference.db"
    with (
        sqlite3.connect(tmp_path / "data" / "measures.db") as live,
        sqlite3.connect(reference_db) as copy,
    ):
        live.backup(copy)
    (tmp_path / "ref").mkdir()
    ref_config = write_config(tmp_path / "ref", f"sqlite:///{reference_db}")
    reference = App(load_config(ref_config), FixedClock(now))
    reference.next_steps_current()  # the bulk insert wrote no next steps: as a daemon's start
    sweep(reference.engine, reference.escalator, reference.clock)
    expected_steps, expected_messages = _outcome(reference.engine)
    assert len(expected_messages) > 1000

    rng = random.Random(20261215)
    kills = 0
    while kills < 20:
        process = start_daemon(cli)
        # Start-up takes ~1 s and a batch of 200 tasks ~2 s: kill both inside the first
        # batch and after some batches have committed.
        time.sleep((1.5, 4.5, 2.5, 6.0)[kills % 4] + rng.random())
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    app = App(load_config(Path(cli.env["MEASURES_CONFIG"])), FixedClock(now))
    partial_steps, _ = _outcome(app.engine)
    assert 0 < len(partial_steps) < len(expected_steps) or partial_steps == expected_steps
    sweep(app.engine, app.escalator, app.clock)  # the restart after the last kill
    steps, messages = _outcome(app.engine)
    assert steps == expected_steps
    assert len(messages) == len(set(messages))  # nothing twice
    assert sorted(messages) == sorted(expected_messages)  # nothing lost
    assert_doctor_finds_nothing(app)


def test_the_day_s_heavy_jobs_take_turns(tmp_path: Path, monkeypatch: object) -> None:
    """The sweep, the digests and the case check each hold their rows at their peak; run
    side by side their peaks added up (a country's first sweep beside its digests,
    bench/RESULTS.md). Started together, they run one after another."""
    import asyncio
    import threading

    import pytest

    from engine import daemon as daemon_module
    from tests.conftest import sqlite_file_app

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    running: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    ran: list[str] = []
    guard = threading.Lock()

    def job(name: str) -> object:
        def work(*_: object) -> None:
            with guard:
                running.append(name)
                if len(running) > 1:
                    overlaps.append(tuple(running))
            time.sleep(0.15)
            with guard:
                running.remove(name)
                ran.append(name)

        return work

    monkeypatch.setattr(daemon_module, "take_due_steps", job("sweep"))
    monkeypatch.setattr(daemon_module, "queue_digests", job("digests"))
    monkeypatch.setattr(daemon_module, "check_school_cases", job("cases"))
    app = sqlite_file_app(tmp_path)
    daemon = daemon_module.Daemon(app, web=False)

    async def together() -> None:
        await asyncio.gather(daemon._sweep(), daemon._digests(), daemon._cases())

    asyncio.run(together())
    assert sorted(ran) == ["cases", "digests", "sweep"]
    assert overlaps == []
