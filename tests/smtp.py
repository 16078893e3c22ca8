"""A real SMTP server on loopback for the email tests (aiosmtpd in a thread): it takes
messages as a mail server does, and can refuse an address for good (550) or answer every
message with a temporary failure (451), as real servers do."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests import live

PORTS = range(8600, 8700)


@dataclass
class Mailbox:
    """What the server received, and how it answers."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # addresses answered 550
    busy: bool = False  # every message answered 451
    delay: float = 0.0  # seconds to think before answering a message's data
    # The Message-IDs of messages whose data came and whose answer has not been given yet.
    in_flight: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if self.delay:
            key = str(message["Message-ID"]).strip()
            self.in_flight.add(key)
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight.discard(key)
        # Taken once the data is in, as a mail server takes responsibility for a message:
        # a client that dies before the "250" cannot know, and sends it again.
        self.messages.append(message)
        return "250 2.0.0 Accepted"

    def recipients(self) -> list[str]:
        return sorted(str(message["To"]) for message in self.messages)

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(str(message["Message-ID"]).strip() for message in self.messages)

    def environment(self) -> dict[str, str]:
        """The settings of a process that sends its mail here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
        }


@contextmanager
def serving() -> Iterator[Mailbox]:
    """An SMTP server on a free port of 8600-8699; stopped after."""
    box = Mailbox(port=live.free_port(PORTS))
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@contextmanager
def smtp_server(settings: Any) -> Iterator[Mailbox]:
    """:func:`serving`, with Django's SMTP backend pointed at it (``settings`` is
    pytest-django's fixture)."""
    with serving() as box:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", box.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield box


def closed_port() -> int:
    """A port nothing listens on: a mail server that is down."""
    return live.free_port(PORTS)
