"""The intake path: alert sources (each with its own scoped token), mapping rules, every alert
received, and the private drafts they start.

A Draft is its own table, not an Incident in a hidden state: no public query, feed, export or
API can show it by accident. Publishing a draft opens an Incident through the write path and
links it here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statusboard import clock
from statusboard.domain.statuses import Impact
from statusboard.models.base import Base, new_public_id
from statusboard.models.component import Component
from statusboard.models.incident import Incident
from statusboard.models.operator import Operator


class AlertFormat(StrEnum):
    ALERTMANAGER = "alertmanager"  # Prometheus Alertmanager webhook, version 4
    GRAFANA = "grafana"  # Grafana unified alerting webhook
    GENERIC = "generic"  # statusboard's own small JSON shape


class AlertSource(Base):
    """Where alerts come from; its token can submit alerts to /api/v1/alerts/<name> only.
    Only a SHA-256 digest of the secret is stored (as for API tokens)."""

    __tablename__ = "alert_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # the URL segment
    format: Mapped[AlertFormat]
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<AlertSource {self.name} {self.format}>"


class AlertRule(Base):
    """When an alert's label (or field) `key` equals `value`: it concerns `component` and/or
    has `impact`. Rules apply in position order; for the impact the worst match wins."""

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    key: Mapped[str] = mapped_column(String(120))
    value: Mapped[str] = mapped_column(String(200))
    component_id: Mapped[int | None] = mapped_column(
        ForeignKey("component.id", ondelete="CASCADE"), index=True
    )
    impact: Mapped[Impact | None]
    position: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    component: Mapped[Component | None] = relationship()


class DraftState(StrEnum):
    OPEN = "open"  # waiting for a human: nagged
    PUBLISHED = "published"  # acknowledged in public: incident_id says where
    DISMISSED = "dismissed"  # noise, says an operator (audited)


class Draft(Base):
    """A first public word prepared from alerts, never shown until an operator publishes it."""

    __tablename__ = "draft"
    __table_args__ = (Index("ix_draft_state", "state", "first_alert_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_source.id", ondelete="SET NULL")
    )
    state: Mapped[DraftState] = mapped_column(default=DraftState.OPEN)
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    impact: Mapped[Impact]
    # component public id -> the status the alerts suggest
    components: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    first_alert_at: Mapped[datetime]
    last_alert_at: Mapped[datetime]
    alert_count: Mapped[int] = mapped_column(default=1)
    # Every alert of the draft has resolved: resolving the incident is suggested, not done.
    all_resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    published_at: Mapped[datetime | None]
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"), index=True
    )
    dismissed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"))
    dismiss_reason: Mapped[str | None] = mapped_column(Text)

    source: Mapped[AlertSource | None] = relationship()
    incident: Mapped[Incident | None] = relationship()
    closed_by: Mapped[Operator | None] = relationship()
    alerts: Mapped[list[Alert]] = relationship(back_populates="draft", order_by="Alert.received_at")

    def __repr__(self) -> str:
        return f"<Draft {self.public_id} {self.state} {self.name!r}>"


class AlertOutcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # malformed or unknown payload: `error` says why


class Alert(Base):
    """One received alert (or one refused payload), kept with its raw text for the admin."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_fingerprint", "fingerprint", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_source.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    outcome: Mapped[AlertOutcome] = mapped_column(default=AlertOutcome.ACCEPTED)
    error: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))  # firing | resolved
    fingerprint: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the rules made of it: component public ids, impact, rule ids that matched.
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft.id", ondelete="SET NULL"), index=True
    )

    source: Mapped[AlertSource | None] = relationship()
    draft: Mapped[Draft | None] = relationship(back_populates="alerts")
