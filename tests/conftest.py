"""Shared fixtures: app, client, session, clock, operators.

The suite runs on SQLite by default and on PostgreSQL when STATUSBOARD_TEST_DATABASE_URL is
set. The schema is built once per run through the real migrations; every test then starts
from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from statusboard import clock as clock_module
from statusboard import migrate
from statusboard.app import channels, create_app
from statusboard.config import PublishingSettings, normalize_database_url, settings_of
from statusboard.db import database, make_engine
from statusboard.models import Base, Operator, Role
from statusboard.services import operators, page, promises
from statusboard.services.audit import Actor

pytest_plugins = ["tests.fakes.publishing"]

PASSWORD = "correct horse battery"
# For helpers whose tests do not look at deliveries: the write path queues none.
QUIET = PublishingSettings(channels=frozenset())
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """argon2 at production cost makes every login fixture slow; the rules are the same."""
    from argon2 import PasswordHasher

    original = operators._hasher
    operators._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    operators._hasher = original


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("STATUSBOARD_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = normalize_database_url(url)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # start clean: drop whatever a past run left
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    yield url


def _empty_tables(app: Flask) -> None:
    engine = database(app).engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def app_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_overrides: dict[str, object]) -> Iterator[Flask]:
    overrides: dict[str, object] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "https://status.example.com",
        "PAGE_NAME": "Example Status",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SNAPSHOT_DIR": str(tmp_path / "snapshots"),
    }
    overrides.update(app_overrides)
    app = create_app(overrides)
    _empty_tables(app)
    yield app
    for channel in channels(app).values():
        close = getattr(channel, "close", None)
        if close is not None:
            close()
    database(app).engine.dispose()


@pytest.fixture
def publishing_settings(app: Flask) -> PublishingSettings:
    """What the write path is given by the app: its enabled channels and default promises."""
    return settings_of(app).publishing


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    session = database(app).sessions()
    yield session
    session.rollback()
    session.close()


def worker_timers(session: Session, *, zone: str = "UTC") -> None:
    """What the worker's timers have done by the service clock's now: promises past due are
    broken and a new day has started, each bumping the page version. Tests that move the
    clock past either call it before they read the public page, as a running worker would."""
    now = clock_module.now()
    promises.mark_broken(session, now=now)
    page.start_the_day(session, zone=zone, now=now)
    session.commit()


@pytest.fixture
def clock() -> Iterator[object]:
    """The service clock, frozen at START; `clock.advance(timedelta(...))` moves it."""
    clock_module.freeze(START)
    yield clock_module
    clock_module.unfreeze()


def make_operator(
    session: Session,
    email: str = "ops@example.com",
    name: str = "Olive Ops",
    role: Role = Role.OPERATOR,
) -> Operator:
    operator = operators.add_operator(
        session, email=email, name=name, password=PASSWORD, role=role, actor=Actor(None, "test")
    )
    session.commit()
    return operator


@pytest.fixture
def operator(session: Session) -> Operator:
    return make_operator(session)


@pytest.fixture
def admin(session: Session) -> Operator:
    return make_operator(session, email="admin@example.com", name="Ada Admin", role=Role.ADMIN)


def login(client: FlaskClient, operator: Operator) -> None:
    response = client.post("/login", data={"email": operator.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def operator_client(client: FlaskClient, operator: Operator) -> FlaskClient:
    login(client, operator)
    return client


@pytest.fixture
def admin_client(client: FlaskClient, admin: Operator) -> FlaskClient:
    login(client, admin)
    return client
