"""Operator nags by email over SMTP (stdlib smtplib). Narrow: build the message, send it, or
raise NagChannelError. Retry and escalation live in the promises service."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, ClassVar

from statusboard import clock
from statusboard.domain.nags import NagChannelError, NagMessage

TIMEOUT_SECONDS = 10
# Fold headers only past RFC 5322's hard limit: the default folds a long subject right after
# "Subject:", which some clients show with a leading space.
POLICY = policy.default.clone(max_line_length=998)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "statusboard@localhost"
    starttls: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> SmtpSettings | None:
        """None when STATUSBOARD_SMTP_HOST is unset (nag email off)."""
        host = settings.get("STATUSBOARD_SMTP_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=settings["STATUSBOARD_SMTP_PORT"],
            username=settings.get("STATUSBOARD_SMTP_USERNAME"),
            password=settings.get("STATUSBOARD_SMTP_PASSWORD"),
            sender=settings["STATUSBOARD_SMTP_FROM"],
            starttls=settings["STATUSBOARD_SMTP_STARTTLS"],
        )


class EmailNagChannel:
    name: ClassVar[str] = "email"

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def build(self, message: NagMessage) -> EmailMessage:
        email = EmailMessage(policy=POLICY)
        email["Subject"] = message.subject
        email["From"] = self.smtp.sender
        email["To"] = ", ".join(message.recipients)
        email["Date"] = format_datetime(clock.now())
        email["Message-ID"] = make_msgid(domain=self.smtp.sender.rpartition("@")[2] or None)
        # Reminders are urgent but automatic: no out-of-office replies back to us.
        email["Auto-Submitted"] = "auto-generated"
        email["X-Priority"] = "1"
        email.set_content(message.text)
        return email

    def send(self, message: NagMessage) -> None:
        if not message.recipients:
            raise NagChannelError("no recipients for this nag", retryable=False)
        email = self.build(message)
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=TIMEOUT_SECONDS) as smtp:
                if self.smtp.starttls:
                    smtp.starttls()
                if self.smtp.username:
                    smtp.login(self.smtp.username, self.smtp.password or "")
                refused = smtp.send_message(email)
        except smtplib.SMTPAuthenticationError as exc:
            raise NagChannelError(
                f"SMTP login refused: {exc.smtp_code} {exc.smtp_error!r}", retryable=False
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise NagChannelError(
                f"SMTP refused every recipient: {sorted(exc.recipients)}", retryable=False
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise NagChannelError(
                f"SMTP error {exc.smtp_code}: {exc.smtp_error!r}", retryable=exc.smtp_code < 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NagChannelError(
                f"SMTP server {self.smtp.host}:{self.smtp.port} unreachable: {exc}", retryable=True
            ) from exc
        if refused:
            raise NagChannelError(
                f"SMTP refused some recipients: {sorted(refused)}", retryable=False
            )
