"""`measures run`: starts, sweeps at once, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.test_cli import MEASURES, Cli


def test_run_sweeps_and_stops_on_sigterm(tmp_path: Path) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'data' / 'measures.db'}")
    cli("init")
    process = subprocess.Popen(
        [MEASURES, "run"], env=cli.env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "sweep:" in line:
            break
    assert any("sweep: 0 overdue task(s)" in line for line in lines), lines
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=30)[1]
    assert process.returncode == 0
    assert "daemon stopped" in rest and "Traceback" not in rest


def test_run_refuses_an_uninitialised_database(tmp_path: Path) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'data' / 'measures.db'}")
    result = cli("run", ok=False)
    assert "run `measures init` first" in result.stderr
