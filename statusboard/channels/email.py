"""Subscriber email over SMTP (stdlib). One connection per sending thread is reused across
messages; Message-IDs are stable per delivery so a resend is recognisable, and every message
carries the manage link and one-click List-Unsubscribe headers."""

from __future__ import annotations

import binascii
import smtplib
import socket
import threading
from collections.abc import Callable
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from typing import ClassVar

from statusboard.channels.base import ChannelError, Notice, Receipt, ThreadRef, message_of


class EmailChannel:
    name: ClassVar[str] = "email"
    label: ClassVar[str] = "Email subscribers"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        page_name: str = "Status",
        include_link: bool = True,
        timeout: float = 10,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.page_name = page_name
        self.include_link = include_link
        self.timeout = timeout
        self._local = threading.local()
        self.domain = sender.rpartition("@")[2] or "statusboard"

    def message_id(self, delivery_id: str) -> str:
        return f"<{delivery_id}@{self.domain}>"

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        text = self._text(notice)
        return text, len(text), 0

    def publish(self, notice: Notice, thread: ThreadRef | None) -> Receipt:
        if not notice.address:
            raise ChannelError("no address for this delivery", retryable=False)
        data = self._message(notice, thread)
        international = not (notice.address.isascii() and self.sender.isascii())
        options = ("SMTPUTF8", "BODY=8BITMIME") if international else ()
        self._transmit(lambda smtp: smtp.sendmail(self.sender, [notice.address], data, options))
        return Receipt(remote_id=self.message_id(notice.delivery_id))

    def send_notice(self, *, to: list[str], subject: str, text: str) -> None:
        """A plain message to people (admins, a webhook's contact), outside the ledger."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(to)
        message["Subject"] = f"[{self.page_name}] {subject}"
        message["Date"] = formatdate(usegmt=True)
        message.set_content(text)
        self._transmit(lambda smtp: smtp.send_message(message))

    def _transmit(self, send: Callable[[smtplib.SMTP], object]) -> None:
        for attempt in (1, 2):
            try:
                send(self._connection())
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if attempt == 2:
                    raise ChannelError(
                        f"SMTP disconnected: {exc}", retryable=True, ambiguous=True
                    ) from exc
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                raise ChannelError(
                    f"SMTP refused the recipient: {exc.recipients}",
                    retryable=all(400 <= c < 500 for c in codes),
                ) from exc
            except smtplib.SMTPResponseException as exc:
                self._drop()
                raise ChannelError(
                    f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                    retryable=400 <= exc.smtp_code < 500,
                    status=exc.smtp_code,
                ) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise ChannelError(
                    f"SMTP unreachable: {exc}",
                    retryable=True,
                    ambiguous=isinstance(exc, socket.timeout),
                ) from exc

    def close(self) -> None:
        self._drop()

    def _connection(self) -> smtplib.SMTP:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            # smtplib writes a message and its final dot separately: without this, Nagle's
            # algorithm and delayed ACKs stall every message by tens of milliseconds.
            if connection.sock is not None:
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.starttls:
                connection.starttls()
            if self.username:
                connection.login(self.username, self.password or "")
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()

    def _text(self, notice: Notice) -> str:
        parts = [message_of(notice)]
        if self.include_link:
            parts.append(f"Details: {notice.url}")
        if notice.manage_url:
            parts.append(f"Manage or cancel your subscription: {notice.manage_url}")
        return "\n\n".join(parts)

    def _message(self, notice: Notice, thread: ThreadRef | None) -> bytes:
        """One text/plain message, written out directly. email.message parses and re-folds
        every header (about 2 ms a message, most of the worker's time in a large fan-out), and
        folds a long List-Unsubscribe URL into encoded words that mail clients do not read."""
        status = notice.status.replace("_", " ").capitalize()
        subject = " ".join(f"[{self.page_name}] {notice.incident_name} — {status}".split())
        headers = {
            "From": self.sender,
            "To": notice.address or "",
            "Subject": subject,
            "Date": formatdate(usegmt=True),
            "Message-ID": self.message_id(notice.delivery_id),
        }
        if thread is not None:
            headers["In-Reply-To"] = thread.parent
            headers["References"] = (
                f"{thread.root} {thread.parent}" if thread.root != thread.parent else thread.parent
            )
        if notice.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{notice.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        headers["MIME-Version"] = "1.0"
        headers["Content-Type"] = 'text/plain; charset="utf-8"'
        headers["Content-Transfer-Encoding"] = "quoted-printable"
        if any("\r" in value or "\n" in value for value in headers.values()):
            raise ChannelError("a header would span lines", retryable=False)
        # Only the subject may be long or not ASCII: folded, in encoded words where needed.
        headers["Subject"] = Header(subject, header_name="Subject").encode(linesep="\r\n")
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
        text = "\n".join(self._text(notice).splitlines()).encode()
        body = binascii.b2a_qp(text).replace(b"\n", b"\r\n")
        return head + b"\r\n" + body + b"\r\n"
