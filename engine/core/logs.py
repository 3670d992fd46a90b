"""Log lines stamped in the committee's time zone.

The daemon runs on a server whose clock may be UTC while the committee works in Moscow
or Vladivostok; a log line "overdue notice sent at 06:00" must mean the committee's
06:00. The keys and messages stay English (they are for developers and administrators).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class CommitteeFormatter(logging.Formatter):
    """``%(asctime)s`` as ``2026-11-30 09:00:00,123+03:00`` in the committee's zone."""

    def __init__(self, zone: ZoneInfo, fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone)
        if datefmt:
            return moment.strftime(datefmt)
        offset = moment.strftime("%z")
        return f"{moment:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d}{offset[:3]}:{offset[3:]}"


def configure(level: str, zone: ZoneInfo) -> None:
    """Log to stderr at ``level`` with committee-zone times (once per process)."""
    root = logging.getLogger()
    if not any(getattr(h, "committee", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.committee = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for each in root.handlers:
        if getattr(each, "committee", False):
            each.setFormatter(CommitteeFormatter(zone))
    root.setLevel(level)
