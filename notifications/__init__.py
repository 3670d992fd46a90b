"""Letters of the committee: what they are about, how they read, how they leave.

The daemon decides *that* a letter is due and stores it in the outbox; this package
renders it (:func:`render`), turns it into an email (:func:`build_message`) and delivers
it through a :class:`Mailer`. Nothing here touches the database or reads the clock.
"""

from __future__ import annotations

from engine.core.words import plural_ru
from notifications.calendar import deadline_calendar
from notifications.mailers import (
    TRANSIENT_ERRORS,
    Mailer,
    MailError,
    PermanentMailError,
    RecordingMailer,
    SmtpMailer,
    SpoolMailer,
    TransientMailError,
    build_message,
    make_message_id,
)
from notifications.messages import (
    AttentionLine,
    DecisionLetter,
    DecisionLine,
    Digest,
    DigestLine,
    PersonalLetter,
    TaskNotice,
)
from notifications.render import (
    DECISION_TEMPLATES,
    DIGEST_TEMPLATES,
    NOTICE_TEMPLATES,
    PERSONAL_TEMPLATES,
    TEMPLATES,
    RenderedMessage,
    environment,
    format_date_long,
    format_date_numeric,
    format_date_short,
    render,
    working_days,
)

__all__ = [
    "DECISION_TEMPLATES",
    "DIGEST_TEMPLATES",
    "NOTICE_TEMPLATES",
    "PERSONAL_TEMPLATES",
    "TEMPLATES",
    "TRANSIENT_ERRORS",
    "AttentionLine",
    "DecisionLetter",
    "DecisionLine",
    "Digest",
    "DigestLine",
    "MailError",
    "Mailer",
    "PermanentMailError",
    "PersonalLetter",
    "RecordingMailer",
    "RenderedMessage",
    "SmtpMailer",
    "SpoolMailer",
    "TaskNotice",
    "TransientMailError",
    "build_message",
    "deadline_calendar",
    "environment",
    "format_date_long",
    "format_date_numeric",
    "format_date_short",
    "make_message_id",
    "plural_ru",
    "render",
    "working_days",
]
