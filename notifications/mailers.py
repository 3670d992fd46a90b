"""Turning a rendered letter into an email and handing it to a transport.

The engine talks to :class:`Mailer` only; configuration picks the transport:

* :class:`SpoolMailer` — the embedded default: ``.eml`` files in a folder, nothing sent;
* :class:`SmtpMailer` — a real server through aiosmtplib;
* :class:`RecordingMailer` — a list in memory, for tests of the callers.

Retries belong to the outbox, which must know whether trying again can help. So every
delivery failure leaves a mailer as one of two errors::

    MeasuresError
    └── MailError
        ├── TransientMailError   retry later: connection refused or lost, timeout, 4xx
        └── PermanentMailError   give up: 5xx, recipient refused, unusable message

A recipient refused while another accepted the same transaction is *permanent* for that
message even with a 4xx code: the accepted copies are already delivered, and retrying
would deliver them twice.

The Message-ID is supplied by the caller (the outbox row's), never generated here, so a
resend after a crash is recognisably the same letter — the spool overwrites it and mail
clients thread or de-duplicate it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import aiosmtplib

from engine.core.errors import MeasuresError
from engine.core.files import write_atomically
from notifications.render import RenderedMessage

logger = logging.getLogger(__name__)

#: Exception types that are worth retrying whatever the details: the network, not the
#: message, failed. SMTP replies are judged by their code instead (4xx retry, 5xx not).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    OSError,  # ConnectionError, TimeoutError and the socket errors aiosmtplib lets through
)

#: Headers build_message sets itself; taking them from ``headers`` too would duplicate them.
RESERVED_HEADERS = frozenset(
    {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
)

# Everything str.splitlines() breaks on: the email package refuses any of them in a
# header, but without saying which header; checking first names the culprit.
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_ID_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@-]+")


class MailError(MeasuresError):
    """A message was not delivered; ``message_id`` says which."""

    def __init__(self, text: str, message_id: str = "") -> None:
        super().__init__(f"{text} (Message-ID {message_id})" if message_id else text)
        self.message_id = message_id


class TransientMailError(MailError):
    """Not delivered now; the same message may succeed later."""


class PermanentMailError(MailError):
    """Will never be delivered as it is; ``refused`` maps each refused address to its reply.

    ``refused`` is empty when the whole message was refused (a 5xx to MAIL or DATA, a
    message that cannot be sent at all) rather than particular recipients.
    """

    def __init__(
        self,
        text: str,
        message_id: str = "",
        refused: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(text, message_id)
        self.refused: dict[str, tuple[int, str]] = dict(refused or {})


class Mailer(Protocol):
    """Delivers one message, or raises :class:`TransientMailError`/:class:`PermanentMailError`."""

    async def send(self, message: EmailMessage) -> None: ...


def _check_single_line(field: str, value: str) -> None:
    if any(char in _LINE_BREAKS for char in value):
        raise ValueError(f"{field} must be a single line, got {value!r}")


def make_message_id(key: str, domain: str) -> str:
    """``<key@domain>``: a stable Message-ID for an outbox row, e.g. key ``outbox.42``.

    The same row must always produce the same id, so it is built from the row, not from
    time or randomness; ``domain`` keeps ids of different installations apart.
    """
    for part, value in (("key", key), ("domain", domain)):
        if not _ID_PART.fullmatch(value):
            raise ValueError(f"Message-ID {part} has characters not allowed there: {value!r}")
    return f"<{key}@{domain}>"


def build_message(
    rendered: RenderedMessage,
    *,
    sender: str,
    recipient_name: str,
    recipient_email: str,
    message_id: str,
    date: datetime,
    sender_name: str = "",
    headers: Mapping[str, str] | None = None,
    calendar: str = "",
) -> EmailMessage:
    """A multipart/alternative email (text, then HTML) ready for any :class:`Mailer`.

    ``message_id`` (``<key@domain>``, see :func:`make_message_id`) and ``date`` come from
    the outbox row so that a resend is byte-for-byte the same letter. Display names and the
    subject may be Cyrillic: the default policy encodes them (RFC 2047). ``headers`` adds
    e.g. ``X-Measures-Task``; ``Auto-Submitted: auto-generated`` is set unless given, so
    vacation responders do not answer a robot. ``calendar``: an iCalendar text attached
    as ``srok.ics`` (the message becomes multipart/mixed around the two bodies).
    """
    extra = {"Auto-Submitted": "auto-generated", **(headers or {})}
    for field, value in (
        ("subject", rendered.subject),
        ("sender", sender),
        ("sender_name", sender_name),
        ("recipient_name", recipient_name),
        ("recipient_email", recipient_email),
        ("message_id", message_id),
        *((f"header {name}", value) for name, value in extra.items()),
    ):
        _check_single_line(field, value)
    for name in extra:
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"not a valid header name: {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name} is set by build_message and cannot be overridden")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"message_id must look like <key@domain>, got {message_id!r}")
    if date.utcoffset() is None:
        raise ValueError(f"date must be timezone-aware, got {date!r}")

    message = EmailMessage(policy=policy.default)
    _set_subject(message, rendered.subject)
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    message["To"] = Address(display_name=recipient_name, addr_spec=recipient_email)
    message["Date"] = date
    message["Message-ID"] = message_id
    for name, value in extra.items():
        message[name] = value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    # A random boundary would make every resend differ; one derived from the content is
    # stable, and the content cannot contain its own hash.
    content = "\0".join((message_id, rendered.subject, rendered.text, rendered.html, calendar))
    boundary = "=_measures_" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:32]
    if calendar:
        message.add_attachment(
            calendar.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="srok.ics",
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
        alternative = next(iter(message.iter_parts()))
        alternative.set_boundary(boundary + "_alt")
    message.set_boundary(boundary)
    return message


def _set_subject(message: EmailMessage, subject: str) -> None:
    """Put a Cyrillic subject in encoded words that keep every space inside them.

    The default policy's folder may end an encoded word just before a space and carry
    that space as the folding whitespace between two encoded words, which RFC 2047 says
    a reader must drop: «мероприятиям на» arrived as «мероприятиямна». The classic
    ``email.header.Header`` encoder splits the text into encoded words with the spaces
    inside them; ``set_raw`` stores its lines as they are (each under 78 characters, so
    the generator does not fold them again).
    """
    if subject.isascii():
        message["Subject"] = subject
        return
    encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\n")
    message.set_raw("Subject", encoded)


def _message_id(message: EmailMessage) -> str:
    message_id = message.get("Message-ID")
    if not message_id:
        # Without it a resend cannot be recognised; refusing is better than duplicating.
        raise PermanentMailError("message has no Message-ID header")
    return str(message_id)


def _recipients(message: EmailMessage) -> str:
    """The addressees, for log lines."""
    found = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    return ", ".join(found) or "(no recipients)"


def _fail(error: MailError, transport: str, message: EmailMessage) -> MailError:
    """Log the one WARNING line a failure gets, and hand the error back for ``raise``."""
    logger.warning(
        "mail %s to %s not sent via %s: %s",
        error.message_id,
        _recipients(message),
        transport,
        error,
    )
    return error


class SpoolMailer:
    """Writes each message to ``folder`` as ``<message-id>.eml``; sends nothing.

    The file name comes from the Message-ID, so a resend replaces the earlier copy instead
    of adding a second one; the write goes to a temporary file that is then renamed over
    the target, so a reader (or a crash) never sees half a message.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def path_for(self, message_id: str) -> Path:
        # Sanitising can map two ids to one name; the hash keeps them apart.
        readable = _UNSAFE_FILE_CHARS.sub("_", message_id.strip("<>"))[:80]
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:12]
        return self.folder / f"{readable}-{digest}.eml"

    async def send(self, message: EmailMessage) -> None:
        message_id = _message_id(message)
        target = self.path_for(message_id)
        try:
            await asyncio.to_thread(self._write, target, message.as_bytes(policy=policy.default))
        except OSError as error:
            text = f"cannot write {target}: {error.strerror or error}"
            raise _fail(TransientMailError(text, message_id), "spool", message) from None
        logger.info("mail %s to %s written to %s", message_id, _recipients(message), target)

    def _write(self, target: Path, data: bytes) -> None:
        write_atomically(target, data)


class RecordingMailer:
    """Keeps sent messages in :attr:`messages`; :meth:`fail_next` scripts failures."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._failures: deque[MailError] = deque()

    def fail_next(self, *errors: MailError) -> None:
        """The next ``len(errors)`` sends raise these, in order, instead of recording."""
        self._failures.extend(errors)

    async def send(self, message: EmailMessage) -> None:
        _message_id(message)
        if self._failures:
            raise self._failures.popleft()
        self.messages.append(message)


def _is_permanent_code(code: int) -> bool:
    return 500 <= code <= 599


def _translate(error: Exception, message_id: str) -> MailError:
    """The outbox's view of an aiosmtplib (or socket) failure: retry or give up."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = {r.recipient: (r.code, r.message) for r in error.recipients}
        permanent = {a: reply for a, reply in refused.items() if _is_permanent_code(reply[0])}
        if not permanent:
            listed = ", ".join(f"{a} ({code} {text})" for a, (code, text) in refused.items())
            return TransientMailError(f"recipients temporarily refused: {listed}", message_id)
        listed = ", ".join(f"{a} ({code} {text})" for a, (code, text) in permanent.items())
        return PermanentMailError(f"recipients refused: {listed}", message_id, permanent)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        text = f"SMTP server replied {error.code} {error.message}"
        if _is_permanent_code(error.code):
            return PermanentMailError(text, message_id)
        return TransientMailError(text, message_id)
    if isinstance(error, TRANSIENT_ERRORS):
        return TransientMailError(f"{type(error).__name__}: {error}", message_id)
    # SMTPNotSupported (no STARTTLS, no SMTPUTF8 for a non-ASCII address), AUTH not
    # offered, an address aiosmtplib refuses to put on the wire (ValueError): the same
    # message would fail the same way again.
    return PermanentMailError(f"{type(error).__name__}: {error}", message_id)


class SmtpMailer:
    """Sends through one SMTP connection, opened on first use and reused in turn.

    Sends are serialised (an SMTP connection carries one transaction at a time). A
    connection the server has closed since the last message — idle timeout, restart — is
    reopened once within the same send; a connection lost *during* a fresh send is
    reported as transient instead, because the server may have taken the message.
    Call :meth:`aclose` (or use ``async with``) to say QUIT on shutdown.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        if bool(username) != bool(password):
            raise ValueError("SMTP username and password must be given together")
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username or None
        self.password = password or None
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    @property
    def _where(self) -> str:
        return f"smtp {self.host}:{self.port}"

    async def send(self, message: EmailMessage) -> None:
        message_id = _message_id(message)
        async with self._lock:
            try:
                refused = await self._deliver(message)
            except (aiosmtplib.SMTPException, OSError, ValueError) as error:
                if isinstance(error, TRANSIENT_ERRORS):
                    self._drop()
                raise _fail(_translate(error, message_id), self._where, message) from None
            except asyncio.CancelledError:
                # Stopped mid-transaction: the next message must not inherit that session.
                self._drop()
                raise
        if refused:
            listed = ", ".join(f"{a} ({r.code} {r.message})" for a, r in refused.items())
            failure = PermanentMailError(
                f"recipients refused (the others were delivered): {listed}",
                message_id,
                {address: (reply.code, reply.message) for address, reply in refused.items()},
            )
            raise _fail(failure, self._where, message)
        logger.info("mail %s to %s sent via %s", message_id, _recipients(message), self._where)

    async def _deliver(self, message: EmailMessage) -> dict[str, aiosmtplib.SMTPResponse]:
        reused = self._connected()
        client = await self._connect()
        try:
            refused, _ = await client.send_message(message)
        except aiosmtplib.SMTPServerDisconnected:
            if not reused:
                raise
            logger.info("%s closed the connection; reconnecting", self._where)
            self._drop()
            client = await self._connect()
            refused, _ = await client.send_message(message)
        return refused

    def _connected(self) -> bool:
        client = self._client
        # A connection belongs to the event loop that opened it; a new loop (another
        # asyncio.run) cannot use it even if its socket still looks open.
        return (
            client is not None and client.is_connected and client.loop is asyncio.get_running_loop()
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        if self._connected():
            assert self._client is not None
            return self._client
        self._drop()
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            start_tls=self.starttls,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            local_hostname=self.local_hostname,
        )
        await client.connect()
        self._client = client
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        # RuntimeError: its event loop is closed already, and so is everything it owned.
        with contextlib.suppress(RuntimeError):
            client.close()

    async def aclose(self) -> None:
        """Say QUIT if connected; a server that is gone already is no error here."""
        async with self._lock:
            if self._connected():
                assert self._client is not None
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await self._client.quit()
            self._drop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
