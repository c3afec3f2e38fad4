"""A real SMTP server (aiosmtpd) on 127.0.0.1, and settings that send mail to it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """Collects what the server accepts; `answer` makes it refuse instead (e.g. "451 …")."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    answer: str = ""
    delay: float = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answer:
            return self.answer
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = cast(EmailMessage, message_from_bytes(content, policy=policy.default))
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings: Any, smtp_server: SmtpServer) -> Any:
    return replace(
        settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_from="council@example.org"
    )
