"""Per-network length rules, and fitting a message into them at a word boundary.

X counts *weighted* characters (URLs and bare domains 23, CJK and emoji 2; twitter-text-parser
knows the rules); Mastodon counts characters with every URL as 23; Bluesky counts graphemes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from twitter_text import parse_tweet

X_LIMIT = 280
BLUESKY_LIMIT = 300
MASTODON_DEFAULT_LIMIT = 500
MASTODON_URL_LENGTH = 23
ELLIPSIS = "…"

_URL = re.compile(r"https?://\S+")


def x_length(text: str) -> int:
    return parse_tweet(text).weightedLength


def mastodon_length(text: str) -> int:
    return len(_URL.sub("x" * MASTODON_URL_LENGTH, text))


_ZWJ = "\u200d"


def _extends(char: str) -> bool:
    """Code points that join the previous one into the same grapheme."""
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or char == _ZWJ
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters, enough of UAX #29 for posts: combining marks, emoji
    modifiers and variation selectors, ZWJ sequences, flags (regional indicator pairs)."""
    clusters: list[str] = []
    previous = ""
    for char in text:
        if clusters and (
            _extends(char)
            or previous == _ZWJ
            or (_regional(char) and len(clusters[-1]) == 1 and _regional(clusters[-1]))
            or (char == "\n" and clusters[-1] == "\r")
        ):
            clusters[-1] += char
        else:
            clusters.append(char)
        previous = char
    return clusters


def bluesky_length(text: str) -> int:
    return len(graphemes(text))


@dataclass(frozen=True)
class Fitted:
    text: str
    length: int
    limit: int
    trimmed: bool

    @property
    def fits(self) -> bool:
        return self.length <= self.limit


def fit(
    body: str,
    *,
    limit: int,
    length: Callable[[str], int],
    link: str | None = None,
) -> Fitted:
    """The body, trimmed at a word boundary with an ellipsis if needed, then the link."""
    body = body.strip()
    suffix = f"\n\n{link}" if link else ""
    whole = body + suffix
    if length(whole) <= limit:
        return Fitted(whole, length(whole), limit, trimmed=False)
    words = _word_ends(body)
    # Binary search for the longest word prefix that fits with the ellipsis and the link.
    low, high, best = 0, len(words) - 1, ELLIPSIS + suffix
    while low <= high:
        middle = (low + high) // 2
        candidate = body[: words[middle]].rstrip(" ,;:-\n") + ELLIPSIS + suffix
        if length(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best == ELLIPSIS + suffix:  # not even one word fits: cut inside it, by grapheme
        clusters = graphemes(body)
        while clusters and length("".join(clusters) + ELLIPSIS + suffix) > limit:
            clusters.pop()
        best = "".join(clusters) + ELLIPSIS + suffix
    return Fitted(best, length(best), limit, trimmed=True)


def _word_ends(text: str) -> list[int]:
    ends = [match.end() for match in re.finditer(r"\S+", text)]
    return ends or [0]
