"""Shields-style SVG badges: a grey label and a coloured value, text escaped, width from a
per-character estimate of 11 px Verdana (as shields.io does, within a few pixels)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from statusboard.domain.statuses import ComponentStatus, Indicator
from statusboard.domain.uptime import percent_text

GREEN, YELLOW, ORANGE, RED, BLUE, GREY = (
    "#2e7d32",
    "#9a6700",
    "#c2410c",
    "#b42318",
    "#1d5fbf",
    "#6b7280",
)
STATUS_COLOURS = {
    ComponentStatus.OPERATIONAL: GREEN,
    ComponentStatus.DEGRADED_PERFORMANCE: YELLOW,
    ComponentStatus.PARTIAL_OUTAGE: ORANGE,
    ComponentStatus.MAJOR_OUTAGE: RED,
    ComponentStatus.UNDER_MAINTENANCE: BLUE,
}
INDICATOR_VALUES = {
    Indicator.NONE: ("operational", GREEN),
    Indicator.MINOR: ("minor outage", YELLOW),
    Indicator.MAJOR: ("partial outage", ORANGE),
    Indicator.CRITICAL: ("major outage", RED),
    Indicator.MAINTENANCE: ("maintenance", BLUE),
}
NARROW = set("fijlrt.,:;!|()[] '")
WIDE = set("mwMW%@")
MAX_LABEL = 40
QUOTES = {'"': "&quot;", "'": "&apos;"}


def text_width(text: str) -> int:
    width = 0.0
    for char in text:
        width += 4.0 if char in NARROW else 10.0 if char in WIDE else 7.0
    return int(width + 0.5)


def badge(label: str, value: str, colour: str) -> str:
    label = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
    left, right = text_width(label) + 10, text_width(value) + 10
    total = left + right
    title = escape(f"{label}: {value}", QUOTES)  # also inside attributes
    label_text, value_text = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="15" fill="#010101" fill-opacity=".3">{label_text}</text>'
        f'<text x="{left / 2}" y="14">{label_text}</text>'
        f'<text x="{left + right / 2}" y="15" fill="#010101" fill-opacity=".3">{value_text}</text>'
        f'<text x="{left + right / 2}" y="14">{value_text}</text></g></svg>'
    )


def status_badge(label: str, status: ComponentStatus | Indicator) -> str:
    if isinstance(status, ComponentStatus):
        return badge(label, status.label.lower(), STATUS_COLOURS[status])
    value, colour = INDICATOR_VALUES[status]
    return badge(label, value, colour)


def uptime_badge(label: str, percent: float | None) -> str:
    if percent is None:
        return badge(label, "no data", GREY)
    shown = percent_text(percent)
    if percent >= 99.9:
        colour = GREEN
    elif percent >= 99:
        colour = YELLOW
    else:
        colour = ORANGE if percent >= 95 else RED
    return badge(label, shown, colour)
