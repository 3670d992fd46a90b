"""What every request goes through: the session cookie, CSRF, headers, rate limits.

* **Session**: a signed cookie (engine.app.access) — HttpOnly, SameSite=Lax, Secure when
  the public address is https — naming the person, its expiry and the CSRF token. An
  anonymous visitor gets one too, so the sign-in form has a CSRF token like every form.
* **CSRF**: every form posts a hidden ``csrf`` field that must equal the session's
  token; the JSON API, when called with the cookie rather than a bearer token, wants
  the same token in ``X-CSRF-Token``. (FastAPI has no built-in CSRF: STACK-NOTES.)
* **Headers** on every response: a strict Content-Security-Policy (no scripts at all:
  the pages work without JavaScript), ``frame-ancestors 'none'`` and X-Frame-Options,
  nosniff, ``Referrer-Policy: no-referrer`` (a link's token is in its path and must not
  leak to another site), ``Cache-Control: no-store``.
* **Rate limit**: sign-in and emailed-link pages accept ``web.rate_limit`` requests per
  minute per client address. The counter lives in this process — enough for one
  daemon; behind several replicas each counts its own share (document it, or limit at
  the reverse proxy).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict, deque

from starlette.requests import Request

from engine.app import App
from engine.app.access import Visitor

COOKIE = "measures_session"
RATE_LIMITED_PREFIXES = ("/signin", "/l/")

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class RateLimiter:
    """A sliding window per (client, bucket), in memory; thread-safe."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str, bucket: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[(client, bucket)]
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False
            hits.append(now)
            if len(self._hits) > 10000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v]:
                    del self._hits[key]
            return True


def csrf_ok(visitor: Visitor | None, token: str | None) -> bool:
    return bool(visitor and token) and hmac.compare_digest(
        str(visitor.csrf if visitor else ""), str(token)
    )


def set_session(request: Request, cookie: str) -> None:
    """Ask the middleware to send this session cookie with the response."""
    request.state.new_cookie = cookie


def cookie_options(app: App) -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": app.base_url.startswith("https://"),
        "path": "/",
        "max_age": app.config.settings.web.session_hours * 3600,
    }
