"""The retry policy of the outbox, the only one: what a failed attempt means, per purpose.

Pure: the delivery service asks it, with the attempt count and the clock, when to try again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limits:
    attempts: int
    first_delay: timedelta
    longest_delay: timedelta


# Public notices may wait out a network's outage; a nag is worth little once its level has
# passed (the next level brings a new one); a confirmation should arrive while the person is
# still waiting for it, but may wait out a short SMTP outage. A CDN purge is worth most in
# its first seconds, but a copy a CDN keeps for long must go eventually. A test message
# reports its one attempt.
LIMITS: dict[str, Limits] = {
    "notice": Limits(8, timedelta(seconds=5), timedelta(minutes=30)),
    "reminder": Limits(6, timedelta(seconds=5), timedelta(minutes=10)),
    "correction": Limits(6, timedelta(seconds=5), timedelta(minutes=10)),
    "nag": Limits(4, timedelta(seconds=10), timedelta(minutes=2)),
    "confirmation": Limits(10, timedelta(seconds=10), timedelta(minutes=30)),
    "alert": Limits(8, timedelta(seconds=10), timedelta(minutes=30)),
    "purge": Limits(10, timedelta(seconds=2), timedelta(minutes=10)),
    "test": Limits(1, timedelta(seconds=5), timedelta(seconds=5)),
}


@dataclass(frozen=True)
class Failure:
    """What a channel said about a failed attempt."""

    retryable: bool
    retry_at: datetime | None = None  # a rate-limit reset the network announced


def next_attempt(
    purpose: str,
    failure: Failure,
    *,
    attempts: int,
    now: datetime,
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    """When to try again after a failed attempt, or None to give up now.

    Final answers (auth, validation) give up at once; network errors, timeouts, 429 and 5xx
    back off exponentially with jitter (0.5x to 1.5x), waiting at least until a rate-limit
    reset the network announced; after the purpose's number of attempts we give up."""
    limits = LIMITS[purpose]
    if not failure.retryable or attempts >= limits.attempts:
        return None
    backoff = min(limits.first_delay * (2 ** (attempts - 1)), limits.longest_delay)
    jittered = backoff.total_seconds() * (0.5 + rand())
    at = now + timedelta(milliseconds=int(jittered * 1000))  # the clock's precision
    if failure.retry_at is not None and failure.retry_at > at:
        at = failure.retry_at + timedelta(seconds=1)
    return at
