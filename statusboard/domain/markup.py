"""Operator Markdown -> safe HTML (Python-Markdown, then an nh3 allow-list), and plain text."""

from __future__ import annotations

import html
import re

import markdown
import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

MAX_BODY_LENGTH = 20_000


def render(body: str) -> str:
    """Sanitized HTML for an update body: only allow-listed tags, attributes and schemes."""
    raw = markdown.markdown(body, extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li|h\d|blockquote|pre|tr)>|<br\s*/?>")


def plain_text(safe_html: str) -> str:
    """Readable text from sanitized HTML, for posts, emails and feed titles."""
    text = _BLOCK_END.sub("\n", safe_html)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()
