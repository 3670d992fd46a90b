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
from typing import Any

from sqlmodel import Session, col, select

from engine.core.clock import stored_utc
from engine.core.errors import DatabaseError
from engine.core.models import AuditEvent, AuditHead, Task

GENESIS = "0" * 64
KEYED = "hmac-sha256"
PLAIN = "sha256"  # chains written before keying (schema 0001), until re-keyed


def audit_key(secret: str) -> bytes:
    """The chain's key, derived from the instance secret (not the secret itself, so the
    same secret signing links never doubles as this MAC key)."""
    return hmac.new(secret.encode("utf-8"), b"measures audit chain", hashlib.sha256).digest()


def _content(row: AuditEvent) -> dict[str, Any]:
    """The hashed content. A case or administrative-measure subject is added only when
    set, so rows written before those subjects existed keep their hashes."""
    at = stored_utc(row.at)
    # A transition of a task keeps exactly the content rows had before other subjects
    # existed, so rows written by earlier releases keep their hashes; other subjects (a
    # case, an administrative measure) and a clerk's change (a measure or a plan, with
    # its changes) add their keys only when set.
    extra = {
        name: value
        for name, value in (
            ("case_id", row.case_id),
            ("admin_id", row.admin_id),
            ("measure_id", row.measure_id),
            ("plan_id", row.plan_id),
            ("changes", dict(row.changes or {})),
        )
        if value
    }
    return extra | {
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


def verify(session: Session, key: bytes, initial: str) -> VerifyResult:
    """Walk the chain in order; report the first broken link, then replay the states.

    The keyed hash chain proves the log was not edited; it cannot see a task row edited
    behind its back. So the walk also replays each task's transitions — every row must
    start where the previous one of its task ended (``initial`` before the first) — and
    then every task's state must be where its last row left it.
    """
    head = session.get(AuditHead, 1)
    if head is not None and head.scheme != KEYED:
        return VerifyResult(
            0,
            "журнал аудита записан до введения ключа (простой SHA-256) и ещё не подписан "
            "заново: выполните `measures init`",
        )
    return _walk(session, key, initial)


def _walk(session: Session, key: bytes | None, initial: str | None) -> VerifyResult:
    """The chain walk; ``key`` None: the plain SHA-256 of old chains; ``initial`` None:
    hashes only, no replay of task states."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    states: dict[int, str] = {}
    for row in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))):
        if row.seq != expected_seq:
            return VerifyResult(
                checked,
                f"нет записи {expected_seq} журнала (следующая — запись {row.seq}): запись удалена",
            )
        if row.prev_hash != prev_hash:
            return VerifyResult(
                checked,
                f"запись {row.seq}: ссылка на предыдущую запись не совпадает: "
                "цепочка разорвана или переписана",
            )
        if compute_hash(prev_hash, row, key) != row.hash:
            return VerifyResult(
                checked,
                f"запись {row.seq} ({_subject(row)}, действие {row.event}): содержимое не "
                "совпадает с хешем: запись изменена или цепочка пересчитана без ключа",
            )
        if row.task_id is not None and initial is not None:
            before = states.get(row.task_id, initial)
            if row.from_state != before:
                return VerifyResult(
                    checked,
                    f"запись {row.seq} (задача {row.task_id}): переход из «{row.from_state}», "
                    f"а предыдущие записи оставили задачу в «{before}»",
                )
            states[row.task_id] = row.to_state
        prev_hash = row.hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, prev_hash):
        return VerifyResult(
            checked,
            f"нет записи {expected_seq} журнала, а его вершина помнит запись {head.seq}: "
            "удалены последние записи или изменена вершина",
        )
    if initial is None:
        return VerifyResult(checked, None)
    rows = session.exec(select(Task.id, Task.state).order_by(col(Task.id))).yield_per(10_000)
    for task_id, state in rows:
        expected = states.get(task_id or 0, initial)
        if state != expected:
            return VerifyResult(
                checked,
                f"задача {task_id} в состоянии «{state}», а по журналу — «{expected}»: "
                "состояние изменено в обход журнала",
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
    result = _walk(session, None, None)
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


def _subject(row: AuditEvent) -> str:
    """What an audit row is about, for messages: «задача 5», «дело школы 2», …"""
    if row.task_id is not None:
        return f"задача {row.task_id}"
    if row.case_id is not None:
        return f"дело школы {row.case_id}"
    if row.admin_id is not None:
        return f"мера воздействия {row.admin_id}"
    if row.measure_id is not None:
        return f"мероприятие {row.measure_id}"
    return f"план {row.plan_id}"
