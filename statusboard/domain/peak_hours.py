"""Peak hours and blackout dates: when maintenance should not happen, and the quiet slots
that are left.

Pure rules over aware datetimes. Peak hours are weekly wall-clock windows in IANA zones
("Europe/Berlin mon-fri 08:00-18:00"), so they follow each zone's daylight-saving changes;
blackout dates are whole days in the page's zone. A window that touches either needs a
confirmed reason; suggestions never touch them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SUGGESTION_HORIZON = timedelta(days=14)
SUGGESTION_STEP = timedelta(minutes=30)
DEFAULT_MIN_NOTICE = timedelta(hours=48)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class PeakWindow:
    """Weekly hours in one zone: `days` are 0 (Monday) to 6; end may be 24:00 (midnight)."""

    zone: str
    days: frozenset[int]
    start: time
    end: time | None  # None: until midnight

    def setting_text(self) -> str:
        """As written in STATUSBOARD_PEAK_HOURS: "Europe/Berlin mon-fri 08:00-18:00"."""
        end = f"{self.end:%H:%M}" if self.end else "24:00"
        ordered = sorted(self.days)
        if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
            days = f"{DAY_NAMES[ordered[0]]}-{DAY_NAMES[ordered[-1]]}"
        else:
            days = ",".join(DAY_NAMES[d] for d in ordered)
        return f"{self.zone} {days} {self.start:%H:%M}-{end}"

    def describe(self) -> str:
        days = sorted(self.days)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            named = f"{DAY_NAMES[days[0]].capitalize()}–{DAY_NAMES[days[-1]].capitalize()}"
        else:
            named = ", ".join(DAY_NAMES[d].capitalize() for d in days)
        end = f"{self.end:%H:%M}" if self.end else "24:00"
        return f"{named} {self.start:%H:%M}–{end} {self.zone}"


@dataclass(frozen=True)
class PeakHours:
    windows: tuple[PeakWindow, ...] = ()
    blackouts: frozenset[date] = frozenset()
    blackout_zone: str = "UTC"

    @property
    def empty(self) -> bool:
        return not self.windows and not self.blackouts


@dataclass(frozen=True)
class Clash:
    """One stretch of peak hours or a blackout day a maintenance window overlaps."""

    start: datetime
    end: datetime
    reason: str  # "peak hours Mon–Fri 08:00–18:00 Europe/Berlin" | "blackout date 2026-12-24"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin") from exc


def _clock(text: str) -> time | None:
    if text == "24:00":
        return None
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes or 0))


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.lower().split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{part!r}: name days as mon, tue ... sun, or a range mon-fri")
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


def parse_peak_hours(value: str) -> tuple[PeakWindow, ...]:
    """ "Europe/Berlin mon-fri 08:00-18:00; America/New_York sat 10:00-14:00" -> windows."""
    windows = []
    for entry in value.split(";"):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 3:
            raise ValueError(f"{entry.strip()!r}: write ZONE DAYS HH:MM-HH:MM")
        zone, days, hours = parts
        _zone(zone)
        first, _, last = hours.partition("-")
        try:
            start, end = _clock(first), _clock(last)
        except ValueError:
            raise ValueError(f"{hours!r}: write hours as HH:MM-HH:MM") from None
        if start is None or (end is not None and end <= start):
            raise ValueError(f"{hours!r}: the end must come after the start")
        windows.append(PeakWindow(zone, _days(days), start, end))
    return tuple(windows)


def parse_blackouts(value: str) -> frozenset[date]:
    """ "2026-12-24,2026-12-31" -> dates."""
    try:
        return frozenset(date.fromisoformat(p.strip()) for p in value.split(",") if p.strip())
    except ValueError:
        raise ValueError("write dates as YYYY-MM-DD, separated by commas") from None


def _local_span(day: date, start: time, end: time | None, zone: ZoneInfo) -> Interval:
    begin = datetime.combine(day, start, zone)
    finish = (
        datetime.combine(day, end, zone)
        if end is not None
        else datetime.combine(day + timedelta(days=1), time(0), zone)
    )
    return begin.astimezone(UTC), finish.astimezone(UTC)


def peak_intervals(peak: PeakHours, start: datetime, end: datetime) -> list[Clash]:
    """Every stretch of peak hours and blackout days that meets [start, end), in UTC."""
    found: list[Clash] = []
    for window in peak.windows:
        zone = _zone(window.zone)
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        while day <= last:
            if day.weekday() in window.days:
                a, b = _local_span(day, window.start, window.end, zone)
                if a < end and start < b:
                    found.append(Clash(a, b, f"peak hours {window.describe()}"))
            day += timedelta(days=1)
    if peak.blackouts:
        zone = _zone(peak.blackout_zone)
        for day in sorted(peak.blackouts):
            a, b = _local_span(day, time(0), None, zone)
            if a < end and start < b:
                found.append(Clash(a, b, f"blackout date {day.isoformat()}"))
    return sorted(found, key=lambda c: (c.start, c.reason))


def clashes(peak: PeakHours, start: datetime, end: datetime) -> list[Clash]:
    """The peak hours and blackout days a window [start, end) overlaps; empty when it is clear."""
    return peak_intervals(peak, start, end)


def minutes_in_peak(peak: PeakHours, start: datetime, end: datetime) -> int:
    """How many minutes of [start, end) fall inside peak hours or blackouts (overlaps of
    several windows counted once)."""
    spans = sorted((max(c.start, start), min(c.end, end)) for c in peak_intervals(peak, start, end))
    total, reach = timedelta(0), start
    for a, b in spans:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return int(total.total_seconds() // 60)


def _ceil(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = -(-(moment - epoch) // step)
    return epoch + steps * step


def _distance(slot: Interval, spans: Sequence[Interval]) -> timedelta:
    """How far the slot stays from the nearest peak stretch (the larger, the quieter)."""
    a, b = slot
    gaps = [max(s - b, a - e) for s, e in spans]
    return min(gaps, default=SUGGESTION_HORIZON)


def suggest(
    peak: PeakHours,
    *,
    length: timedelta,
    now: datetime,
    min_notice: timedelta = DEFAULT_MIN_NOTICE,
    busy: Iterable[Interval] = (),
    count: int = 3,
    horizon: timedelta = SUGGESTION_HORIZON,
) -> list[Interval]:
    """The `count` quietest slots of `length` that start after the minimum notice and end
    within the horizon: none touches peak hours, a blackout or a `busy` window (other
    maintenance); the quietest lie furthest from any peak stretch, then the earliest first,
    one per day (the page's zone) where possible. Slots start on the half hour and never overlap."""
    if length <= timedelta(0):
        raise ValueError("a maintenance window needs a length")
    first = _ceil(now + min_notice, SUGGESTION_STEP)
    last = now + horizon
    margin = timedelta(days=1)
    blocked = [(c.start, c.end) for c in peak_intervals(peak, first - margin, last + margin)]
    taken = list(busy)
    candidates: list[tuple[timedelta, datetime]] = []
    start = first
    while start + length <= last:
        slot = (start, start + length)
        if not any(a < slot[1] and slot[0] < b for a, b in [*blocked, *taken]):
            candidates.append((_distance(slot, blocked), start))
        start += SUGGESTION_STEP
    page_zone = _zone(peak.blackout_zone)

    def _day(moment: datetime) -> date:
        return moment.astimezone(page_zone).date()

    candidates.sort(key=lambda c: (-c[0], c[1]))
    chosen: list[Interval] = []
    # First one slot per day (choices, not three neighbours), then any that still fit.
    for one_per_day in (True, False):
        for _quiet, begin in candidates:
            slot = (begin, begin + length)
            if len(chosen) == count:
                break
            if one_per_day and any(_day(begin) == _day(a) for a, _ in chosen):
                continue
            if all(not (a < slot[1] and slot[0] < b) for a, b in chosen):
                chosen.append(slot)
    return sorted(chosen)


def warnings(
    peak: PeakHours,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    min_notice: timedelta = DEFAULT_MIN_NOTICE,
) -> list[str]:
    """What an operator must confirm before scheduling [start, end): each peak stretch or
    blackout it overlaps, and notice shorter than the minimum."""
    found = [
        f"it overlaps {clash.reason} ({_span(clash, start, end)})"
        for clash in clashes(peak, start, end)
    ]
    if start - now < min_notice:
        hours = max(0, int((start - now).total_seconds() // 3600))
        found.append(
            f"it gives {hours} h notice, less than the {int(min_notice.total_seconds() // 3600)} h "
            "customers are promised"
        )
    return found


def _span(clash: Clash, start: datetime, end: datetime) -> str:
    a, b = max(clash.start, start), min(clash.end, end)
    return f"{a:%d %b %H:%M}–{b:%H:%M} UTC"
