"""Fixtures shared by the publishing tests: every fake network, an app configured to use
them, and a helper that runs the worker's delivery round in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statusboard.app import channels
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.models import Component, Operator
from statusboard.services import components, outbox
from statusboard.services.audit import Actor
from tests.fakes.chat_hooks import FakeChatHooks
from tests.fakes.smtp import FakeSMTP
from tests.fakes.social import FakeBluesky, FakeMastodon, FakeX, WebhookReceiver


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX()
    yield fake
    fake.close()


@pytest.fixture
def fake_mastodon() -> Iterator[FakeMastodon]:
    fake = FakeMastodon()
    yield fake
    fake.close()


@pytest.fixture
def fake_bluesky() -> Iterator[FakeBluesky]:
    fake = FakeBluesky()
    yield fake
    fake.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def smtp() -> Iterator[FakeSMTP]:
    fake = FakeSMTP()
    yield fake
    fake.close()


@pytest.fixture
def mailbox(smtp: FakeSMTP) -> FakeSMTP:
    smtp.clear()
    return smtp


@pytest.fixture
def room() -> Iterator[WebhookReceiver]:
    """The operators' chat room (its incoming webhook)."""
    fake = WebhookReceiver()
    yield fake
    fake.close()


def nag_settings(smtp_port: int, room: WebhookReceiver | None = None) -> dict[str, object]:
    """Nags by email to the SMTP server on `smtp_port` and, when given, to the chat `room`."""
    settings: dict[str, object] = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SMTP_FROM": "status@example.com",
        "SMTP_STARTTLS": False,
        "ESCALATION_EMAIL": "boss@example.com",
        "DELIVERY_TIMEOUT_SECONDS": 2,
    }
    if room is not None:
        settings["CHAT_WEBHOOK_URL"] = room.url + "/hooks/nags"
    return settings


def network_settings(
    x: FakeX, mastodon: FakeMastodon, bluesky: FakeBluesky, smtp: FakeSMTP
) -> dict[str, object]:
    return {
        "X_API_KEY": "k",
        "X_API_SECRET": "s",
        "X_ACCESS_TOKEN": "t",
        "X_ACCESS_TOKEN_SECRET": "ts",
        "X_API_URL": x.url,
        "MASTODON_BASE_URL": mastodon.url,
        "MASTODON_ACCESS_TOKEN": "mastodon-token",
        "BLUESKY_HANDLE": bluesky.account,
        "BLUESKY_APP_PASSWORD": bluesky.password,
        "BLUESKY_BASE_URL": bluesky.url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "SMTP_FROM": "status@example.com",
        "SMTP_STARTTLS": False,
        "WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
        "DELIVERY_TIMEOUT_SECONDS": 2,
    }


@pytest.fixture
def publishing_overrides(fake_x, fake_mastodon, fake_bluesky, mailbox) -> dict[str, object]:
    return network_settings(fake_x, fake_mastodon, fake_bluesky, mailbox)


def context_of(app: Flask) -> outbox.OutboxContext:
    return outbox.OutboxContext.from_settings(settings_of(app), app.config["SECRET_KEY"])


def deliver(
    app: Flask, session: Session | None = None, worker: str = "test-worker", rounds: int = 10
) -> int:
    """Run delivery rounds until nothing is due (as the worker's loop does). The test's own
    session ends its transaction first and forgets what it loaded, so it sees the outcome."""
    if session is not None:
        session.commit()
    total = 0
    for _ in range(rounds):
        claimed = outbox.deliver_due(database(app), channels(app), context_of(app), worker=worker)
        if not claimed:
            break
        total += claimed
    if session is not None:
        session.commit()
        session.expire_all()
    return total


@pytest.fixture
def chat_hooks() -> Iterator[FakeChatHooks]:
    """Slack, Discord and Teams incoming webhooks (STATUSBOARD_CHAT_HOOKS_BASE_URL)."""
    fake = FakeChatHooks()
    yield fake
    fake.close()


@pytest.fixture
def actor(operator: Operator) -> Actor:
    """The test operator acting through the web, as most service tests act."""
    return Actor(operator, "test")


@pytest.fixture
def api(session: Session, actor: Actor) -> Component:
    """A component named API, committed."""
    component = components.create_component(session, name="API", actor=actor)
    session.commit()
    return component
