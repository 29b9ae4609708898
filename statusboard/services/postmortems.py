"""Postmortems: promised on resolving (a Promise of kind "postmortem", services/promises.py),
drafted from the incident's own record, published through the one write path.

Publishing moves the incident to "postmortem" (the Statuspage status), keeps the promise (or
answers it late), and — being a finishing status — reaches every target that heard of the
incident (services/publishing.py::fan_out), unless they unsubscribed since.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from statusboard.config import PublishingSettings
from statusboard.domain import markup
from statusboard.domain.errors import Conflict
from statusboard.domain.postmortems import Moment, draft
from statusboard.domain.promises import format_minutes
from statusboard.domain.statuses import IncidentStatus, check_incident_transition
from statusboard.models import Incident, PromiseKind, PromiseStatus, Update
from statusboard.services import promises, publishing, updates
from statusboard.services.audit import Actor

_PROMISE_WORDS = {
    PromiseKind.NEXT_UPDATE: "next update by",
    PromiseKind.ETA: "resolution by",
}


def _first_line(update: Update) -> str:
    text = " ".join(markup.plain_text(update.html).split())
    return text if len(text) <= 160 else text[:157].rstrip() + "…"


def timeline(session: Session, incident: Incident) -> list[Moment]:
    """Each public update, each ETA revision, and each promise kept or broken, with times."""
    moments: list[Moment] = []
    eta_said: object = "unset"
    for update in incident.updates:
        label = str(update.status).capitalize()
        moments.append(Moment(update.created_at, f"{label}: {_first_line(update)}"))
        if update.status in ("resolved", "postmortem"):
            continue
        if eta_said != "unset" and update.eta_at != eta_said:
            new = f"{update.eta_at:%H:%M UTC}" if update.eta_at else "unknown"
            moments.append(Moment(update.created_at, f"ETA revised to {new}."))
        eta_said = update.eta_at
    for promise in promises.promise_history(session, incident):
        words = _PROMISE_WORDS.get(promise.kind)
        if words is None:
            continue
        due = f"{promise.due_at:%H:%M UTC}"
        if promise.status is PromiseStatus.KEPT and promise.closed_at is not None:
            moments.append(Moment(promise.closed_at, f"Promise kept: {words} {due}."))
        elif promise.status is PromiseStatus.BROKEN:
            late = ""
            if promise.closed_at is not None:
                late = f", answered {format_minutes(promise.closed_at - promise.due_at)} late"
            moments.append(Moment(promise.due_at, f"Promise broken: {words} {due}{late}."))
    return moments


def draft_for(session: Session, incident: Incident, *, time_zone: str) -> str:
    """The Markdown the editor starts from: the generated timeline between blanks."""
    return draft(
        name=incident.name,
        started_at=incident.started_at,
        moments=timeline(session, incident),
        zone_name=time_zone,
    )


def publish(
    session: Session,
    *,
    incident: Incident,
    body: str,
    actor: Actor,
    publishing_settings: PublishingSettings,
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
) -> Update:
    """Publish the postmortem of a resolved incident; final (it cannot be published twice)."""
    current = IncidentStatus(incident.status)
    if current is IncidentStatus.POSTMORTEM:
        raise Conflict("the postmortem is already published; nothing was sent", field="status")
    check_incident_transition(current, IncidentStatus.POSTMORTEM)
    return updates.append_update(
        session,
        subject=incident,
        status=IncidentStatus.POSTMORTEM,
        body=body,
        actor=actor,
        publishing_settings=publishing_settings,
        action="incident.postmortem",
        notify=notify,
        channels=channels,
        promised_by=incident.postmortem_due_at.isoformat() if incident.postmortem_due_at else None,
    )
