"""Incident templates kept by admins: a name, the impact, the components with the statuses
to claim, and a body with required blanks (`[[...]]`, domain/templates.py) that the write path
refuses until they are filled. Offered on the declare and update forms, by the API and the
CLI (`template` id); what is sent is still checked like any other message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from statusboard.domain.errors import Conflict, InvalidInput, NotFound
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.domain.templates import blanks
from statusboard.models import Component, IncidentTemplate
from statusboard.services import audit, updates
from statusboard.services.audit import Actor

MAX_NAME = 120


def all_templates(session: Session) -> list[IncidentTemplate]:
    return list(session.scalars(select(IncidentTemplate).order_by(IncidentTemplate.name)))


def find_template(session: Session, public_id: str, *, field: str = "template") -> IncidentTemplate:
    found = session.scalar(select(IncidentTemplate).where(IncidentTemplate.public_id == public_id))
    if found is None:
        raise NotFound(f"no template {public_id}", field=field)
    return found


def create_template(
    session: Session,
    *,
    name: str,
    impact: Impact,
    status: IncidentStatus,
    components: Mapping[Component, ComponentStatus],
    body: str,
    actor: Actor,
) -> IncidentTemplate:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("give the template a name operators will recognise", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"keep the name under {MAX_NAME} characters", field="name")
    if not IncidentStatus(status).is_open:
        raise InvalidInput("a template starts an open status", field="status")
    body = (body or "").strip()
    if not body:
        raise InvalidInput("write the template's message", field="body")
    if session.scalar(select(IncidentTemplate.id).where(IncidentTemplate.name == name)):
        raise Conflict(f"a template named “{name}” exists already", field="name")
    template = IncidentTemplate(
        name=name,
        impact=Impact(impact),
        status=IncidentStatus(status).value,
        components={c.public_id: ComponentStatus(s).value for c, s in components.items()},
        body=body,
    )
    session.add(template)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="template.create",
        subject_type="template",
        subject_id=template.public_id,
        name=name,
        blanks=blanks(body),
    )
    return template


def delete_template(session: Session, *, template: IncidentTemplate, actor: Actor) -> None:
    session.delete(template)
    audit.record(
        session,
        actor=actor,
        action="template.delete",
        subject_type="template",
        subject_id=template.public_id,
        name=template.name,
    )


@dataclass(frozen=True)
class Filled:
    """A message started from a template: what the operator gave, else the template's."""

    impact: Impact
    status: IncidentStatus
    body: str
    component_changes: dict[Component, ComponentStatus]


def apply(
    session: Session,
    template: IncidentTemplate,
    *,
    body: str | None,
    impact: Impact | None = None,
    status: IncidentStatus | None = None,
    component_changes: Mapping[Component, ComponentStatus] | None = None,
) -> Filled:
    """Fill in what the caller left out from the template (the body too: sent as it is, its
    blanks are refused by the write path, naming them)."""
    changes = dict(component_changes or {})
    if not changes:
        by_id = {
            c.public_id: c
            for c in session.scalars(
                select(Component).where(Component.public_id.in_(template.components))
            )
        }
        changes = {
            by_id[code]: ComponentStatus(s)
            for code, s in template.components.items()
            if code in by_id
        }
    chosen = body if body is not None and body.strip() else template.body
    updates.clean_body(chosen)
    return Filled(
        impact=impact or Impact(template.impact),
        status=status or IncidentStatus(template.status),
        body=chosen,
        component_changes=changes,
    )
