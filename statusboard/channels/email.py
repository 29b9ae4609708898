"""Email over SMTP (stdlib): the one SMTP client of statusboard. Subscriber notices, nags,
confirmations and alerts all go through it; subscriber notices, thousands per update, are
written out directly rather than through EmailMessage.

One connection per sending thread is reused across messages; Message-IDs are stable per
delivery so a resend is recognisable; subscriber notices carry the manage link and one-click
List-Unsubscribe headers (RFC 8058)."""

from __future__ import annotations

import binascii
import smtplib
import socket
import threading
from collections.abc import Callable
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from typing import ClassVar

from statusboard.channels.base import (
    ChannelError,
    Letter,
    Message,
    Notice,
    Receipt,
    ThreadRef,
    message_of,
    revised,
    when,
)

# Fold headers only past RFC 5322's hard limit: the default policy folds a long subject right
# after "Subject:" (some clients show a leading space) and RFC 2047-encodes a long
# List-Unsubscribe URL, which mail clients then ignore.
POLICY = policy.SMTP.clone(max_line_length=998)


class EmailChannel:
    name: ClassVar[str] = "email"
    label: ClassVar[str] = "Email"
    editable: ClassVar[bool] = False

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
        # Every thread's open connection, so close() can end them all.
        self._open: set[smtplib.SMTP] = set()
        self._lock = threading.Lock()
        self.domain = sender.rpartition("@")[2] or "statusboard"

    def message_id(self, delivery_id: str) -> str:
        return f"<{delivery_id}@{self.domain}>"

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        text = self._text(notice)
        return text, len(text), 0

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        if isinstance(message, Letter):
            email = self.letter(message)
            self.send(email)
            return Receipt(remote_id=email["Message-ID"])
        if not message.address:
            raise ChannelError("no address for this delivery", retryable=False)
        address, data = message.address, self._message(message, thread)
        international = not (address.isascii() and self.sender.isascii())
        options = ("SMTPUTF8", "BODY=8BITMIME") if international else ()
        self._transmit(lambda smtp: smtp.sendmail(self.sender, [address], data, options))
        return Receipt(remote_id=self.message_id(message.delivery_id))

    def letter(self, letter: Letter) -> EmailMessage:
        """A message written to a person: a nag, a confirmation, an alert."""
        email = self._envelope(letter.to, letter.subject, letter.delivery_id)
        if letter.urgent:
            # Reminders are urgent but automatic: no out-of-office replies back to us.
            email["Auto-Submitted"] = "auto-generated"
            email["X-Priority"] = "1"
        email.set_content(letter.text)
        return email

    def send(self, message: EmailMessage) -> None:
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
        """End every thread's connection (the worker stops, or the app is torn down)."""
        self._local.connection = None
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            _quit(connection)

    def _connection(self) -> smtplib.SMTP:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            # smtplib writes a message and its final dot separately: without this, Nagle's
            # algorithm and delayed ACKs stall every message by tens of milliseconds.
            if connection.sock is not None:
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
            with self._lock:
                self._open.add(connection)
            if self.starttls:
                connection.starttls()
            if self.username:
                connection.login(self.username, self.password or "")
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with self._lock:
                self._open.discard(connection)
            _quit(connection)

    def _text(self, notice: Notice) -> str:
        facts = promises_text(notice)
        if not facts:
            parts = [message_of(notice)]
        elif notice.custom_text:  # the operator's own words; the facts still follow
            parts = [message_of(notice), facts]
        else:  # the facts first, under the name; then the update's own words
            parts = [f"{notice.incident_name}\n{facts}", notice.text.strip()]
        if self.include_link:
            parts.append(f"Details: {notice.url}")
        if notice.manage_url:
            parts.append(f"Manage or cancel your subscription: {notice.manage_url}")
        return "\n\n".join(parts)

    def _envelope(self, to: str, subject: str, delivery_id: str) -> EmailMessage:
        email = EmailMessage(policy=POLICY)
        email["From"] = self.sender
        email["To"] = to
        email["Subject"] = f"[{self.page_name}] {subject}"
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = self.message_id(delivery_id)
        return email

    def _message(self, notice: Notice, thread: ThreadRef | None) -> bytes:
        """A subscriber notice, one text/plain part written out directly: EmailMessage parses
        and re-folds every header, about 2 ms a message and most of the worker's CPU in a
        large fan-out; this takes a tenth of that."""
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
        # Only the subject may be long or not ASCII: in encoded words where needed, folded
        # only past RFC 5322's hard limit (as POLICY does).
        headers["Subject"] = Header(subject, maxlinelen=998, header_name="Subject").encode(
            linesep="\r\n"
        )
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
        text = "\n".join(self._text(notice).splitlines()).encode()
        body = binascii.b2a_qp(text).replace(b"\n", b"\r\n")
        return head + b"\r\n" + body + b"\r\n"


def promises_text(notice: Notice) -> str:
    """What a subscriber must know besides the words of the update: status, impact, what is
    affected and the promises in force (the ETA, how often it was revised, the next update),
    in the page's time zone with the date, since mail is read later."""
    if notice.impact is None:  # a test post or a preview without the facts
        return ""
    status = notice.status.replace("_", " ").capitalize()
    lines = [
        f"Status: {status}"
        + ("" if notice.impact == "maintenance" else f" · Impact: {notice.impact.capitalize()}")
    ]
    if notice.components:
        lines.append(f"Affected: {', '.join(notice.components)}")
    if notice.resolves or notice.impact == "maintenance":
        return "\n".join(lines)
    revisions = revised(notice.eta_revisions)
    if notice.eta_at is not None:
        lines.append(f"Expected resolution: {when(notice.eta_at, notice.time_zone)}{revisions}.")
    else:
        lines.append(f"Expected resolution: unknown for now{revisions}.")
    if notice.next_update_at is not None:
        lines.append(f"Next update by {when(notice.next_update_at, notice.time_zone)}.")
    return "\n".join(lines)


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()
