"""The write path: every public message — an incident opened, updated or resolved, a
maintenance scheduled, started, updated or completed — is appended by `append_update`, and by
nothing else.

In one transaction it stores the update, moves the component statuses (a component's status
is the worst claimed by any open incident or active maintenance), records the promises the
update makes and closes the ones it keeps, queues one delivery per enabled channel and
matching subscriber, audits, and bumps the page version. The incident and maintenance verbs
are rules over it: they check transitions and set their own fields first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import PublishingSettings
from statusboard.domain import markup
from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import ComponentStatus, worst_component_status
from statusboard.domain.templates import check_filled
from statusboard.models import Component, ComponentChange, Incident, Update, UpdateCorrection
from statusboard.models.incident import incident_component
from statusboard.services import audit, page, promises, publishing
from statusboard.services.audit import Actor


def clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("write what customers should know", field="body")
    if len(body) > markup.MAX_BODY_LENGTH:
        raise InvalidInput(
            f"keep the message under {markup.MAX_BODY_LENGTH} characters", field="body"
        )
    check_filled(body)  # a template's (or postmortem draft's) blanks are never sent as-is
    return body


def append_update(
    session: Session,
    *,
    subject: Incident,
    status: str,
    body: str,
    actor: Actor,
    publishing_settings: PublishingSettings,
    action: str,
    claims: Mapping[Component, ComponentStatus] | None = None,
    finished: bool = False,
    overrides: Mapping[Component, ComponentStatus] | None = None,
    notify: bool = True,
    channels: publishing.PublishOptions | None = None,
    effective_at: datetime | None = None,
    **audit_detail: Any,
) -> Update:
    """Append one public message to `subject` (an incident or a maintenance window).

    `claims`: the statuses the subject now claims for components (added to it if new).
    `finished`: the subject is over (resolved, completed); its claims end, and each component
    it touched takes the worst status still claimed by another, or operational.
    `overrides`: statuses set as given, whatever is claimed (explicit changes on a resolve).
    `effective_at`: when what it says took effect, for a message posted late (a backfill,
    checked by the caller): its display time and the time its component changes count from in
    the uptime history, and the subject's resolution time when it finishes it.
    The subject's own fields (status, ETA, next update) are set by the caller beforehand."""
    now = clock.now()
    shown_at = effective_at or now
    body = clean_body(body)
    author = actor.operator
    new = Update(
        incident=subject,
        status=status,
        body=body,
        html=markup.render(body),
        eta_at=subject.eta_at,
        next_update_at=subject.next_update_at,
        author=author,
        signed_by=author.name
        if author and author.signs(publishing_settings.sign_updates)
        else None,
        deliver_notifications=notify,
        created_at=now,
        display_at=shown_at,
    )
    session.add(new)
    subject.status = status
    subject.updated_at = now
    if finished and subject.resolved_at is None:
        subject.resolved_at = shown_at
    _move_components(session, subject, new, claims or {}, overrides or {}, finished, now)
    session.flush()
    promises.record_update_promises(session, update=new)
    publishing.fan_out(session, update=new, enabled=publishing_settings.channels, options=channels)
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type=subject.kind.value,
        subject_id=subject.public_id,
        update=new.public_id,
        status=str(status),
        **({"effective_at": shown_at.isoformat()} if effective_at else {}),
        **audit_detail,
    )
    page.bump_version(session)
    return new


def correct_update(
    session: Session, *, update: Update, body: str, actor: Actor, editable: frozenset[str]
) -> int:
    """Correct the words of a posted update (a typo), not what it says happened: status,
    promises and components stay; a change of those is a new update. The earlier words are
    kept (UpdateCorrection), the update is marked edited, the page version is bumped so the
    page, feeds and API show the new words, and posts on networks that allow editing
    (`editable`) are edited through the outbox. Returns how many posts will be edited."""
    now = clock.now()
    body = clean_body(body)
    if body == update.body:
        raise InvalidInput("the text is unchanged: correct it, or go back", field="body")
    update.corrections.append(
        UpdateCorrection(
            body=update.body, html=update.html, corrected_at=now, corrected_by=actor.operator
        )
    )
    update.body, update.html, update.edited_at = body, markup.render(body), now
    session.flush()
    edits = publishing.queue_corrections(session, update=update, editable=editable)
    audit.record(
        session,
        actor=actor,
        action="update.correct",
        subject_type=update.incident.kind.value,
        subject_id=update.incident.public_id,
        update=update.public_id,
        posts_edited=edits,
    )
    page.bump_version(session)
    return edits


def _move_components(
    session: Session,
    subject: Incident,
    new: Update,
    claims: Mapping[Component, ComponentStatus],
    overrides: Mapping[Component, ComponentStatus],
    finished: bool,
    now: datetime,
) -> None:
    for component in (*claims, *overrides):
        if component.is_group:
            raise InvalidInput(
                f"{component.name} is a group; choose its components", field="components"
            )
        if component not in subject.components:
            subject.components.append(component)
    session.flush()  # the association rows exist before their claims are written
    link = incident_component.c
    for component, status in claims.items():
        session.execute(
            update(incident_component)
            .where(link.incident_id == subject.id, link.component_id == component.id)
            .values(claimed_status=ComponentStatus(status).value)
        )
    if finished:
        session.execute(
            update(incident_component)
            .where(link.incident_id == subject.id)
            .values(claimed_status=None)
        )
    touched = list(subject.components) if finished else list(claims)
    touched += [c for c in overrides if c not in touched]
    if not touched:
        return
    standing = claimed_statuses(session, [c.id for c in touched])
    for component in touched:
        if component in overrides:
            target = ComponentStatus(overrides[component])
        elif component.id in standing:
            target = worst_component_status(standing[component.id])
        else:
            target = ComponentStatus.OPERATIONAL
        if component.status is not target:
            new.component_changes.append(
                ComponentChange(
                    component=component,
                    old_status=component.status,
                    new_status=target,
                    at=new.display_at,
                )
            )
            component.status = target
            component.updated_at = now


def claimed_statuses(
    session: Session, component_ids: list[int]
) -> dict[int, list[ComponentStatus]]:
    """The statuses open incidents and active maintenances claim, per component."""
    link = incident_component.c
    rows = session.execute(
        select(link.component_id, link.claimed_status)
        .join(Incident, Incident.id == link.incident_id)
        .where(
            link.component_id.in_(component_ids),
            link.claimed_status.is_not(None),
            Incident.resolved_at.is_(None),
        )
    )
    result: dict[int, list[ComponentStatus]] = {}
    for component_id, status in rows:
        result.setdefault(component_id, []).append(ComponentStatus(status))
    return result
