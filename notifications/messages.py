"""What a message is about, as plain values the sweep fills in.

The templates read only these objects, so everything a letter needs is decided before
rendering: dates are already the committee's local dates and day counts are already
*working* days. Nothing here reads a clock or the database; the same notice renders the
same letter on a resend.

Links end up as ``href`` attributes, and a ``javascript:`` URL there would run in a mail
client's web view, so they are checked once here rather than trusted in every template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit


def _check_url(label: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"link {label!r} is not an absolute http(s) URL: {url!r}")


def _check_links(links: Mapping[str, str]) -> None:
    for label, url in links.items():
        if not label.strip():
            raise ValueError(f"link {url!r} has an empty label")
        _check_url(label, url)


@dataclass(frozen=True)
class TaskNotice:
    """One letter about one task: a reminder, an overdue notice or an escalation.

    ``step`` is the name of the escalation step that caused the letter (it goes into a
    header, so a delivered letter can be traced to its ladder rung). ``days_left``,
    ``days_overdue`` and ``days_waiting`` are working days; each template uses the one
    that fits it. ``links`` maps a Russian label to a URL, in display order; the first is
    the main action. ``due`` is the effective deadline (a working day); ``written_due``
    is the plan's own date when that is a day off and so differs from ``due``.
    """

    task_id: int
    plan_title: str
    measure_number: str
    measure_title: str
    due: date
    state_label: str
    responsible_name: str
    recipient_name: str
    recipient_email: str
    committee_name: str
    step: str
    links: Mapping[str, str]
    target: str = ""
    expected_result: str = ""
    supervisor_name: str = ""
    days_left: int = 0
    days_overdue: int = 0
    days_waiting: int = 0
    reported_on: date | None = None
    report: str = ""
    written_due: date | None = None

    def __post_init__(self) -> None:
        _check_links(self.links)


@dataclass(frozen=True)
class DigestLine:
    """One task in a digest.

    ``working_days`` depends on the group the line is in: overdue by, left until the
    due date, or the report waiting for that long — one field, because a line is in
    exactly one group.
    """

    task_id: int
    plan_title: str
    measure_number: str
    measure_title: str
    due: date
    state_label: str
    responsible_name: str
    url: str
    target: str = ""
    working_days: int = 0
    written_due: date | None = None  # the plan's date when it is a day off (``due`` differs)

    def __post_init__(self) -> None:
        _check_url(f"task {self.task_id}", self.url)


@dataclass(frozen=True)
class AttentionLine:
    """An open task nobody is reminded about (no responsible, no date): for the admin."""

    task_id: int
    plan_title: str
    measure_number: str
    measure_title: str
    reason: str
    url: str

    def __post_init__(self) -> None:
        _check_url(f"task {self.task_id}", self.url)


@dataclass(frozen=True)
class DecisionLine:
    """A case decision waiting for the recipient: an administrative measure to approve.

    ``url`` opens the approval page as the recipient (a signed link); ``working_days``
    is how long the request has waited; ``gate_reasons`` are, for a request made by an
    admin against the gate (``override``), the conditions that did not hold.
    """

    measure_id: int
    school: str
    kind_label: str
    risk_label: str
    requested_by: str
    requested_on: date
    reason: str
    url: str
    override: bool = False
    gate_reasons: tuple[str, ...] = ()
    working_days: int = 0

    def __post_init__(self) -> None:
        _check_url(f"measure {self.measure_id}", self.url)


@dataclass(frozen=True)
class DecisionLetter:
    """The letter that tells a person a case decision waits for them."""

    recipient_name: str
    recipient_email: str
    committee_name: str
    decision: DecisionLine


@dataclass(frozen=True)
class Digest:
    """A periodic summary for one person, covering ``start``..``end`` (one day: equal).

    ``completed`` is what was verified during the period; the weekly summary shows it,
    the daily digest does not.
    """

    recipient_name: str
    recipient_email: str
    committee_name: str
    start: date
    end: date
    overdue: tuple[DigestLine, ...] = ()
    due_soon: tuple[DigestLine, ...] = ()
    awaiting_verification: tuple[DigestLine, ...] = ()
    completed: tuple[DigestLine, ...] = ()
    links: Mapping[str, str] = field(default_factory=dict)
    attention: tuple[AttentionLine, ...] = ()  # the admin's: tasks that need a person
    attention_count: int = 0  # all of them; ``attention`` lists the first ones
    # How many lines each group has in all ("overdue", "due_soon", "awaiting",
    # "completed"), when the letter lists only the first ones (a committee-wide summary
    # of a region); a group not named here is listed whole.
    totals: Mapping[str, int] = field(default_factory=dict)
    decisions: tuple[DecisionLine, ...] = ()  # case decisions waiting for the recipient

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"digest period ends ({self.end}) before it starts ({self.start})")
        _check_links(self.links)

    def total(self, kind: str) -> int:
        """All lines of a group (``overdue``, ``due_soon``, ``awaiting``, ``completed``)."""
        shown = {
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "awaiting": self.awaiting_verification,
            "completed": self.completed,
        }[kind]
        return self.totals.get(kind, len(shown))

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to tell; the daemon should not send such a digest."""
        return not (
            self.overdue
            or self.due_soon
            or self.awaiting_verification
            or self.completed
            or self.attention
            or self.decisions
        )


@dataclass(frozen=True)
class PersonalLetter:
    """A letter to one person that is not about a task: a sign-in link, a test letter.

    ``minutes``: how long ``url`` stays valid (0: not said).
    """

    recipient_name: str
    recipient_email: str
    committee_name: str
    url: str
    minutes: int = 0

    def __post_init__(self) -> None:
        _check_url("letter", self.url)
