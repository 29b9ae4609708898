"""Subscribers: email addresses, webhook URLs and chat rooms (Slack, Discord, Teams incoming
webhooks), optionally limited to some components.

A subscriber may follow only some incidents ("subscribe to this incident").
Nothing is sent to a subscriber before it is confirmed (email: double opt-in; webhooks: created
by an operator or confirmed through the contact email; chat rooms: the platform accepted the
test message, which proves the URL works and is the subscriber's to give).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statusboard import clock
from statusboard.models.base import Base, new_public_id
from statusboard.models.component import Component
from statusboard.models.incident import Incident


class SubscriberKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SLACK = "slack"
    DISCORD = "discord"
    TEAMS = "teams"

    @property
    def is_chat(self) -> bool:
        return self in CHAT_KINDS

    @property
    def label(self) -> str:
        return LABELS[self]


CHAT_KINDS = frozenset({SubscriberKind.SLACK, SubscriberKind.DISCORD, SubscriberKind.TEAMS})
LABELS = {
    SubscriberKind.EMAIL: "Email",
    SubscriberKind.WEBHOOK: "Webhook",
    SubscriberKind.SLACK: "Slack",
    SubscriberKind.DISCORD: "Discord",
    SubscriberKind.TEAMS: "Microsoft Teams",
}


def new_secret() -> str:
    return secrets.token_urlsafe(32)


subscriber_component = Table(
    "subscriber_component",
    Base.metadata,
    Column("subscriber_id", ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True),
    Column("component_id", ForeignKey("component.id", ondelete="CASCADE"), primary_key=True),
)

# "Subscribe to this incident": when a subscriber has rows here, it hears only of these
# incidents (whatever their components); with none, of every incident its components allow.
subscriber_incident = Table(
    "subscriber_incident",
    Base.metadata,
    Column("subscriber_id", ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True),
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
)


class Subscriber(Base):
    __tablename__ = "subscriber"
    __table_args__ = (UniqueConstraint("kind", "address", name="uq_subscriber_kind_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    kind: Mapped[SubscriberKind]
    # The email address (lowercased), or the webhook or chat incoming-webhook URL.
    address: Mapped[str] = mapped_column(String(2000))
    # Webhooks and chat rooms: where notices (disabled after failures) go.
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # Webhooks: the HMAC-SHA256 signing key.
    secret: Mapped[str] = mapped_column(String(64), default=new_secret)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    failures_in_a_row: Mapped[int] = mapped_column(default=0)
    # The IANA zone times are written in for this subscriber; None: the page's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    # Empty means every component.
    components: Mapped[list[Component]] = relationship(
        secondary=subscriber_component, order_by="Component.position"
    )
    # Empty means every incident (of those components).
    incidents: Mapped[list[Incident]] = relationship(
        secondary=subscriber_incident, order_by="Incident.id"
    )

    @property
    def active(self) -> bool:
        return (
            self.confirmed_at is not None
            and self.unsubscribed_at is None
            and self.disabled_at is None
        )

    def __repr__(self) -> str:
        return f"<Subscriber {self.kind} {self.address}>"
