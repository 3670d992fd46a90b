"""Reports on a region-sized installation: time and peak memory per report and format.

    .venv/bin/python bench/reports.py                 # builds the profile, runs every case
    .venv/bin/python bench/reports.py --schools 1000 --keep /tmp/region.db

The profile: one regional plan in four sections, 1,000 schools each with its head,
5 committee measures (quarterly) and 25 measures fanned out to every school — 10 once,
10 quarterly, 5 monthly (September–May) — ≈ 95,000 tasks. Tasks due before the report
day (25.11.2026) are mostly started, reported and verified (some late, some returned),
the rest overdue; ladder steps are recorded for the overdue ones. Audit and step rows
are bulk-inserted (their hash chain is irrelevant to reports).

Each case runs in a fresh process (``--case``). Memory is read from /proc/self/status:
"baseline" is the resident size after imports and opening the database; the peak
(VmHWM) is reset to it (``/proc/self/clear_refs``) before the report, so the peak is the
report's own high-water mark. Results go to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from engine.app import App  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.db import make_engine, session_scope, upgrade  # noqa: E402
from engine.core.models import (  # noqa: E402
    AuditEvent,
    AuditHead,
    EscalationStep,
    Measure,
    Person,
    Plan,
    School,
    Section,
    Task,
    pk,
)
from engine.core.settings import load_config  # noqa: E402
from engine.plans.schedule import occurrence_key  # noqa: E402

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 10:00 Moscow
CREATED = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
CASES = {
    "plan-docx": ["plan", "docx", None],
    "plan-xlsx": ["plan", "xlsx", None],
    "plan-html": ["plan", "html", None],
    "plan-docx-as-of-2026-10-15": ["plan", "docx", "2026-10-15"],
    "discipline-xlsx-2026-09-01..2026-11-30": ["discipline", "xlsx", None],
    "calendar-plan": ["calendar", "ics", None],
}


def _dues(kind: str) -> list[date]:
    if kind == "once":
        return [date(2026, 10, 30)]
    if kind == "quarterly":
        return [date(2026, 9, 30), date(2026, 12, 30), date(2027, 3, 31), date(2027, 6, 30)]
    return [date(2026 + (m < 9), m, 25) for m in (9, 10, 11, 12, 1, 2, 3, 4, 5)]


def build(url: str, schools: int) -> int:
    """The profile; returns the number of tasks."""
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(12)
    with session_scope(engine) as session:
        staff = []
        for key, roles in (("sokolova", ["head", "admin"]), ("petrova", ["supervisor"])):
            person = Person(key=key, name=f"{key.title()} Анна Сергеевна", roles=roles)
            session.add(person)
            staff.append(person)
        session.flush()
        supervisor = pk(staff[1])
        committee = [Person(key=f"spec{i}", name=f"Специалист{i} Иван Иванович") for i in range(5)]
        session.add_all(committee)
        session.flush()
        session.execute(
            insert(Person),
            [
                {
                    "key": f"head{i}",
                    "name": f"Директор{i} Пётр Петрович",
                    "email": "",
                    "position": "",
                    "organisation": "",
                    "roles": [],
                    "aliases": [],
                    "active": True,
                }
                for i in range(schools)
            ],
        )
        heads = dict(session.execute(select(Person.key, Person.id)).all())
        session.execute(
            insert(School),
            [
                {
                    "key": f"s{i}",
                    "name": f"МБОУ «Средняя школа № {i + 1}»",
                    "short_name": f"СШ № {i + 1}",
                    "email": "",
                    "head_id": heads[f"head{i}"],
                    "aliases": [],
                }
                for i in range(schools)
            ],
        )
        school_rows = list(session.execute(select(School.id, School.head_id)).all())
        plan = Plan(
            title="Региональный план мероприятий по повышению объективности",
            order_number="1001",
            order_date=date(2026, 8, 28),
            period_start=date(2026, 9, 1),
            period_end=date(2027, 8, 31),
            controller_id=supervisor,
            created_at=CREATED,
        )
        session.add(plan)
        session.flush()
        sections = []
        for position in range(1, 5):
            section = Section(
                plan_id=pk(plan), position=position, title=f"{position}. Раздел {position}"
            )
            session.add(section)
            sections.append(section)
        session.flush()
        kinds = ["quarterly"] * 5 + ["once"] * 10 + ["quarterly"] * 10 + ["monthly"] * 5
        tasks = []
        for number, kind in enumerate(kinds, start=1):
            measure = Measure(
                plan_id=pk(plan),
                section_id=pk(sections[(number - 1) * 4 // len(kinds)]),
                position=number,
                number=str(number),
                title=f"Мероприятие {number}: адресная помощь школам",
                deadline_phrase={
                    "once": "До 30 октября 2026 г.",
                    "quarterly": "Ежеквартально",
                    "monthly": "Ежемесячно",
                }[kind],
                responsible_text="Руководители ОО" if number > 5 else "Специалист",
            )
            session.add(measure)
            session.flush()
            targets = [(None, pk(committee[number - 1]))] if number <= 5 else list(school_rows)
            for occurrence, due in enumerate(_dues(kind), start=1):
                for school_id, head_id in targets:
                    tasks.append(
                        {
                            "measure_id": pk(measure),
                            "occurrence": occurrence,
                            "occurrence_key": occurrence_key("date", None, due),
                            "school_id": school_id,
                            "responsible_id": head_id,
                            "supervisor_id": supervisor,
                            "due_date": due,
                            "state": "planned",
                            "version": 1,
                            "report": "",
                            "created_at": CREATED,
                            "updated_at": CREATED,
                            "state_since": CREATED,
                        }
                    )
        session.execute(insert(Task), tasks)
        session.commit()
        rows = session.execute(
            select(Task.id, Task.due_date, Task.responsible_id).where(Task.due_date <= NOW.date())
        ).all()
        events, steps, states = [], [], {}
        seq = 0

        def event(task_id: int, name: str, source: str, target: str, actor: int, day: date) -> None:
            nonlocal seq
            seq += 1
            at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=7)
            events.append(
                {
                    "seq": seq,
                    "task_id": task_id,
                    "event": name,
                    "from_state": source,
                    "to_state": target,
                    "actor_id": actor,
                    "on_behalf_of_id": None,
                    "at": at,
                    "comment": "Отчёт о выполнении: мероприятие проведено, материалы размещены"
                    if target == "reported"
                    else "",
                    "evidence": [],
                    "prev_hash": "0" * 64,
                    "hash": "0" * 64,
                }
            )
            states[task_id] = (target, at)

        for task_id, due, responsible in rows:
            roll = rng.random()
            event(task_id, "start", "planned", "in_progress", responsible, due - timedelta(days=20))
            if roll < 0.15:  # overdue: steps recorded
                for offset, step in (
                    (1, "overdue"),
                    (4, "escalate_supervisor"),
                    (14, "escalate_head"),
                ):
                    taken = datetime.combine(
                        due + timedelta(days=offset), datetime.min.time(), tzinfo=UTC
                    )
                    if taken < NOW:
                        steps.append(
                            {
                                "task_id": task_id,
                                "step": step,
                                "key": f"{step}@{due}#1",
                                "fire_at": taken,
                                "taken_at": taken,
                                "skipped": False,
                                "note": "",
                            }
                        )
                continue
            late = 3 if roll < 0.3 else -2
            reported = due + timedelta(days=late)
            if reported >= NOW.date():
                continue
            event(task_id, "report", "in_progress", "reported", responsible, reported)
            if roll < 0.35:  # returned once, reported again
                event(
                    task_id,
                    "return",
                    "reported",
                    "in_progress",
                    supervisor,
                    reported + timedelta(days=1),
                )
                reported += timedelta(days=2)
                if reported >= NOW.date():
                    continue
                event(task_id, "report", "in_progress", "reported", responsible, reported)
            if roll < 0.9 and reported + timedelta(days=2) < NOW.date():
                event(
                    task_id,
                    "verify",
                    "reported",
                    "verified",
                    supervisor,
                    reported + timedelta(days=2),
                )
        for start in range(0, len(events), 20000):
            session.execute(insert(AuditEvent), events[start : start + 20000])
        session.execute(insert(EscalationStep), steps)
        head = session.get(AuditHead, 1) or AuditHead(id=1)
        head.seq = seq
        session.add(head)
        session.commit()
        for state in ("in_progress", "reported", "verified"):
            ids = [t for t, (s, _) in states.items() if s == state]
            for start in range(0, len(ids), 900):
                session.execute(
                    Task.__table__.update()  # type: ignore[attr-defined]
                    .where(Task.id.in_(ids[start : start + 900]))  # type: ignore[union-attr]
                    .values(state=state)
                )
        session.commit()
        total = session.execute(select(func.count()).select_from(Task)).scalar_one()
        audit = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        print(
            f"profile: {schools} schools, {total} tasks, {audit} audit rows, {len(steps)} steps",
            flush=True,
        )
    engine.dispose()
    return int(total)


def run_case(url: str, folder: Path, case: str) -> dict[str, object]:
    from engine.app.reports import discipline_report, plan_calendar, plan_report

    (folder / "config.toml").write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    app = App(load_config(folder / "config.toml"), FixedClock(NOW))
    app.ready_engine()
    _ = app.escalator
    from engine.reports.render.chart import chart_png  # imports for every format, up front
    from engine.reports.render.docx import render_docx
    from engine.reports.render.xlsx import render_xlsx

    del chart_png, render_docx, render_xlsx
    baseline = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current size
    kind, fmt, as_of = CASES[case]
    started = time.perf_counter()
    if kind == "plan":
        content = plan_report(
            app, 1, str(fmt), date.fromisoformat(as_of) if as_of else None
        ).content
    elif kind == "discipline":
        content = discipline_report(app, date(2026, 9, 1), date(2026, 11, 30), str(fmt)).content
    else:
        content = plan_calendar(app, 1)
    seconds = time.perf_counter() - started
    peak = _status("VmHWM")
    return {
        "case": case,
        "seconds": seconds,
        "baseline_mib": baseline / 1024,
        "peak_mib": peak / 1024,
        "size_kib": len(content) / 1024,
    }


def _status(field: str) -> int:
    """A memory figure of this process in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="SQLite file to build (or reuse if present)")
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.case:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(run_case(args.url, Path(folder), args.case)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "region.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            started = time.perf_counter()
            build(url, args.schools)
            print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        print("| report | time | peak memory (before the report) | file |\n|---|---|---|---|")
        for case in CASES:
            done = subprocess.run(
                [sys.executable, __file__, "--case", case, "--url", url],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"| {r['case']} | {r['seconds']:.1f} s | {r['peak_mib']:.0f} MiB "
                f"({r['baseline_mib']:.0f}) | {r['size_kib']:.0f} KiB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
