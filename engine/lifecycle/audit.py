"""The audit log: append-only, hash-chained.

Each row's ``hash`` is SHA-256 over the previous row's hash and the row's own content in
a canonical JSON form, and rows carry a gap-free ``seq``. Altering a row breaks its hash;
deleting one breaks the sequence or the next row's ``prev_hash``; deleting the newest rows
is caught by :class:`~engine.core.models.AuditHead`, which remembers the newest link.

Appends lock the head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's immediate
transaction holds the only write lock anyway), so the chain never forks; the unique
``seq`` is the safety net if that ever fails.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlmodel import Session, col, select

from engine.core.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _content(row: AuditEvent) -> dict[str, Any]:
    """The hashed content. A case or administrative-measure subject is added only when
    set, so rows written before those subjects existed keep their hashes."""
    at = row.at.astimezone(UTC) if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    subjects = {
        name: value
        for name, value in (("case_id", row.case_id), ("admin_id", row.admin_id))
        if value is not None
    }
    return {
        **subjects,
        "seq": row.seq,
        "task_id": row.task_id,
        "event": row.event,
        "from": row.from_state,
        "to": row.to_state,
        "actor_id": row.actor_id,
        "on_behalf_of_id": row.on_behalf_of_id,
        "at": at.isoformat(timespec="microseconds"),
        "comment": row.comment,
        "evidence": list(row.evidence),
    }


def compute_hash(prev_hash: str, row: AuditEvent) -> str:
    payload = json.dumps(_content(row), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def append(session: Session, row: AuditEvent) -> AuditEvent:
    """Chain ``row`` after the newest one and add it to the session (caller commits)."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:  # the migration inserts it; a missing head means a damaged database
        head = AuditHead(id=1)
    row.seq = head.seq + 1
    row.prev_hash = head.hash
    row.hash = compute_hash(row.prev_hash, row)
    head.seq, head.hash = row.seq, row.hash
    session.add(row)
    session.add(head)
    return row


def subject(row: AuditEvent) -> str:
    """What an audit row is about, for messages: ``task 5``, ``case 2``, ``admin 1``."""
    if row.case_id is not None:
        return f"case {row.case_id}"
    if row.admin_id is not None:
        return f"administrative measure {row.admin_id}"
    return f"task {row.task_id}"


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    problem: str | None  # None: the chain is intact

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(session: Session) -> VerifyResult:
    """Walk the chain in order; report the first broken link."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for row in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))):
        if row.seq != expected_seq:
            return VerifyResult(
                checked,
                f"audit row seq {expected_seq} is missing "
                f"(next present row is seq {row.seq}): a row was deleted",
            )
        if row.prev_hash != prev_hash:
            return VerifyResult(
                checked,
                f"audit row seq {row.seq}: prev_hash does not match "
                "the previous row: the chain was cut or rewritten",
            )
        if compute_hash(prev_hash, row) != row.hash:
            return VerifyResult(
                checked,
                f"audit row seq {row.seq} ({subject(row)}, event "
                f"{row.event}): content does not match its hash: "
                "the row was altered",
            )
        prev_hash = row.hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, prev_hash):
        return VerifyResult(
            checked,
            f"audit row seq {expected_seq} is missing: the chain's head "
            f"records seq {head.seq}: the newest rows were deleted "
            "or the head was altered",
        )
    return VerifyResult(checked, None)
