"""Uptime history of every component, read from the recorded status changes.

One query reads the changes of all components inside the window (by the time each took
effect, `at`, indexed alone and with the component), one the manual status changes (the
audit log), one the incidents and maintenance windows that overlap it; the status before the
window is the first change's old status, or the current one when nothing changed. So the
cost follows the window's changes, never the whole history, and no rollup table is needed:
benchmarks/history_scale.py times every surface with 100 and with 100,000 incidents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.domain.statuses import ComponentStatus
from statusboard.domain.uptime import (
    Day,
    GroupDay,
    daily,
    day_bounds,
    group_days,
    group_percent,
    spans_from_changes,
    window_days,
    window_percent,
)
from statusboard.models import AuditEvent, Component, ComponentChange, Incident, IncidentKind
from statusboard.models.incident import incident_component
from statusboard.services.components import ordered_components

PAGE_DAYS = 90  # the page's bars (a phone shows the last 30 of them)
Change = tuple[datetime, ComponentStatus, ComponentStatus]


@dataclass(frozen=True)
class Event:
    """An incident or maintenance window as a bar lists it."""

    public_id: str
    name: str
    kind: IncidentKind
    impact: str
    start: datetime
    end: datetime | None


@dataclass
class History:
    component: Component
    days: list[Day] | list[GroupDay]
    percent: float | None
    events: dict[date, list[Event]]
    children: list[History] = field(default_factory=list)


@dataclass
class Uptime:
    """Every component's history over the same days, in the page's order."""

    days: list[date]
    zone: ZoneInfo
    rows: list[History]  # top level: components and groups (with their children)

    def find(self, public_id: str) -> History | None:
        for row in self.rows:
            for history in (row, *row.children):
                if history.component.public_id == public_id:
                    return history
        return None


def uptime(
    session: Session,
    *,
    zone: str,
    days: int = PAGE_DAYS,
    now: datetime | None = None,
    only: Component | None = None,
) -> Uptime:
    """Every component's history over the last `days` local days; with `only`, that component
    (a group: with its children) alone."""
    now = now or clock.now()
    tz = ZoneInfo(zone)
    local_days = window_days(now, tz, days)
    since = day_bounds(local_days[0], tz)[0]
    components = ordered_components(session)
    ids: list[int] | None = None
    if only is not None:
        components = [c for c in components if only.id in (c.id, c.group_id)]
        ids = [c.id for c in components]
    changes = _changes(session, since, now, ids)
    events = _events(session, since, local_days, tz, now, ids)
    rows: list[History] = []
    for component in components:
        if component.is_group:
            history = History(component, [], None, {})
            rows.append(history)
        else:
            spans = spans_from_changes(changes.get(component.id) or [])
            if not spans:  # nothing changed in the window: as it is now, throughout
                spans = spans_from_changes([(now, component.status, component.status)])
            component_days = daily(
                spans, days=local_days, zone=tz, created_at=component.created_at, now=now
            )
            history = History(
                component, component_days, window_percent(component_days), events[component.id]
            )
            if component.group_id is not None and rows and rows[-1].component.is_group:
                rows[-1].children.append(history)
            else:
                rows.append(history)
    for row in rows:
        if row.component.is_group:
            children = [child.days for child in row.children]
            row.days = group_days(children)  # type: ignore[arg-type]
            row.percent = group_percent(children)  # type: ignore[arg-type]
            row.events = _merged([child.events for child in row.children])
            if not row.children:
                row.days = [GroupDay(day, ()) for day in local_days]
    return Uptime(local_days, tz, rows)


def component_incidents(
    session: Session, components: Sequence[Component], limit: int = 25
) -> list[Incident]:
    """The newest incidents and maintenance windows that touched any of `components`, without
    their timelines (a component page lists them; their own pages have the rest)."""
    link = incident_component.c
    touched = select(link.incident_id).where(link.component_id.in_([c.id for c in components]))
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.id.in_(touched))
            .order_by(Incident.started_at.desc(), Incident.id.desc())
            .limit(limit)
        )
    )


def _changes(
    session: Session, since: datetime, until: datetime, ids: list[int] | None
) -> dict[int, list[Change]]:
    """Recorded changes per component inside [since, until]: from updates (incidents,
    maintenance), and from admins setting a status by hand (audited, with no update)."""
    result: dict[int, list[Change]] = defaultdict(list)
    rows = session.execute(
        select(
            ComponentChange.component_id,
            ComponentChange.at,
            ComponentChange.old_status,
            ComponentChange.new_status,
        )
        .where(ComponentChange.at >= since, ComponentChange.at <= until)
        .where(true() if ids is None else ComponentChange.component_id.in_(ids))
    )
    for component_id, at, old, new in rows:
        result[component_id].append((at, ComponentStatus(old), ComponentStatus(new)))
    manual = session.execute(
        select(Component.id, AuditEvent.at, AuditEvent.detail)
        .join(Component, Component.public_id == AuditEvent.subject_id)
        .where(
            AuditEvent.action == "component.status",
            AuditEvent.at >= since,
            AuditEvent.at <= until,
            true() if ids is None else Component.id.in_(ids),
        )
    )
    for component_id, at, detail in manual:
        try:
            old, new = ComponentStatus(detail["old"]), ComponentStatus(detail["new"])
        except (KeyError, TypeError, ValueError):  # one odd audit row must not break the page
            continue
        result[component_id].append((at, old, new))
    return result


def _events(
    session: Session,
    since: datetime,
    local_days: Sequence[date],
    zone: ZoneInfo,
    now: datetime,
    ids: list[int] | None,
) -> dict[int, dict[date, list[Event]]]:
    """Per component, per local day: the incidents and maintenance windows active on it."""
    link = incident_component.c
    start = func.coalesce(Incident.scheduled_for, Incident.started_at)
    rows = session.execute(
        select(
            link.component_id,
            Incident.public_id,
            Incident.name,
            Incident.kind,
            Incident.impact,
            Incident.started_at,
            Incident.scheduled_for,
            Incident.resolved_at,
        )
        .join(Incident, Incident.id == link.incident_id)
        .where(
            or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since),
            start <= now,
            or_(
                Incident.kind == IncidentKind.INCIDENT,
                and_(Incident.kind == IncidentKind.MAINTENANCE, Incident.status != "scheduled"),
            ),
            true() if ids is None else link.component_id.in_(ids),
        )
        # No ORDER BY: it would walk the whole history by start time instead of using the
        # resolved_at index for the OR above (measured on SQLite, 100,000 incidents).
    )
    first = local_days[0]
    result: dict[int, dict[date, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for component_id, public_id, name, kind, impact, started, scheduled, resolved in sorted(
        rows, key=lambda row: row.started_at
    ):
        begin = scheduled if kind == IncidentKind.MAINTENANCE and scheduled else started
        event = Event(public_id, name, IncidentKind(kind), str(impact), begin, resolved)
        day = max(begin.astimezone(zone).date(), first)
        last = (resolved or now).astimezone(zone).date()
        while day <= last:
            result[component_id][day].append(event)
            day += timedelta(days=1)
    return result


def _merged(children: Sequence[dict[date, list[Event]]]) -> dict[date, list[Event]]:
    merged: dict[date, list[Event]] = defaultdict(list)
    for events in children:
        for day, listed in events.items():
            merged[day].extend(e for e in listed if e not in merged[day])
    return merged


@dataclass(frozen=True)
class Month:
    first: date
    weeks: list[list[Day | GroupDay | None]]  # Monday first; None pads outside the month


def months(history: History) -> list[Month]:
    """The history's days as calendar months, oldest first."""
    result: list[Month] = []
    for day in history.days:
        if not result or result[-1].first.month != day.day.month:
            result.append(Month(day.day.replace(day=1), [[None] * day.day.weekday()]))
        weeks = result[-1].weeks
        if len(weeks[-1]) == 7:
            weeks.append([])
        weeks[-1].append(day)
    for month in result:
        month.weeks[-1] += [None] * (7 - len(month.weeks[-1]))
    return result


def last_days_percent(history: History, days: int) -> float | None:
    """Uptime % over the history's last `days` days (a group: its children's average)."""
    if history.component.is_group:
        return group_percent([child.days[-days:] for child in history.children])  # type: ignore[misc]
    return window_percent(history.days[-days:])  # type: ignore[arg-type]
