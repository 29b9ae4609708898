"""Required blanks: `[[what customers see]]` in a template (or a postmortem draft) marks text
the author must write before the message is accepted, so nothing prepared can be sent as-is.

One rule on the write path (services/updates.py), so the form, the API and the CLI refuse an
unfilled blank alike, with a field error naming it."""

from __future__ import annotations

import re

from statusboard.domain.errors import InvalidInput
from statusboard.domain.wording import near_duplicate

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


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def copies_template(body: str, template: str) -> bool:
    """The message is the template's own text: word for word with only its blanks filled in,
    or (nearly) the same as the template with or without its blanks."""
    parts = [re.escape(_words(p)) for p in BLANK.split(_words(template))[::2]]
    if re.fullmatch(r".{0,300}?".join(parts), _words(body), flags=re.S):
        return True
    return near_duplicate(body, [template, BLANK.sub("", template)]) is not None
