"""Uptime history: minutes per status per day, downtime and uptime %, from status spans.

Rules (shown on the page's "how we count" and in the README):
- a day is a calendar day in the page's time zone, so it has 23 or 25 hours on DST changes;
- at any moment a component has the worst status of the spans covering it, else operational;
- downtime counts major outage fully, partial outage at 30 %, degraded performance and under
  maintenance not at all;
- only time the component existed, up to now, is counted; a day with none of it is "no data";
- uptime % = 100 x (1 - downtime / counted minutes); over a window, the counted minutes of all
  its days;
- a group's figure is the average of its children's figures (children with no data left out);
  its day's worst status is the worst of its children's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import ComponentStatus

DOWNTIME_WEIGHT: dict[ComponentStatus, float] = {
    ComponentStatus.OPERATIONAL: 0.0,
    ComponentStatus.DEGRADED_PERFORMANCE: 0.0,
    ComponentStatus.UNDER_MAINTENANCE: 0.0,
    ComponentStatus.PARTIAL_OUTAGE: 0.3,
    ComponentStatus.MAJOR_OUTAGE: 1.0,
}
# Which status wins when spans overlap, and which one colours a day: the worst.
SEVERITY = [
    ComponentStatus.OPERATIONAL,
    ComponentStatus.UNDER_MAINTENANCE,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
]


ZERO, MINUTE = timedelta(0), timedelta(minutes=1)
# How far back an incident may be declared or resolved after the fact (a backfill).
BACKFILL_LIMIT = timedelta(days=30)


def check_backfill(
    at: datetime, now: datetime, *, not_before: datetime | None = None, field: str
) -> datetime:
    """A past time an operator gives for a start or a resolution: aware, not in the future,
    at most BACKFILL_LIMIT back, and not before `not_before` (the incident's last word)."""
    if at.tzinfo is None:
        raise InvalidInput("give the time with its time zone", field=field)
    if at > now:
        raise InvalidInput("a past time cannot be in the future", field=field)
    if now - at > BACKFILL_LIMIT:
        raise InvalidInput(
            f"a past time can be at most {BACKFILL_LIMIT.days} days back", field=field
        )
    if not_before is not None and at < not_before:
        raise InvalidInput(
            "a resolution cannot be earlier than the incident's start or last update",
            field=field,
        )
    return at.astimezone(UTC)


@dataclass(frozen=True)
class Span:
    """A status claimed from `start` until `end` (None: still claimed)."""

    start: datetime
    end: datetime | None
    status: ComponentStatus


@dataclass(frozen=True)
class Day:
    """One component's local day. The figures are worked out once, when it is made: a page
    reads each of them for thousands of days."""

    day: date
    minutes: dict[ComponentStatus, float] = field(default_factory=dict)  # counted, per status
    counted: float = field(init=False)
    downtime: float = field(init=False)
    worst: ComponentStatus | None = field(init=False)

    def __post_init__(self) -> None:
        if len(self.minutes) == 1:  # most days: one status all day
            [(status, minutes)] = self.minutes.items()
            object.__setattr__(self, "counted", minutes)
            object.__setattr__(self, "downtime", minutes * DOWNTIME_WEIGHT[status])
            object.__setattr__(self, "worst", status if minutes > 0 else None)
            return
        present = [s for s, m in self.minutes.items() if m > 0]
        object.__setattr__(self, "counted", sum(self.minutes.values()))
        object.__setattr__(
            self, "downtime", sum(m * DOWNTIME_WEIGHT[s] for s, m in self.minutes.items())
        )
        object.__setattr__(self, "worst", max(present, key=SEVERITY.index) if present else None)

    @property
    def has_data(self) -> bool:
        return self.counted > 0

    @property
    def uptime_percent(self) -> float | None:
        return percent(self.downtime, self.counted)


@dataclass(frozen=True)
class GroupDay:
    """A group's day: the average of its children's figures."""

    day: date
    children: tuple[Day, ...]
    has_data: bool = field(init=False)
    worst: ComponentStatus | None = field(init=False)
    downtime: float = field(init=False)
    uptime_percent: float | None = field(init=False)

    def __post_init__(self) -> None:
        with_data = [c for c in self.children if c.has_data]
        statuses = [c.worst for c in with_data if c.worst is not None]
        percents = [p for c in with_data if (p := c.uptime_percent) is not None]
        object.__setattr__(self, "has_data", bool(with_data))
        object.__setattr__(self, "worst", max(statuses, key=SEVERITY.index) if statuses else None)
        object.__setattr__(
            self,
            "downtime",
            sum(c.downtime for c in with_data) / len(with_data) if with_data else 0.0,
        )
        object.__setattr__(
            self, "uptime_percent", sum(percents) / len(percents) if percents else None
        )


def percent(downtime: float, counted: float) -> float | None:
    return None if counted <= 0 else 100.0 * (1.0 - downtime / counted)


def percent_text(value: float | None) -> str:
    """99.953 -> "99.95%"; a window with any downtime never shows as 100.00%."""
    if value is None:
        return "No data"
    if value < 100 and round(value, 2) >= 100:
        return "99.99%"
    return f"{value:.2f}%"


@lru_cache(maxsize=4096)
def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends (23 or 25 h apart on DST changes)."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def window_days(now: datetime, zone: ZoneInfo, days: int) -> list[date]:
    """The last `days` local days, oldest first, ending with today."""
    today = now.astimezone(zone).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def timeline(spans: Iterable[Span], since: datetime, until: datetime) -> list[Span]:
    """Non-overlapping spans covering [since, until): the worst claimed status at each moment,
    operational where nothing is claimed. A sweep over the span ends: O(n log n)."""
    starts: dict[datetime, list[ComponentStatus]] = defaultdict(list)
    ends: dict[datetime, list[ComponentStatus]] = defaultdict(list)
    for span in spans:
        start, end = max(span.start, since), min(span.end or until, until)
        if start < end:
            starts[start].append(span.status)
            ends[end].append(span.status)
    active: Counter[ComponentStatus] = Counter()
    result: list[Span] = []
    cuts = sorted({since, until, *starts, *ends})
    for start, end in zip(cuts, cuts[1:], strict=False):
        active.update(starts.get(start, ()))
        active.subtract(ends.get(start, ()))
        claimed = [status for status, count in active.items() if count > 0]
        status = max(claimed, key=SEVERITY.index) if claimed else ComponentStatus.OPERATIONAL
        if result and result[-1].status is status:
            result[-1] = Span(result[-1].start, end, status)
        else:
            result.append(Span(start, end, status))
    return result


def daily(
    spans: Iterable[Span],
    *,
    days: Sequence[date],
    zone: ZoneInfo,
    created_at: datetime,
    now: datetime,
) -> list[Day]:
    """Minutes per status for each of `days` (local, ascending), counting only the time
    from `created_at` to `now`."""
    if not days:
        return []
    since = max(day_bounds(days[0], zone)[0], created_at)
    until = min(day_bounds(days[-1], zone)[1], now)
    parts = (
        [(p.start, p.end or until, p.status) for p in timeline(spans, since, until)]
        if since < until
        else []
    )
    result = []
    index = 0
    for day in days:
        start, end = day_bounds(day, zone)
        minutes: dict[ComponentStatus, float] = {}
        while index < len(parts) and parts[index][1] <= start:
            index += 1
        for part_start, part_end, status in parts[index:]:
            if part_start >= end:
                break
            overlap = (part_end if part_end < end else end) - (
                part_start if part_start > start else start
            )
            if overlap > ZERO:
                minutes[status] = minutes.get(status, 0.0) + overlap / MINUTE
        result.append(Day(day, minutes))
    return result


def window_percent(days: Iterable[Day]) -> float | None:
    """Uptime % over several days of one component: counted minutes weigh, not days."""
    days = list(days)
    return percent(sum(d.downtime for d in days), sum(d.counted for d in days))


def group_days(children: Sequence[Sequence[Day]]) -> list[GroupDay]:
    if not children:
        return []
    return [GroupDay(days[0].day, tuple(days)) for days in zip(*children, strict=True)]


def group_percent(children: Sequence[Sequence[Day]]) -> float | None:
    """A group's window %: the average of its children's window %."""
    values = [p for days in children if (p := window_percent(days)) is not None]
    return sum(values) / len(values) if values else None


def spans_from_changes(
    changes: Iterable[tuple[datetime, ComponentStatus, ComponentStatus]],
) -> list[Span]:
    """A component's recorded changes (at, old, new), in any order, as spans: each new status
    holds until the next change; the first change's old status held before it."""
    ordered = sorted(changes, key=lambda change: change[0])
    if not ordered:
        return []
    spans = [Span(datetime.min.replace(tzinfo=UTC), ordered[0][0], ordered[0][1])]
    for (at, _old, new), following in zip(ordered, [*ordered[1:], None], strict=True):
        spans.append(Span(at, following[0] if following else None, new))
    return [s for s in spans if s.end is None or s.start < s.end]
