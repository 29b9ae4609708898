"""Hints that keep public updates honest and useful to read."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

# Customers notice an update that says nothing new; above this similarity we ask.
NEAR_DUPLICATE_RATIO = 0.9


def _normalized(text: str) -> str:
    return " ".join(text.lower().split())


def near_duplicate(body: str, earlier: Iterable[str]) -> str | None:
    """The earlier body this one (nearly) repeats, if any."""
    new = _normalized(body)
    if not new:
        return None
    for previous in earlier:
        old = _normalized(previous)
        if old == new or SequenceMatcher(None, new, old).ratio() >= NEAR_DUPLICATE_RATIO:
            return previous
    return None
