"""The audit log: append-only, hash-chained, keyed.

Each row's ``hash`` is HMAC-SHA256, keyed with the instance secret, over the previous
row's hash and the row's own content in a canonical JSON form, and rows carry a gap-free
``seq``. The key is what makes the chain evidence: with plain SHA-256 anybody with write
access to the database could alter a row and recompute every hash after it; without the
key a recomputed chain no longer verifies. Altering a row breaks its hash;
deleting one breaks the sequence or the next row's ``prev_hash``; deleting the newest rows
is caught by :class:`~engine.core.models.AuditHead`, which remembers the newest link.

Appends lock the head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's immediate
transaction holds the only write lock anyway), so the chain never forks; the unique
``seq`` is the safety net if that ever fails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlmodel import Session, col, select

from engine.core.errors import DatabaseError
from engine.core.models import AuditEvent, AuditHead

GENESIS = "0" * 64
KEYED = "hmac-sha256"
PLAIN = "sha256"  # chains written before keying (schema 0001), until re-keyed


def audit_key(secret: str) -> bytes:
    """The chain's key, derived from the instance secret (not the secret itself, so the
    same secret signing links never doubles as this MAC key)."""
    return hmac.new(secret.encode("utf-8"), b"measures audit chain", hashlib.sha256).digest()


def _content(row: AuditEvent) -> dict[str, Any]:
    at = row.at.astimezone(UTC) if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return {
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


def compute_hash(prev_hash: str, row: AuditEvent, key: bytes | None) -> str:
    """The row's link: HMAC-SHA256 with ``key``; plain SHA-256 only for ``key=None``
    (reading a chain written before keying)."""
    data = (prev_hash + json.dumps(_content(row), ensure_ascii=False, sort_keys=True)).encode()
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def append(session: Session, row: AuditEvent, key: bytes) -> AuditEvent:
    """Chain ``row`` after the newest one and add it to the session (caller commits)."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:  # the migration inserts it; a missing head means a damaged database
        head = AuditHead(id=1)
    if head.scheme != KEYED:
        raise DatabaseError(
            "the audit log was written before it was keyed and has not been re-keyed: "
            "run `measures init`"
        )
    row.seq = head.seq + 1
    row.prev_hash = head.hash
    row.hash = compute_hash(row.prev_hash, row, key)
    head.seq, head.hash = row.seq, row.hash
    session.add(row)
    session.add(head)
    return row


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    problem: str | None  # None: the chain is intact

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(session: Session, key: bytes) -> VerifyResult:
    """Walk the chain in order; report the first broken link."""
    head = session.get(AuditHead, 1)
    if head is not None and head.scheme != KEYED:
        return VerifyResult(
            0,
            "the audit log was written before it was keyed (plain SHA-256) and has not "
            "been re-keyed yet: run `measures init`",
        )
    return _walk(session, key)


def _walk(session: Session, key: bytes | None) -> VerifyResult:
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
        if compute_hash(prev_hash, row, key) != row.hash:
            return VerifyResult(
                checked,
                f"audit row seq {row.seq} (task {row.task_id}, event "
                f"{row.event}): content does not match its hash: "
                "the row was altered, or the chain was recomputed without the key",
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


def rekey(session: Session, key: bytes) -> VerifyResult | None:
    """Re-key a chain written with plain SHA-256 (before schema 0002), once.

    The old chain is verified as it was written first: a chain already broken is left
    as it is and the problem returned (re-keying it would launder the tampering). None:
    nothing to do (the chain is keyed already). The caller commits.
    """
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None or head.scheme == KEYED:
        return None
    result = _walk(session, None)
    if not result.ok:
        return result
    prev_hash = GENESIS
    for row in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))):
        row.prev_hash = prev_hash
        row.hash = compute_hash(prev_hash, row, key)
        prev_hash = row.hash
        session.add(row)
    head.hash, head.scheme = prev_hash, KEYED
    session.add(head)
    return result
