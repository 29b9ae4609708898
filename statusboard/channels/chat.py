"""Operator nags in a chat room through an incoming webhook: Slack-compatible {"text"} (Slack,
Mattermost, Rocket.Chat) by default, Discord {"content"} by setting. Narrow: post or raise."""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from statusboard.domain.nags import NagChannelError, NagMessage

TIMEOUT_SECONDS = 5
DISCORD_LIMIT = 2000  # Discord refuses longer content
SLACK_LIMIT = 3500  # Slack truncates text past ~4000 characters; stay clear of it


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class ChatNagChannel:
    name: ClassVar[str] = "chat"

    def __init__(
        self, url: str, chat_format: str = "slack", session: requests.Session | None = None
    ) -> None:
        if chat_format not in {"slack", "discord"}:
            raise ValueError("chat format must be slack or discord")
        self.url = url
        self.format = chat_format
        self.http = session or requests.Session()

    @classmethod
    def from_settings(cls, settings: Any) -> ChatNagChannel | None:
        url = settings.get("STATUSBOARD_CHAT_WEBHOOK_URL")
        return cls(url, settings["STATUSBOARD_CHAT_FORMAT"]) if url else None

    def payload(self, message: NagMessage) -> dict[str, Any]:
        text = f"*{message.subject}*\n{message.text}"
        if self.format == "discord":
            # No pings from a reminder's text: mentions are the room's business.
            return {"content": _fit(text, DISCORD_LIMIT), "allowed_mentions": {"parse": []}}
        return {"text": _fit(text, SLACK_LIMIT)}

    def send(self, message: NagMessage) -> None:
        try:
            response = self.http.post(
                self.url, json=self.payload(message), timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise NagChannelError(f"chat webhook unreachable: {exc}", retryable=True) from exc
        if not 200 <= response.status_code < 300:
            raise NagChannelError(
                f"chat webhook answered {response.status_code}: {response.text[:200]}",
                retryable=response.status_code == 429 or response.status_code >= 500,
            )
