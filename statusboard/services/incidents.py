"""Incidents: open, post an update, resolve — rules over the one write path
(services/updates.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import PublishingSettings
from statusboard.domain.errors import Conflict, InvalidInput, NotFound, PromiseInThePast
from statusboard.domain.postmortems import check_postmortem_date
from statusboard.domain.promises import check_eta, check_next_update, default_next_update
from statusboard.domain.statuses import (
    ComponentStatus,
    Impact,
    IncidentStatus,
    check_incident_transition,
)
from statusboard.domain.uptime import check_backfill
from statusboard.models import Component, Incident, IncidentKind, Update
from statusboard.services import postmortems, publishing, updates
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


def open_incident(
    session: Session,
    *,
    name: str,
    impact: Impact,
    body: str,
    actor: Actor,
    publishing_settings: PublishingSettings,
    status: IncidentStatus = IncidentStatus.INVESTIGATING,
    eta: datetime | None = None,
    next_update_at: datetime | None = None,
    component_changes: Mapping[Component, ComponentStatus] | None = None,
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
    started_at: datetime | None = None,
) -> Incident:
    """Declare an incident with its first update, ETA (None = unknown) and next-update promise.
    `started_at`: when it began, if earlier than now (a backfill, at most 30 days back): the
    first update and its component changes take effect then, in the uptime history too."""
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
    if started_at is not None:
        started_at = check_backfill(started_at, now, field="started_at")
    incident = Incident(
        name=name,
        impact=impact,
        status=status,
        kind=IncidentKind.INCIDENT,
        owner=actor.operator,
        started_at=started_at or now,
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
        publishing_settings=publishing_settings,
        eta=eta,
        next_update_at=next_update_at,
        component_changes=component_changes,
        notify=notify,
        action="incident.open",
        channels=channels,
        effective_at=started_at,
    )
    return incident


def post_update(
    session: Session,
    *,
    incident: Incident,
    status: IncidentStatus,
    body: str,
    actor: Actor,
    publishing_settings: PublishingSettings,
    eta: datetime | None | Keep = KEEP_ETA,
    next_update_at: datetime | None = None,
    component_changes: Mapping[Component, ComponentStatus] | None = None,
    notify: bool = True,
    action: str = "incident.update",
    channels: publishing.PublishOptions | None = None,
    effective_at: datetime | None = None,
) -> Update:
    """Append a public update; set the promises; the component statuses given are what this
    incident claims. An update that resolves is a resolve, wherever it comes from."""
    status = IncidentStatus(status)
    if not status.is_open:
        return resolve(
            session,
            incident=incident,
            body=body,
            actor=actor,
            publishing_settings=publishing_settings,
            component_changes=component_changes,
            notify=notify,
            channels=channels,
            status=status,
        )
    now = clock.now()
    if incident.id is not None:
        check_incident_transition(IncidentStatus(incident.status), status)
    updates.clean_body(body)  # refuse an empty message before anything else is checked
    incident.eta_at = _eta_in_force(incident, eta, now)
    incident.next_update_at = (
        check_next_update(next_update_at, now)
        if next_update_at
        else default_next_update(incident.impact, now, publishing_settings.next_update_minutes)
    )
    if status is IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = now
    return updates.append_update(
        session,
        subject=incident,
        status=status,
        body=body,
        actor=actor,
        publishing_settings=publishing_settings,
        action=action,
        claims=component_changes,
        notify=notify,
        channels=channels,
        eta=incident.eta_at.isoformat() if incident.eta_at else None,
        next_update_at=incident.next_update_at.isoformat(),
        effective_at=effective_at,
    )


def resolve(
    session: Session,
    *,
    incident: Incident,
    body: str,
    actor: Actor,
    publishing_settings: PublishingSettings,
    component_changes: Mapping[Component, ComponentStatus] | None = None,
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
    status: IncidentStatus = IncidentStatus.RESOLVED,
    postmortem_by: date | None = None,
    time_zone: str = "UTC",
    resolved_at: datetime | None = None,
) -> Update:
    """Resolve, the same from the form, the API and the CLI: the components the incident
    touched go back to operational unless another open incident or active maintenance still
    claims them (then they take the worst status still claimed); statuses given here win.
    `resolved_at`: when it really ended, if earlier than now (a backfill, at most 30 days
    back, not before its start or last update): the uptime history counts it over then.
    `postmortem_by` promises a postmortem by the end of that day (in `time_zone`). An update
    with status "postmortem" publishes the postmortem (services/postmortems.py)."""
    if status is IncidentStatus.POSTMORTEM:
        return postmortems.publish(
            session,
            incident=incident,
            body=body,
            actor=actor,
            publishing_settings=publishing_settings,
            notify=notify,
            channels=channels,
        )
    current = IncidentStatus(incident.status)
    if not current.is_open and status is IncidentStatus.RESOLVED:
        raise Conflict("this incident is already resolved; nothing was sent", field="status")
    if incident.id is not None:
        check_incident_transition(current, status)
    if resolved_at is not None:
        last_word = max([incident.started_at, *(u.display_at for u in incident.updates)])
        resolved_at = check_backfill(
            resolved_at, clock.now(), not_before=last_word, field="resolved_at"
        )
    incident.eta_at = None
    incident.next_update_at = None
    if postmortem_by is not None:
        updates.clean_body(body)
        incident.postmortem_due_at = check_postmortem_date(postmortem_by, clock.now(), time_zone)
    return updates.append_update(
        session,
        subject=incident,
        status=status,
        body=body,
        actor=actor,
        publishing_settings=publishing_settings,
        action="incident.resolve",
        finished=True,
        overrides=component_changes,
        notify=notify,
        channels=channels,
        postmortem_by=incident.postmortem_due_at.isoformat()
        if incident.postmortem_due_at
        else None,
        effective_at=resolved_at,
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
