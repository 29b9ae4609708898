"""Accountability arithmetic: how promises ended, how close ETAs came, how fast incidents were
answered and resolved. Pure functions over plain values; the queries live in
services/accountability.py.

Rules:
- a promise counts as kept when it was kept or superseded (replaced before it fell due), as
  broken when it was broken or is still open past its due time; promises not yet due are not
  counted;
- percentages are rounded to the nearest whole number (2 of 3 is 67%), except that 100% means
  nothing was broken and 0% that nothing was kept (199 of 200 is 99%, 1 of 200 is 1%);
- an ETA's error is resolution time minus the ETA: positive is late, negative early;
- p90 is the nearest-rank percentile (the smallest value at least 90% of values are at or under).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

KEPT_STATUSES = frozenset({"kept", "superseded"})
BROKEN_STATUSES = frozenset({"broken"})


def promise_outcome(status: str, due_at: datetime, now: datetime) -> bool | None:
    """True kept, False broken, None not counted (still open and not yet due)."""
    if status in KEPT_STATUSES:
        return True
    if status in BROKEN_STATUSES:
        return False
    return False if due_at < now else None


@dataclass(frozen=True)
class Tally:
    kept: int = 0
    broken: int = 0

    @property
    def total(self) -> int:
        return self.kept + self.broken

    @property
    def percent_kept(self) -> int | None:
        return share_percent(self.kept, self.total)

    def plus(self, kept: bool) -> Tally:
        return Tally(self.kept + kept, self.broken + (not kept))


def share_percent(part: int, total: int) -> int | None:
    """`part` of `total` in whole percent, rounded half up; never 100 unless all, never 0
    unless none."""
    if not total:
        return None
    value = (part * 200 + total) // (total * 2)
    if value == 100 and part < total:
        return 99
    if value == 0 and part > 0:
        return 1
    return value


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[timedelta], share: float) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class UpdateTimes:
    created_at: datetime
    eta_at: datetime | None
    next_update_at: datetime | None


@dataclass(frozen=True)
class IncidentTimes:
    """The times of one incident and its public updates, oldest update first."""

    started_at: datetime
    resolved_at: datetime | None
    updates: tuple[UpdateTimes, ...]

    @property
    def first_eta(self) -> datetime | None:
        return next((u.eta_at for u in self.updates if u.eta_at is not None), None)

    @property
    def last_eta(self) -> datetime | None:
        return next((u.eta_at for u in reversed(self.updates) if u.eta_at is not None), None)

    @property
    def time_to_first_update(self) -> timedelta | None:
        return self.updates[0].created_at - self.started_at if self.updates else None

    @property
    def time_to_follow_up(self) -> timedelta | None:
        """Start to the second update: the first news after the announcement."""
        return self.updates[1].created_at - self.started_at if len(self.updates) > 1 else None

    def _pairs(self) -> Iterable[tuple[UpdateTimes, UpdateTimes]]:
        return zip(self.updates, self.updates[1:], strict=False)

    @property
    def longest_silence(self) -> timedelta | None:
        """The longest gap between two consecutive public updates."""
        return max((b.created_at - a.created_at for a, b in self._pairs()), default=None)

    @property
    def longest_overrun(self) -> timedelta:
        """How far the latest-coming update was past the time the one before it promised."""
        late = [
            b.created_at - a.next_update_at
            for a, b in self._pairs()
            if a.next_update_at is not None and b.created_at > a.next_update_at
        ]
        return max(late, default=timedelta(0))

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.started_at if self.resolved_at else None

    def eta_error(self, eta: datetime | None) -> timedelta | None:
        return self.resolved_at - eta if self.resolved_at and eta else None


@dataclass(frozen=True)
class EtaAccuracy:
    count: int = 0
    median_off: timedelta | None = None  # median absolute distance between ETA and resolution
    percent_by_eta: int | None = None  # resolved at or before the ETA

    @classmethod
    def of(cls, errors: Sequence[timedelta]) -> EtaAccuracy:
        if not errors:
            return cls()
        by_eta = sum(1 for e in errors if e <= timedelta(0))
        return cls(
            count=len(errors),
            median_off=median([abs(e) for e in errors]),
            percent_by_eta=share_percent(by_eta, len(errors)),
        )


@dataclass(frozen=True)
class Figures:
    promises: Tally = Tally()
    by_kind: dict[str, Tally] = field(default_factory=dict)
    incidents: int = 0
    resolved: int = 0
    mttr_median: timedelta | None = None
    mttr_p90: timedelta | None = None
    first_eta: EtaAccuracy = EtaAccuracy()
    last_eta: EtaAccuracy = EtaAccuracy()
    first_update_median: timedelta | None = None
    follow_up_median: timedelta | None = None
    longest_silence: timedelta | None = None
    longest_overrun: timedelta | None = None


def figures(promises: Iterable[tuple[str, bool]], incidents: Sequence[IncidentTimes]) -> Figures:
    """`promises` are (kind, kept) pairs already counted by promise_outcome."""
    total, by_kind = Tally(), dict[str, Tally]()
    for kind, kept in promises:
        total = total.plus(kept)
        by_kind[kind] = by_kind.get(kind, Tally()).plus(kept)
    resolve_times = [t for i in incidents if (t := i.time_to_resolve) is not None]
    first_updates = [t for i in incidents if (t := i.time_to_first_update) is not None]
    follow_ups = [t for i in incidents if (t := i.time_to_follow_up) is not None]
    silences = [t for i in incidents if (t := i.longest_silence) is not None]
    return Figures(
        promises=total,
        by_kind=by_kind,
        incidents=len(incidents),
        resolved=len(resolve_times),
        mttr_median=median(resolve_times),
        mttr_p90=percentile(resolve_times, 0.9),
        first_eta=EtaAccuracy.of(
            [e for i in incidents if (e := i.eta_error(i.first_eta)) is not None]
        ),
        last_eta=EtaAccuracy.of(
            [e for i in incidents if (e := i.eta_error(i.last_eta)) is not None]
        ),
        first_update_median=median(first_updates),
        follow_up_median=median(follow_ups),
        longest_silence=max(silences, default=None),
        longest_overrun=max((i.longest_overrun for i in incidents), default=None),
    )


def weeks(since: datetime, now: datetime) -> list[tuple[datetime, datetime]]:
    """Calendar weeks (UTC days) counted back from the end of today; the newest ends now and
    the oldest is clipped at since."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    bounds, edge = [], today + timedelta(days=1)
    while edge > since:
        start = max(since, edge - timedelta(days=7))
        bounds.append((start, min(edge, now)))
        edge -= timedelta(days=7)
    return bounds[::-1]


def format_duration(value: timedelta | None) -> str:
    """ "0 min", "42 min", "3 h 05 min", "2 d 4 h" — or an en dash when there is no figure."""
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@dataclass(frozen=True)
class DraftTimes:
    """One alert-started draft: when monitoring first spoke and when customers first heard."""

    first_alert_at: datetime
    first_public_at: datetime | None  # the first update of the incident it became
    dismissed: bool = False


@dataclass(frozen=True)
class AlertFigures:
    """First alert → first public word over published drafts; dismissed and waiting drafts
    are counted, not timed."""

    drafts: int = 0
    published: int = 0
    dismissed: int = 0
    waiting: int = 0
    first_word_median: timedelta | None = None
    first_word_p90: timedelta | None = None
    first_word_worst: timedelta | None = None

    @classmethod
    def of(cls, drafts: Sequence[DraftTimes]) -> AlertFigures:
        waits = [d.first_public_at - d.first_alert_at for d in drafts if d.first_public_at]
        dismissed = sum(1 for d in drafts if d.dismissed)
        return cls(
            drafts=len(drafts),
            published=len(waits),
            dismissed=dismissed,
            waiting=len(drafts) - len(waits) - dismissed,
            first_word_median=median(waits),
            first_word_p90=percentile(waits, 0.9),
            first_word_worst=max(waits, default=None),
        )
