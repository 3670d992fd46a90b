"""Use cases of running the installation: set up, sweep once, simulate, status, audit, backups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, func, select

from engine.app import App
from engine.core import backup as backups
from engine.core.clock import stored_utc
from engine.core.db import finish, session_scope, upgrade
from engine.core.errors import DatabaseError, MeasuresError, WorkflowError
from engine.core.flags import SIMULATION, get_flag, set_flag
from engine.core.models import DaemonProcess, DaemonState, OutboxMessage, Task, pk
from engine.escalation.digests import enqueue_digests
from engine.escalation.nextstep import (
    SCHEDULE_FLAG,
    Difference,
    fingerprint,
    recompute,
    refresh_if_changed,
)
from engine.escalation.outbox import DeliveryResult
from engine.escalation.simulate import TimelineEntry, iter_timeline
from engine.escalation.sweep import SweepResult, record_state, sweep
from engine.lifecycle.audit import VerifyResult
from engine.lifecycle.audit import rekey as rekey_chain
from engine.lifecycle.audit import verify as verify_chain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitResult:
    before: str | None  # schema revision before; None: the database was empty
    after: str
    rekeyed: VerifyResult | None  # an old plain-SHA-256 audit chain, checked and re-keyed


def init(app: App, *, simulation: bool = False) -> InitResult:
    """Create or upgrade the database, make the secret key, key an old audit chain.

    The audit chain of a database made before schema 0002 was plain SHA-256; it is
    verified as written and then re-keyed with the instance secret, in one transaction.
    A chain that does not verify is left untouched and reported (DatabaseError).
    ``simulation`` marks the database as a test or demonstration copy, on which commands
    may change data at a moved clock (``--now``); the mark cannot be removed.
    """
    app.config.secret_key()  # generated on first start, kept in the data folder
    before, after = upgrade(app.engine)
    # Rows from before schema 0006 (or computed with other ladders or another calendar)
    # get their next step moments now, not at the daemon's first sweep. A broken workflow
    # or ladders file does not stop the schema upgrade: every other command names the
    # mistake, and the daemon refreshes the moments when it starts with a good one.
    try:
        planner = app.planner
    except WorkflowError as exc:
        log.warning("next steps not recomputed (the workflows are broken): %s", exc)
    else:
        refresh_if_changed(app.engine, planner, app.clock.now())
    with session_scope(app.engine) as session:
        rekeyed = rekey_chain(session, app.audit_key)
        if rekeyed is not None and not rekeyed.ok:
            raise DatabaseError(
                f"the audit log written before keying is broken after {rekeyed.checked} "
                f"intact row(s): {rekeyed.problem}. It was not re-keyed; keep this "
                "database as evidence and restore a backup"
            )
        if simulation:
            set_flag(session, SIMULATION, "measures init --simulation", app.clock.now())
        session.commit()
    return InitResult(before, after, rekeyed)


def is_simulation(app: App) -> bool:
    with session_scope(app.ready_engine()) as session:
        return get_flag(session, SIMULATION) is not None


@dataclass(frozen=True)
class SweepOnce:
    steps: SweepResult
    digests: int
    delivery: DeliveryResult | None
    cases: int = 0  # school cases moved by the periodic check


def take_due_steps(app: App, stop: threading.Event | None = None) -> SweepResult:
    """The sweep: every ladder step due now, taken once, its letters queued."""
    app.next_steps_current()
    batch = app.config.settings.daemon.sweep_batch
    return sweep(app.writable_engine(), app.escalator, app.clock, batch_size=batch, stop=stop)


def queue_digests(app: App) -> int:
    """Today's daily digests and the weekly summary, queued once; how many were queued.

    Case decisions waiting for a person (administrative measures to approve) are in
    their digest too."""
    from engine.app.cases import waiting_decisions

    return enqueue_digests(
        app.writable_engine(), app.escalator, app.clock, decisions=waiting_decisions(app)
    )


@dataclass(frozen=True)
class Housekeeping:
    letters: int  # outbox rows deleted
    files: int  # spool files deleted


HOUSEKEEPING = "housekeeping"


def housekeeping(app: App) -> Housekeeping | None:
    """Once a day: sent letters and spool files past ``mail.keep_days`` deleted, SQLite's
    query planner statistics refreshed. None when today's was done (one read)."""
    from engine.escalation.outbox import purge_sent

    engine = app.writable_engine()
    now = app.clock.now()
    today = app.hours.local_date(now).isoformat()
    if _done_on(engine, HOUSEKEEPING, today):
        return None
    keep = app.config.settings.mail.keep_days
    letters = files = 0
    if keep:
        before = now - timedelta(days=keep)
        letters = purge_sent(engine, before)
        files = _purge_spool(app.config.spool_dir, before)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:  # statistics for the planner, as SQLite advises
            connection.exec_driver_sql("PRAGMA optimize")
    record_state(engine, HOUSEKEEPING, now, {"day": today, "letters": letters, "files": files})
    return Housekeeping(letters, files)


def _done_on(engine: Engine, marker: str, day: str) -> bool:
    """The daily job ``marker`` recorded (:func:`record_state`) that ``day``'s run is done."""
    with session_scope(engine) as session:
        row = session.get(DaemonState, marker)
        return row is not None and row.value.get("day") == day


def _purge_spool(folder: Path, before: datetime) -> int:
    """Spool files (``*.eml``) last written before ``before``."""
    if not folder.is_dir():
        return 0
    limit = before.timestamp()
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".eml") and entry.stat().st_mtime < limit:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def register_daemon(app: App, host: str, pid: int) -> int:
    """Enter a starting ``measures run`` process in the registry; its id.

    Registry times are real time, not the app's clock: they say when a process ran.
    """
    now = datetime.now(UTC)
    with session_scope(app.writable_engine()) as session:
        row = DaemonProcess(host=host, pid=pid, started_at=now, seen_at=now, state="starting")
        session.add(row)
        session.commit()
        return pk(row)


def daemon_seen(app: App, daemon_id: int, state: str | None = None) -> None:
    """A registered daemon is alive (after each job) or changes state (running, stopped)."""
    now = datetime.now(UTC)
    with session_scope(app.engine) as session:
        row = session.get(DaemonProcess, daemon_id)
        if row is None:
            return
        row.seen_at = now
        if state is not None:
            row.state = state
            if state == "stopped":
                row.stopped_at = now
        session.add(row)
        session.commit()


def calendar_moved(app: App) -> bool:
    """Whether stored computed dates may be out of date with the calendar (see status)."""
    from engine.app.calendar import calendar_changed

    with session_scope(app.ready_engine()) as session:
        return calendar_changed(app, session)


def running_daemons(app: App) -> list[DaemonProcess]:
    """Registered daemons that have not said they stopped, newest first."""
    with session_scope(app.ready_engine()) as session:
        return list(
            session.exec(
                select(DaemonProcess)
                .where(col(DaemonProcess.stopped_at).is_(None))
                .order_by(col(DaemonProcess.id).desc())
            )
        )


CASES_CHECKED = "cases"


def check_school_cases(app: App) -> int:
    """School cases whose help period ended or whose next round arrived move on; how many.

    Every waiting case is judged once a local day (a ``daemonstate`` marker); the runs
    between take only the cases a fact may hold for (set queries, engine.cases.progress),
    so that a run with nothing due does not cost a transaction per waiting case.
    """
    from engine.app.cases import check_cases

    engine = app.writable_engine()
    now = app.clock.now()
    today = app.hours.local_date(now).isoformat()
    full = not _done_on(engine, CASES_CHECKED, today)
    result = check_cases(app, full=full)
    if full:
        record_state(engine, CASES_CHECKED, now, {"day": today, "moves": result.moves})
    return result.moves


def sweep_once(app: App, *, send: bool) -> SweepOnce:
    """What one daemon tick does: due steps, today's digests, the cases' check, maybe deliver."""
    result = take_due_steps(app)
    digests = queue_digests(app)
    moved = check_school_cases(app)
    delivered = asyncio.run(app.deliver()) if send else None
    return SweepOnce(result, digests, delivered, moved)


def simulate(app: App, first: date, last: date) -> list[TimelineEntry]:
    """Every step the current data would produce between two days (both included)."""
    with simulate_stream(app, first, last) as entries:
        return list(entries)


@contextlib.contextmanager
def simulate_stream(app: App, first: date, last: date) -> Iterator[Iterator[TimelineEntry]]:
    """:func:`simulate` as a stream in order of sending, read while the ``with`` lasts."""
    zone = app.config.timezone
    begin = datetime.combine(first, time(0), tzinfo=zone)
    finish = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone) - timedelta(
        microseconds=1
    )
    with session_scope(app.ready_engine()) as session:
        entries = iter_timeline(session, app.escalator, begin, finish)
        try:
            yield entries
        finally:
            entries.close()  # the temporary sort file goes at once


def status(app: App) -> dict[str, Any]:
    """What a person checks on an installation: the daemons, their last jobs, the outbox,
    failures, a changed calendar and open tasks nobody will be reminded about."""
    from engine.queries import needs_attention

    now = datetime.now(UTC)
    silent_after = timedelta(seconds=3 * app.config.settings.daemon.sweep_seconds + 60)
    daemons = [
        {
            "id": row.id,
            "host": row.host,
            "pid": row.pid,
            "state": row.state,
            "started_at": row.started_at.astimezone(app.config.timezone).isoformat(),
            "seen_at": row.seen_at.astimezone(app.config.timezone).isoformat(),
            "silent": now - row.seen_at > silent_after,
        }
        for row in running_daemons(app)
    ]
    with session_scope(app.ready_engine()) as session:
        jobs = {
            row.name: row.value
            for row in session.exec(select(DaemonState))
            if row.name in ("sweep", "delivery")
        }
        queue = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            ).all()
        )
        # mail queued after working hours waits for the morning: say when it will go, so
        # that a night's «ждут отправки — 48» does not look like a stuck queue
        next_send = session.exec(
            select(func.min(OutboxMessage.not_before)).where(col(OutboxMessage.status) == "pending")
        ).one()
        failures = [
            {"id": row.id, "to": row.recipient_email, "error": row.last_error}
            for row in session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.status) == "failed")
                .order_by(col(OutboxMessage.id).desc())
                .limit(10)
            )
        ]
        count, attention = needs_attention(session, app.workflow, limit=20)
    changed = calendar_moved(app)
    return {
        "daemons": daemons,
        "jobs": jobs,
        "outbox": queue,
        "next_send": (
            stored_utc(next_send).astimezone(app.config.timezone).isoformat()
            if next_send is not None
            else None
        ),
        "recent_failures": failures,
        "calendar_changed": changed,
        "attention": {"count": count, "tasks": [a.as_json() for a in attention]},
    }


@dataclass(frozen=True)
class DoctorReport:
    """``measures doctor``: every task's next step moment computed from scratch."""

    checked: int  # tasks
    count: int  # tasks whose stored moment differs
    differences: list[Difference]  # the first ones
    fixed: bool
    fingerprint_current: bool  # the ladders/hours/calendar fingerprint matches

    def as_json(self, zone: Any) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return None if value is None else value.astimezone(zone).isoformat()

        return {
            "checked": self.checked,
            "count": self.count,
            "fixed": self.fixed,
            "fingerprint_current": self.fingerprint_current,
            "differences": [
                {"task": d.task_id, "stored": moment(d.stored), "computed": moment(d.computed)}
                for d in self.differences
            ],
        }


def doctor(app: App, *, fix: bool, limit: int = 50) -> DoctorReport:
    """Recompute every ``Task.next_step_at`` from scratch and compare with the stored one.

    A difference means a change reached a task without moving its next step (a bug, or
    rows written around the application): the sweep could take a step late or never.
    ``fix`` writes the computed moments (and the current fingerprint) in one transaction.
    """
    engine = app.engine_for(dry_run=not fix)
    planner = app.planner
    found: list[Difference] = []
    count = 0
    with session_scope(engine) as session:
        checked = session.exec(select(func.count()).select_from(Task)).one()
        current = fingerprint(planner)
        stored = get_flag(session, SCHEDULE_FLAG)
        for difference in recompute(session.connection(), planner, fix=fix):
            count += 1
            if len(found) < limit:
                found.append(difference)
        if fix:
            set_flag(session, SCHEDULE_FLAG, current, app.clock.now())
        finish(session, dry_run=not fix)
    return DoctorReport(checked, count, found, fix, stored == current)


def verify_audit(app: App) -> VerifyResult:
    with session_scope(app.ready_engine()) as session:
        return verify_chain(session, app.audit_key, app.workflow.initial)


def backup(app: App, target: Path) -> Path:
    return backups.backup(app.ready_engine(), target)


def restore(app: App, source: Path) -> None:
    backups.restore(app.engine, source)


def send_test_letter(app: App, address: str) -> str:
    """Send the test letter to ``address`` at once (not through the outbox: the point is
    to see the transport work or fail now); returns where it went."""
    from email.headerregistry import Address

    from notifications import PersonalLetter, build_message, make_message_id, render

    cfg = app.config
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        raise MeasuresError(f"not an email address: {address!r}") from None
    now = app.clock.now()
    letter = PersonalLetter(
        recipient_name="",
        recipient_email=address,
        committee_name=cfg.settings.committee.name,
        url=app.base_url + "/",
    )
    rendered = render("mail_test", {"letter": letter}, app.escalator.templates_dir)
    message = build_message(
        rendered,
        sender=cfg.settings.mail.sender,
        sender_name=cfg.settings.mail.sender_name or cfg.settings.committee.name,
        recipient_name="",
        recipient_email=address,
        message_id=make_message_id(f"test.{int(now.timestamp())}", app.escalator.mail_domain),
        date=now,
        headers={"X-Measures-Kind": "mail_test"},
    )

    async def send() -> None:
        mailer = app.mailer()
        try:
            await mailer.send(message)
        finally:
            closer = getattr(mailer, "aclose", None)
            if closer is not None:
                await closer()

    asyncio.run(send())
    mail = cfg.settings.mail
    if mail.transport == "spool":
        return f"spool folder {cfg.spool_dir}"
    return f"SMTP {mail.smtp_host}:{mail.smtp_port}"
