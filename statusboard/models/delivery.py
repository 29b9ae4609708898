"""The delivery ledger (the outbox): one row per (message, channel, target) for everything
statusboard sends to anyone, with a purpose: a public notice of an update (or a maintenance
reminder) to a social account or a subscriber, a nag to an operator, a subscription
confirmation, an alert to the admins.

Rows are inserted in the same transaction as what caused them, so nothing accepted is lost; the
worker claims them (state "sending" with a lease), calls the network outside any transaction
and records the outcome. A claim whose lease ran out belongs to a worker that died: the next
worker takes it over.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statusboard import clock
from statusboard.models.base import Base, new_public_id
from statusboard.models.incident import Incident, Update
from statusboard.models.subscriber import Subscriber


class DeliveryState(StrEnum):
    WAITING = "waiting"  # an earlier delivery of its incident to its target is unfinished
    QUEUED = "queued"  # due for its first attempt
    SENDING = "sending"  # claimed by a worker until claimed_until
    RETRYING = "retrying"  # an attempt failed; the next one is due at next_attempt_at
    SENT = "sent"  # delivered; remote_id/remote_url when the network gave them
    UNCERTAIN = "uncertain"  # the network says it already has it, but gave no id
    FAILED = "failed"  # given up: last_error says why
    CANCELLED = "cancelled"  # the subscriber left before it went out

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES

    @property
    def delivered(self) -> bool:
        return self in (DeliveryState.SENT, DeliveryState.UNCERTAIN)


FINAL_STATES = frozenset(
    {DeliveryState.SENT, DeliveryState.UNCERTAIN, DeliveryState.FAILED, DeliveryState.CANCELLED}
)
DUE_STATES = (DeliveryState.QUEUED, DeliveryState.RETRYING)
DELIVERED = (DeliveryState.SENT, DeliveryState.UNCERTAIN)

# The target of a social channel: the one configured account (and of the operators' room).
ACCOUNT = "account"


class Purpose(StrEnum):
    NOTICE = "notice"  # an update, to a social account or a subscriber
    REMINDER = "reminder"  # a maintenance window starts soon, to the same targets
    NAG = "nag"  # a promise is due or broken, to operators
    CONFIRMATION = "confirmation"  # double opt-in, to a new subscriber
    ALERT = "alert"  # something needs an admin (a refused post, a disabled webhook)
    TEST = "test"  # an admin's test message through one channel
    PURGE = "purge"  # the paths a static export changed, to the CDN purge hook
    CORRECTION = "correction"  # an update's corrected words, edited into its post

    @property
    def is_public(self) -> bool:
        """About an update of an incident or maintenance (built from it when sent)."""
        return self in (Purpose.NOTICE, Purpose.REMINDER, Purpose.CORRECTION)


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint(
            "update_id", "channel", "target", "purpose", name="uq_delivery_update_channel"
        ),
        Index("ix_delivery_due", "state", "next_attempt_at"),
        Index("ix_delivery_chain", "incident_id", "channel", "target", "update_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    purpose: Mapped[Purpose] = mapped_column(default=Purpose.NOTICE)
    # Public notices and reminders: the update they tell of.
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_update.id", ondelete="CASCADE")
    )
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    # Nags: the (promise, level) claim they send.
    nag_id: Mapped[int | None] = mapped_column(ForeignKey("nag.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    # "account" for social channels and the operators' room, the subscriber's public id for
    # notices to subscribers, an email address for nags, confirmations and alerts.
    target: Mapped[str] = mapped_column(String(320))
    # Nags, confirmations and alerts are written when queued: their subject and text.
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="SET NULL"), index=True
    )
    # The operator's own words for this channel, when they wrote some.
    custom_text: Mapped[str | None] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # An attempt may have reached the network (timeout, killed worker): retries must dedupe.
    ambiguous: Mapped[bool] = mapped_column(default=False)
    remote_id: Mapped[str | None] = mapped_column(String(255))
    remote_url: Mapped[str | None] = mapped_column(String(500))
    # What a reply needs to thread under this post (Bluesky: uri and cid), channel-defined.
    remote_ref: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]

    update: Mapped[Update | None] = relationship()
    incident: Mapped[Incident | None] = relationship()
    subscriber: Mapped[Subscriber | None] = relationship()

    def __repr__(self) -> str:
        return f"<Delivery {self.purpose} {self.channel}:{self.target} {self.state}>"


class ChannelSession(Base):
    """A network login kept between runs (Bluesky rate-limits logins)."""

    __tablename__ = "channel_session"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
