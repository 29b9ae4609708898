"""Components and groups: create, rename, reorder, set status, delete."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.domain import text
from statusboard.domain.errors import Conflict, InvalidInput, NotFound
from statusboard.domain.statuses import ComponentStatus
from statusboard.models import Component, ComponentChange, Incident, Subscriber
from statusboard.models.incident import incident_component
from statusboard.models.subscriber import subscriber_component
from statusboard.services import audit, page
from statusboard.services.audit import Actor

MAX_NAME = text.COMPONENT_NAME


def _clean_name(name: str) -> str:
    name = " ".join(text.clean(name, field="name", one_line=True).split())
    if not name:
        raise InvalidInput("enter a name", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"keep the name under {MAX_NAME} characters", field="name")
    return name


def _clean_description(description: str | None) -> str | None:
    if description is None:
        return None
    cleaned = text.clean(
        description.strip(),
        field="description",
        one_line=True,
        max_length=text.COMPONENT_DESCRIPTION,
    )
    return cleaned or None


def find_component(session: Session, public_id: str) -> Component:
    component = session.scalar(select(Component).where(Component.public_id == public_id))
    if component is None:
        raise NotFound(f"no component {public_id}", field="component")
    return component


def find_component_by_id_or_name(session: Session, reference: str) -> Component:
    """A component as people name it on a command line: its public id, or its exact name
    when that name is not shared (two "API" rows in different groups need the id)."""
    reference = (reference or "").strip()
    by_id = session.scalar(select(Component).where(Component.public_id == reference))
    if by_id is not None:
        return by_id
    named = session.scalars(select(Component).where(Component.name == reference)).all()
    if len(named) > 1:
        ids = ", ".join(c.public_id for c in named)
        raise InvalidInput(
            f"{len(named)} components are named {reference!r}; give one of their ids: {ids}",
            field="components",
        )
    if not named:
        raise NotFound(f"no component {reference!r} (by id or exact name)", field="components")
    return named[0]


def ordered_components(session: Session) -> list[Component]:
    """Top-level rows by position, each group followed by its children (the page's order)."""
    rows = session.scalars(select(Component).order_by(Component.position, Component.id)).all()
    top = [c for c in rows if c.group_id is None]
    result: list[Component] = []
    for component in top:
        result.append(component)
        if component.is_group:
            result.extend(c for c in rows if c.group_id == component.id)
    return result


def create_component(
    session: Session,
    *,
    name: str,
    actor: Actor,
    group: Component | None = None,
    description: str | None = None,
    is_group: bool = False,
    status: ComponentStatus = ComponentStatus.OPERATIONAL,
) -> Component:
    name = _clean_name(name)
    if group is not None and not group.is_group:
        raise InvalidInput("components can only be placed in a group", field="group")
    if is_group and group is not None:
        raise InvalidInput("groups cannot be nested", field="group")
    parent_id = group.id if group else None
    last = session.scalar(
        select(func.max(Component.position)).where(
            Component.group_id.is_(None) if parent_id is None else Component.group_id == parent_id
        )
    )
    component = Component(
        name=name,
        description=_clean_description(description),
        is_group=is_group,
        group_id=parent_id,
        position=(last or 0) + 1,
        status=ComponentStatus.OPERATIONAL if is_group else status,
    )
    session.add(component)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="component.create",
        subject_type="component",
        subject_id=component.public_id,
        name=name,
        group=group.public_id if group else None,
        is_group=is_group,
    )
    page.bump_version(session)
    return component


def edit_component(
    session: Session, *, component: Component, name: str, description: str | None, actor: Actor
) -> None:
    component.name = _clean_name(name)
    component.description = _clean_description(description)
    component.updated_at = clock.now()
    audit.record(
        session,
        actor=actor,
        action="component.edit",
        subject_type="component",
        subject_id=component.public_id,
        name=component.name,
    )
    page.bump_version(session)


def move_component(session: Session, *, component: Component, offset: int, actor: Actor) -> None:
    """Swap with the sibling `offset` places away (-1 up, +1 down); positions stay 1..n."""
    siblings = list(
        session.scalars(
            select(Component)
            .where(
                Component.group_id.is_(None)
                if component.group_id is None
                else Component.group_id == component.group_id
            )
            .order_by(Component.position, Component.id)
        )
    )
    index = siblings.index(component)
    target = index + offset
    if not 0 <= target < len(siblings):
        return
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
    audit.record(
        session,
        actor=actor,
        action="component.move",
        subject_type="component",
        subject_id=component.public_id,
        position=target + 1,
    )
    page.bump_version(session)


def set_component_status(
    session: Session, *, component: Component, status: ComponentStatus, actor: Actor
) -> ComponentStatus:
    """Set a leaf component's status; returns the old one."""
    if component.is_group:
        raise InvalidInput("a group's status follows its components", field="status")
    old = component.status
    if old is not status:
        component.status = status
        component.updated_at = clock.now()
        audit.record(
            session,
            actor=actor,
            action="component.status",
            subject_type="component",
            subject_id=component.public_id,
            old=old.value,
            new=status.value,
        )
        page.bump_version(session)
    return old


def delete_component(session: Session, *, component: Component, actor: Actor) -> int:
    """Remove a component from the page, its feeds and its subscription choices.

    Refused while an unresolved incident or an unfinished maintenance window names it (finish
    or edit those first), and for a group that still has components. Past incidents keep
    their name, their messages and their other components; the lines "<component>: major
    outage → operational" that named this one go, as do its uptime history and its per-
    component feed. A subscriber who followed only this component is unsubscribed rather
    than silently widened to every component. Returns how many subscribers that was."""
    if component.is_group and component.children:
        raise Conflict(
            f"the group {component.name} still has components; move or delete them first",
            field="component",
        )
    open_names = session.scalars(
        select(Incident.name)
        .join(incident_component, incident_component.c.incident_id == Incident.id)
        .where(incident_component.c.component_id == component.id, Incident.resolved_at.is_(None))
        .order_by(Incident.started_at)
    ).all()
    if open_names:
        listed = ", ".join(f"“{name}”" for name in open_names[:3])
        raise Conflict(
            f"{component.name} is part of {listed}, which is not over yet; "
            "delete it once that is resolved or completed",
            field="component",
        )
    followers = session.scalars(
        select(Subscriber).where(Subscriber.components.any(Component.id == component.id))
    ).all()
    # One who follows chosen incidents keeps hearing of just those: nothing widens for them.
    dropped = [
        s
        for s in followers
        if len(s.components) == 1 and not s.incidents and s.unsubscribed_at is None
    ]
    for subscriber in dropped:
        subscriber.unsubscribed_at = clock.now()
    session.execute(delete(ComponentChange).where(ComponentChange.component_id == component.id))
    session.execute(
        delete(incident_component).where(incident_component.c.component_id == component.id)
    )
    session.execute(
        delete(subscriber_component).where(subscriber_component.c.component_id == component.id)
    )
    audit.record(
        session,
        actor=actor,
        action="component.delete",
        subject_type="component",
        subject_id=component.public_id,
        name=component.name,
        unsubscribed=len(dropped),
    )
    session.delete(component)
    page.bump_version(session)
    return len(dropped)
