"""The operators' chat room through an incoming webhook: Slack-compatible {"text"} (Slack,
Mattermost, Rocket.Chat) by default, Discord {"content"} by setting. It carries letters to
operators (nags); the public hears through the other channels."""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from statusboard.channels.base import (
    ChannelError,
    Letter,
    Message,
    Notice,
    Receipt,
    ThreadRef,
    http_status_error,
)
from statusboard.channels.chat_formats import fit_text

DISCORD_LIMIT = 2000  # Discord refuses longer content
SLACK_LIMIT = 3500  # Slack truncates text past ~4000 characters; stay clear of it


class ChatChannel:
    name: ClassVar[str] = "chat"
    label: ClassVar[str] = "Operators' chat room"
    editable: ClassVar[bool] = False

    def __init__(
        self,
        url: str,
        chat_format: str = "slack",
        *,
        timeout: float = 5,
        session: requests.Session | None = None,
    ) -> None:
        if chat_format not in {"slack", "discord"}:
            raise ValueError("chat format must be slack or discord")
        self.url = url
        self.format = chat_format
        self.timeout = timeout
        self.http = session or requests.Session()

    def payload(self, letter: Letter) -> dict[str, Any]:
        text = f"*{letter.subject}*\n{letter.text}"
        if self.format == "discord":
            # No pings from a reminder's text: mentions are the room's business.
            return {"content": fit_text(text, DISCORD_LIMIT), "allowed_mentions": {"parse": []}}
        return {"text": fit_text(text, SLACK_LIMIT)}

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        return "", 0, 0

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        if not isinstance(message, Letter):
            raise ChannelError("the operators' room takes letters only", retryable=False)
        try:
            response = self.http.post(
                self.url,
                json=self.payload(message),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ChannelError(
                f"chat webhook unreachable: {exc}",
                retryable=True,
                ambiguous=not isinstance(exc, requests.ConnectionError),
            ) from exc
        if not 200 <= response.status_code < 300:
            raise http_status_error("chat webhook", response.status_code, response.text[:200])
        return Receipt()
