"""Deadline moves requested and granted — the discipline report's one outside source.

HOOK (for the lead, when issue 10's table of deadline change requests lands): make
:func:`deadline_moves` count, for the tasks of ``scope`` present at ``moment`` (see
:func:`engine.reports.asof._present`), the requests created at or before
``moment.cutoff`` (``requested``) and those approved by then (``granted``), grouped by
the task's ``responsible_id`` and ``school_id`` (and in all: ``total``), in SQL
(``GROUP BY``), and return ``MoveCounts(available=True, ...)``. Nothing else changes:
the discipline report's columns and figures already read this function, and show
«нет данных» while
``available`` is False. Its test (tests/test_reports.py,
``test_discipline_shows_no_data_for_deadline_moves``) then needs its scenario extended
with requests and the expected numbers instead of «нет данных».
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from engine.reports.asof import Moment, Scope

NO_DATA = "нет данных"


@dataclass(frozen=True)
class Moves:
    requested: int = 0
    granted: int = 0


@dataclass(frozen=True)
class MoveCounts:
    available: bool  # False: the installation does not record requests (yet)
    total: Moves = Moves()
    by_person: dict[int, Moves] = field(default_factory=dict)
    by_school: dict[int, Moves] = field(default_factory=dict)


def deadline_moves(session: Session, scope: Scope, moment: Moment) -> MoveCounts:
    """Requests to move a deadline, per responsible person and per school (see the HOOK)."""
    del session, scope, moment  # used once the requests table exists
    return MoveCounts(available=False)
