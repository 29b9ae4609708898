"""Server-rendered bar charts: each row is a label, an inline SVG bar and the figure in words.

The bar is drawn in a 100-unit-wide viewBox stretched to the row, so a segment's width is its
percentage of the longest bar and the page needs no JavaScript. Colours come from CSS classes,
so the charts follow the page's light and dark schemes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from statusboard.domain.accountability import format_duration
from statusboard.services.accountability import ComponentFigures, Week


@dataclass(frozen=True)
class Segment:
    css_class: str
    x: float
    width: float


@dataclass(frozen=True)
class BarRow:
    label: str
    segments: tuple[Segment, ...]
    note: str  # the figure in words, shown beside the bar and read by screen readers


def _segments(parts: Sequence[tuple[str, float]], scale: float) -> tuple[Segment, ...]:
    segments, x = [], 0.0
    for css_class, value in parts:
        width = round(100 * value / scale, 2) if scale else 0.0
        if width > 0:
            segments.append(Segment(css_class, round(x, 2), width))
        x += width
    return tuple(segments)


def _days(first: datetime, last: datetime) -> str:
    """ "18–24 Nov", "28 Oct – 3 Nov" (UTC days)."""
    first, last = first.astimezone(UTC), last.astimezone(UTC)
    if first.date() == last.date():
        return f"{first.day} {first:%b}"
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%b}"
    return f"{first.day} {first:%b} – {last.day} {last:%b}"


def promise_weeks(weeks: Sequence[Week]) -> list[BarRow]:
    """Kept (then broken) promises per week, on one scale."""
    scale = max((w.promises.total for w in weeks), default=0)
    rows = []
    for week in weeks:
        tally = week.promises
        note = f"{tally.kept} kept, {tally.broken} broken" if tally.total else "no promises due"
        rows.append(
            BarRow(
                _days(week.start, week.end - timedelta(microseconds=1)),
                _segments([("kept", tally.kept), ("broken", tally.broken)], scale),
                note,
            )
        )
    return rows


def mttr_by_component(components: Sequence[ComponentFigures]) -> list[BarRow]:
    """Median time to resolve per component (p90 as a lighter extension), on one scale;
    components without a resolved incident are left out (the table lists them)."""
    scale = max(
        (c.figures.mttr_p90.total_seconds() for c in components if c.figures.mttr_p90 is not None),
        default=0.0,
    )
    rows = []
    for item in components:
        median, p90 = item.figures.mttr_median, item.figures.mttr_p90
        if median is None or p90 is None:
            continue
        rows.append(
            BarRow(
                item.component.name,
                _segments(
                    [("median", median.total_seconds()), ("p90", (p90 - median).total_seconds())],
                    scale,
                ),
                f"median {format_duration(median)}, p90 {format_duration(p90)}",
            )
        )
    return rows
