"""Postmortems: the date one is promised by, and the timeline its first draft starts from.

Rules:
- resolving offers a postmortem by a date; the default is a number of working days (Monday to
  Friday, in the page's zone) after the resolution, per impact: critical and major 5, minor and
  none 0, which means none is offered unless the operator chooses a date;
- the promise falls due at the end of that day (23:59 in the page's zone) and is kept when the
  postmortem is published by then;
- the draft lists every public update, ETA revision and promise kept or broken, with times,
  between blanks the author must fill before it can be published (domain/templates.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from statusboard.domain.errors import InvalidInput

DEFAULT_POSTMORTEM_DAYS: Mapping[str, int] = {"critical": 5, "major": 5, "minor": 0, "none": 0}
# A postmortem promised further ahead than this is not a promise anyone will hold us to.
MAX_POSTMORTEM_DAYS = 60


def add_working_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def default_postmortem_date(
    impact: str, resolved_at: datetime, zone_name: str, days_by_impact: Mapping[str, int]
) -> date | None:
    """The date offered on the resolve form, or None when the impact gets none by default."""
    days = days_by_impact.get(str(impact), 0)
    if days <= 0:
        return None
    return add_working_days(resolved_at.astimezone(ZoneInfo(zone_name)).date(), days)


def due_at(day: date, zone_name: str) -> datetime:
    """ "By 12 Dec": the end of that day in the page's zone, in UTC."""
    return datetime.combine(day, time(23, 59), ZoneInfo(zone_name)).astimezone(UTC)


def check_postmortem_date(day: date, now: datetime, zone_name: str) -> datetime:
    """The due time of a postmortem promised for `day`, which must lie ahead (today counts)."""
    today = now.astimezone(ZoneInfo(zone_name)).date()
    if day < today:
        raise InvalidInput(
            "promise the postmortem for today or a later date", field="postmortem_by"
        )
    if day > today + timedelta(days=MAX_POSTMORTEM_DAYS):
        raise InvalidInput(
            f"promise the postmortem within {MAX_POSTMORTEM_DAYS} days", field="postmortem_by"
        )
    return due_at(day, zone_name)


@dataclass(frozen=True)
class Moment:
    """One line of the generated timeline."""

    at: datetime
    text: str


def _stamp(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return f"{local.day} {local:%b %H:%M}"


def draft(*, name: str, started_at: datetime, moments: Sequence[Moment], zone_name: str) -> str:
    """The Markdown the postmortem editor starts from: the timeline, then the blanks."""
    zone = ZoneInfo(zone_name)
    label = started_at.astimezone(zone).tzname() if zone_name != "UTC" else "UTC"
    lines = [
        f"### What happened to {name}",
        "",
        "[[what customers saw, and for how long]]",
        "",
        "### Why it happened",
        "",
        "[[the cause, in words customers understand]]",
        "",
        f"### Timeline ({label})",
        "",
    ]
    if not moments or started_at < min(m.at for m in moments):
        lines.append(f"- {_stamp(started_at, zone)} — The incident began.")
    lines += [f"- {_stamp(m.at, zone)} — {m.text}" for m in sorted(moments, key=lambda m: m.at)]
    lines += [
        "",
        "### What we are changing",
        "",
        "[[what changes so this does not happen again, and by when]]",
    ]
    return "\n".join(lines)
