"""Who did what, when: every write through a service records one AuditEvent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from statusboard.models import AuditEvent, Operator


@dataclass(frozen=True)
class Actor:
    """The person (if any) behind a write and how it arrived: "web", "cli", "api:<token>"."""

    operator: Operator | None
    via: str

    @property
    def label(self) -> str:
        return self.operator.email if self.operator else self.via


SYSTEM = Actor(operator=None, via="worker")


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.operator.id if actor.operator else None,
        via=actor.via,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        detail=detail,
    )
    session.add(event)
    return event
