"""The accountability report: how well the team kept its public promises and how fast it
answered and resolved incidents, overall and per component, over the last N days.

Read queries only. Which rows count:
- promises settled in the window: kept or superseded when answered, broken at their due time
  (also while still unanswered); maintenance windows count only through their "over by"
  promise, never in the incident figures;
- incidents (not maintenance) that started in the window; resolution figures use those of them
  that are resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from statusboard import clock
from statusboard.domain.accountability import (
    AlertFigures,
    DraftTimes,
    Figures,
    IncidentTimes,
    Tally,
    UpdateTimes,
    figures,
    promise_outcome,
    weeks,
)
from statusboard.domain.errors import InvalidInput
from statusboard.models import (
    Component,
    Draft,
    DraftState,
    Incident,
    IncidentKind,
    Promise,
    PromiseKind,
)
from statusboard.services.components import ordered_components

WINDOWS = (30, 90)
MAX_DAYS = 366
PUBLIC_DAYS = 90


@dataclass(frozen=True)
class Counted:
    """One promise that has an outcome, with what it belongs to."""

    kind: str
    settled_at: datetime
    kept: bool
    component_ids: frozenset[int]


@dataclass(frozen=True)
class Week:
    start: datetime
    end: datetime
    promises: Tally


@dataclass(frozen=True)
class ComponentFigures:
    component: Component
    figures: Figures
    alerts: AlertFigures = AlertFigures()


@dataclass(frozen=True)
class Report:
    days: int
    since: datetime
    now: datetime
    overall: Figures
    components: list[ComponentFigures]
    weeks: list[Week]
    alerts: AlertFigures = AlertFigures()


def _window(days: int, now: datetime | None) -> tuple[datetime, datetime]:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"the report covers 1 to {MAX_DAYS} days", field="days")
    now = now or clock.now()
    return now - timedelta(days=days), now


def counted_promises(
    session: Session,
    *,
    since: datetime,
    now: datetime,
    kinds: Sequence[PromiseKind] = tuple(PromiseKind),
) -> list[Counted]:
    settled_at = func.coalesce(Promise.broken_at, Promise.closed_at, Promise.due_at)
    rows = session.scalars(
        select(Promise)
        .join(Promise.incident)
        .where(
            settled_at >= since,
            settled_at <= now,  # a promise the rendering write itself settled counts
            Promise.kind.in_([k.value for k in kinds]),
            or_(
                Incident.kind == IncidentKind.INCIDENT, Promise.kind == PromiseKind.MAINTENANCE_END
            ),
        )
        .options(contains_eager(Promise.incident).selectinload(Incident.components))
        .order_by(Promise.due_at, Promise.id)
    )
    counted = []
    for promise in rows:
        kept = promise_outcome(promise.status, promise.due_at, now)
        if kept is not None:
            settled = promise.broken_at or promise.closed_at or promise.due_at
            counted.append(
                Counted(
                    promise.kind.value,
                    settled,
                    kept,
                    frozenset(c.id for c in promise.incident.components),
                )
            )
    return counted


def _incidents(session: Session, *, since: datetime, now: datetime) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.kind == IncidentKind.INCIDENT,
                Incident.started_at >= since,
                Incident.started_at <= now,
            )
            .options(selectinload(Incident.updates), selectinload(Incident.components))
            .order_by(Incident.started_at)
        )
    )


def incident_times(incident: Incident) -> IncidentTimes:
    updates = sorted(incident.updates, key=lambda u: (u.created_at, u.id))
    return IncidentTimes(
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        updates=tuple(UpdateTimes(u.created_at, u.eta_at, u.next_update_at) for u in updates),
    )


def _drafts(session: Session, *, since: datetime, now: datetime) -> list[Draft]:
    """Alert-started drafts whose first alert came in the window."""
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.first_alert_at >= since, Draft.first_alert_at <= now)
            .options(selectinload(Draft.incident).selectinload(Incident.updates))
        )
    )


def draft_times(draft: Draft) -> DraftTimes:
    incident = draft.incident
    first = min((u.created_at for u in incident.updates), default=None) if incident else None
    return DraftTimes(draft.first_alert_at, first, draft.state is DraftState.DISMISSED)


def report(session: Session, *, days: int, now: datetime | None = None) -> Report:
    since, now = _window(days, now)
    drafts = _drafts(session, since=since, now=now)

    def alerts_for(component: Component | None) -> AlertFigures:
        return AlertFigures.of(
            [
                draft_times(d)
                for d in drafts
                if component is None or component.public_id in (d.components or {})
            ]
        )

    promises = counted_promises(session, since=since, now=now)
    incidents = _incidents(session, since=since, now=now)
    times = {incident.id: incident_times(incident) for incident in incidents}

    def figures_for(component: Component | None) -> Figures:
        mine = [p for p in promises if component is None or component.id in p.component_ids]
        hit = [
            times[i.id]
            for i in incidents
            if component is None or any(c.id == component.id for c in i.components)
        ]
        return figures(((p.kind, p.kept) for p in mine), hit)

    touched = {c.id for i in incidents for c in i.components} | {
        cid for p in promises for cid in p.component_ids
    }
    components = [
        ComponentFigures(c, figures_for(c), alerts_for(c))
        for c in ordered_components(session)
        if not c.is_group or c.id in touched
    ]
    by_week = []
    for start, end in weeks(since, now):
        tally = Tally()
        for promise in promises:
            if start <= promise.settled_at < end:
                tally = tally.plus(promise.kept)
        by_week.append(Week(start, end, tally))
    return Report(
        days=days,
        since=since,
        now=now,
        overall=figures_for(None),
        components=components,
        weeks=by_week,
        alerts=alerts_for(None),
    )


def updates_on_time(
    session: Session, *, days: int = PUBLIC_DAYS, now: datetime | None = None
) -> Tally:
    """Next-update promises of incidents kept vs broken: the public "Updates on time" line."""
    since, now = _window(days, now)
    tally = Tally()
    for promise in counted_promises(
        session, since=since, now=now, kinds=(PromiseKind.NEXT_UPDATE,)
    ):
        tally = tally.plus(promise.kept)
    return tally
