"""Promise math: when the next update is due and what the ETA says.

An open incident always carries a next-update promise. The ETA is either a time or explicitly
unknown (None); both are public commitments and are stored on every update.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from statusboard.domain.errors import InvalidInput, PromiseInThePast
from statusboard.domain.statuses import Impact

DEFAULT_NEXT_UPDATE_MINUTES: Mapping[str, int] = {
    "critical": 15,
    "major": 30,
    "minor": 60,
    "none": 120,
}

# An update may promise at most this far ahead; longer silences are not "updates".
MAX_NEXT_UPDATE = timedelta(days=7)
# An expected resolution further than a year ahead is not an estimate anyone can keep.
MAX_ETA = timedelta(days=366)


def default_next_update(
    impact: Impact,
    now: datetime,
    minutes_by_impact: Mapping[str, int] = DEFAULT_NEXT_UPDATE_MINUTES,
) -> datetime:
    return now + timedelta(minutes=minutes_by_impact[impact.value])


def check_next_update(next_update_at: datetime, now: datetime) -> datetime:
    if next_update_at.tzinfo is None:
        raise InvalidInput("the next-update time needs a time zone", field="next_update_at")
    if next_update_at <= now:
        raise PromiseInThePast(
            "the next update must be promised for a time in the future", field="next_update_at"
        )
    if next_update_at - now > MAX_NEXT_UPDATE:
        raise InvalidInput("promise the next update within 7 days", field="next_update_at")
    return next_update_at


def check_eta(eta: datetime | None, now: datetime) -> datetime | None:
    """None means "unknown" and is always allowed; a time must lie in the future."""
    if eta is None:
        return None
    if eta.tzinfo is None:
        raise InvalidInput("the ETA needs a time zone", field="eta")
    if eta <= now:
        raise PromiseInThePast("the ETA must be in the future, or say it is unknown", field="eta")
    if eta - now > MAX_ETA:
        raise InvalidInput(
            "give an ETA within a year, or say it is unknown and revise it later", field="eta"
        )
    return eta


def format_minutes(delta: timedelta) -> str:
    """ "7 min", "1 h 5 min", "2 d 3 h": how late or how far, for people."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def local_datetime(value: datetime, zone_name: str) -> datetime:
    """A naive wall-clock time the operator typed, read in their zone, as aware UTC."""
    from zoneinfo import ZoneInfo

    if value.tzinfo is not None:
        return value
    try:
        return value.replace(tzinfo=ZoneInfo(zone_name)).astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{value:%Y-%m-%d %H:%M} is out of range") from None


def next_occurrence(hour: int, minute: int, zone_name: str, now: datetime) -> datetime:
    """ "By 14:30": the next time the operator's clock shows 14:30, within 24 hours."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    local_now = now.astimezone(zone)
    candidate = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local_now:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)
