"""Planned maintenance windows: schedule, update, complete, and the worker's reminder, start
and completion on time — rules over the one write path (services/updates.py), so every step
reaches the page, the feeds, the social accounts and the subscribers like an incident does.

A window is an Incident row with kind "maintenance". While it is in progress it claims
under_maintenance for its components; once completed, each takes the worst status still
claimed by an open incident, or operational. The end (`scheduled_until`) is a public promise
like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from statusboard import clock
from statusboard.config import PlanningSettings, PublishingSettings
from statusboard.domain import peak_hours
from statusboard.domain.errors import InvalidInput, NeedsConfirmation, NotFound, PromiseInThePast
from statusboard.domain.statuses import (
    ComponentStatus,
    Impact,
    MaintenanceStatus,
    check_maintenance_transition,
)
from statusboard.models import Component, Incident, IncidentKind, Update
from statusboard.models.delivery import Purpose
from statusboard.services import publishing, updates
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
    publishing_settings: PublishingSettings,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: Sequence[Component] = (),
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
    planning: PlanningSettings | None = None,
    confirmed: bool = False,
) -> Incident:
    """Schedule a window. With `planning`, one that overlaps peak hours or a blackout, or gives
    less than the minimum notice, is refused (NeedsConfirmation, naming each reason) unless
    `confirmed`; the confirmed reasons are audited with it."""
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
    concerns = (
        peak_hours.warnings(
            planning.peak_hours,
            scheduled_for,
            scheduled_until,
            now=now,
            min_notice=planning.min_notice,
        )
        if planning is not None
        else []
    )
    if concerns and not confirmed:
        updates.clean_body(body)
        raise NeedsConfirmation(
            "Confirm to schedule it anyway: " + "; ".join(concerns) + ".", field="scheduled_for"
        )
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
        publishing_settings,
        notify=notify,
        channels=channels,
        action="maintenance.schedule",
        **({"confirmed_despite": concerns} if concerns else {}),
    )
    return window


def update_maintenance(
    session: Session,
    *,
    window: Incident,
    status: MaintenanceStatus,
    body: str,
    actor: Actor,
    publishing_settings: PublishingSettings,
    scheduled_until: datetime | None = None,
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
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
    return _append(
        session,
        window,
        status,
        body,
        actor,
        publishing_settings,
        notify=notify,
        channels=channels,
        action="maintenance.update",
    )


def complete_maintenance(
    session: Session,
    *,
    window: Incident,
    body: str,
    actor: Actor,
    publishing_settings: PublishingSettings,
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
) -> Update:
    """The work is done: components go back to what is still claimed, or operational."""
    return update_maintenance(
        session,
        window=window,
        status=MaintenanceStatus.COMPLETED,
        body=body,
        actor=actor,
        publishing_settings=publishing_settings,
        notify=notify,
        channels=channels,
    )


def advance_windows(session: Session, *, publishing_settings: PublishingSettings) -> list[Update]:
    """Remind subscribers of windows about to start, start windows whose time has come and
    complete the ones that reached their end, unless an operator already took the window in
    hand (then the end is a promise to chase)."""
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
        start, end = _window_times(window)
        if status is MaintenanceStatus.SCHEDULED:
            _remind(session, window, publishing_settings, now)
        if status is MaintenanceStatus.SCHEDULED and start <= now:
            posted.append(
                _append(
                    session,
                    window,
                    MaintenanceStatus.IN_PROGRESS,
                    AUTOMATIC_START,
                    SYSTEM,
                    publishing_settings,
                    notify=_notifies(window),
                    action="maintenance.start",
                )
            )
            status = MaintenanceStatus.IN_PROGRESS
        if status is MaintenanceStatus.IN_PROGRESS and end <= now and not _taken_in_hand(window):
            posted.append(
                _append(
                    session,
                    window,
                    MaintenanceStatus.COMPLETED,
                    AUTOMATIC_END,
                    SYSTEM,
                    publishing_settings,
                    notify=_notifies(window),
                    action="maintenance.complete",
                )
            )
    return posted


def _window_times(window: Incident) -> tuple[datetime, datetime]:
    assert window.scheduled_for is not None and window.scheduled_until is not None
    return window.scheduled_for, window.scheduled_until


def _notifies(window: Incident) -> bool:
    """The worker's own messages follow what the operator chose when scheduling."""
    return any(u.deliver_notifications for u in window.updates)


def _remind(
    session: Session, window: Incident, publishing_settings: PublishingSettings, now: datetime
) -> None:
    """Once, `maintenance_reminder` before the start, everyone who heard of the window hears
    it again — unless it was scheduled so late that the first notice is the reminder."""
    lead = publishing_settings.maintenance_reminder
    start, _ = _window_times(window)
    if window.reminded_at is not None or not lead or start - lead > now:
        return
    window.reminded_at = now
    latest = window.latest_update
    if latest is None or window.created_at > start - lead or now >= start:
        return
    if not _notifies(window):
        return
    publishing.fan_out(
        session, update=latest, enabled=publishing_settings.channels, purpose=Purpose.REMINDER
    )


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
    publishing_settings: PublishingSettings,
    *,
    notify: bool,
    action: str,
    channels: publishing.PublishOptions | None = None,
    **audit_detail: Any,
) -> Update:
    starting = (
        status in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)
        and window.status == MaintenanceStatus.SCHEDULED
    )
    claims = dict.fromkeys(window.components, ComponentStatus.UNDER_MAINTENANCE) if starting else {}
    return updates.append_update(
        session,
        subject=window,
        status=status,
        body=body,
        actor=actor,
        publishing_settings=publishing_settings,
        action=action,
        claims=claims,
        finished=status is MaintenanceStatus.COMPLETED,
        notify=notify,
        channels=channels,
        scheduled_until=window.scheduled_until.isoformat() if window.scheduled_until else None,
        **audit_detail,
    )


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
