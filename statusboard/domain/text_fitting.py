"""Per-network length rules, and fitting a message into them where a sentence ends.

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


# Where a cut keeps the meaning: after a sentence (or a line, e.g. the headline) ends.
_SENTENCE_END = re.compile(r"[.!?…](?=[\s\"”’)]|$)[\"”’)]*|\n")
# Next best, only when no whole sentence fits: a clause.
_CLAUSE_END = re.compile(r"[,;:](?=\s)|\s[—–-](?=\s)")


def fit(
    body: str,
    *,
    limit: int,
    length: Callable[[str], int],
    link: str | None = None,
    link_when_cut: str | None = None,
) -> Fitted:
    """The body as it is (with `link`), or — when it must be cut — the longest part that ends
    where a sentence ends, marked with an ellipsis and followed by the link (`link`, else
    `link_when_cut`) so the rest is one tap away. A clause boundary is used only when no
    sentence fits, a word boundary only when no clause does: a cut never leaves half a
    sentence that could mean something else, unless there is nothing else to say."""
    body = body.strip()
    suffix = f"\n\n{link}" if link else ""
    whole = body + suffix
    if length(whole) <= limit:
        return Fitted(whole, length(whole), limit, trimmed=False)
    chosen = link or link_when_cut
    suffix = f"\n\n{chosen}" if chosen else ""
    for ends in (_boundaries(body, _SENTENCE_END), _boundaries(body, _CLAUSE_END)):
        best = _longest_fitting(body, ends, suffix, limit, length)
        if best is not None:
            return Fitted(best, length(best), limit, trimmed=True)
    best = _longest_fitting(body, _word_ends(body), suffix, limit, length)
    if best is None:  # not even one word fits: cut inside it, by grapheme
        clusters = graphemes(body)
        while clusters and length("".join(clusters) + ELLIPSIS + suffix) > limit:
            clusters.pop()
        best = "".join(clusters) + ELLIPSIS + suffix
    return Fitted(best, length(best), limit, trimmed=True)


def _cut(body: str, end: int) -> str:
    """The body up to `end`, marked as cut: "It failed. …", "It failed, and…"."""
    kept = body[:end].rstrip()
    if kept.endswith(ELLIPSIS):
        return kept
    if kept and kept[-1] in '.!?"”’)':
        return f"{kept} {ELLIPSIS}"
    return kept.rstrip(" ,;:—–-") + ELLIPSIS


def _longest_fitting(
    body: str, ends: list[int], suffix: str, limit: int, length: Callable[[str], int]
) -> str | None:
    """The longest cut at one of `ends` that fits (binary search: length grows with `end`)."""
    low, high, best = 0, len(ends) - 1, None
    while low <= high:
        middle = (low + high) // 2
        candidate = _cut(body, ends[middle]) + suffix
        if length(candidate) <= limit and _cut(body, ends[middle]) != ELLIPSIS:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def _boundaries(text: str, pattern: re.Pattern[str]) -> list[int]:
    return sorted({match.end() for match in pattern.finditer(text) if match.end() < len(text)})


def _word_ends(text: str) -> list[int]:
    return [match.end() for match in re.finditer(r"\S+", text)]
