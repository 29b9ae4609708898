"""An aiosmtpd server on 127.0.0.1 that keeps every message it accepts."""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self) -> None:
        self.messages: list[Message] = []
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
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.peers.append(session.peer)
            self.times.append(time.time())
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeSMTP:
    def __init__(self) -> None:
        self.handler = _Keep()
        self.port = _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    def close(self) -> None:
        self.controller.stop()
