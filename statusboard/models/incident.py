"""Incidents (and planned maintenances, kind="maintenance") with their append-only updates.

Statuses are stored as plain strings because the two kinds use different status sets
(IncidentStatus, MaintenanceStatus); both are StrEnums and compare equal to these strings.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statusboard import clock
from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.models.base import Base, new_public_id
from statusboard.models.component import Component
from statusboard.models.operator import Operator


class IncidentKind(StrEnum):
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"


incident_component = Table(
    "incident_component",
    Base.metadata,
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
    Column("component_id", ForeignKey("component.id", ondelete="CASCADE"), primary_key=True),
    # The status this incident or maintenance claims for the component while it is open (None:
    # affected, no claim). A component's status is the worst claim of any open one.
    Column("claimed_status", String(32), nullable=True),
)


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_status_started", "status", "started_at"),
        # Unfinished rows are few among many finished ones: a partial index finds them at once
        # however long the history (queries add "resolved_at IS NULL" to use it).
        Index(
            "ix_incident_unfinished",
            "kind",
            "started_at",
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    kind: Mapped[IncidentKind] = mapped_column(default=IncidentKind.INCIDENT)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    impact: Mapped[Impact] = mapped_column(default=Impact.NONE)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"))
    started_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    monitoring_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    # The promises in force, copied from the latest update: the ETA (None = unknown) and the
    # time by which the next public update is due (None once resolved).
    eta_at: Mapped[datetime | None]
    next_update_at: Mapped[datetime | None] = mapped_column(index=True)
    # Incidents only: the date by which a postmortem was promised on resolving (None: none
    # promised). The promise itself is a Promise row like the others.
    postmortem_due_at: Mapped[datetime | None]
    # Maintenance windows only.
    scheduled_for: Mapped[datetime | None]
    scheduled_until: Mapped[datetime | None]
    # When subscribers were reminded that the window starts soon.
    reminded_at: Mapped[datetime | None]

    owner: Mapped[Operator | None] = relationship()
    components: Mapped[list[Component]] = relationship(
        secondary=incident_component, order_by="Component.position"
    )
    updates: Mapped[list[Update]] = relationship(
        back_populates="incident", order_by="Update.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def latest_update(self) -> Update | None:
        return self.updates[-1] if self.updates else None

    def __repr__(self) -> str:
        return f"<Incident {self.public_id} {self.name!r} {self.status}>"


class Update(Base):
    __tablename__ = "incident_update"
    # The per-update feeds read the newest updates first.
    __table_args__ = (Index("ix_incident_update_created_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    eta_at: Mapped[datetime | None]
    next_update_at: Mapped[datetime | None]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"))
    # The author's name as shown publicly, when they sign their updates.
    signed_by: Mapped[str | None] = mapped_column(String(120))
    deliver_notifications: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    display_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    # When its words were last corrected (a typo); the earlier words are its corrections.
    edited_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="updates")
    author: Mapped[Operator | None] = relationship()
    component_changes: Mapped[list[ComponentChange]] = relationship(
        back_populates="update", order_by="ComponentChange.id", cascade="all, delete-orphan"
    )
    corrections: Mapped[list[UpdateCorrection]] = relationship(
        back_populates="update", order_by="UpdateCorrection.id", cascade="all, delete-orphan"
    )


class UpdateCorrection(Base):
    """The words an update had before a correction: kept, never shown as current."""

    __tablename__ = "update_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("incident_update.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    corrected_at: Mapped[datetime] = mapped_column(default=clock.now)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"))

    update: Mapped[Update] = relationship(back_populates="corrections")
    corrected_by: Mapped[Operator | None] = relationship()


class ComponentChange(Base):
    __tablename__ = "component_change"
    # The uptime bars read a window of changes by time: for every component (the page) or
    # for one (its page and badges), from these alone, however long the history.
    __table_args__ = (
        Index("ix_component_change_at", "at"),
        Index("ix_component_change_component_at", "component_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("incident_update.id", ondelete="CASCADE"), index=True
    )
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id"))
    old_status: Mapped[ComponentStatus]
    new_status: Mapped[ComponentStatus]
    at: Mapped[datetime]  # when it took effect: its update's display_at

    update: Mapped[Update] = relationship(back_populates="component_changes")
    component: Mapped[Component] = relationship()
