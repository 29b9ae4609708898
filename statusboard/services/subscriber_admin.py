"""Subscribers as admins see them: find, look at what was sent, remove, send the confirmation
again, export and import as CSV, and add a webhook or chat room on a customer's behalf.

Imported email addresses are only subscribed at once when an admin attests that these
people already agreed to be emailed (audited, with the admin's words); otherwise each gets
the double opt-in email through the outbox, like someone asking on /subscribe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from statusboard import clock
from statusboard.channels.chat_hooks import InvalidChatHook, platform_of
from statusboard.channels.webhook import Network
from statusboard.config import PageSettings
from statusboard.domain import text
from statusboard.domain.errors import InvalidInput, NotFound
from statusboard.models import Component, Delivery, Subscriber, SubscriberKind
from statusboard.models.subscriber import subscriber_component
from statusboard.services import audit, subscribers
from statusboard.services.audit import Actor


class State(StrEnum):
    PENDING = "pending"  # not confirmed yet (email link, chat test message)
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    DISABLED = "disabled"  # failed too often


def state_of(subscriber: Subscriber) -> State:
    if subscriber.unsubscribed_at is not None:
        return State.UNSUBSCRIBED
    if subscriber.disabled_at is not None:
        return State.DISABLED
    if subscriber.confirmed_at is None:
        return State.PENDING
    return State.ACTIVE


_STATE_WHERE = {
    State.PENDING: (Subscriber.confirmed_at.is_(None), Subscriber.unsubscribed_at.is_(None)),
    State.ACTIVE: (
        Subscriber.confirmed_at.is_not(None),
        Subscriber.unsubscribed_at.is_(None),
        Subscriber.disabled_at.is_(None),
    ),
    State.UNSUBSCRIBED: (Subscriber.unsubscribed_at.is_not(None),),
    State.DISABLED: (Subscriber.disabled_at.is_not(None), Subscriber.unsubscribed_at.is_(None)),
}


@dataclass(frozen=True)
class Page:
    subscribers: list[Subscriber]
    total: int


def find(
    session: Session,
    *,
    search: str = "",
    kind: SubscriberKind | None = None,
    state: State | None = None,
    component: Component | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """Subscribers matching an address or contact search, a kind, a state and a component
    (a subscriber of every component matches any), newest first."""
    query = select(Subscriber)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Subscriber.address).like(pattern),
                func.lower(Subscriber.contact_email).like(pattern),
            )
        )
    if kind is not None:
        query = query.where(Subscriber.kind == kind)
    if state is not None:
        query = query.where(*_STATE_WHERE[state])
    if component is not None:
        chosen = select(subscriber_component.c.subscriber_id)
        query = query.where(
            or_(
                Subscriber.id.in_(
                    chosen.where(subscriber_component.c.component_id == component.id)
                ),
                Subscriber.id.not_in(chosen),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(selectinload(Subscriber.components))
        .order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(list(rows), total)


def recently_disabled(session: Session, *, days: int = 7) -> int:
    """Webhooks and chat rooms disabled after repeated failures in the last `days` days."""
    since = clock.now() - timedelta(days=days)
    return (
        session.scalar(
            select(func.count()).where(
                Subscriber.disabled_at >= since, Subscriber.unsubscribed_at.is_(None)
            )
        )
        or 0
    )


def get(session: Session, public_id: str) -> Subscriber:
    subscriber = session.scalar(select(Subscriber).where(Subscriber.public_id == public_id))
    if subscriber is None:
        raise NotFound("no such subscriber", field="subscriber")
    return subscriber


def history(session: Session, subscriber: Subscriber, *, limit: int = 100) -> list[Delivery]:
    """What was sent (or tried) to this subscriber, newest first."""
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.subscriber_id == subscriber.id)
            .options(selectinload(Delivery.incident))
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )


def remove(session: Session, *, subscriber: Subscriber, actor: Actor) -> None:
    """Delete the subscriber; nothing queued for it goes out, and the audit log keeps who."""
    subscribers.cancel_pending(session, subscriber)
    audit.record(
        session,
        actor=actor,
        action="subscriber.removed",
        subject_type="subscriber",
        subject_id=subscriber.public_id,
        kind=subscriber.kind.value,
        address=subscriber.address,
    )
    session.delete(subscriber)


def resend_confirmation(
    session: Session,
    *,
    subscriber: Subscriber,
    actor: Actor,
    page: PageSettings,
    secret_key: str,
    enabled: frozenset[str],
) -> None:
    """The confirmation again: the email link, the webhook's contact email, or the chat
    room's test message."""
    if state_of(subscriber) is not State.PENDING:
        raise InvalidInput("only a subscriber still waiting to confirm gets this", field=None)
    if subscriber.kind.is_chat:
        subscribers.queue_chat_test(session, subscriber, page=page, secret_key=secret_key)
    else:
        to = subscriber.address if subscriber.kind is SubscriberKind.EMAIL else None
        to = to or subscriber.contact_email
        if not to or not subscribers.queue_confirmation(
            session, subscriber, to=to, page=page, secret_key=secret_key, enabled=enabled
        ):
            raise InvalidInput("email is not configured, so no confirmation can go", field=None)
    audit.record(
        session,
        actor=actor,
        action="subscriber.confirmation_resent",
        subject_type="subscriber",
        subject_id=subscriber.public_id,
    )


def add_on_behalf(
    session: Session,
    *,
    url: str,
    contact_email: str,
    components: Iterable[Component],
    time_zone: str | None,
    actor: Actor,
    context: ImportContext,
) -> Subscriber:
    """An operator adds a customer's webhook (active at once: the operator vouches for it)
    or chat room (active when its platform accepts the test message, as on /subscribe)."""
    try:
        platform_of(url)
        chat = True
    except InvalidChatHook:
        chat = False
    if chat:
        subscriber, owed = subscribers.request_chat(
            session,
            url=url,
            components=components,
            time_zone=time_zone,
            contact_email=contact_email,
            allow=context.allow,
            base_url=context.chat_base_url,
        )
        if owed:
            subscribers.queue_chat_test(
                session, subscriber, page=context.page, secret_key=context.secret_key
            )
    else:
        subscriber = subscribers.request_webhook(
            session,
            url=url,
            contact_email=contact_email,
            components=components,
            allow=context.allow,
            confirmed=True,
        )
        subscriber.time_zone = subscribers.clean_time_zone(time_zone)
    audit.record(
        session,
        actor=actor,
        action="subscriber.added",
        subject_type="subscriber",
        subject_id=subscriber.public_id,
        kind=subscriber.kind.value,
        on_behalf_of=subscriber.contact_email,
    )
    return subscriber


# --- CSV ------------------------------------------------------------------------------------

COLUMNS = (
    "kind",
    "address",
    "state",
    "contact_email",
    "components",
    "time_zone",
    "created_at",
    "confirmed_at",
)


def export_csv(session: Session) -> str:
    """Every subscriber, one row each; components by name, separated by "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    rows = session.scalars(
        select(Subscriber).options(selectinload(Subscriber.components)).order_by(Subscriber.id)
    )
    for s in rows:
        writer.writerow(
            [
                s.kind.value,
                _cell(s.address),
                state_of(s).value,
                _cell(s.contact_email or ""),
                _cell("; ".join(c.name for c in s.components)),
                s.time_zone or "",
                _iso(s.created_at),
                _iso(s.confirmed_at),
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula: quote it."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0  # already subscribed here
    confirmations: int = 0  # opt-in emails and chat test messages queued
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportContext:
    page: PageSettings
    secret_key: str
    enabled: frozenset[str]
    allow: Iterable[Network] = ()
    chat_base_url: str | None = None


def import_csv(
    session: Session,
    data: str,
    *,
    actor: Actor,
    context: ImportContext,
    attestation: str | None = None,
) -> ImportResult:
    """Subscribers from a CSV in export_csv's shape. Addresses already here are left alone.
    With an attestation, email rows that were active stay active (audited); without one each
    gets the double opt-in email. Unsubscribed rows come back unsubscribed, so nobody who left
    is written to again; chat rooms get their test message; webhooks confirm through their
    contact (or are active under an attestation)."""
    if attestation is not None:
        attestation = text.clean(attestation, field="attestation", max_length=500).strip() or None
    result = ImportResult()
    names = {c.name: c for c in session.scalars(select(Component)) if not c.is_group}
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    missing = {"kind", "address"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(f"the CSV needs the columns: {', '.join(COLUMNS)}", field="file")
    for number, row in enumerate(reader, start=2):
        try:
            created = _import_row(session, row, names, attestation, context, result)
        except InvalidInput as error:
            result.errors.append(f"line {number}: {error.message}")
            continue
        if created:
            result.created += 1
        else:
            result.skipped += 1
    if attestation and result.created:
        audit.record(
            session,
            actor=actor,
            action="subscribers.imported_with_attestation",
            subject_type="subscriber",
            subject_id="import",
            attestation=attestation,
            created=result.created,
        )
    return result


def _import_row(
    session: Session,
    row: dict[str, str],
    names: dict[str, Component],
    attestation: str | None,
    context: ImportContext,
    result: ImportResult,
) -> bool:
    try:
        kind = SubscriberKind((row.get("kind") or "").strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown kind {row.get('kind')!r}", field="kind") from None
    address = text.clean(
        (row.get("address") or "").strip().removeprefix("'"),
        field="address",
        max_length=2000,
        one_line=True,
    )
    if kind is SubscriberKind.EMAIL:
        address = subscribers.clean_email(address)
    elif kind.is_chat:
        try:
            if platform_of(address) != kind.value:
                raise InvalidInput(f"not a {kind.label} webhook URL", field="address")
        except InvalidChatHook as exc:
            raise InvalidInput(str(exc), field="address") from None
    elif not address.startswith(("https://", "http://")):
        raise InvalidInput("a webhook address must be an http(s) URL", field="address")
    if session.scalar(
        select(Subscriber.id).where(Subscriber.kind == kind, Subscriber.address == address)
    ):
        return False
    chosen = [
        names[name.strip()]
        for name in (row.get("components") or "").removeprefix("'").split(";")
        if name.strip() in names
    ]
    zone = subscribers.clean_time_zone(row.get("time_zone"))
    state = (row.get("state") or "active").strip().lower()
    contact = (row.get("contact_email") or "").strip().removeprefix("'")
    subscriber = Subscriber(
        kind=kind,
        address=address,
        contact_email=subscribers.clean_email(contact) if contact else None,
        time_zone=zone,
        created_at=clock.now(),
        components=chosen,
    )
    session.add(subscriber)
    session.flush()
    now = clock.now()
    if state == State.UNSUBSCRIBED:
        subscriber.unsubscribed_at = now
    elif state == State.DISABLED:
        subscriber.disabled_at = now
        subscriber.confirmed_at = now
    elif state == State.ACTIVE and attestation and not kind.is_chat:
        subscriber.confirmed_at = now
    elif kind.is_chat:
        subscribers.queue_chat_test(
            session, subscriber, page=context.page, secret_key=context.secret_key
        )
        result.confirmations += 1
    elif subscriber.contact_email or kind is SubscriberKind.EMAIL:
        to = address if kind is SubscriberKind.EMAIL else subscriber.contact_email or ""
        if subscribers.queue_confirmation(
            session,
            subscriber,
            to=to,
            page=context.page,
            secret_key=context.secret_key,
            enabled=context.enabled,
        ):
            result.confirmations += 1
    return True
