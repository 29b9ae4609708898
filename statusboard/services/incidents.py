"""Incidents: open, post an update, resolve. Every public message goes through post_update."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.domain import markup
from statusboard.domain.errors import InvalidInput, NotFound, PromiseInThePast
from statusboard.domain.promises import (
    DEFAULT_NEXT_UPDATE_MINUTES,
    check_eta,
    check_next_update,
    default_next_update,
)
from statusboard.domain.statuses import (
    ComponentStatus,
    Impact,
    IncidentStatus,
    check_incident_transition,
)
from statusboard.models import Component, ComponentChange, Incident, IncidentKind, Update
from statusboard.services import audit, page, promises, publishing
from statusboard.services.audit import Actor

MAX_NAME = 200


class Keep(Enum):
    """Leave the ETA as it is (the API and CLI may omit it; the form always sends it)."""

    ETA = "keep"


KEEP_ETA = Keep.ETA


def find_incident(
    session: Session, public_id: str, *, kind: IncidentKind | None = None
) -> Incident:
    """By public id; with `kind`, a maintenance window is not an incident (and vice versa)."""
    incident = session.scalar(select(Incident).where(Incident.public_id == public_id))
    if incident is None or (kind is not None and incident.kind is not kind):
        raise NotFound(f"no incident {public_id}", field="incident")
    return incident


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("write what customers should know", field="body")
    if len(body) > markup.MAX_BODY_LENGTH:
        raise InvalidInput(
            f"keep the message under {markup.MAX_BODY_LENGTH} characters", field="body"
        )
    return body


def open_incident(
    session: Session,
    *,
    name: str,
    impact: Impact,
    body: str,
    actor: Actor,
    status: IncidentStatus = IncidentStatus.INVESTIGATING,
    eta: datetime | None = None,
    next_update_at: datetime | None = None,
    component_changes: Mapping[Component, ComponentStatus] | None = None,
    notify: bool = True,
    minutes_by_impact: Mapping[str, int] = DEFAULT_NEXT_UPDATE_MINUTES,
    channels: publishing.PublishOptions | None = None,
) -> Incident:
    """Declare an incident with its first update, ETA (None = unknown) and next-update promise."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("give the incident a name customers will understand", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"keep the name under {MAX_NAME} characters", field="name")
    if not IncidentStatus(status).is_open:
        raise InvalidInput(
            "a new incident starts as investigating, identified or monitoring", field="status"
        )
    now = clock.now()
    incident = Incident(
        name=name,
        impact=impact,
        status=status,
        kind=IncidentKind.INCIDENT,
        owner=actor.operator,
        started_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(incident)
    post_update(
        session,
        incident=incident,
        status=status,
        body=body,
        actor=actor,
        eta=eta,
        next_update_at=next_update_at,
        component_changes=component_changes,
        notify=notify,
        minutes_by_impact=minutes_by_impact,
        action="incident.open",
        channels=channels,
    )
    return incident


def post_update(
    session: Session,
    *,
    incident: Incident,
    status: IncidentStatus,
    body: str,
    actor: Actor,
    eta: datetime | None | Keep = KEEP_ETA,
    next_update_at: datetime | None = None,
    component_changes: Mapping[Component, ComponentStatus] | None = None,
    notify: bool = True,
    minutes_by_impact: Mapping[str, int] = DEFAULT_NEXT_UPDATE_MINUTES,
    action: str = "incident.update",
    channels: publishing.PublishOptions | None = None,
) -> Update:
    """Append a public update; move incident and component statuses; set the promises;
    queue its deliveries (`channels`: per-channel send/custom text from the form)."""
    now = clock.now()
    status = IncidentStatus(status)
    if incident.id is not None:
        check_incident_transition(IncidentStatus(incident.status), status)
    body = _clean_body(body)
    resolving = not status.is_open
    if resolving:
        eta_at, promise = None, None
    else:
        eta_at = _eta_in_force(incident, eta, now)
        promise = (
            check_next_update(next_update_at, now)
            if next_update_at
            else default_next_update(incident.impact, now, minutes_by_impact)
        )

    html = markup.render(body)
    author = actor.operator
    update = Update(
        incident=incident,
        status=status,
        body=body,
        html=html,
        eta_at=eta_at,
        next_update_at=promise,
        author=author,
        signed_by=author.name if author and author.sign_updates else None,
        deliver_notifications=notify,
        created_at=now,
        display_at=now,
    )
    session.add(update)
    _apply_component_changes(incident, update, component_changes or {}, now)

    incident.status = status
    incident.eta_at = eta_at
    incident.next_update_at = promise
    incident.updated_at = now
    if status is IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = now
    if resolving and incident.resolved_at is None:
        incident.resolved_at = now
    session.flush()
    promises.record_update_promises(session, update=update)
    publishing.fan_out(session, update=update, options=channels)
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="incident",
        subject_id=incident.public_id,
        update=update.public_id,
        status=status.value,
        eta=eta_at.isoformat() if eta_at else None,
        next_update_at=promise.isoformat() if promise else None,
    )
    page.bump_version(session)
    return update


def resolve(
    session: Session,
    *,
    incident: Incident,
    body: str,
    actor: Actor,
    component_changes: Mapping[Component, ComponentStatus] | None = None,
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
) -> Update:
    """Resolve; components the incident touched go back to operational unless told otherwise."""
    if component_changes is None:
        component_changes = {
            c: ComponentStatus.OPERATIONAL for c in incident.components if not c.is_group
        }
    return post_update(
        session,
        incident=incident,
        status=IncidentStatus.RESOLVED,
        body=body,
        actor=actor,
        component_changes=component_changes,
        notify=notify,
        channels=channels,
        action="incident.resolve",
    )


def _eta_in_force(
    incident: Incident, eta: datetime | None | Keep, now: datetime
) -> datetime | None:
    if eta is KEEP_ETA:
        current = incident.eta_at
        if current is not None and current <= now:
            raise PromiseInThePast(
                "the ETA has passed: give a new one, say it is unknown, or resolve", field="eta"
            )
        return current
    return check_eta(eta, now)


def _apply_component_changes(
    incident: Incident, update: Update, changes: Mapping[Component, ComponentStatus], now: datetime
) -> None:
    for component, new_status in changes.items():
        if component.is_group:
            raise InvalidInput(
                f"{component.name} is a group; choose its components", field="components"
            )
        new_status = ComponentStatus(new_status)
        if component not in incident.components:
            incident.components.append(component)
        if component.status is new_status:
            continue
        update.component_changes.append(
            ComponentChange(component=component, old_status=component.status, new_status=new_status)
        )
        component.status = new_status
        component.updated_at = now
