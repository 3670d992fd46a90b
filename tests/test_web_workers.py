"""`measures web --workers N`: N processes share the port, each serves alone, the session
one issued is honoured by another, and one SIGTERM stops them all.

Each worker listens on a socket of its own (engine.web.listeners): the kernel hashes a
new connection to one of them, so while a worker is paused the connections it was given
wait, and a test reaches the other one by trying new connections."""

from __future__ import annotations

import os
import signal
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import write_config
from tests.test_cli import Cli, web_process

COOKIE = "measures_session"


def _workers(parent: int) -> list[int]:
    """The parent's children that uvicorn spawned as workers (not multiprocessing's
    resource tracker), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _get(port: int, cookie: str = "", timeout: float = 90) -> tuple[int, str, str]:
    """Status, body and the session cookie the server set (empty: it kept the one sent)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/signin")
    if cookie:
        request.add_header("Cookie", f"{COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read().decode("utf-8")
        set_cookie = response.headers.get("Set-Cookie") or ""
    fresh = set_cookie.split(";", 1)[0].removeprefix(f"{COOKIE}=") if set_cookie else ""
    return response.status, body, fresh


def _get_from_running(port: int, cookie: str = "") -> tuple[int, str, str]:
    """The answer of whichever worker is not paused: a connection the kernel gave to
    the paused one times out, and the next (another source port) is hashed anew."""
    for _ in range(30):
        try:
            return _get(port, cookie, timeout=2)
        except OSError:  # timed out, waiting in the paused worker's queue
            continue
    raise AssertionError("no connection reached the running worker in 30 tries")


def test_two_workers_share_the_port_and_stop_on_sigterm(tmp_path: Path) -> None:
    from tests.conftest import _free_port

    url = f"sqlite:///{tmp_path / 'data' / 'measures.db'}"
    cli = Cli(tmp_path, url)
    # The sign-in page is rate-limited per process; this test is about the processes.
    write_config(tmp_path, url, "[web]\nrate_limit = 10000\n")
    cli("init", "--simulation")
    port = _free_port()
    process = web_process(cli, port, "--workers", "2")
    try:
        workers = _workers(process.pid)
        assert len(workers) == 2, workers

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: _get(port), range(40)))
        assert all(status == 200 and "Прислать ссылку" in body for status, body, _ in answers)

        # Each worker alone: with the other paused, every request lands on this one. A
        # session cookie issued by the first is honoured by the second (one secret key,
        # nothing kept in a process), so the second sets no new cookie.
        first, second = workers
        os.kill(second, signal.SIGSTOP)
        try:
            status, body, cookie = _get_from_running(port)
        finally:
            os.kill(second, signal.SIGCONT)
        assert status == 200 and "Прислать ссылку" in body and cookie
        os.kill(first, signal.SIGSTOP)
        try:
            status, body, fresh = _get_from_running(port, cookie)
        finally:
            os.kill(first, signal.SIGCONT)
        assert status == 200 and "Прислать ссылку" in body
        assert fresh == "", "the second worker refused the first one's session"
        assert _workers(process.pid) == workers  # neither was restarted meanwhile

        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived SIGTERM"
    finally:
        if process.poll() is None:
            for pid in _workers(process.pid):  # they hold the pipes communicate() reads
                os.kill(pid, signal.SIGKILL)
            process.kill()
            print(process.communicate()[1])  # closes the pipes; shown if the test failed
