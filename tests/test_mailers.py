"""Mail transports: a real SMTP server on loopback (aiosmtpd), the spool folder, the recorder.

No pytest-asyncio: each test drives its coroutine with ``asyncio.run``. Scenarios that
stop and restart the server run inside one coroutine, because a connection belongs to the
event loop that opened it.
"""

from __future__ import annotations

import asyncio
import email
import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notifications.mailers import (
    MailError,
    PermanentMailError,
    RecordingMailer,
    SmtpMailer,
    SpoolMailer,
    TransientMailError,
    build_message,
    make_message_id,
)
from notifications.render import RenderedMessage

MSK = timezone(timedelta(hours=3))
SENT_AT = datetime(2026, 11, 25, 10, 0, tzinfo=MSK)
SUBJECT = "Просрочено: мероприятие № 2.3 «Анализ результатов ВПР»"
TEXT = "Уважаемая Мария Петровна!\n\nСрок исполнения истёк 30 ноября 2026 г.\n"
HTML = "<p>Уважаемая Мария Петровна!</p><p>Срок исполнения истёк 30 ноября 2026 г.</p>"
LETTER = RenderedMessage(subject=SUBJECT, text=TEXT, html=HTML)


def letter(
    message_id: str = "<outbox.1@measures.example.org>",
    rendered: RenderedMessage = LETTER,
    **changes: Any,
) -> EmailMessage:
    arguments: dict[str, Any] = {
        "sender": "measures@example.org",
        "sender_name": "Комитет по образованию",
        "recipient_name": "Иванова Мария Петровна",
        "recipient_email": "ivanova@example.org",
        "message_id": message_id,
        "date": SENT_AT,
        "headers": {"X-Measures-Task": "7"},
    }
    return build_message(rendered, **{**arguments, **changes})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Recorder:
    """aiosmtpd handler: keeps what arrives, answers what the test scripts."""

    def __init__(self) -> None:
        self.received: list[tuple[EmailMessage, list[str]]] = []
        self.connections: set[tuple[str, int]] = set()
        self.rcpt_replies: dict[str, str] = {}
        self.data_reply = "250 Message accepted for delivery"
        self.data_delay = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        self.connections.add(session.peer)
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((parsed, list(envelope.rcpt_tos)))
        return self.data_reply


class SmtpServer:
    """A real SMTP server on a fixed loopback port, so it can come back on the same one."""

    def __init__(self) -> None:
        self.port = _free_port()  # port=0 does not work in aiosmtpd (issue #388)
        self.handler = Recorder()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mailer(self, timeout: float = 5.0) -> SmtpMailer:
        return SmtpMailer("127.0.0.1", self.port, timeout=timeout, local_hostname="measures.test")


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer()
    running.start()
    yield running
    running.stop()


async def send_all(mailer: SmtpMailer, *messages: EmailMessage) -> None:
    async with mailer:
        for message in messages:
            await mailer.send(message)


async def failure(mailer: SmtpMailer, message: EmailMessage) -> MailError:
    async with mailer:
        with pytest.raises(MailError) as caught:
            await mailer.send(message)
    return caught.value


# --- build_message -------------------------------------------------------------------


def test_build_message_encodes_cyrillic_headers_and_both_parts() -> None:
    message = letter()
    wire = message.as_bytes()

    assert wire.split(b"\n\n", 1)[0].isascii()  # RFC 2047 words, no raw UTF-8 in headers
    assert b"=?utf-8?" in wire
    parsed = email.message_from_bytes(wire, policy=policy.default)
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"].addresses[0].display_name == "Комитет по образованию"
    assert parsed["To"].addresses[0].display_name == "Иванова Мария Петровна"
    assert parsed["Message-ID"] == "<outbox.1@measures.example.org>"
    assert parsed["Date"].datetime == SENT_AT
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Measures-Task"] == "7"
    assert parsed.get_content_type() == "multipart/alternative"
    assert isinstance(parsed, EmailMessage)
    assert [part.get_content_type() for part in parsed.iter_parts()] == [
        "text/plain",
        "text/html",
    ]


def test_build_message_is_byte_for_byte_stable() -> None:
    assert letter().as_bytes() == letter().as_bytes()
    other = RenderedMessage(SUBJECT, TEXT + "Ещё строка.\n", HTML)
    assert letter(rendered=other).get_boundary() != letter().get_boundary()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rendered": RenderedMessage("Тема\r\nBcc: x@evil.example", TEXT, HTML)}, "subject"),
        ({"recipient_name": "Иванова\nМария"}, "recipient_name"),
        ({"sender_name": "Комитет\u2028по образованию"}, "sender_name"),
        ({"recipient_email": "a@example.org\r\nBcc: x@evil.example"}, "recipient_email"),
        ({"headers": {"X-Measures-Task": "7\nBcc: x@evil.example"}}, "header X-Measures-Task"),
    ],
)
def test_build_message_rejects_line_breaks(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be a single line"):
        letter(**changes)


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"headers": {"Subject": "другая тема"}}, "set by build_message"),
        ({"headers": {"Bad Name": "x"}}, "not a valid header name"),
        ({"message_id": "outbox.1@example.org"}, "must look like <key@domain>"),
        ({"message_id": "<outbox 1@example.org>"}, "must look like <key@domain>"),
        ({"date": datetime(2026, 11, 25, 10, 0)}, "timezone-aware"),
    ],
)
def test_build_message_rejects_bad_arguments(changes: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        letter(**changes)


def test_make_message_id() -> None:
    assert (
        make_message_id("outbox.42", "measures.example.org") == "<outbox.42@measures.example.org>"
    )
    with pytest.raises(ValueError, match="key"):
        make_message_id("outbox 42", "measures.example.org")
    with pytest.raises(ValueError, match="domain"):
        make_message_id("outbox.42", "example.org>\r\n")


# --- SmtpMailer against a real server ----------------------------------------------------


def test_smtp_delivers_cyrillic_letter_over_one_connection(server: SmtpServer) -> None:
    second = letter("<outbox.2@measures.example.org>")
    asyncio.run(send_all(server.mailer(), letter(), second))

    received, recipients = server.handler.received[0]
    assert recipients == ["ivanova@example.org"]
    assert received["Subject"] == SUBJECT
    assert received["From"].addresses[0].display_name == "Комитет по образованию"
    assert received["From"].addresses[0].addr_spec == "measures@example.org"
    assert received["To"].addresses[0].display_name == "Иванова Мария Петровна"
    assert received["Message-ID"] == "<outbox.1@measures.example.org>"
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().strip() == HTML
    assert server.handler.received[1][0]["Message-ID"] == "<outbox.2@measures.example.org>"
    assert len(server.handler.connections) == 1


@pytest.mark.parametrize(
    ("reply", "error_class"),
    [
        ("451 4.3.0 Try again later", TransientMailError),
        ("550 5.1.1 No such user", PermanentMailError),
    ],
)
def test_smtp_refused_recipient(
    server: SmtpServer, reply: str, error_class: type[MailError]
) -> None:
    server.handler.rcpt_replies["ivanova@example.org"] = reply

    error = asyncio.run(failure(server.mailer(), letter()))

    assert type(error) is error_class
    assert "ivanova@example.org" in str(error)
    assert reply.split()[0] in str(error)
    assert error.message_id == "<outbox.1@measures.example.org>"
    if isinstance(error, PermanentMailError):
        assert error.refused == {"ivanova@example.org": (550, "5.1.1 No such user")}
    assert server.handler.received == []


def test_smtp_partial_refusal_names_the_refused_address(server: SmtpServer) -> None:
    server.handler.rcpt_replies["gone@example.org"] = "550 5.1.1 No such user"
    message = letter(headers={"Cc": "gone@example.org"})

    error = asyncio.run(failure(server.mailer(), message))

    assert isinstance(error, PermanentMailError)
    assert "gone@example.org" in str(error)
    assert "ivanova@example.org" not in str(error)
    assert list(error.refused) == ["gone@example.org"]
    # The accepted copy went out: retrying would deliver it twice, hence "permanent".
    assert [r for _, r in server.handler.received] == [["ivanova@example.org"]]


def test_smtp_5xx_to_data_is_permanent(server: SmtpServer) -> None:
    server.handler.data_reply = "554 5.6.0 Message rejected"

    error = asyncio.run(failure(server.mailer(), letter()))

    assert isinstance(error, PermanentMailError)
    assert "554" in str(error)
    assert error.refused == {}


def test_smtp_timeout_is_transient_and_the_next_send_reconnects(server: SmtpServer) -> None:
    server.handler.data_delay = 1.0

    async def scenario() -> MailError:
        async with server.mailer(timeout=0.2) as mailer:
            with pytest.raises(TransientMailError) as caught:
                await mailer.send(letter())
            server.handler.data_delay = 0.0
            await mailer.send(letter("<outbox.2@measures.example.org>"))
        return caught.value

    error = asyncio.run(scenario())

    assert "Timeout" in str(error)
    assert "<outbox.2@measures.example.org>" in [
        m["Message-ID"] for m, _ in server.handler.received
    ]


def test_smtp_server_down_is_transient_and_the_same_mailer_recovers(server: SmtpServer) -> None:
    async def scenario() -> MailError:
        async with server.mailer() as mailer:
            await mailer.send(letter("<outbox.1@measures.example.org>"))
            server.stop()
            with pytest.raises(TransientMailError) as caught:
                await mailer.send(letter("<outbox.2@measures.example.org>"))
            server.start()
            await mailer.send(letter("<outbox.2@measures.example.org>"))
        return caught.value

    error = asyncio.run(scenario())

    assert "refused" in str(error) or "Connect call failed" in str(error)
    assert [m["Message-ID"] for m, _ in server.handler.received] == [
        "<outbox.1@measures.example.org>",
        "<outbox.2@measures.example.org>",
    ]


def test_smtp_connection_closed_between_sends_is_reopened(
    server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with server.mailer() as mailer:
            await mailer.send(letter("<outbox.1@measures.example.org>"))
            server.stop()  # drops the idle connection the mailer keeps
            server.start()
            await mailer.send(letter("<outbox.2@measures.example.org>"))

    with caplog.at_level(logging.INFO, logger="notifications.mailers"):
        asyncio.run(scenario())

    assert len(server.handler.received) == 2
    assert len(server.handler.connections) == 2
    # The loop was blocked while the server restarted, so the mailer still believed in
    # its connection: this is the SMTPServerDisconnected path, not a fresh connect.
    assert "closed the connection; reconnecting" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_smtp_send_cancelled_midway_leaves_no_half_session(server: SmtpServer) -> None:
    server.handler.data_delay = 1.0

    async def scenario() -> None:
        async with server.mailer() as mailer:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(mailer.send(letter()), 0.1)
            server.handler.data_delay = 0.0
            await mailer.send(letter("<outbox.2@measures.example.org>"))

    asyncio.run(scenario())

    assert "<outbox.2@measures.example.org>" in [
        m["Message-ID"] for m, _ in server.handler.received
    ]


def test_smtp_credentials_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="together"):
        SmtpMailer("127.0.0.1", 25, username="measures")


def test_smtp_failure_logs_one_warning(
    server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.handler.rcpt_replies["ivanova@example.org"] = "550 5.1.1 No such user"

    with caplog.at_level(logging.INFO, logger="notifications.mailers"):
        asyncio.run(failure(server.mailer(), letter()))

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].name == "notifications.mailers"
    assert warnings[0].args  # %-style arguments, not a pre-formatted string
    assert "ivanova@example.org" in warnings[0].getMessage()


# --- SpoolMailer and RecordingMailer ----------------------------------------------------


def test_spool_writes_one_file_per_message_id(tmp_path: Path) -> None:
    spool = SpoolMailer(tmp_path / "mail")
    first = letter("<outbox.1@measures.example.org>")
    resent = letter(
        "<outbox.1@measures.example.org>", RenderedMessage("Повторно: " + SUBJECT, TEXT, HTML)
    )

    async def scenario() -> None:
        await spool.send(first)
        await spool.send(letter("<outbox.2@measures.example.org>"))
        await spool.send(resent)

    asyncio.run(scenario())

    files = sorted((tmp_path / "mail").iterdir())
    assert len(files) == 2
    assert all(f.suffix == ".eml" and not f.name.startswith(".") for f in files)
    path = spool.path_for("<outbox.1@measures.example.org>")
    with path.open("rb") as stream:
        parsed = email.message_from_binary_file(stream, policy=policy.default)
    assert parsed["Subject"] == "Повторно: " + SUBJECT
    assert parsed["Message-ID"] == "<outbox.1@measures.example.org>"
    assert parsed["To"].addresses[0].display_name == "Иванова Мария Петровна"
    assert isinstance(parsed, EmailMessage)
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content() == TEXT


def test_spool_file_names_are_safe_and_distinct(tmp_path: Path) -> None:
    spool = SpoolMailer(tmp_path)
    a = spool.path_for("<a/../../b@example.org>")
    b = spool.path_for("<a_.._.._b@example.org>")

    assert a.parent == tmp_path and b.parent == tmp_path
    assert a != b


def test_spool_unwritable_folder_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("not a folder")

    with pytest.raises(TransientMailError, match="cannot write"):
        asyncio.run(SpoolMailer(blocker).send(letter()))


def test_message_without_id_is_refused(tmp_path: Path) -> None:
    message = letter()
    del message["Message-ID"]

    with pytest.raises(PermanentMailError, match="no Message-ID"):
        asyncio.run(SpoolMailer(tmp_path).send(message))
    assert list(tmp_path.iterdir()) == []


def test_recording_mailer_records_and_fails_on_request() -> None:
    mailer = RecordingMailer()
    mailer.fail_next(TransientMailError("down"), PermanentMailError("refused"))

    async def scenario() -> list[type[MailError]]:
        seen: list[type[MailError]] = []
        for _ in range(2):
            try:
                await mailer.send(letter())
            except MailError as error:
                seen.append(type(error))
        await mailer.send(letter())
        return seen

    assert asyncio.run(scenario()) == [TransientMailError, PermanentMailError]
    assert [m["Message-ID"] for m in mailer.messages] == ["<outbox.1@measures.example.org>"]
