"""Subscribers' own chat rooms through the platforms' incoming webhooks: Slack, Discord and
Microsoft Teams (a workflow's "When a Teams webhook request is received" trigger).

A URL is accepted only in its platform's shape (host and path), over HTTPS, and — as for
webhooks — only where it resolves to a public address. What the platforms answer when a hook
is gone (Slack `channel_not_found`, `invalid_token`, `channel_is_archived`…; Discord
`Unknown Webhook`, code 10015; any 404 or 410) is a final error marked `gone`: the outbox
counts those towards disabling the subscription. Incoming webhooks cannot reply to an
earlier message on any of the three, so updates of an incident are not threaded.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import requests

from statusboard import clock
from statusboard.channels import chat_formats
from statusboard.channels.base import (
    ChannelError,
    Letter,
    Message,
    Notice,
    Receipt,
    ThreadRef,
    http_status_error,
)
from statusboard.channels.webhook import Network, UnsafeTarget, check_target

PLATFORMS = ("slack", "discord", "teams")
LABELS = {"slack": "Slack", "discord": "Discord", "teams": "Microsoft Teams"}

_SLACK_PATH = re.compile(r"^/services/[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9]+$")
_DISCORD_HOSTS = {"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"}
_DISCORD_PATH = re.compile(r"^/api(/v\d+)?/webhooks/\d{5,25}/[A-Za-z0-9_-]{20,100}$")
# Power Automate (Logic Apps) and Power Platform trigger URLs; the `sig` query is the secret.
_TEAMS_LOGIC_PATH = re.compile(r"^(:443)?/workflows/[0-9a-fA-F]{32}/triggers/[^/]+/paths/invoke$")
_TEAMS_PLATFORM_PATH = re.compile(
    r"^/powerautomate/automations/direct/workflows/[0-9a-fA-F]{32}/triggers/[^/]+/paths/invoke$"
)

# Slack's incoming-webhook error bodies that mean the hook will never work again.
SLACK_GONE = {
    "invalid_token",
    "channel_not_found",
    "channel_is_archived",
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "action_prohibited",
}
DISCORD_UNKNOWN_WEBHOOK = 10015


class InvalidChatHook(ValueError):
    """Not an incoming-webhook URL of a platform we post to, or not a safe one."""


def platform_of(url: str) -> str:
    """Which platform an incoming-webhook URL belongs to, from its host and path shape."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        raise InvalidChatHook("a chat webhook URL must start with https://")
    if parts.username or parts.password or (parts.port not in (None, 443)):
        raise InvalidChatHook("a chat webhook URL carries no login and no port")
    if host == "hooks.slack.com":
        if _SLACK_PATH.match(parts.path):
            return "slack"
        raise InvalidChatHook(
            "a Slack incoming webhook looks like https://hooks.slack.com/services/T…/B…/…"
        )
    if host in _DISCORD_HOSTS:
        if _DISCORD_PATH.match(parts.path):
            return "discord"
        raise InvalidChatHook(
            "a Discord webhook looks like https://discord.com/api/webhooks/<id>/<token>"
        )
    logic = host.endswith(".logic.azure.com") and _TEAMS_LOGIC_PATH.match(parts.path)
    platform = host.endswith(".api.powerplatform.com") and _TEAMS_PLATFORM_PATH.match(parts.path)
    if logic or platform:
        if "sig=" not in parts.query:
            raise InvalidChatHook("this Teams workflow URL has lost its sig= part: copy it whole")
        return "teams"
    raise InvalidChatHook(
        "paste the incoming-webhook URL of a Slack app, a Discord channel or a Teams workflow"
    )


def route(url: str, base_url: str | None) -> str:
    """Where a hook's requests really go: the platform, or the test server standing in for
    every platform (scheme and host replaced, path and query kept)."""
    if not base_url:
        return url
    base, parts = urlsplit(base_url), urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def check_hook(url: str, *, base_url: str | None = None, allow: Iterable[Network] = ()) -> str:
    """The platform of a URL that is safe to post to (shape, HTTPS, public address)."""
    platform = platform_of(url)
    try:
        check_target(route(url, base_url), allow)
    except UnsafeTarget as exc:
        raise InvalidChatHook(str(exc)) from exc
    return platform


class ChatHookChannel:
    """One platform's incoming webhooks; the registry builds one per platform."""

    name: ClassVar[str] = "chat-hook"
    label: ClassVar[str] = "Chat subscribers"
    editable: ClassVar[bool] = False  # an incoming webhook can post, never edit

    def __init__(
        self,
        platform: str,
        *,
        page_name: str,
        base_url: str | None = None,
        allow_private: Iterable[Network] = (),
        timeout: float = 10,
    ) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown chat platform {platform!r}")
        self.platform = platform
        self.name = platform  # type: ignore[misc]  # one instance per platform
        self.label = f"{LABELS[platform]} subscribers"  # type: ignore[misc]
        self.page_name = page_name
        self.base_url = base_url
        self.allow_private = list(allow_private)
        self.timeout = timeout
        self._local = threading.local()

    def payload(self, message: Message) -> dict[str, Any]:
        if isinstance(message, Letter):
            return chat_formats.LETTERS[self.platform](message)
        return chat_formats.NOTICES[self.platform](message, self.page_name)

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        text = chat_formats.preview_text(notice)
        return text, len(text), 0

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        url = message.to if isinstance(message, Letter) else message.address
        if not isinstance(message, Letter) and message.edits:
            raise ChannelError(f"{self.platform} does not allow editing a post", retryable=False)
        if not url:
            raise ChannelError(f"{self.platform} delivery without a webhook URL", retryable=False)
        try:
            if check_hook(url, base_url=self.base_url, allow=self.allow_private) != self.platform:
                raise InvalidChatHook(f"not a {LABELS[self.platform]} webhook")
        except InvalidChatHook as exc:
            raise ChannelError(f"refused: {exc}", retryable=False) from exc
        target = route(url, self.base_url)
        if self.platform == "discord":
            target += ("&" if "?" in target else "?") + "wait=true"  # answers with the message id
        try:
            response = self._session().post(
                target, json=self.payload(message), timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise ChannelError(
                f"{self.platform} webhook unreachable: {exc}",
                retryable=True,
                ambiguous=not isinstance(exc, requests.ConnectionError),
            ) from exc
        if 200 <= response.status_code < 300:
            return Receipt(remote_id=self._remote_id(response) or message.delivery_id)
        raise self._error(response)

    def _remote_id(self, response: requests.Response) -> str | None:
        if self.platform != "discord" or response.status_code != 200:
            return None
        try:
            return str(response.json().get("id") or "") or None
        except ValueError:
            return None

    def _error(self, response: requests.Response) -> ChannelError:
        status, text = response.status_code, response.text[:300]
        code: Any = None
        if self.platform == "discord":
            try:
                code = response.json().get("code")
            except (ValueError, AttributeError):
                code = None
        gone = (
            status in (404, 410)
            or (self.platform == "slack" and text.strip() in SLACK_GONE)
            or code == DISCORD_UNKNOWN_WEBHOOK
        )
        retry_at = None
        wait = response.headers.get("Retry-After", "")
        if status == 429 and wait.replace(".", "", 1).isdigit():
            retry_at = clock.now() + timedelta(seconds=float(wait))
        error = http_status_error(self.platform, status, text, retry_at=retry_at)
        if gone:
            error.retryable = False
            error.details["gone"] = True
        return error

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            self._local.session = session
        return session


def is_gone(error: ChannelError) -> bool:
    """The platform said the hook no longer exists or may no longer post."""
    return bool(error.details.get("gone"))
