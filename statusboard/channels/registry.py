"""The channel registry: which channels exist, which settings each needs, and building the
configured ones once, in the factory. A channel is on when all its settings are present."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.channels.base import Channel
from statusboard.channels.bluesky import BlueskyChannel, SessionStore
from statusboard.channels.email import EmailChannel
from statusboard.channels.mastodon import MastodonChannel
from statusboard.channels.webhook import WebhookChannel, parse_allow_list
from statusboard.channels.x import XChannel
from statusboard.db import Database, database
from statusboard.models import ChannelSession

EXTENSION = "statusboard.channels"
# Session.info key: the names of the configured channels, read by publishing.fan_out.
SESSION_INFO_KEY = "statusboard.channels"
SOCIAL = ("x", "mastodon", "bluesky")
SUBSCRIBER_CHANNELS = ("email", "webhook")


def _x(s: Mapping[str, Any], db: Database) -> Channel:
    return XChannel(
        api_key=s["X_API_KEY"],
        api_secret=s["X_API_SECRET"],
        access_token=s["X_ACCESS_TOKEN"],
        access_token_secret=s["X_ACCESS_TOKEN_SECRET"],
        api_url=s["X_API_URL"],
        include_link=s["X_INCLUDE_LINK"],
        timeout=s["DELIVERY_TIMEOUT_SECONDS"],
    )


def _mastodon(s: Mapping[str, Any], db: Database) -> Channel:
    return MastodonChannel(
        base_url=s["MASTODON_BASE_URL"],
        access_token=s["MASTODON_ACCESS_TOKEN"],
        max_characters=s["MASTODON_MAX_CHARACTERS"],
        include_link=s["MASTODON_INCLUDE_LINK"],
        timeout=s["DELIVERY_TIMEOUT_SECONDS"],
    )


def _bluesky(s: Mapping[str, Any], db: Database) -> Channel:
    return BlueskyChannel(
        handle=s["BLUESKY_HANDLE"],
        app_password=s["BLUESKY_APP_PASSWORD"],
        base_url=s["BLUESKY_BASE_URL"],
        include_link=s["BLUESKY_INCLUDE_LINK"],
        timeout=s["DELIVERY_TIMEOUT_SECONDS"],
        sessions=database_session_store(db, "bluesky"),
    )


def _email(s: Mapping[str, Any], db: Database) -> Channel:
    return EmailChannel(
        host=s["SMTP_HOST"],
        port=s["SMTP_PORT"],
        sender=s["SMTP_FROM"],
        username=s["SMTP_USERNAME"],
        password=s["SMTP_PASSWORD"],
        starttls=s["SMTP_STARTTLS"],
        page_name=s["PAGE_NAME"],
        include_link=s["EMAIL_INCLUDE_LINK"],
        timeout=s["DELIVERY_TIMEOUT_SECONDS"],
    )


def _webhook(s: Mapping[str, Any], db: Database) -> Channel:
    return WebhookChannel(
        allow_private=parse_allow_list(s["WEBHOOK_ALLOW_PRIVATE"]),
        timeout=s["DELIVERY_TIMEOUT_SECONDS"],
    )


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    label: str
    needs: tuple[str, ...]
    build: Callable[[Mapping[str, Any], Database], Channel]


REGISTRY: dict[str, ChannelSpec] = {
    "x": ChannelSpec(
        "x", "X", ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"), _x
    ),
    "mastodon": ChannelSpec(
        "mastodon", "Mastodon", ("MASTODON_BASE_URL", "MASTODON_ACCESS_TOKEN"), _mastodon
    ),
    "bluesky": ChannelSpec(
        "bluesky", "Bluesky", ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"), _bluesky
    ),
    "email": ChannelSpec("email", "Email subscribers", ("SMTP_HOST", "SMTP_FROM"), _email),
    "webhook": ChannelSpec("webhook", "Webhook subscribers", (), _webhook),
}


@dataclass(frozen=True)
class ChannelStatus:
    name: str
    label: str
    configured: bool
    missing: tuple[str, ...]


def settings_of(app: Flask) -> dict[str, Any]:
    prefix = "STATUSBOARD_"
    return {k[len(prefix) :]: v for k, v in app.config.items() if k.startswith(prefix)}


def statuses(settings: Mapping[str, Any]) -> list[ChannelStatus]:
    result = []
    for spec in REGISTRY.values():
        missing = tuple(f"STATUSBOARD_{n}" for n in spec.needs if not settings.get(n))
        result.append(ChannelStatus(spec.name, spec.label, not missing, missing))
    return result


def build_channels(settings: Mapping[str, Any], db: Database) -> dict[str, Channel]:
    return {
        status.name: REGISTRY[status.name].build(settings, db)
        for status in statuses(settings)
        if status.configured
    }


def register_channels(app: Flask) -> None:
    db = database(app)
    channels = build_channels(settings_of(app), db)
    app.extensions[EXTENSION] = channels
    db.sessions.configure(info={SESSION_INFO_KEY: frozenset(channels)})


def channels(app: Flask | None = None) -> dict[str, Channel]:
    return (app or current_app).extensions[EXTENSION]


def database_session_store(db: Database, channel: str) -> SessionStore:
    def load() -> str | None:
        with db.session() as session:
            row = session.get(ChannelSession, channel)
            return row.data if row else None

    def save(value: str) -> None:
        with db.session() as session:
            _save(session, channel, value)

    return SessionStore(load, save)


def _save(session: Session, channel: str, value: str) -> None:
    # Write first (no read): SQLite then takes its write lock directly instead of upgrading a
    # read snapshot, which WAL refuses when another worker wrote in between.
    result = session.execute(
        update(ChannelSession)
        .where(ChannelSession.channel == channel)
        .values(data=value, updated_at=clock.now())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(ChannelSession(channel=channel, data=value, updated_at=clock.now()))
        except IntegrityError:
            pass  # another worker saved its login at the same moment: either will do
