"""Benchmarks of the hot paths; results go to bench/RESULTS.md (see bench/README.md).

Each figure is the median of several runs in one process, so ratios between lines are
comparable; absolute numbers depend on the machine.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from engine.app import App  # noqa: E402
from engine.app.operations import doctor  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.db import make_engine, session_scope  # noqa: E402
from engine.core.models import (  # noqa: E402
    EscalationStep,
    OutboxMessage,
    School,
    SchoolCase,
    Task,
    pk,
)
from engine.core.settings import load_config  # noqa: E402
from engine.escalation.sweep import sweep  # noqa: E402
from engine.plans.readers.by_suffix import read_document  # noqa: E402
from engine.plans.schedule import parse_deadline  # noqa: E402
from tests.bulk import fill  # noqa: E402
from tests.documents import pdf_like  # noqa: E402


def pdfplumber_pages(path: Path) -> list[object]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return list(pdf.pages)


PERIOD = (date(2021, 9, 1), date(2022, 8, 31))
PHRASES = [
    line.split("\t")[0]
    for line in (ROOT / "tests" / "fixtures" / "deadline_phrases.tsv")
    .read_text(encoding="utf-8")
    .splitlines()
    if line and not line.startswith("#")
]


def median_seconds(run: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def app_on(folder: Path, tasks: int) -> App:
    url = f"sqlite:///{folder / 'bench.db'}"
    fill(make_engine(url), tasks=tasks, first_due=date(2026, 10, 1), days=70)
    (folder / "config.toml").write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    app = App(
        load_config(folder / "config.toml"), FixedClock(datetime(2026, 12, 15, 6, tzinfo=UTC))
    )
    doctor(app, fix=True)  # the bulk fill writes around the ORM: next steps from scratch
    return app


def reset(app: App) -> None:
    """Back to nothing taken: steps and letters deleted, every next step recomputed."""
    with session_scope(app.engine) as session:
        session.execute(delete(OutboxMessage))
        session.execute(delete(EscalationStep))
        session.commit()
    doctor(app, fix=True)


def bench_tasks(tasks: int) -> list[str]:
    """Sweeps and one event with ``tasks`` overdue tasks in the database."""
    with tempfile.TemporaryDirectory() as folder:
        app = app_on(Path(folder), tasks)
        results, times = [], []
        for _ in range(3):  # the reset (a recompute of every next step) is not timed
            reset(app)
            started = time.perf_counter()
            results.append(sweep(app.engine, app.escalator, app.clock))
            times.append(time.perf_counter() - started)
        full = statistics.median(times)
        steps = results[-1].steps
        idle = median_seconds(lambda: sweep(app.engine, app.escalator, app.clock))
        with session_scope(app.engine) as session:
            ids = [pk(t) for t in session.exec(select(Task).limit(50))]
        fire_times = []
        for task_id in ids:
            started = time.perf_counter()
            app.lifecycle.fire(app.engine, task_id, "start", "ivanova")
            fire_times.append(time.perf_counter() - started)
        app.engine.dispose()
    return [
        f"| first sweep, {tasks} overdue tasks ({steps} steps, "
        f"{results[-1].messages} messages) | {full:.2f} s "
        f"({full / steps * 1000:.2f} ms per step) |",
        f"| idle sweep, {tasks} tasks, nothing due | {idle * 1000:.0f} ms |",
        f"| fire one event (start), {tasks} tasks in the database | "
        f"{statistics.median(fire_times) * 1000:.1f} ms |",
    ]


def bench_cases(finished: int, waiting: int) -> str:
    """The periodic case check with ``finished`` cases done with and ``waiting`` cases
    whose help is under way (nothing to move): it should cost what waits, not all."""
    with tempfile.TemporaryDirectory() as folder:
        app = app_on(Path(folder), 1)
        now = datetime(2026, 12, 15, 6, tzinfo=UTC)
        with session_scope(app.engine) as session:
            session.execute(
                insert(School),
                [{"key": f"s{n}", "name": f"Школа {n}", "short_name": "", "email": "",
                  "aliases": []} for n in range(finished + waiting)],
            )  # fmt: skip
            states = ["resolved"] * finished + ["help_in_progress"] * waiting
            session.execute(
                insert(SchoolCase),
                [{"school_id": n + 1, "kind": "non_objective", "year": 2026, "state": state,
                  "state_since": now, "version": 1, "created_at": now, "updated_at": now}
                 for n, state in enumerate(states)],
            )  # fmt: skip
            session.commit()
        took = median_seconds(lambda: app.cases.check(app.engine))
        app.engine.dispose()
    return (
        f"| case check, {finished} finished + {waiting} waiting cases, nothing to move | "
        f"{took * 1000:.0f} ms |"
    )


def main() -> None:
    lines = []
    per_phrase = median_seconds(lambda: [parse_deadline(p, PERIOD) for p in PHRASES])
    lines.append(
        f"| deadline phrases parsed ({len(PHRASES)} phrases) | "
        f"{per_phrase / len(PHRASES) * 1e6:.0f} µs per phrase |"
    )
    plans = ROOT.parent / "shared" / "plans"
    sample = plans / "004_47eb12e1519b5f53.txt"
    source = sample if sample.exists() else ROOT / "examples" / "plan.txt"
    read = median_seconds(lambda: read_document(source))
    lines.append(f"| read {source.name} | {read * 1000:.1f} ms |")
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / f"{source.stem}.pdf"
        pdf_like(source, read_document(source), pdf)
        read = median_seconds(lambda: read_document(pdf))
        pages = len(pdfplumber_pages(pdf))
        lines.append(f"| read {pdf.name} ({pages} pages) | {read * 1000:.0f} ms |")
    for tasks in (200, 1000):
        lines.extend(bench_tasks(tasks))
    for finished in (100, 5000):
        lines.append(bench_cases(finished, 100))
    print("| what | median |\n|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
