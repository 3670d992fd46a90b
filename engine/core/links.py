"""Signed tokens: emailed action links, sign-in links, session cookies, API tokens,
links that open a page (``page``: a case decision's approval page) and calendar feeds
(``feed``).

One :class:`Signer` per instance secret, with a separate itsdangerous salt per purpose,
so a token made for one purpose (a session cookie) is never accepted for another (an
action link). Expiry is part of the signed payload and checked against the program's
:class:`~engine.core.clock.Clock`, not the wall clock, so ``--now`` and the tests' fixed
clock reach it too.

A signature only proves the program made the token: it does not make it single-use.
Action and sign-in links carry a random ``nonce`` that the application records when the
link is used (``LinkUse``), and action links carry the task's ``version``, so a link
from a letter stops working once the task has moved on. (STACK-NOTES: itsdangerous
tokens are replayable by design.)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeSerializer

from engine.core.errors import MeasuresError

Purpose = Literal["action", "signin", "session", "api", "page", "feed"]
#: The action of a link that only opens the task (it changes nothing).
OPEN = "open"


class BadLink(MeasuresError):
    """A token that cannot be used; ``reason`` is "forged" or "expired"."""

    def __init__(self, reason: Literal["forged", "expired"], claim: Claim | None = None) -> None:
        super().__init__(f"link {reason}")
        self.reason = reason
        self.claim = claim


@dataclass(frozen=True)
class Claim:
    """What a token says: who, until when, and — for action links — which task and action."""

    person_id: int
    expires: datetime
    nonce: str = ""
    task_id: int | None = None
    action: str | None = None
    version: int | None = None
    extra: str = ""  # a session's CSRF token, a page link's path, a feed's subject

    @property
    def changes_state(self) -> bool:
        return self.action is not None and self.action != OPEN


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class Signer:
    """Makes and reads the instance's tokens (one secret, one salt per purpose)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a signer needs a non-empty secret")
        self._secret = secret
        self._by_purpose: dict[str, URLSafeSerializer] = {}

    def _serializer(self, purpose: Purpose) -> URLSafeSerializer:
        found = self._by_purpose.get(purpose)
        if found is None:
            found = URLSafeSerializer(self._secret, salt=f"measures-{purpose}")
            self._by_purpose[purpose] = found
        return found

    def make(self, purpose: Purpose, claim: Claim) -> str:
        payload: dict[str, Any] = {"p": claim.person_id, "e": int(claim.expires.timestamp())}
        for key, value in (
            ("n", claim.nonce),
            ("t", claim.task_id),
            ("a", claim.action),
            ("v", claim.version),
            ("x", claim.extra),
        ):
            if value not in (None, ""):
                payload[key] = value
        return str(self._serializer(purpose).dumps(payload))

    def read(self, purpose: Purpose, token: str, now: datetime) -> Claim:
        """The claim of a genuine, unexpired token; :class:`BadLink` otherwise."""
        try:
            payload = self._serializer(purpose).loads(token)
        except (BadSignature, UnicodeError, ValueError):
            raise BadLink("forged") from None
        try:
            claim = Claim(
                person_id=int(payload["p"]),
                expires=datetime.fromtimestamp(int(payload["e"]), UTC),
                nonce=str(payload.get("n", "")),
                task_id=_optional_int(payload.get("t")),
                action=payload.get("a"),
                version=_optional_int(payload.get("v")),
                extra=str(payload.get("x", "")),
            )
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            raise BadLink("forged") from None  # signed by us, but not a shape we make
        if claim.expires <= now:
            raise BadLink("expired", claim)
        return claim


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value
