"""The login rate limit: failed attempts per client address, counted in the database so every
web process (and every host) sees the same count. Only failures count, and a correct password
is always let in: an office behind one address is never locked out by someone else's typos,
and an attacker who is over the limit learns nothing from a refused guess (429, not "wrong
password"). Old failures are pruned as new ones are written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import parse
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from statusboard.models import LoginFailure


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: timedelta

    @classmethod
    def parse(cls, value: str) -> Limit:
        """ "10 per minute", "20/hour" (Flask-Limiter's notation)."""
        item = parse(value)
        return cls(attempts=item.amount, window=timedelta(seconds=item.get_expiry()))


def failures(session: Session, *, client: str, limit: Limit, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.client == client[:64], LoginFailure.failed_at > now - limit.window
            )
        )
        or 0
    )


def is_limited(session: Session, *, client: str, limit: Limit, now: datetime) -> bool:
    return failures(session, client=client, limit=limit, now=now) >= limit.attempts


def record_failure(session: Session, *, client: str, limit: Limit, now: datetime) -> None:
    # Whatever has left the window is of no further use, whoever it was.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - limit.window))
    session.add(LoginFailure(client=client[:64], failed_at=now))
