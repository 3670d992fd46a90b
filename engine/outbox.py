"""Delivering the outbox: claim, send, mark — with retries only for what is transient.

Rows are claimed with a short lease (``status = 'sending'``) in their own transaction,
sent outside any transaction, then marked. A daemon killed between sending and marking
leaves the row ``sending``; when the lease runs out it is sent again with the same
Message-ID (the spool overwrites its file; mail clients fold the duplicate), so a
message is never lost. Mail goes out only within working hours on working days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, or_, select

from engine.clock import Clock
from engine.db import session_scope
from engine.models import OutboxMessage
from engine.sweep import record_state
from engine.timeline import WorkingHours
from notifications import (
    Mailer,
    PermanentMailError,
    RenderedMessage,
    TransientMailError,
    build_message,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
#: Waits after the 1st, 2nd, … transient failure; the last one repeats.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    quiet: bool = False  # outside working hours: nothing attempted


def _claim(engine: Engine, now: datetime, batch: int) -> list[OutboxMessage]:
    with session_scope(engine) as session:
        rows = list(
            session.exec(
                select(OutboxMessage)
                .where(
                    or_(
                        (col(OutboxMessage.status) == "pending")
                        & (col(OutboxMessage.not_before) <= now),
                        (col(OutboxMessage.status) == "sending")
                        & (col(OutboxMessage.lease_until) < now),
                    )
                )
                .order_by(col(OutboxMessage.id))
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.status = "sending"
            row.lease_until = now + LEASE
            session.add(row)
        session.commit()
        return rows


def _finish(engine: Engine, row_id: int, **fields: object) -> None:
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        if row is None:
            return
        for name, value in fields.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


async def deliver(
    engine: Engine,
    mailer: Mailer,
    clock: Clock,
    hours: WorkingHours,
    *,
    sender: str,
    sender_name: str,
    max_attempts: int,
    batch: int = 50,
) -> DeliveryResult:
    """Send what is due now; returns counts. Safe to run in several daemons at once."""
    result = DeliveryResult()
    now = clock.now()
    if not hours.is_open(now):
        result.quiet = True
        return result
    for row in _claim(engine, now, batch):
        assert row.id is not None
        message = build_message(
            RenderedMessage(row.subject, row.body_text, row.body_html),
            sender=sender,
            sender_name=sender_name,
            recipient_name=row.recipient_name,
            recipient_email=row.recipient_email,
            message_id=row.message_id,
            date=row.created_at,
            headers={"X-Measures-Task": str(row.task_id or ""), "X-Measures-Kind": row.kind},
        )
        attempts = row.attempts + 1
        try:
            await mailer.send(message)
        except TransientMailError as exc:
            if attempts >= max_attempts:
                log.error("outbox %s: giving up after %d attempts: %s", row.id, attempts, exc)
                _finish(engine, row.id, status="failed", attempts=attempts, last_error=str(exc))
                result.failed += 1
            else:
                wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
                _finish(
                    engine,
                    row.id,
                    status="pending",
                    attempts=attempts,
                    last_error=str(exc),
                    not_before=hours.next_open(clock.now() + wait),
                )
                result.retried += 1
            continue
        except PermanentMailError as exc:
            log.error("outbox %s: not deliverable: %s", row.id, exc)
            _finish(engine, row.id, status="failed", attempts=attempts, last_error=str(exc))
            result.failed += 1
            continue
        _finish(
            engine, row.id, status="sent", attempts=attempts, sent_at=clock.now(), last_error=""
        )
        result.sent += 1
    if result.sent or result.retried or result.failed:
        record_state(
            engine,
            "delivery",
            now,
            {
                "sent": result.sent,
                "retried": result.retried,
                "failed": result.failed,
            },
        )
    return result
