"""Planned maintenance windows: schedule, update, and the worker's start/complete on time.

A window is an Incident row with kind "maintenance". Its start moves the affected components
to under_maintenance; its completion puts each back to the status it had before the window.
The end (`scheduled_until`) is a public promise like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from statusboard import clock
from statusboard.domain import markup
from statusboard.domain.errors import InvalidInput, NotFound, PromiseInThePast
from statusboard.domain.statuses import (
    ComponentStatus,
    Impact,
    MaintenanceStatus,
    check_maintenance_transition,
)
from statusboard.models import Component, ComponentChange, Incident, IncidentKind, Update
from statusboard.services import audit, page, promises
from statusboard.services.audit import SYSTEM, Actor

MAX_WINDOW = timedelta(days=14)
AUTOMATIC_START = "Scheduled maintenance is now in progress."
AUTOMATIC_END = "The scheduled maintenance has been completed."


def find_window(session: Session, public_id: str) -> Incident:
    window = session.scalar(
        select(Incident).where(
            Incident.public_id == public_id, Incident.kind == IncidentKind.MAINTENANCE
        )
    )
    if window is None:
        raise NotFound(f"no maintenance {public_id}", field="maintenance")
    return window


def schedule_maintenance(
    session: Session,
    *,
    name: str,
    body: str,
    actor: Actor,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: Sequence[Component] = (),
    notify: bool = True,
) -> Incident:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("give the maintenance a name customers will understand", field="name")
    now = clock.now()
    if scheduled_for <= now:
        raise PromiseInThePast("the window must start in the future", field="scheduled_for")
    if scheduled_until <= scheduled_for:
        raise InvalidInput("the window must end after it starts", field="scheduled_until")
    if scheduled_until - scheduled_for > MAX_WINDOW:
        raise InvalidInput(
            "a window lasts at most 14 days; schedule several", field="scheduled_until"
        )
    if any(c.is_group for c in components):
        raise InvalidInput("choose components, not groups", field="components")
    window = Incident(
        kind=IncidentKind.MAINTENANCE,
        name=name,
        status=MaintenanceStatus.SCHEDULED,
        impact=Impact.NONE,
        owner=actor.operator,
        started_at=scheduled_for,
        created_at=now,
        updated_at=now,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        components=list(dict.fromkeys(components)),  # a component named twice counts once
    )
    session.add(window)
    _append(
        session,
        window,
        MaintenanceStatus.SCHEDULED,
        body,
        actor,
        notify,
        action="maintenance.schedule",
    )
    return window


def update_maintenance(
    session: Session,
    *,
    window: Incident,
    status: MaintenanceStatus,
    body: str,
    actor: Actor,
    scheduled_until: datetime | None = None,
    notify: bool = True,
) -> Update:
    """An operator's update; may extend the window (a new end is a new promise)."""
    status = MaintenanceStatus(status)
    check_maintenance_transition(MaintenanceStatus(window.status), status)
    if scheduled_until is not None:
        if scheduled_until <= clock.now():
            raise PromiseInThePast("the new end must be in the future", field="scheduled_until")
        if scheduled_until <= (window.scheduled_for or scheduled_until):
            raise InvalidInput("the window must end after it starts", field="scheduled_until")
        window.scheduled_until = scheduled_until
    return _append(session, window, status, body, actor, notify, action="maintenance.update")


def advance_windows(session: Session) -> list[Update]:
    """Start windows whose time has come and complete the ones that reached their end,
    unless an operator already took the window in hand (then the end is a promise to chase)."""
    now = clock.now()
    posted: list[Update] = []
    due = session.scalars(
        select(Incident)
        .where(Incident.kind == IncidentKind.MAINTENANCE, Incident.resolved_at.is_(None))
        .options(selectinload(Incident.updates), selectinload(Incident.components))
        .with_for_update(skip_locked=True)
    ).all()
    for window in due:
        status = MaintenanceStatus(window.status)
        if status is MaintenanceStatus.SCHEDULED and window.scheduled_for <= now:
            posted.append(
                _append(
                    session,
                    window,
                    MaintenanceStatus.IN_PROGRESS,
                    AUTOMATIC_START,
                    SYSTEM,
                    True,
                    action="maintenance.start",
                )
            )
            status = MaintenanceStatus.IN_PROGRESS
        if (
            status is MaintenanceStatus.IN_PROGRESS
            and window.scheduled_until <= now
            and not _taken_in_hand(window)
        ):
            posted.append(
                _append(
                    session,
                    window,
                    MaintenanceStatus.COMPLETED,
                    AUTOMATIC_END,
                    SYSTEM,
                    True,
                    action="maintenance.complete",
                )
            )
    return posted


def _taken_in_hand(window: Incident) -> bool:
    """Did an operator post since the window started? Then they decide when it is over."""
    started = next((u for u in window.updates if u.status == MaintenanceStatus.IN_PROGRESS), None)
    return started is not None and any(
        u.author_id is not None for u in window.updates if u.id > started.id
    )


def _append(
    session: Session,
    window: Incident,
    status: MaintenanceStatus,
    body: str,
    actor: Actor,
    notify: bool,
    *,
    action: str,
) -> Update:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("write what customers should know", field="body")
    now = clock.now()
    update = Update(
        incident=window,
        status=status,
        body=body,
        html=markup.render(body),
        author=actor.operator,
        next_update_at=None,
        signed_by=actor.operator.name if actor.operator and actor.operator.sign_updates else None,
        deliver_notifications=notify,
        created_at=now,
        display_at=now,
    )
    session.add(update)
    if status is MaintenanceStatus.IN_PROGRESS and window.status != MaintenanceStatus.IN_PROGRESS:
        for component in window.components:
            _change(update, component, ComponentStatus.UNDER_MAINTENANCE, now)
    if status is MaintenanceStatus.COMPLETED:
        _restore_components(window, update, now)
        window.resolved_at = now
    window.status = status
    window.updated_at = now
    session.flush()
    promises.record_update_promises(session, update=update)  # the window's end is a promise
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="maintenance",
        subject_id=window.public_id,
        status=status.value,
        scheduled_until=window.scheduled_until.isoformat() if window.scheduled_until else None,
    )
    page.bump_version(session)
    return update


def _restore_components(window: Incident, update: Update, now: datetime) -> None:
    """Each component goes back to what it was before the window started."""
    before: dict[int, ComponentStatus] = {}
    for earlier in window.updates:
        for change in earlier.component_changes:
            before.setdefault(change.component_id, change.old_status)
    for component in window.components:
        if component.status is ComponentStatus.UNDER_MAINTENANCE:
            _change(update, component, before.get(component.id, ComponentStatus.OPERATIONAL), now)


def _change(update: Update, component: Component, new: ComponentStatus, now: datetime) -> None:
    if component.status is new:
        return
    update.component_changes.append(
        ComponentChange(component=component, old_status=component.status, new_status=new)
    )
    component.status = new
    component.updated_at = now


def upcoming(session: Session, limit: int = 50) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.kind == IncidentKind.MAINTENANCE,
                Incident.status == MaintenanceStatus.SCHEDULED,
                Incident.resolved_at.is_(None),
            )
            .options(selectinload(Incident.components), selectinload(Incident.updates))
            .order_by(Incident.scheduled_for)
            .limit(limit)
        )
    )


def active(session: Session) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.kind == IncidentKind.MAINTENANCE,
                Incident.resolved_at.is_(None),
                Incident.status.in_(
                    [MaintenanceStatus.IN_PROGRESS.value, MaintenanceStatus.VERIFYING.value]
                ),
            )
            .options(selectinload(Incident.components), selectinload(Incident.updates))
            .order_by(Incident.scheduled_for)
        )
    )
