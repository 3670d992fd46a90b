"""Use cases of running the installation: set up, sweep once, simulate, status, audit, backups."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select

from engine.app import App
from engine.core import backup as backups
from engine.core.db import session_scope, upgrade
from engine.core.models import DaemonState, OutboxMessage
from engine.escalation.digests import enqueue_digests
from engine.escalation.outbox import DeliveryResult
from engine.escalation.simulate import TimelineEntry
from engine.escalation.simulate import simulate as timeline
from engine.escalation.sweep import SweepResult, record_state, sweep
from engine.lifecycle.audit import VerifyResult
from engine.lifecycle.audit import verify as verify_chain


def init(app: App) -> tuple[str | None, str]:
    """Create or upgrade the database (schema before, after); make the secret key."""
    app.config.secret_key()  # generated on first start, kept in the data folder
    return upgrade(app.engine)


@dataclass(frozen=True)
class SweepOnce:
    steps: SweepResult
    digests: int
    delivery: DeliveryResult | None
    cases: int = 0  # school cases moved by the periodic check


def take_due_steps(app: App, stop: threading.Event | None = None) -> SweepResult:
    """The sweep: every ladder step due now, taken once, its letters queued."""
    return sweep(app.ready_engine(), app.escalator, app.clock, stop=stop)


def queue_digests(app: App) -> int:
    """Today's daily digests and the weekly summary, queued once; how many were queued."""
    return enqueue_digests(app.ready_engine(), app.escalator, app.clock)


def check_school_cases(app: App) -> int:
    """School cases whose help period ended or whose next round arrived move on; how many."""
    from engine.app.cases import check_cases

    return check_cases(app).moves


def record_daemon(app: App, value: dict[str, object]) -> None:
    """Tell ``measures status`` what this daemon process is doing."""
    record_state(app.engine, "daemon", app.clock.now(), value)


def sweep_once(app: App, *, send: bool) -> SweepOnce:
    """What one daemon tick does: due steps, today's digests, the cases' check, maybe deliver."""
    result = take_due_steps(app)
    digests = queue_digests(app)
    moved = check_school_cases(app)
    delivered = asyncio.run(app.deliver()) if send else None
    return SweepOnce(result, digests, delivered, moved)


def simulate(app: App, first: date, last: date) -> list[TimelineEntry]:
    """Every step the current data would produce between two days (both included)."""
    zone = app.config.timezone
    begin = datetime.combine(first, time(0), tzinfo=zone)
    finish = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone) - timedelta(
        microseconds=1
    )
    with session_scope(app.ready_engine()) as session:
        return timeline(session, app.escalator, begin, finish)


def status(app: App) -> dict[str, Any]:
    """The daemon's last jobs, the outbox by status and its ten newest failures."""
    with session_scope(app.ready_engine()) as session:
        jobs = {row.name: row.value for row in session.exec(select(DaemonState))}
        queue = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            ).all()
        )
        failures = [
            {"id": row.id, "to": row.recipient_email, "error": row.last_error}
            for row in session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.status) == "failed")
                .order_by(col(OutboxMessage.id).desc())
                .limit(10)
            )
        ]
    return {"jobs": jobs, "outbox": queue, "recent_failures": failures}


def verify_audit(app: App) -> VerifyResult:
    with session_scope(app.ready_engine()) as session:
        return verify_chain(session)


def backup(app: App, target: Path) -> Path:
    return backups.backup(app.ready_engine(), target)


def restore(app: App, source: Path) -> None:
    backups.restore(app.engine, source)
