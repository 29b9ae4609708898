"""Shared pieces of the publishing benchmarks: a database, the local fakes, worker processes
and counting what each receiver got."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _support import empty_postgres  # noqa: E402

from statusboard import migrate  # noqa: E402
from statusboard.app import create_app  # noqa: E402
from statusboard.config import normalize_database_url  # noqa: E402
from statusboard.db import database, make_engine  # noqa: E402
from statusboard.models import Base, Subscriber, SubscriberKind  # noqa: E402
from statusboard.models.base import new_public_id  # noqa: E402
from statusboard.models.subscriber import new_secret  # noqa: E402
from tests.fakes.smtp import FakeSMTP  # noqa: E402
from tests.fakes.social import FakeBluesky, FakeMastodon, FakeX, WebhookReceiver  # noqa: E402


def fresh_database(url: str) -> str:
    url = normalize_database_url(url)
    if url.startswith("postgresql"):
        empty_postgres(url)
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


class Fakes:
    def __init__(self, social: bool = True) -> None:
        self.x = FakeX() if social else None
        self.mastodon = FakeMastodon()
        self.bluesky = FakeBluesky()
        self.webhooks = WebhookReceiver()
        self.smtp = FakeSMTP()

    def environment(self, database_url: str, **extra: str) -> dict[str, str]:
        env = {
            "STATUSBOARD_DATABASE_URL": database_url,
            "STATUSBOARD_SECRET_KEY": "bench",
            "STATUSBOARD_BASE_URL": "https://status.example.com",
            "STATUSBOARD_MASTODON_BASE_URL": self.mastodon.url,
            "STATUSBOARD_MASTODON_ACCESS_TOKEN": "mastodon-token",
            "STATUSBOARD_BLUESKY_HANDLE": self.bluesky.account,
            "STATUSBOARD_BLUESKY_APP_PASSWORD": self.bluesky.password,
            "STATUSBOARD_BLUESKY_BASE_URL": self.bluesky.url,
            "STATUSBOARD_SMTP_HOST": "127.0.0.1",
            "STATUSBOARD_SMTP_PORT": str(self.smtp.port),
            "STATUSBOARD_SMTP_FROM": "status@example.com",
            "STATUSBOARD_SMTP_STARTTLS": "false",
            "STATUSBOARD_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
        }
        if self.x is not None:
            env.update(
                {
                    "STATUSBOARD_X_API_KEY": "k",
                    "STATUSBOARD_X_API_SECRET": "s",
                    "STATUSBOARD_X_ACCESS_TOKEN": "t",
                    "STATUSBOARD_X_ACCESS_TOKEN_SECRET": "ts",
                    "STATUSBOARD_X_API_URL": self.x.url,
                }
            )
        env.update(extra)
        return env

    def close(self) -> None:
        for fake in (self.x, self.mastodon, self.bluesky, self.webhooks):
            if fake is not None:
                fake.close()
        self.smtp.close()


def app_for(env: dict[str, str]):
    os.environ.update(env)
    return create_app()


def add_subscribers(app, *, webhooks: int, emails: int, receiver_url: str) -> None:
    rows = [
        {
            "public_id": new_public_id(),
            "kind": SubscriberKind.WEBHOOK,
            "address": f"{receiver_url}/hook/{n}",
            "contact_email": f"hook{n}@example.com",
            "secret": new_secret(),
            "confirmed_at": _now(),
            "failures_in_a_row": 0,
            "created_at": _now(),
        }
        for n in range(webhooks)
    ]
    rows += [
        {
            "public_id": new_public_id(),
            "kind": SubscriberKind.EMAIL,
            "address": f"reader{n}@example.com",
            "secret": new_secret(),
            "confirmed_at": _now(),
            "failures_in_a_row": 0,
            "created_at": _now(),
        }
        for n in range(emails)
    ]
    with database(app).session() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(Subscriber), rows[start : start + 2000])


def _now():
    from statusboard import clock

    return clock.now()


class Worker:
    """`statusboard worker` in its own process, with its peak memory read from /proc."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "statusboard"), "worker"],
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def peak_rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except FileNotFoundError:
            pass
        return 0.0

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_until(condition, timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def tables(app) -> None:
    return Base.metadata.sorted_tables
