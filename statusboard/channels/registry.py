"""The channel registry: which channels exist and building the configured ones, once, in the
factory, from the settings tree. A channel is on when all its settings are present.

Nothing here touches the database: where Bluesky keeps its login between runs is given in."""

from __future__ import annotations

from dataclasses import dataclass

from statusboard.channels.base import Channel
from statusboard.channels.bluesky import BlueskyChannel, SessionStore, memory_store
from statusboard.channels.chat import ChatChannel
from statusboard.channels.chat_hooks import PLATFORMS, ChatHookChannel
from statusboard.channels.email import EmailChannel
from statusboard.channels.mastodon import MastodonChannel
from statusboard.channels.purge import PurgeChannel
from statusboard.channels.webhook import WebhookChannel, parse_allow_list
from statusboard.channels.x import XChannel
from statusboard.config import ChannelSettings

SOCIAL = ("x", "mastodon", "bluesky")
SUBSCRIBER_CHANNELS = ("email", "webhook", *PLATFORMS)
LABELS = {
    "x": "X",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "email": "Email",
    "webhook": "Webhook subscribers",
    "chat": "Operators' chat room",
    "purge": "CDN purge",
}


def build_channels(
    settings: ChannelSettings, *, page_name: str, bluesky_sessions: SessionStore | None = None
) -> dict[str, Channel]:
    """The configured channels by name."""
    timeout = settings.timeout
    allow = parse_allow_list(settings.webhook_allow_private)
    built: dict[str, Channel] = {"webhook": WebhookChannel(allow_private=allow, timeout=timeout)}
    for platform in PLATFORMS:  # subscribers' own rooms: on whenever someone gives a hook
        built[platform] = ChatHookChannel(
            platform,
            page_name=page_name,
            base_url=settings.chat_hooks_base_url,
            allow_private=allow,
            timeout=timeout,
        )
    if (x := settings.x) is not None:
        built["x"] = XChannel(
            api_key=x.api_key,
            api_secret=x.api_secret,
            access_token=x.access_token,
            access_token_secret=x.access_token_secret,
            api_url=x.api_url,
            include_link=x.include_link,
            timeout=timeout,
        )
    if (mastodon := settings.mastodon) is not None:
        built["mastodon"] = MastodonChannel(
            base_url=mastodon.base_url,
            access_token=mastodon.access_token,
            max_characters=mastodon.max_characters,
            include_link=mastodon.include_link,
            timeout=timeout,
        )
    if (bluesky := settings.bluesky) is not None:
        built["bluesky"] = BlueskyChannel(
            handle=bluesky.handle,
            app_password=bluesky.app_password,
            base_url=bluesky.base_url,
            include_link=bluesky.include_link,
            timeout=timeout,
            sessions=bluesky_sessions or memory_store(),
        )
    if (smtp := settings.smtp) is not None:
        built["email"] = EmailChannel(
            host=smtp.host,
            port=smtp.port,
            sender=smtp.sender,
            username=smtp.username,
            password=smtp.password,
            starttls=smtp.starttls,
            page_name=page_name,
            include_link=settings.email_include_link,
            timeout=timeout,
        )
    if (chat := settings.chat) is not None:
        built["chat"] = ChatChannel(chat.url, chat.format, timeout=min(timeout, 5))
    if settings.purge is not None:
        built["purge"] = PurgeChannel(settings.purge, timeout=timeout)
    return built


@dataclass(frozen=True)
class ChannelStatus:
    name: str
    label: str
    configured: bool
    missing: tuple[str, ...]


def statuses(settings: ChannelSettings) -> list[ChannelStatus]:
    """Each channel, whether it is on, and which variables it still needs."""
    return [
        ChannelStatus(name, label, not settings.missing[name], settings.missing[name])
        for name, label in LABELS.items()
    ]
