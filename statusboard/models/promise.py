"""Promises (public time commitments) and the nags they cause.

A promise is made by an update (or by a maintenance window's end) and ends kept, broken or
superseded. A broken promise stays "active" (closed_at is None) until the update, revision or
resolution that answers it arrives: that is how long the nag ladder runs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statusboard import clock
from statusboard.models.base import Base
from statusboard.models.incident import Incident, Update
from statusboard.models.operator import Operator

if TYPE_CHECKING:
    from statusboard.models.alert import Draft


class PromiseKind(StrEnum):
    NEXT_UPDATE = "next_update"  # "next update by T"
    ETA = "eta"  # "we expect to resolve by T"
    MAINTENANCE_END = "maintenance_end"  # "the maintenance is over by T"
    # "the work starts at T": the worker starts the window itself, so operators only get a
    # heads-up before it; it is kept when the window starts.
    MAINTENANCE_START = "maintenance_start"
    # "a postmortem will follow by T": made on resolving, kept when the postmortem is published.
    POSTMORTEM = "postmortem"


class PromiseStatus(StrEnum):
    OPEN = "open"  # made, not yet due
    KEPT = "kept"  # answered in time
    BROKEN = "broken"  # its time passed unanswered (broken_at says when)
    SUPERSEDED = "superseded"  # replaced before it fell due (an ETA revised in time)


class Promise(Base):
    __tablename__ = "promise"
    __table_args__ = (Index("ix_promise_active_due", "closed_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PromiseKind]
    due_at: Mapped[datetime]
    made_at: Mapped[datetime] = mapped_column(default=clock.now)
    made_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_update.id", ondelete="SET NULL")
    )
    status: Mapped[PromiseStatus] = mapped_column(default=PromiseStatus.OPEN)
    broken_at: Mapped[datetime | None]
    # When the promise stopped needing an answer, and the update that answered it.
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_update.id", ondelete="SET NULL")
    )
    # "On it": nags pause until this time. Internal only; never shown to the public.
    paused_until: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"))

    incident: Mapped[Incident] = relationship()
    made_by: Mapped[Update | None] = relationship(foreign_keys=[made_by_id])
    closed_by: Mapped[Update | None] = relationship(foreign_keys=[closed_by_id])
    acknowledged_by: Mapped[Operator | None] = relationship()
    nags: Mapped[list[Nag]] = relationship(
        back_populates="promise", order_by="Nag.id", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.closed_at is None

    def __repr__(self) -> str:
        return f"<Promise {self.kind} due {self.due_at:%H:%M:%S} {self.status}>"


class Nag(Base):
    """One reminder per (promise, level) or (draft, level). The row and its deliveries are
    inserted in one transaction, so the unique constraint decides which worker queues it: it
    is sent once."""

    __tablename__ = "nag"
    __table_args__ = (
        UniqueConstraint("promise_id", "level", name="uq_nag_promise_level"),
        UniqueConstraint("draft_id", "level", name="uq_nag_draft_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A nag chases a public promise, or a draft nobody has acknowledged yet (one of the two).
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promise.id", ondelete="CASCADE"))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(32))  # heads_up, due, escalation_1, ...
    claimed_at: Mapped[datetime] = mapped_column(default=clock.now)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Its deliveries (the outbox) send it: when the first one reached someone, and per channel
    # "sent" or why not, as the deliveries report it.
    sent_at: Mapped[datetime | None]
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    promise: Mapped[Promise | None] = relationship(back_populates="nags")
    draft: Mapped[Draft | None] = relationship()
