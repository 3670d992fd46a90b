"""Delivering the outbox: claim a batch, send it on one connection, record the outcomes.

Due rows are claimed a batch at a time with a lease (``status = 'sending'``,
``lease_until``) in one short transaction (``FOR UPDATE SKIP LOCKED``: several daemons
take different rows), sent one after another outside any transaction on the mailer's one
connection, then the batch's outcomes are recorded in one transaction — each only if the
lease is still this claim's, so a send whose lease ran out cannot overwrite what another
daemon did. A batch stops early (and gives its unsent rows back) when its lease nears its
end or the daemon is stopping. A daemon killed between sending and recording leaves rows
``sending``; when the lease runs out they are sent again with the same Message-ID (the
spool overwrites its file; mail clients fold the duplicate), so a message is never lost.
Mail goes out only within working hours on working days. The database work runs in a
worker thread, so the event loop (the web pages, the other jobs) is never blocked by it.

A letter speaks of the working day it was meant to leave on ("сегодня", "через 2 рабочих
дня"). One that could not leave that day (the mail server was down, the daemon stopped)
is handed to ``refresh`` first: rewritten for today, or dropped with the reason in its
``note`` (status ``dropped``) — never sent with a stale text. The ``Date:`` header is the
moment of sending.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
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
#: A batch stops sending when less than this is left of its lease.
LEASE_MARGIN = timedelta(minutes=1)
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


def _claim(
    engine: Engine, now: datetime, size: int, urgent_only: bool = False
) -> list[OutboxMessage]:
    """Take up to ``size`` of the oldest due rows with one fresh lease, in one transaction."""
    with session_scope(engine) as session:
        query = select(OutboxMessage).where(
            or_(
                (col(OutboxMessage.status) == "pending") & (col(OutboxMessage.not_before) <= now),
                (col(OutboxMessage.status) == "sending") & (col(OutboxMessage.lease_until) < now),
            )
        )
        if urgent_only:
            query = query.where(col(OutboxMessage.kind).in_(URGENT_KINDS))
        rows = list(
            session.exec(
                query.order_by(col(OutboxMessage.id)).limit(size).with_for_update(skip_locked=True)
            )
        )
        if not rows:
            return []
        lease = now + LEASE
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_([row.id for row in rows]))
            .values(status="sending", lease_until=lease)
        )
        session.commit()
        for row in rows:
            row.status, row.lease_until = "sending", lease
        return rows


@dataclass
class _Outcomes:
    """What happened to each row of a claimed batch, recorded together."""

    lease: datetime | None
    sent: list[int] = field(default_factory=list)  # sent as stored
    changed: list[tuple[OutboxMessage, dict[str, object]]] = field(default_factory=list)
    released: list[int] = field(default_factory=list)  # not tried: back to pending


def _record(engine: Engine, outcomes: _Outcomes, now: datetime) -> set[int]:
    """Record a batch's outcomes in one transaction, each only where the lease is still
    this claim's; the ids recorded."""
    owned: set[int] = set()
    ours = (col(OutboxMessage.status) == "sending") & (
        col(OutboxMessage.lease_until) == outcomes.lease
    )
    with session_scope(engine) as session:
        for ids, values in (
            (
                outcomes.sent,
                {
                    "status": "sent",
                    "attempts": col(OutboxMessage.attempts) + 1,
                    "sent_at": now,
                    "last_error": "",
                    "lease_until": None,
                },
            ),
            (outcomes.released, {"status": "pending", "lease_until": None}),
        ):
            if ids:
                found = session.execute(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id).in_(ids), ours)
                    .values(**values)
                    .returning(col(OutboxMessage.id))
                )
                owned.update(found.scalars())
        for row, values in outcomes.changed:
            found = session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, ours)
                .values(lease_until=None, **values)
                .returning(col(OutboxMessage.id))
            )
            owned.update(found.scalars())
        session.commit()
    lost = {*outcomes.sent, *(row.id or 0 for row, _ in outcomes.changed)} - owned
    if lost:
        log.warning("outbox %s: lease lost before the outcome was recorded", sorted(lost))
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
    batch: int = 100,
    stop: threading.Event | None = None,
    refresh: Callable[[OutboxMessage, datetime], Refreshed] | None = None,
) -> DeliveryResult:
    """Send every due message, a batch at a time; safe to run in several daemons at once.

    ``stop`` is checked between messages: a stopping daemon finishes the one in flight,
    records its batch and gives the rest back.
    """
    result = DeliveryResult()
    now = clock.now()
    # Outside working hours only urgent letters (a sign-in link) leave.
    result.quiet = not hours.is_open(now)
    while stop is None or not stop.is_set():
        rows = await asyncio.to_thread(_claim, engine, clock.now(), batch, result.quiet)
        if not rows:
            break
        outcomes = _Outcomes(rows[0].lease_until)
        for index, row in enumerate(rows):
            if (stop is not None and stop.is_set()) or (
                outcomes.lease is not None and clock.now() >= outcomes.lease - LEASE_MARGIN
            ):
                outcomes.released.extend(r.id for r in rows[index:] if r.id is not None)
                break
            await _send_one(
                row, mailer, clock, hours, sender, sender_name, max_attempts, refresh, outcomes
            )
        owned = await asyncio.to_thread(_record, engine, outcomes, clock.now())
        result.sent += sum(1 for i in outcomes.sent if i in owned)
        for row, values in outcomes.changed:
            if row.id not in owned:
                continue
            status = values.get("status")
            if status == "sent":
                result.sent += 1
            elif status == "dropped":
                result.dropped += 1
            elif status == "failed":
                result.failed += 1
            else:
                result.retried += 1
        if len(rows) < batch:
            break
    if result.sent or result.retried or result.failed or result.dropped:
        await asyncio.to_thread(
            record_state,
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


async def _send_one(
    row: OutboxMessage,
    mailer: Mailer,
    clock: Clock,
    hours: WorkingHours,
    sender: str,
    sender_name: str,
    max_attempts: int,
    refresh: Callable[[OutboxMessage, datetime], Refreshed] | None,
    outcomes: _Outcomes,
) -> None:
    """Send one claimed row (rewritten first if stale) and note its outcome."""
    attempts = row.attempts + 1
    moment = clock.now()
    fresh: dict[str, object] = {}
    if refresh is not None and row.valid_until is not None and moment > row.valid_until:
        renewed = await asyncio.to_thread(refresh, row, moment)
        if renewed.letter is None:
            log.info("outbox %s: dropped: %s", row.id, renewed.note)
            outcomes.changed.append((row, {"status": "dropped", "note": renewed.note}))
            return
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
            outcomes.changed.append(
                (row, {"status": "failed", "attempts": attempts, "last_error": str(exc)})
            )
        else:
            wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
            outcomes.changed.append(
                (
                    row,
                    {
                        "status": "pending",
                        "attempts": attempts,
                        "last_error": str(exc),
                        "not_before": hours.next_open(clock.now() + wait),
                    },
                )
            )
        return
    except (PermanentMailError, ValueError) as exc:
        # ValueError: the stored address or a header cannot form an email at all
        # (e.g. "ivanova@x.ru;"); retrying cannot help, and it must not block the rest.
        log.error("outbox %s: not deliverable to %r: %s", row.id, row.recipient_email, exc)
        outcomes.changed.append(
            (row, {"status": "failed", "attempts": attempts, "last_error": str(exc)})
        )
        return
    if fresh:
        outcomes.changed.append(
            (
                row,
                {
                    "status": "sent",
                    "attempts": attempts,
                    "sent_at": clock.now(),
                    "last_error": "",
                    **fresh,
                },
            )
        )
    elif row.id is not None:
        outcomes.sent.append(row.id)


def purge_sent(engine: Engine, before: datetime, chunk: int = 5000) -> int:
    """Delete letters sent or dropped before ``before`` (the retention setting), a chunk
    per transaction; how many. Failed letters stay until a person has seen them."""
    removed = 0
    while True:
        with session_scope(engine) as session:
            ids = list(
                session.exec(
                    select(OutboxMessage.id)
                    .where(
                        col(OutboxMessage.status).in_(("sent", "dropped")),
                        col(OutboxMessage.created_at) < before,  # by its index
                    )
                    .limit(chunk)
                )
            )
            if not ids:
                return removed
            session.execute(
                OutboxMessage.__table__.delete().where(  # type: ignore[attr-defined]
                    OutboxMessage.__table__.c.id.in_(ids)  # type: ignore[attr-defined]
                )
            )
            session.commit()
            removed += len(ids)
