"""An aiosmtpd server on 127.0.0.1 that keeps every message it accepts: the one SMTP fake,
for subscriber mail, nags, confirmations and alerts alike."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Envelope:
    sender: str
    recipients: list[str]
    at: float


class _Keep:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as it came over the wire
        self.envelopes: list[Envelope] = []
        self.lock = threading.Lock()
        self.refuse: set[str] = set()
        self.times: list[float] = []
        self.peers: list[Any] = []  # the client address of each message: one per connection

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        with self.lock:
            self.raw.append(content)
            self.messages.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
            self.envelopes.append(
                Envelope(envelope.mail_from, list(envelope.rcpt_tos), time.time())
            )
            self.peers.append(session.peer)
            self.times.append(time.time())
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def password_authenticator(username: str, password: str) -> Any:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: Any, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


class FakeSMTP:
    """Started at once; `close()` (or leaving a `with` block) stops it."""

    def __init__(self, port: int | None = None, **options: Any) -> None:
        self.handler = _Keep()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def raw(self) -> list[bytes]:
        return self.handler.raw

    @property
    def envelopes(self) -> list[Envelope]:
        return self.handler.envelopes

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()
            self.handler.raw.clear()
            self.handler.envelopes.clear()
            self.handler.times.clear()
            self.handler.peers.clear()
        self.handler.refuse.clear()

    def close(self) -> None:
        self.controller.stop()

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
