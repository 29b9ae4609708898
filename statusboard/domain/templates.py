"""Required blanks: `[[what customers see]]` in a template (or a postmortem draft) marks text
the author must write before the message is accepted, so nothing prepared can be sent as-is.

One rule on the write path (services/updates.py), so the form, the API and the CLI refuse an
unfilled blank alike, with a field error naming it."""

from __future__ import annotations

import re

from statusboard.domain.errors import InvalidInput

BLANK = re.compile(r"\[\[([^\[\]\n]{0,200})\]\]")


def blanks(text: str) -> list[str]:
    """The blanks still in the text, as written (`[[next step]]`), in order, once each."""
    seen: dict[str, None] = {}
    for match in BLANK.finditer(text or ""):
        seen.setdefault(match.group(0), None)
    return list(seen)


def check_filled(text: str, *, field: str = "body") -> None:
    left = blanks(text)
    if left:
        named = ", ".join(left[:3]) + (" …" if len(left) > 3 else "")
        raise InvalidInput(
            f"replace the blank{'s' if len(left) > 1 else ''} {named} with what customers "
            "should read before sending",
            field=field,
        )
