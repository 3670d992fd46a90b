"""Delivering the outbox: claim, send, mark — with retries only for what is transient.

Rows are claimed one at a time with a short lease (``status = 'sending'``) in their own
transaction, sent outside any transaction, then marked — only if the lease is still
theirs, so a slow send whose lease ran out cannot overwrite what another daemon did.
A daemon killed between sending and marking leaves the row ``sending``; when the lease
runs out it is sent again with the same Message-ID (the spool overwrites its file; mail
clients fold the duplicate), so a message is never lost. Mail goes out only within
working hours on working days.

A letter speaks of the working day it was meant to leave on ("сегодня", "через 2 рабочих
дня"). One that could not leave that day (the mail server was down, the daemon stopped)
is handed to ``refresh`` first: rewritten for today, or dropped with the reason in its
``note`` (status ``dropped``) — never sent with a stale text. The ``Date:`` header is the
moment of sending.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import col, or_, select

from engine.core.clock import Clock
from engine.core.db import session_scope
from engine.core.models import OutboxMessage
from engine.escalation.sweep import Refreshed, record_state
from engine.escalation.timeline import WorkingHours
from notifications import (
    Mailer,
    PermanentMailError,
    RenderedMessage,
    TransientMailError,
    build_message,
    make_message_id,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
#: Letters a person is waiting for right now: they leave outside working hours too.
URGENT_KINDS = ("signin", "mail_test")
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
    dropped: int = 0  # out of date before they could leave (see the module doc)
    quiet: bool = False  # outside working hours: only urgent letters (sign-in) attempted


def _claim_one(engine: Engine, now: datetime, urgent_only: bool = False) -> OutboxMessage | None:
    """Take the oldest due row with a fresh lease; one at a time, so a lease only has to
    outlast one send, not a whole batch of slow ones."""
    with session_scope(engine) as session:
        query = select(OutboxMessage).where(
            or_(
                (col(OutboxMessage.status) == "pending") & (col(OutboxMessage.not_before) <= now),
                (col(OutboxMessage.status) == "sending") & (col(OutboxMessage.lease_until) < now),
            )
        )
        if urgent_only:
            query = query.where(col(OutboxMessage.kind).in_(URGENT_KINDS))
        row = session.exec(
            query.order_by(col(OutboxMessage.id)).limit(1).with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        row.status = "sending"
        row.lease_until = now + LEASE
        session.add(row)
        session.commit()
        return row


def _finish(engine: Engine, claimed: OutboxMessage, **fields: object) -> bool:
    """Record the outcome only if this claim still owns the row (its lease is ours)."""
    values = {"lease_until": None, **fields}
    with session_scope(engine) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == claimed.id,
                col(OutboxMessage.status) == "sending",
                col(OutboxMessage.lease_until) == claimed.lease_until,
            )
            .values(**values)
        )
        session.commit()
        owned = bool(getattr(result, "rowcount", 0))
    if not owned:
        log.warning("outbox %s: lease lost before the outcome was recorded", claimed.id)
    return owned


def _headers(row: OutboxMessage) -> dict[str, str]:
    """Trace headers, and for letters about a task the thread they belong to.

    Every letter about one task names the same (never sent) thread root in
    ``In-Reply-To``/``References``, so mail programs show all of them — reminders,
    escalations, to every recipient — as one conversation.
    """
    headers = {"X-Measures-Task": str(row.task_id or ""), "X-Measures-Kind": row.kind}
    if row.task_id is not None:
        domain = row.message_id.rstrip(">").rpartition("@")[2] or "localhost"
        root = make_message_id(f"task.{row.task_id}", domain)
        headers["In-Reply-To"] = root
        headers["References"] = root
    return headers


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
    stop: threading.Event | None = None,
    refresh: Callable[[OutboxMessage, datetime], Refreshed] | None = None,
) -> DeliveryResult:
    """Send up to ``batch`` due messages; safe to run in several daemons at once.

    ``stop`` is checked between messages: a stopping daemon finishes the one in flight.
    """
    result = DeliveryResult()
    now = clock.now()
    # Outside working hours only urgent letters (a sign-in link) leave.
    result.quiet = not hours.is_open(now)
    for _ in range(batch):
        if stop is not None and stop.is_set():
            break
        row = _claim_one(engine, clock.now(), result.quiet)
        if row is None:
            break
        attempts = row.attempts + 1
        moment = clock.now()
        fresh: dict[str, object] = {}
        if refresh is not None and row.valid_until is not None and moment > row.valid_until:
            renewed = refresh(row, moment)
            if renewed.letter is None:
                log.info("outbox %s: dropped: %s", row.id, renewed.note)
                _finish(engine, row, status="dropped", note=renewed.note)
                result.dropped += 1
                continue
            fresh = {
                "subject": renewed.letter.subject,
                "body_text": renewed.letter.text,
                "body_html": renewed.letter.html,
                "valid_until": renewed.valid_until,
                "note": renewed.note,
            }
            row.subject = renewed.letter.subject
            row.body_text, row.body_html = renewed.letter.text, renewed.letter.html
        try:
            message = build_message(
                RenderedMessage(row.subject, row.body_text, row.body_html),
                sender=sender,
                sender_name=sender_name,
                recipient_name=row.recipient_name,
                recipient_email=row.recipient_email,
                message_id=row.message_id,
                date=moment,
                headers=_headers(row),
                calendar=row.ics,
            )
            await mailer.send(message)
        except TransientMailError as exc:
            if attempts >= max_attempts:
                log.error("outbox %s: giving up after %d attempts: %s", row.id, attempts, exc)
                _finish(engine, row, status="failed", attempts=attempts, last_error=str(exc))
                result.failed += 1
            else:
                wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
                _finish(
                    engine,
                    row,
                    status="pending",
                    attempts=attempts,
                    last_error=str(exc),
                    not_before=hours.next_open(clock.now() + wait),
                )
                result.retried += 1
            continue
        except (PermanentMailError, ValueError) as exc:
            # ValueError: the stored address or a header cannot form an email at all
            # (e.g. "ivanova@x.ru;"); retrying cannot help, and it must not block the rest.
            log.error("outbox %s: not deliverable to %r: %s", row.id, row.recipient_email, exc)
            _finish(engine, row, status="failed", attempts=attempts, last_error=str(exc))
            result.failed += 1
            continue
        if _finish(
            engine,
            row,
            status="sent",
            attempts=attempts,
            sent_at=clock.now(),
            last_error="",
            **fresh,
        ):
            result.sent += 1
    if result.sent or result.retried or result.failed or result.dropped:
        record_state(
            engine,
            "delivery",
            now,
            {
                "sent": result.sent,
                "retried": result.retried,
                "failed": result.failed,
                "dropped": result.dropped,
            },
        )
    return result
