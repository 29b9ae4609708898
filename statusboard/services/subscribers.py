"""Subscribers: request (double opt-in; a chat room's test message), confirm, choose
components, unsubscribe.

Links are signed with the app's secret (itsdangerous): confirmation links expire, manage and
unsubscribe links do not (they sit in every email ever sent). Asking again for an address that
exists changes nothing visible: the caller answers the same either way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.channels.chat_hooks import InvalidChatHook, check_hook
from statusboard.channels.webhook import Network, UnsafeTarget, check_target
from statusboard.config import PageSettings
from statusboard.domain.errors import InvalidInput, NotFound
from statusboard.models import (
    Component,
    Delivery,
    DeliveryState,
    Incident,
    Subscriber,
    SubscriberKind,
)
from statusboard.models.delivery import FINAL_STATES, Purpose
from statusboard.services import outbox

CONFIRM_MAX_AGE = timedelta(hours=48)
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


@functools.lru_cache(maxsize=4)
def _confirm_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="statusboard.subscriber.confirm")


@functools.lru_cache(maxsize=4)
def _manage_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="statusboard.subscriber.manage")


def confirm_token(secret_key: str, subscriber: Subscriber) -> str:
    return _confirm_serializer(secret_key).dumps(subscriber.public_id)


def manage_token(secret_key: str, subscriber: Subscriber) -> str:
    return manage_token_of(secret_key, subscriber.public_id)


def manage_token_of(secret_key: str, public_id: str) -> str:
    """The token of the subscriber with this public id (for a fan-out that loads no objects)."""
    return _manage_serializer(secret_key).dumps(public_id)


def manage_url(base_url: str, secret_key: str, subscriber: Subscriber) -> str:
    return f"{base_url}/subscribe/manage/{manage_token(secret_key, subscriber)}"


def unsubscribe_url(base_url: str, secret_key: str, subscriber: Subscriber) -> str:
    return f"{base_url}/subscribe/unsubscribe/{manage_token(secret_key, subscriber)}"


def confirm_url(base_url: str, secret_key: str, subscriber: Subscriber) -> str:
    return f"{base_url}/subscribe/confirm/{confirm_token(secret_key, subscriber)}"


def queue_confirmation(
    session: Session,
    subscriber: Subscriber,
    *,
    to: str,
    page: PageSettings,
    secret_key: str,
    enabled: frozenset[str],
) -> bool:
    """Queue the double opt-in email in the caller's transaction; the worker sends it, so an
    SMTP outage delays it and loses nothing. False when email is off."""
    if "email" not in enabled:
        return False
    link = confirm_url(page.base_url, secret_key, subscriber)
    what = (
        "status updates by email"
        if subscriber.kind is SubscriberKind.EMAIL
        else f"webhook notifications to {subscriber.address}"
    )
    session.flush()
    outbox.queue_letter(
        session,
        purpose=Purpose.CONFIRMATION,
        channel="email",
        to=to,
        subject="Confirm your subscription",
        text=f"Someone, hopefully you, asked for {what} from {page.name}.\n\n"
        f"{what_you_get(subscriber)}\n\n"
        f"Confirm within 48 hours: {link}\n\nIf it was not you, ignore this message.",
        subscriber_id=subscriber.id,
    )
    return True


def what_you_get(subscriber: Subscriber) -> str:
    """One sentence on what a subscriber will hear of: said when asking and when confirmed."""
    if subscriber.incidents:
        names = ", ".join(f'"{i.name}"' for i in subscriber.incidents)
        return f"You will get every update on {names} until it is over, and nothing else."
    if subscriber.components:
        names = ", ".join(c.name for c in subscriber.components)
        return (
            f"You will get incident and maintenance updates that affect: {names}. "
            "You can change these components at any time."
        )
    return "You will get every incident and maintenance update, whatever it affects."


def clean_email(value: str) -> str:
    email = (value or "").strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("enter an email address like name@example.com", field="email")
    return email


def clean_time_zone(value: str | None) -> str | None:
    """An IANA zone name, or None for the page's own."""
    name = (value or "").strip()
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "choose a time zone from the list, like Europe/Berlin", field="time_zone"
        ) from None
    return name


class Refused(InvalidInput):
    """Every field at fault at once (`errors`: field -> message), not one per attempt."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = errors


def request_email(
    session: Session,
    *,
    email: str,
    components: Iterable[Component] = (),
    time_zone: str | None = None,
    incident: Incident | None = None,
) -> Subscriber | None:
    """Record the wish; return the subscriber to send a confirmation link to, or None when the
    address is already confirmed (nothing to send, and nothing the requester may learn).
    With `incident`, the subscriber follows that incident only."""
    email = clean_email(email)
    zone = clean_time_zone(time_zone)
    subscriber = session.scalar(
        select(Subscriber).where(
            Subscriber.kind == SubscriberKind.EMAIL, Subscriber.address == email
        )
    )
    if subscriber is not None and subscriber.active:
        return None
    if subscriber is None:
        subscriber = Subscriber(kind=SubscriberKind.EMAIL, address=email, created_at=clock.now())
        session.add(subscriber)
    subscriber.components = [] if incident is not None else _leaves(components)
    subscriber.incidents = [incident] if incident is not None else []
    subscriber.time_zone = zone
    session.flush()
    return subscriber


def request_chat(
    session: Session,
    *,
    url: str,
    components: Iterable[Component] = (),
    time_zone: str | None = None,
    contact_email: str | None = None,
    allow: Iterable[Network] = (),
    base_url: str | None = None,
) -> tuple[Subscriber, bool]:
    """A Slack, Discord or Teams room by its incoming-webhook URL: (subscriber, whether a test
    message is owed). The room is subscribed when its platform accepts that message — the
    platforms' own proof that whoever pasted the URL controls the room. An active room asked
    again keeps its choices and gets nothing."""
    url = (url or "").strip()
    if len(url) > 2000:
        raise InvalidInput("the URL is too long", field="chat_url")
    try:
        kind = SubscriberKind(check_hook(url, base_url=base_url, allow=allow))
    except InvalidChatHook as exc:
        raise InvalidInput(str(exc), field="chat_url") from exc
    zone = clean_time_zone(time_zone)
    contact = clean_email(contact_email or "") if (contact_email or "").strip() else None
    subscriber = session.scalar(
        select(Subscriber).where(Subscriber.kind == kind, Subscriber.address == url)
    )
    if subscriber is not None and subscriber.active:
        return subscriber, False
    if subscriber is None:
        subscriber = Subscriber(kind=kind, address=url, created_at=clock.now())
        session.add(subscriber)
    subscriber.components = _leaves(components)
    subscriber.time_zone = zone
    subscriber.contact_email = contact
    subscriber.unsubscribed_at = None
    subscriber.disabled_at = None
    subscriber.confirmed_at = None
    subscriber.failures_in_a_row = 0
    session.flush()
    return subscriber, True


def queue_chat_test(
    session: Session, subscriber: Subscriber, *, page: PageSettings, secret_key: str
) -> None:
    """The test message that subscribes a chat room, queued in the caller's transaction; the
    worker posts it and, when the platform accepts it, the room is subscribed."""
    what = ", ".join(c.name for c in subscriber.components) or "every component"
    outbox.queue_letter(
        session,
        purpose=Purpose.CONFIRMATION,
        channel=subscriber.kind.value,
        to=subscriber.public_id,
        subject=f"You will receive {page.name} updates here",
        text=f"Incidents and maintenance of {what} will be posted in this channel, with their "
        f"expected resolution and when the next update is due.\n"
        f"Manage or leave: {manage_url(page.base_url, secret_key, subscriber)}",
        subscriber_id=subscriber.id,
    )


def request_webhook(
    session: Session,
    *,
    url: str,
    contact_email: str,
    components: Iterable[Component] = (),
    allow: Iterable[Network] = (),
    confirmed: bool = False,
) -> Subscriber:
    """A webhook subscriber; confirmed through its contact email unless an operator adds it."""
    url = (url or "").strip()
    errors: dict[str, str] = {}
    if len(url) > 2000:
        errors["url"] = "the URL is too long"
    else:
        try:
            check_target(url, allow)
        except UnsafeTarget as exc:
            errors["url"] = str(exc)
    try:
        contact = clean_email(contact_email)
    except InvalidInput as exc:
        errors["contact_email"] = exc.message
    if errors:
        raise Refused(errors)
    subscriber = session.scalar(
        select(Subscriber).where(
            Subscriber.kind == SubscriberKind.WEBHOOK, Subscriber.address == url
        )
    )
    if subscriber is None:
        subscriber = Subscriber(kind=SubscriberKind.WEBHOOK, address=url, created_at=clock.now())
        session.add(subscriber)
    if not subscriber.active:
        subscriber.contact_email = contact
        subscriber.components = _leaves(components)
        subscriber.unsubscribed_at = None
        subscriber.disabled_at = None
        subscriber.failures_in_a_row = 0
    if confirmed and subscriber.confirmed_at is None:
        subscriber.confirmed_at = clock.now()
    session.flush()
    return subscriber


def confirm(session: Session, *, secret_key: str, token: str) -> Subscriber:
    try:
        public_id = _confirm_serializer(secret_key).loads(
            token, max_age=int(CONFIRM_MAX_AGE.total_seconds())
        )
    except SignatureExpired as exc:
        raise InvalidInput(
            "this confirmation link has expired: subscribe again", field="token"
        ) from exc
    except BadSignature as exc:
        raise NotFound("this confirmation link is not valid", field="token") from exc
    subscriber = _by_public_id(session, public_id)
    now = clock.now()
    if subscriber.confirmed_at is None or subscriber.unsubscribed_at is not None:
        subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    return subscriber


def from_manage_token(session: Session, *, secret_key: str, token: str) -> Subscriber:
    try:
        public_id = _manage_serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise NotFound("this link is not valid", field="token") from exc
    return _by_public_id(session, public_id)


def set_components(
    session: Session, *, subscriber: Subscriber, components: Iterable[Component]
) -> None:
    """Choosing components means every incident of those: following one incident ends."""
    subscriber.components = _leaves(components)
    subscriber.incidents = []


def unsubscribe(session: Session, *, subscriber: Subscriber) -> None:
    """Stop everything for this subscriber, including deliveries not yet sent."""
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = clock.now()
    cancel_pending(session, subscriber)


def cancel_pending(session: Session, subscriber: Subscriber) -> None:
    session.execute(
        update(Delivery)
        .where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.state.not_in(list(FINAL_STATES)),
            Delivery.state != DeliveryState.SENDING,
        )
        .values(state=DeliveryState.CANCELLED)
    )


def _leaves(components: Iterable[Component]) -> list[Component]:
    result: list[Component] = []
    for component in components:
        for leaf in component.children if component.is_group else [component]:
            if leaf not in result:
                result.append(leaf)
    return result


def _by_public_id(session: Session, public_id: str) -> Subscriber:
    subscriber = session.scalar(select(Subscriber).where(Subscriber.public_id == public_id))
    if subscriber is None:
        raise NotFound("this subscription no longer exists", field="token")
    return subscriber
