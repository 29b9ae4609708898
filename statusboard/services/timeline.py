"""Read queries behind every public surface (page, incident pages, history, API, feeds), so
they can never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from statusboard import clock
from statusboard.domain.accountability import Tally
from statusboard.domain.honesty import PromiseState
from statusboard.domain.statuses import (
    INDICATOR_DESCRIPTIONS,
    OPEN_INCIDENT_STATUSES,
    ComponentStatus,
    Impact,
    Indicator,
    rollup,
)
from statusboard.models import (
    AuditEvent,
    Component,
    ComponentChange,
    Incident,
    IncidentKind,
    Nag,
    Promise,
    PromiseKind,
    Update,
)
from statusboard.services import accountability, maintenance
from statusboard.services.components import ordered_components
from statusboard.services.page import current_version

FINISHED_STATUSES = frozenset({"resolved", "postmortem", "completed"})
RECENT_DAYS = 14
RECENT_LIMIT = 25  # the page stays short on a busy fortnight; /history has the rest
HISTORY_PAGE_SIZE = 20
# The machine surfaces (/api/v2 lists, feeds) carry at most this many items.
LIST_LIMIT = 50
MAINTENANCE_ACTIVE = ("in_progress", "verifying")
MAINTENANCE_OPEN = ("scheduled", *MAINTENANCE_ACTIVE)


@dataclass
class ComponentRow:
    component: Component
    children: list[Component] = field(default_factory=list)


@dataclass
class PageView:
    indicator: Indicator
    description: str
    rows: list[ComponentRow]
    open_incidents: list[Incident]
    recent_incidents: list[Incident]
    active_maintenance: list[Incident]
    upcoming_maintenance: list[Incident]
    now: datetime
    version: int
    updated_at: datetime | None  # the last real update (see last_update_at)
    # Next-update promises kept over the last 90 days; only when the page owner shows it.
    updates_on_time: Tally | None = None
    # Open incidents whose overdue update an operator has been reminded of.
    reminded: frozenset[int] = frozenset()

    def promise_state(self, incident: Incident) -> PromiseState:
        return PromiseState(
            incident.next_update_at, incident.eta_at, self.now, incident.id in self.reminded
        )


def _with_timeline() -> tuple[_AbstractLoad, ...]:
    return (
        selectinload(Incident.updates)
        .selectinload(Update.component_changes)
        .selectinload(ComponentChange.component),
        selectinload(Incident.updates).selectinload(Update.author),
        selectinload(Incident.components),
    )


def component_rows(session: Session) -> list[ComponentRow]:
    rows: list[ComponentRow] = []
    for component in ordered_components(session):
        if component.group_id is None:
            rows.append(ComponentRow(component))
        else:
            rows[-1].children.append(component)
    return rows


def open_incidents(session: Session) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.kind == IncidentKind.INCIDENT,
                Incident.status.in_([s.value for s in OPEN_INCIDENT_STATUSES]),
                Incident.resolved_at.is_(None),
            )
            .options(*_with_timeline())
            .order_by(Incident.started_at.desc())
        )
    )


def reminded(session: Session, incidents: Iterable[Incident]) -> frozenset[int]:
    """The incidents whose next-update promise in force got a reminder that reached an
    operator (a nag with `sent_at`): only then may the page say "the team has been reminded".
    The outbox bumps the page version when a nag is first delivered."""
    ids = [i.id for i in incidents if i.next_update_at is not None]
    if not ids:
        return frozenset()
    return frozenset(
        session.scalars(
            select(Promise.incident_id)
            .join(Nag, Nag.promise_id == Promise.id)
            .where(
                Promise.incident_id.in_(ids),
                Promise.kind == PromiseKind.NEXT_UPDATE,
                Promise.closed_at.is_(None),
                Nag.sent_at.is_not(None),
            )
        )
    )


def promise_state(session: Session, incident: Incident, now: datetime) -> PromiseState:
    """What the public is told about one incident's promises at `now`."""
    return PromiseState(
        incident.next_update_at,
        incident.eta_at,
        now,
        incident.id in reminded(session, [incident]),
    )


def last_update_at(session: Session) -> datetime | None:
    """When someone last told customers something: the newest public update or a status an
    admin set by hand. A promise turning overdue, or a component being added or renamed,
    changes the page but is no update."""
    times = [
        session.scalar(select(func.max(Update.created_at))),
        session.scalar(
            select(func.max(AuditEvent.at)).where(AuditEvent.action == "component.status")
        ),
    ]
    return max((t for t in times if t is not None), default=None)


def page_view(session: Session, *, public_accountability: bool = False) -> PageView:
    now = clock.now()
    rows = component_rows(session)
    incidents = open_incidents(session)
    since = now - timedelta(days=RECENT_DAYS)
    recent = list(
        session.scalars(
            select(Incident)
            .where(
                Incident.kind == IncidentKind.INCIDENT,
                Incident.resolved_at.is_not(None),
                Incident.resolved_at >= since,
            )
            .options(*_with_timeline())
            .order_by(Incident.started_at.desc())
            .limit(RECENT_LIMIT)
        )
    )
    leaves = [
        c.status
        for row in rows
        for c in ([row.component] if not row.component.is_group else row.children)
    ]
    indicator = rollup(
        leaves,
        [Impact(i.impact) for i in incidents],
        maintenance_active=maintenance_active(session),
    )
    version, _changed_at = current_version(session)
    return PageView(
        indicator=indicator,
        description=INDICATOR_DESCRIPTIONS[indicator],
        rows=rows,
        open_incidents=incidents,
        recent_incidents=recent,
        now=now,
        active_maintenance=maintenance.active(session),
        upcoming_maintenance=maintenance.upcoming(session, limit=10),
        version=version,
        updated_at=last_update_at(session),
        updates_on_time=accountability.updates_on_time(session, now=now)
        if public_accountability
        else None,
        reminded=reminded(session, incidents),
    )


def incident_with_timeline(session: Session, public_id: str) -> Incident | None:
    return session.scalar(
        select(Incident).where(Incident.public_id == public_id).options(*_with_timeline())
    )


def history_page(session: Session, page: int) -> tuple[list[Incident], bool]:
    """One page of all incidents, newest first, and whether an older page exists. No count
    of the whole history: the page costs the same with a hundred incidents or a million."""
    rows = list(
        session.scalars(
            select(Incident)
            .where(Incident.kind == IncidentKind.INCIDENT)
            .options(selectinload(Incident.updates), selectinload(Incident.components))
            .order_by(Incident.started_at.desc(), Incident.id.desc())
            .limit(HISTORY_PAGE_SIZE + 1)
            .offset((max(page, 1) - 1) * HISTORY_PAGE_SIZE)
        )
    )
    return rows[:HISTORY_PAGE_SIZE], len(rows) > HISTORY_PAGE_SIZE


def leaf_statuses(session: Session) -> list[ComponentStatus]:
    return list(session.scalars(select(Component.status).where(Component.is_group.is_(False))))


def maintenance_active(session: Session) -> bool:
    count = session.scalar(
        select(func.count(Incident.id)).where(
            Incident.kind == IncidentKind.MAINTENANCE,
            Incident.status.in_(MAINTENANCE_ACTIVE),
            Incident.resolved_at.is_(None),
        )
    )
    return bool(count)


def page_indicator(session: Session) -> Indicator:
    """The rollup every surface shows: worst of component status and open incident impact;
    an active maintenance with nothing worse shows as maintenance."""
    impacts = session.scalars(
        select(Incident.impact).where(
            Incident.kind == IncidentKind.INCIDENT,
            Incident.resolved_at.is_(None),
            Incident.status.in_([s.value for s in OPEN_INCIDENT_STATUSES]),
        )
    )
    return rollup(leaf_statuses(session), list(impacts), maintenance_active(session))


def incident_list(
    session: Session,
    *,
    kind: IncidentKind = IncidentKind.INCIDENT,
    statuses: Iterable[str] | None = None,
    limit: int = LIST_LIMIT,
) -> list[Incident]:
    """Incidents (or maintenances) with their timelines, newest first, at most `limit`."""
    query = select(Incident).where(Incident.kind == kind).options(*_with_timeline())
    if statuses is not None:
        statuses = [str(s) for s in statuses]
        query = query.where(Incident.status.in_(statuses))
        if not FINISHED_STATUSES.intersection(statuses):
            # Lets the database use the small partial index of unfinished rows.
            query = query.where(Incident.resolved_at.is_(None))
    if kind is IncidentKind.MAINTENANCE:
        started = func.coalesce(Incident.scheduled_for, Incident.started_at)
        query = query.order_by(started.desc(), Incident.id.desc())
    else:
        query = query.order_by(Incident.started_at.desc(), Incident.id.desc())
    return list(session.scalars(query.limit(limit)))


def feed_incidents(
    session: Session, *, component: Component | None = None, limit: int = LIST_LIMIT
) -> list[Incident]:
    """Incidents and maintenances for the history feeds: most recently revised first."""
    query = (
        select(Incident)
        .options(*_with_timeline())
        .order_by(Incident.updated_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    if component is not None:
        query = query.where(Incident.components.any(Component.id == component.id))
    return list(session.scalars(query))


def feed_updates(
    session: Session,
    *,
    component: Component | None = None,
    incident: Incident | None = None,
    limit: int = LIST_LIMIT,
) -> list[Update]:
    """Single updates for the per-update feeds, newest first, each with its incident."""
    query = (
        select(Update)
        .join(Update.incident)
        .options(
            selectinload(Update.incident).selectinload(Incident.updates),
            selectinload(Update.incident).selectinload(Incident.components),
            selectinload(Update.component_changes).selectinload(ComponentChange.component),
        )
        .order_by(Update.created_at.desc(), Update.id.desc())
        .limit(limit)
    )
    if component is not None:
        query = query.where(Incident.components.any(Component.id == component.id))
    if incident is not None:
        query = query.where(Update.incident_id == incident.id)
    return list(session.scalars(query))
