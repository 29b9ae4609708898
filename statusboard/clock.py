"""The one source of "now". Services ask it; tests set it (see tests/conftest.py `clock`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    """Aware UTC now, truncated to milliseconds (the precision every surface shows)."""
    current = _frozen if _frozen is not None else datetime.now(UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def freeze(at: datetime) -> None:
    global _frozen
    if at.tzinfo is None:
        raise ValueError("the clock takes aware datetimes")
    _frozen = at.astimezone(UTC)


def advance(delta: timedelta) -> None:
    freeze(now() + delta)


def unfreeze() -> None:
    global _frozen
    _frozen = None


@contextmanager
def held_at(at: datetime) -> Iterator[None]:
    """ "Now" is `at` inside the block, then what it was before: an import replays a page's
    history through the services at the times it happened."""
    global _frozen
    before = _frozen
    freeze(at)
    try:
        yield
    finally:
        _frozen = before


def iso(value: datetime) -> str:
    """RFC 3339 with milliseconds and Z: the one machine format on every surface."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
