"""Fixtures shared by the publishing tests: every fake network, an app configured to use
them, and a helper that runs the worker's delivery round in-process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statusboard.channels.registry import channels
from statusboard.db import database
from statusboard.services import publishing
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
    smtp.messages.clear()
    smtp.handler.refuse.clear()
    smtp.handler.peers.clear()
    return smtp


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


def context_of(app: Flask) -> publishing.PublishContext:
    return publishing.PublishContext(
        base_url=app.config["STATUSBOARD_BASE_URL"],
        page_name=app.config["STATUSBOARD_PAGE_NAME"],
        time_zone=app.config["STATUSBOARD_TIME_ZONE"],
        secret_key=app.config["SECRET_KEY"],
        lease=timedelta(seconds=60),
        webhook_max_failures=app.config["STATUSBOARD_WEBHOOK_MAX_FAILURES"],
    )


def deliver(
    app: Flask, session: Session | None = None, worker: str = "test-worker", rounds: int = 10
) -> int:
    """Run delivery rounds until nothing is due (as the worker's loop does). The test's own
    session ends its transaction first and forgets what it loaded, so it sees the outcome."""
    if session is not None:
        session.commit()
    total = 0
    for _ in range(rounds):
        claimed = publishing.deliver_due(
            database(app), channels(app), context_of(app), worker=worker
        )
        if not claimed:
            break
        total += claimed
    if session is not None:
        session.commit()
        session.expire_all()
    return total
