"""The outbox: everything statusboard sends to anyone is a Delivery row, queued in the
transaction that caused it, and sent here by the worker — public notices and reminders,
operator nags, subscription confirmations, admin alerts. One claim, one send, one record, and
one retry policy (domain/retry.py) with limits per purpose.

The network is called outside any transaction; a claim is a lease, so a dead worker's claims
are taken over, marked ambiguous, and retried with each network's idempotency. Nothing here
runs in a web request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, exists, func, literal, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from statusboard import clock
from statusboard.channels.base import (
    Channel,
    ChannelError,
    Letter,
    Message,
    Notice,
    Receipt,
    ThreadRef,
)
from statusboard.channels.chat_hooks import is_gone
from statusboard.config import CHAT_PLATFORMS, Settings
from statusboard.db import Database
from statusboard.domain.retry import Failure, next_attempt
from statusboard.models import (
    Delivery,
    DeliveryState,
    Nag,
    Operator,
    Role,
    Subscriber,
    SubscriberKind,
)
from statusboard.models.base import new_public_id
from statusboard.models.delivery import DUE_STATES, FINAL_STATES, Purpose
from statusboard.services import publishing
from statusboard.services.page import bump_version

log = logging.getLogger("statusboard.outbox")

# Channels that carry letters to people (subscribers' chat rooms get their test message as
# one); the others only tell the public.
LETTER_CHANNELS = frozenset({"email", "chat", *CHAT_PLATFORMS})


@dataclass(frozen=True)
class OutboxContext:
    """What sending needs to know about the deployment (from settings, at the edge)."""

    notices: publishing.NoticeContext
    lease: timedelta = timedelta(seconds=60)
    webhook_max_failures: int = 5

    @classmethod
    def from_settings(cls, settings: Settings, secret_key: str) -> OutboxContext:
        return cls(
            notices=publishing.NoticeContext(
                base_url=settings.page.base_url,
                page_name=settings.page.name,
                time_zone=settings.page.time_zone,
                secret_key=secret_key,
            ),
            lease=settings.delivery.lease,
            webhook_max_failures=settings.delivery.webhook_max_failures,
        )


# --- queueing letters (nags, confirmations, alerts) ------------------------------------------


def queue_letter(
    session: Session,
    *,
    purpose: Purpose,
    channel: str,
    to: str,
    subject: str,
    text: str,
    nag_id: int | None = None,
    subscriber_id: int | None = None,
) -> Delivery:
    """Queue a message written to one person (or to the operators' room: to="account")."""
    now = clock.now()
    delivery = Delivery(
        public_id=new_public_id(),
        purpose=purpose,
        channel=channel,
        target=to,
        subject=subject[:500],
        body=text,
        nag_id=nag_id,
        subscriber_id=subscriber_id,
        state=DeliveryState.QUEUED,
        attempts=0,
        ambiguous=False,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


def alert_admins(session: Session, *, enabled: Iterable[str], subject: str, text: str) -> int:
    """Tell the active admins by email; when email is off, the log is all there is."""
    if "email" not in set(enabled):
        log.error("alert (email is off, so no admin hears of it): %s — %s", subject, text)
        return 0
    admins = session.scalars(
        select(Operator.email).where(Operator.role == Role.ADMIN, Operator.active.is_(True))
    ).all()
    for address in admins:
        queue_letter(
            session, purpose=Purpose.ALERT, channel="email", to=address, subject=subject, text=text
        )
    return len(admins)


# --- the worker path ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    delivery_id: int
    channel: str
    message: Message
    thread: ThreadRef | None


@dataclass(frozen=True)
class Outcome:
    job: Job
    receipt: Receipt | None = None
    error: ChannelError | None = None


def deliver_due(
    db: Database,
    channels: Mapping[str, Channel],
    context: OutboxContext,
    *,
    worker: str,
    limit: int = 200,
    executor: Executor | None = None,
) -> int:
    """Claim due deliveries, send them outside any transaction, record what happened.
    Returns how many were claimed (0: nothing due). The worker runs the same three stages
    overlapped (jobs.delivery_loop); this is the one-round form."""
    jobs = take_due(db, channels, context, worker=worker, limit=limit)
    if not jobs:
        return 0
    send = sender(channels)
    outcomes = list(executor.map(send, jobs)) if executor else [send(job) for job in jobs]
    finish(db, outcomes, context, worker=worker, enabled=channels.keys())
    return len(jobs)


def take_due(
    db: Database,
    channels: Mapping[str, Channel],
    context: OutboxContext,
    *,
    worker: str,
    limit: int,
) -> list[Job]:
    """Claim up to `limit` due deliveries and build what each sends."""
    with db.session() as session:
        release_waiting(session)
    # Claims and outcomes read then write ledger rows. PostgreSQL locks rows (SKIP LOCKED in
    # the claim query); SQLite takes its write lock up front (BEGIN IMMEDIATE), so two
    # workers never read the same due rows and a read snapshot never has to be upgraded to
    # a write (which WAL refuses at once with "database is locked").
    with db.session(write_lock=True) as session:
        rows = claim(session, channels, context, worker=worker, limit=limit)
    if not rows:
        return []
    with db.session() as session:  # built outside the claim: SQLite's write lock is brief
        return _jobs(session, rows, context)


def finish(
    db: Database,
    outcomes: list[Outcome],
    context: OutboxContext,
    *,
    worker: str,
    enabled: Iterable[str],
) -> None:
    """Record the outcomes of sent jobs (and the alerts they call for) in one transaction."""
    with db.session(write_lock=True) as session:
        record(session, outcomes, context, worker=worker, enabled=enabled)


def sender(channels: Mapping[str, Channel]) -> Callable[[Job], Outcome]:
    def send(job: Job) -> Outcome:
        try:
            return Outcome(job, receipt=channels[job.channel].publish(job.message, job.thread))
        except ChannelError as error:
            return Outcome(job, error=error)
        except Exception as exc:  # a bug or an unexpected library error: record, retry later
            log.exception("delivery %s raised", job.message.delivery_id)
            return Outcome(
                job,
                error=ChannelError(f"unexpected error: {exc!r}", retryable=True, ambiguous=True),
            )

    return send


def renew_claims(session: Session, *, worker: str, lease: timedelta) -> int:
    """Extend the claims this worker is still sending: a live worker keeps its batch however
    slow its receivers (a batch of 512 at a 10 s timeout may take longer than one lease),
    while a dead worker's claims lapse within a lease and are taken over."""
    result = session.execute(
        sql_update(Delivery)
        .where(Delivery.state == DeliveryState.SENDING, Delivery.claimed_by == worker)
        .values(claimed_until=clock.now() + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release_waiting(session: Session) -> int:
    """Make due every waiting delivery whose earlier ones (same incident, same target) are all
    finished. Runs before each claim, so a chain moves on within one round of the loop."""
    earlier = aliased(Delivery)
    blocked = exists().where(
        earlier.incident_id == Delivery.incident_id,
        earlier.channel == Delivery.channel,
        earlier.target == Delivery.target,
        earlier.id < Delivery.id,
        earlier.state.not_in(list(FINAL_STATES)),
    )
    result = session.execute(
        sql_update(Delivery)
        .where(Delivery.state == DeliveryState.WAITING, ~blocked)
        .values(state=DeliveryState.QUEUED, next_attempt_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _claimable(
    session: Session, condition: Any, order: list[Any], channels: Iterable[str], limit: int
) -> list[Delivery]:
    query = (
        select(Delivery)
        .where(condition, Delivery.channel.in_(list(channels)))
        .order_by(*order)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    return list(session.scalars(query))


def claim(
    session: Session,
    channels: Mapping[str, Channel],
    context: OutboxContext,
    *,
    worker: str,
    limit: int,
) -> list[Delivery]:
    """Take up to `limit` due deliveries for this worker (skip-locked / immediate). Commits
    nothing: the caller's transaction makes the claim durable."""
    now = clock.now()
    # Two index-friendly queries (ix_delivery_due): claims of dead workers, then due rows.
    rows = _claimable(
        session,
        and_(Delivery.state == DeliveryState.SENDING, Delivery.claimed_until < now),
        [Delivery.claimed_until],
        channels,
        limit,
    )
    rows += _claimable(
        session,
        and_(Delivery.state.in_(DUE_STATES), Delivery.next_attempt_at <= now),
        [Delivery.next_attempt_at, Delivery.id],
        channels,
        limit - len(rows),
    )
    if not rows:
        return []
    # One UPDATE for the batch instead of the unit of work flushing each row: a claim's CPU
    # per 3,000 deliveries went from 0.69 s to about 0.2 s. The loaded rows are given the
    # same values as committed ones, so they say what the database now holds.
    until = now + context.lease
    session.execute(
        sql_update(Delivery)
        .where(Delivery.id.in_([row.id for row in rows]))
        .values(
            # A claim taken over from a dead worker may have reached the network.
            ambiguous=or_(Delivery.ambiguous, Delivery.state == DeliveryState.SENDING),
            state=DeliveryState.SENDING,
            claimed_by=worker,
            claimed_until=until,
            attempts=Delivery.attempts + 1,
            first_attempt_at=func.coalesce(
                Delivery.first_attempt_at, literal(now, Delivery.first_attempt_at.type)
            ),
        )
        .execution_options(synchronize_session=False)
    )
    for row in rows:
        claimed = {
            "ambiguous": row.ambiguous or row.state is DeliveryState.SENDING,
            "state": DeliveryState.SENDING,
            "claimed_by": worker,
            "claimed_until": until,
            "attempts": row.attempts + 1,
            "first_attempt_at": row.first_attempt_at or now,
        }
        for key, value in claimed.items():
            set_committed_value(row, key, value)
    return rows


def _jobs(session: Session, rows: list[Delivery], context: OutboxContext) -> list[Job]:
    notices = publishing.notices_for(session, rows, context.notices)
    # A letter to a chat room goes to its subscriber's hook, too long to be the row's target.
    hooks = _hooks(
        session, [r for r in rows if r.channel in CHAT_PLATFORMS and r.id not in notices]
    )
    jobs = []
    for row in rows:
        if row.id in notices:
            notice, thread = notices[row.id]
            jobs.append(Job(row.id, row.channel, notice, thread))
        elif row.purpose is Purpose.TEST and row.channel not in LETTER_CHANNELS:
            jobs.append(Job(row.id, row.channel, _test_notice(row, context), None))
        else:
            letter = Letter(
                delivery_id=row.public_id,
                to=hooks.get(row.subscriber_id or 0, row.target),
                subject=row.subject or "",
                text=row.body or "",
                urgent=row.purpose is Purpose.NAG,
                ambiguous=row.ambiguous,
            )
            jobs.append(Job(row.id, row.channel, letter, None))
    return jobs


def _hooks(session: Session, rows: list[Delivery]) -> dict[int, str]:
    ids = {r.subscriber_id for r in rows if r.subscriber_id is not None}
    if not ids:
        return {}
    found = session.execute(select(Subscriber.id, Subscriber.address).where(Subscriber.id.in_(ids)))
    return {subscriber_id: address for subscriber_id, address in found}


def _test_notice(row: Delivery, context: OutboxContext) -> Notice:
    return Notice(
        delivery_id=row.public_id,
        incident_id="test",
        incident_name=row.subject or "Test post",
        update_id=row.public_id,
        status="investigating",
        text=row.body or "",
        html="",
        url=context.notices.base_url,
        created_at=row.created_at,
        ambiguous=row.ambiguous,
    )


@dataclass(frozen=True)
class Alert:
    to: str | None  # None: the admins
    subject: str
    text: str


def record(
    session: Session,
    outcomes: list[Outcome],
    context: OutboxContext,
    *,
    worker: str,
    enabled: Iterable[str],
) -> None:
    """Write each outcome onto its delivery (if this worker still holds the claim), and queue
    the alerts they call for in the same transaction."""
    now = clock.now()
    _record_sent(session, [o for o in outcomes if _plain_notice_sent(o)], now, worker=worker)
    outcomes = [o for o in outcomes if not _plain_notice_sent(o)]
    ids = [o.job.delivery_id for o in outcomes]
    rows = {
        d.id: d
        for d in session.scalars(
            select(Delivery)
            .where(
                Delivery.id.in_(ids),
                Delivery.claimed_by == worker,
                Delivery.state == DeliveryState.SENDING,
            )
            .options(selectinload(Delivery.subscriber))
        )
    }
    alerts: list[Alert] = []
    for outcome in outcomes:
        row = rows.get(outcome.job.delivery_id)
        if row is None:
            continue  # the lease ran out and another worker took over
        row.claimed_until = None
        if outcome.receipt is not None:
            _delivered(row, outcome.receipt, now, alerts)
        else:
            assert outcome.error is not None
            _failed_attempt(row, outcome.error, now, context, alerts)
    nag_rows = [row for row in rows.values() if row.nag_id is not None]
    if nag_rows:
        _record_nags(session, nag_rows)
    enabled = set(enabled)
    for alert in alerts:
        if alert.to is None:
            alert_admins(session, enabled=enabled, subject=alert.subject, text=alert.text)
        elif "email" in enabled:
            queue_letter(
                session,
                purpose=Purpose.ALERT,
                channel="email",
                to=alert.to,
                subject=alert.subject,
                text=alert.text,
            )


def _plain_notice_sent(outcome: Outcome) -> bool:
    receipt = outcome.receipt
    return isinstance(outcome.job.message, Notice) and receipt is not None and not receipt.uncertain


def _record_sent(session: Session, outcomes: list[Outcome], now: datetime, *, worker: str) -> None:
    """What _delivered does, for the notices sent plainly that are nearly all of a fan-out, in
    two statements and no ORM objects: record's CPU per 3,000 went from about 0.8 s to 0.24 s.
    (Letters — nags, confirmations, alerts — take the general path.)"""
    if not outcomes:
        return
    table = Delivery.__table__
    assert isinstance(table, Table)
    session.execute(
        sql_update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.claimed_by == worker,
            table.c.state == DeliveryState.SENDING,
        )
        .values(
            state=DeliveryState.SENT,
            remote_id=bindparam("b_remote_id"),
            remote_url=bindparam("b_remote_url"),
            remote_ref=bindparam("b_remote_ref"),
            sent_at=now,
            last_error=None,
            claimed_until=None,
        ),
        [
            {
                "b_id": o.job.delivery_id,
                "b_remote_id": o.receipt.remote_id,
                "b_remote_url": o.receipt.url,
                "b_remote_ref": o.receipt.ref,
            }
            for o in outcomes
            if o.receipt is not None
        ],
    )
    ids = [o.job.delivery_id for o in outcomes]
    session.execute(
        sql_update(Subscriber)
        .where(
            Subscriber.failures_in_a_row != 0,
            Subscriber.id.in_(select(Delivery.subscriber_id).where(Delivery.id.in_(ids))),
        )
        .values(failures_in_a_row=0)
        .execution_options(synchronize_session=False)
    )


def _record_nags(session: Session, rows: list[Delivery]) -> None:
    """A nag was sent when any of its deliveries reached someone; per channel, the outcome."""
    nags = {
        nag.id: nag
        for nag in session.scalars(select(Nag).where(Nag.id.in_({r.nag_id for r in rows})))
    }
    first_sent = False
    for row in rows:
        nag = nags.get(row.nag_id or 0)
        if nag is None:
            continue
        outcome = dict(nag.outcome or {})
        if row.state.delivered:
            first_sent = first_sent or nag.sent_at is None
            nag.sent_at = nag.sent_at or row.sent_at
            outcome[row.channel] = "sent"
        elif row.state is DeliveryState.FAILED and outcome.get(row.channel) != "sent":
            outcome[row.channel] = row.last_error or "failed"
            nag.error = f"{row.channel}: {row.last_error}"
        nag.outcome = outcome
    if first_sent:
        # The public page now says "the team has been reminded" (services/timeline.py).
        bump_version(session)


def _delivered(row: Delivery, receipt: Receipt, now: datetime, alerts: list[Alert]) -> None:
    row.state = DeliveryState.UNCERTAIN if receipt.uncertain else DeliveryState.SENT
    row.remote_id, row.remote_url = receipt.remote_id, receipt.url
    row.remote_ref = receipt.ref
    row.sent_at, row.last_error = now, None
    subscriber = row.subscriber
    if subscriber is not None:
        subscriber.failures_in_a_row = 0
        # A chat room is subscribed once its platform accepted the test message.
        if (
            row.purpose is Purpose.CONFIRMATION
            and subscriber.kind.is_chat
            and subscriber.confirmed_at is None
        ):
            subscriber.confirmed_at = now
    if receipt.uncertain:
        alerts.append(
            Alert(
                None,
                f"{row.channel}: a post may exist without a known id",
                f"Delivery {row.public_id} on {row.channel} was refused as a "
                "duplicate after an attempt whose outcome was unknown; it is "
                "recorded as delivered with no remote id. Check the account.",
            )
        )


def needs_operators(error: ChannelError) -> bool:
    """Failures a retry cannot fix and a person must: credentials, permissions, content."""
    return not error.retryable and error.status in (401, 403, 422)


def _failed_attempt(
    row: Delivery, error: ChannelError, now: datetime, context: OutboxContext, alerts: list[Alert]
) -> None:
    row.last_error = str(error)[:2000]
    row.ambiguous = row.ambiguous or error.ambiguous
    retry_at = next_attempt(
        row.purpose.value,
        Failure(retryable=error.retryable, retry_at=error.retry_at),
        attempts=row.attempts,
        now=now,
    )
    if retry_at is not None:
        row.state, row.next_attempt_at = DeliveryState.RETRYING, retry_at
        return
    row.state = DeliveryState.FAILED
    # An alert that fails is not alerted about again: that would loop. A subscriber's own
    # chat room refusing is the subscriber's affair until it is disabled (below).
    chat_room = row.subscriber is not None and row.subscriber.kind.is_chat
    if needs_operators(error) and row.purpose is not Purpose.ALERT and not chat_room:
        alerts.append(
            Alert(
                None,
                f"{row.channel} refused a message: {error.status}",
                f"Delivery {row.public_id} ({row.purpose.value}) failed at once and will not "
                f"be retried:\n\n{error}\n\nCheck the {row.channel} settings.",
            )
        )
    subscriber = row.subscriber
    if (
        subscriber is not None
        and row.purpose.is_public
        and subscriber.kind is not SubscriberKind.EMAIL
    ):
        _count_failure(subscriber, error, now, context, alerts)


def _count_failure(
    subscriber: Subscriber,
    error: ChannelError,
    now: datetime,
    context: OutboxContext,
    alerts: list[Alert],
) -> None:
    """A webhook or chat room that keeps failing is disabled, and its contact and (for a
    chat room the platform says is gone) the admins are told."""
    subscriber.failures_in_a_row += 1
    if subscriber.failures_in_a_row < context.webhook_max_failures or subscriber.disabled_at:
        return
    subscriber.disabled_at = now
    what = f"{subscriber.kind.label} webhook" if subscriber.kind.is_chat else "webhook"
    text = (
        f"Deliveries to {subscriber.address} failed {subscriber.failures_in_a_row} times in "
        f"a row, so we stopped sending. Last error: {error}"
    )
    if subscriber.contact_email:
        alerts.append(
            Alert(
                subscriber.contact_email,
                f"{what} disabled",
                f"{text}\n\nSubscribe again at {context.notices.base_url}/subscribe.",
            )
        )
    if subscriber.kind.is_chat:
        gone = " The platform says this webhook no longer exists." if is_gone(error) else ""
        alerts.append(
            Alert(
                None,
                f"A {what} subscriber was disabled",
                f"{text}.{gone}\n\nSubscriber: {context.notices.base_url}/admin/subscribers/"
                f"{subscriber.public_id}",
            )
        )
