"""A tiny run of each scale benchmark (bench/scale.py) on the district profile: it runs,
reports sane numbers and leaves the generated data as it found it. Not a speed test —
no figure is compared with a target here (that is bench/RESULTS.md's job)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.scale import (
    Installation,
    Servers,
    bench_fire,
    bench_memory,
    bench_peer,
    bench_send,
    bench_sweep,
    installation,
)
from engine.core.models import EscalationStep, OutboxMessage, Task
from tests.conftest import assert_doctor_finds_nothing

_task = Task.__table__  # type: ignore[attr-defined]


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(scope="module", params=["sqlite", POSTGRES])
def district(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Servers, Installation]]:
    """The district profile generated once per database for this module."""
    kind = str(request.param)
    pg = str(request.getfixturevalue("pg_server")) if kind == "postgres" else None
    folder = tmp_path_factory.mktemp(f"bench-{kind}")
    with Servers(Path(folder), pg) as servers:
        inst = installation(servers, kind, "district")
        yield servers, inst
        inst.close()


def _state(inst: Installation) -> tuple[int, int, int, list[tuple[int, object]]]:
    """What a benchmark must put back: steps, letters, tasks due, every next moment."""
    with inst.engine.connect() as connection:
        steps, letters, due = (
            connection.execute(
                sa.select(sa.func.count()).select_from(table).where(*where)
            ).scalar_one()
            for table, where in (
                (EscalationStep.__table__, ()),  # type: ignore[attr-defined]
                (OutboxMessage.__table__, ()),  # type: ignore[attr-defined]
                (_task, (_task.c.next_step_at <= inst.moment.now,)),
            )
        )
        moments = connection.execute(
            sa.select(_task.c.id, _task.c.next_step_at).order_by(_task.c.id)
        ).all()
    return steps, letters, due, [tuple(m) for m in moments]


def test_sweep_beside_its_floor(district: tuple[Servers, Installation]) -> None:
    _, inst = district
    before = _state(inst)
    figures = bench_sweep(inst, repeat=1)
    # The generator leaves about 1 % of the district's ≈1.5 thousand tasks due.
    assert figures.tasks == len(before[3]) and 5 <= figures.due <= 0.03 * figures.tasks
    assert figures.due == before[2]
    assert figures.steps >= figures.due and figures.messages > 0
    assert figures.floor > 0 and figures.due_sweep > 0
    assert figures.idle_floor > 0 and figures.idle > 0
    assert "| district |" in figures.row()
    assert _state(inst) == before, "the benchmark must restore the generated data"
    assert_doctor_finds_nothing(inst.app)


def test_memory_of_a_real_daemon(district: tuple[Servers, Installation]) -> None:
    _, inst = district
    if inst.kind != "sqlite":
        pytest.skip("one database is enough for the smoke run of the daemon")
    before = _state(inst)
    found = bench_memory(inst, timeout=120)
    assert found["sweep"]["steps"] >= before[2] > 0
    assert 30 < found["peak_mib"] < 2000  # a Python process with the app loaded
    assert _state(inst) == before


def test_send_beside_a_bare_smtp_loop(district: tuple[Servers, Installation]) -> None:
    servers, inst = district
    found = bench_send(servers, inst.kind, messages=10, repeat=1)
    assert found["messages"] == 10
    assert found["drain_per_s"] > 0 and found["bare_per_s"] > 0 and found["wire_per_s"] > 0
    assert found["ratio"] == pytest.approx(found["drain_per_s"] / found["bare_per_s"], rel=0.1)


def test_fire_with_concurrent_workers(district: tuple[Servers, Installation]) -> None:
    _, inst = district
    if inst.kind != "postgres":
        pytest.skip("the fire benchmark is specified on PostgreSQL")
    before = _state(inst)
    found = bench_fire(inst, tasks=20, workers=4)  # asserts one transition per task
    assert found["tasks"] == 20 and found["attempts"] == 40
    assert found["lifecycle_per_s"] > 0 and found["floor_per_s"] > 0
    assert _state(inst) == before
    assert_doctor_finds_nothing(inst.app)


def test_peer_scheduler_on_the_same_deadlines(district: tuple[Servers, Installation]) -> None:
    servers, inst = district
    if inst.kind != "sqlite":
        pytest.skip("one database is enough for the smoke run of the peer")
    found = bench_peer(servers, inst, deadlines=40)
    assert found["deadlines"] == 40
    assert found["due_found"] == found["due"]
    assert found["schedule_s"] > 0 and found["schedule_peak_mib"] > 0


def test_hot_paths_runner_sweeps_what_the_bulk_fill_wrote() -> None:
    """bench/run.py's sweep lines: the bulk fill writes around the ORM, so the runner
    must bring the next steps current first — else the "first sweep" finds nothing."""
    from bench.run import bench_tasks

    first, idle, fire = bench_tasks(20)
    steps = int(first.split("(")[1].split(" steps")[0])
    assert steps > 20  # every overdue task of the default ladder has several steps due
    assert "nothing due" in idle and "fire one event" in fire
