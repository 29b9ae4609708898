"""Synchronized publishing: fan_out queues deliveries with the update (the outbox), deliver_due
claims and sends them, and the retry policy decides what a failure means — in one place.

Rules kept here:
- one delivery per (update, channel, target), inserted in the update's transaction;
- deliveries of one incident to one target go out in order: a delivery waits while an earlier
  one of the same chain is unfinished, and replies to the latest delivered post (a thread);
- every target that got any notice about an incident gets its resolution (close the loop);
- the network is called outside any transaction; a claim is a lease, so a dead worker's claims
  are taken over, marked ambiguous, and retried with each network's idempotency.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, func, insert, literal, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, aliased, selectinload

from statusboard import clock
from statusboard.channels.base import Channel, ChannelError, Notice, Receipt, ThreadRef
from statusboard.channels.registry import SESSION_INFO_KEY, SOCIAL
from statusboard.db import Database
from statusboard.domain import markup
from statusboard.domain.errors import Conflict
from statusboard.domain.statuses import IncidentStatus
from statusboard.models import (
    Delivery,
    DeliveryState,
    Incident,
    Operator,
    Role,
    Subscriber,
    SubscriberKind,
    Update,
)
from statusboard.models.base import new_public_id
from statusboard.models.delivery import ACCOUNT, DUE_STATES, FINAL_STATES
from statusboard.models.subscriber import subscriber_component
from statusboard.services import subscribers, timeline
from statusboard.services.statuspage import (
    PageInfo,
    component_object,
    component_update_object,
    incident_object,
    webhook_envelope,
)

log = logging.getLogger("statusboard.publishing")

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(minutes=30)
DELIVERED = (DeliveryState.SENT, DeliveryState.UNCERTAIN)


# --- what the operator chose for one update ------------------------------------------------


@dataclass(frozen=True)
class ChannelChoice:
    send: bool = True
    custom_text: str | None = None


PublishOptions = Mapping[str, ChannelChoice]


# --- the write path ------------------------------------------------------------------------


def fan_out(session: Session, *, update: Update, options: PublishOptions | None = None) -> int:
    """Queue one delivery per configured channel and matching confirmed subscriber, and —
    for a resolution — one per target that heard anything about the incident. Returns how
    many were queued. Rows are inserted in bulk: an update may reach many thousands."""
    options = options or {}
    configured: frozenset[str] = session.info.get(SESSION_INFO_KEY, frozenset())
    incident = update.incident
    now = clock.now()
    wanted: dict[tuple[str, str], dict] = {}
    # Targets still owed an earlier update of this incident: the new one waits its turn.
    behind = set(
        session.execute(
            select(Delivery.channel, Delivery.target).where(
                Delivery.incident_id == incident.id,
                Delivery.update_id != update.id,
                Delivery.state.not_in(list(FINAL_STATES)),
            )
        ).tuples()
    )

    def add(channel: str, target: str, subscriber_id: int | None = None) -> None:
        if (channel, target) in wanted or channel not in configured:
            return
        choice = options.get(channel, ChannelChoice())
        wanted[(channel, target)] = {
            "public_id": new_public_id(),
            "update_id": update.id,
            "incident_id": incident.id,
            "channel": channel,
            "target": target,
            "subscriber_id": subscriber_id,
            "custom_text": choice.custom_text or None,
            "state": DeliveryState.WAITING if (channel, target) in behind else DeliveryState.QUEUED,
            "attempts": 0,
            "ambiguous": False,
            "next_attempt_at": now,
            "created_at": now,
        }

    if update.deliver_notifications:
        for channel in SOCIAL:
            if options.get(channel, ChannelChoice()).send:
                add(channel, ACCOUNT)
        changes = [(c.component_id, c.component.public_id) for c in update.component_changes]
        for subscriber_id, public_id, kind, filter_ in _matching_subscribers(
            session, incident, options
        ):
            add(kind.value, public_id, subscriber_id)
            if kind is SubscriberKind.WEBHOOK:
                for component_id, component_public_id in changes:
                    if not filter_ or component_id in filter_:
                        add(kind.value, f"{public_id}/{component_public_id}", subscriber_id)
    if not IncidentStatus(update.status).is_open:
        for channel, target, subscriber_id in _heard_of(session, incident):
            add(channel, target, subscriber_id)
    rows = list(wanted.values())
    for start in range(0, len(rows), 5000):
        session.execute(insert(Delivery), rows[start : start + 5000])
    return len(rows)


def _matching_subscribers(
    session: Session, incident: Incident, options: PublishOptions
) -> list[tuple[int, str, SubscriberKind, set[int]]]:
    """(id, public id, kind, component filter) of confirmed subscribers who want this
    incident: an empty filter means every component."""
    kinds = [k for k in SubscriberKind if options.get(k.value, ChannelChoice()).send]
    if not kinds:
        return []
    filters: dict[int, set[int]] = {}
    for subscriber_id, component_id in session.execute(
        select(subscriber_component.c.subscriber_id, subscriber_component.c.component_id)
    ):
        filters.setdefault(subscriber_id, set()).add(component_id)
    affected = {c.id for c in incident.components}
    candidates = session.execute(
        select(Subscriber.id, Subscriber.public_id, Subscriber.kind)
        .where(Subscriber.kind.in_(kinds), *_active())
        .order_by(Subscriber.id)
    )
    return [
        (sid, public_id, kind, filters.get(sid, set()))
        for sid, public_id, kind in candidates
        if sid not in filters or filters[sid] & affected
    ]


def _active():
    return (
        Subscriber.confirmed_at.is_not(None),
        Subscriber.unsubscribed_at.is_(None),
        Subscriber.disabled_at.is_(None),
    )


def _heard_of(session: Session, incident: Incident) -> list[tuple[str, str, int | None]]:
    """Targets with any delivery of this incident that went out or may still go out, unless
    their subscriber has left since."""
    rows = session.execute(
        select(Delivery.channel, Delivery.target, Delivery.subscriber_id)
        .outerjoin(Subscriber, Delivery.subscriber_id == Subscriber.id)
        .where(
            Delivery.incident_id == incident.id,
            Delivery.state.not_in([DeliveryState.FAILED, DeliveryState.CANCELLED]),
            or_(Delivery.subscriber_id.is_(None), and_(*_active())),
        )
        .distinct()
    )
    return [(channel, target, subscriber_id) for channel, target, subscriber_id in rows]


# --- the retry policy (the only one) --------------------------------------------------------


def next_step(
    error: ChannelError, *, attempts: int, now: datetime, rand: Callable[[], float] = random.random
) -> datetime | None:
    """When to try again after a failed attempt, or None to give up now.

    Auth and validation errors (401/403/422 and other final answers) give up at once;
    network errors, timeouts, 429 and 5xx back off exponentially with jitter, waiting at least
    until a rate-limit reset the network announced; after MAX_ATTEMPTS we give up."""
    if not error.retryable or attempts >= MAX_ATTEMPTS:
        return None
    backoff = min(BASE_DELAY * (2 ** (attempts - 1)), MAX_DELAY)
    jittered = backoff.total_seconds() * (0.5 + rand())  # jitter: 0.5x to 1.5x
    at = now + timedelta(milliseconds=int(jittered * 1000))  # the clock's precision
    if error.retry_at is not None and error.retry_at > at:
        at = error.retry_at + timedelta(seconds=1)
    return at


def needs_operators(error: ChannelError) -> bool:
    """Failures a retry cannot fix and a person must: credentials, permissions, content."""
    return not error.retryable and error.status in (401, 403, 422)


# --- the worker path ------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishContext:
    """What sending needs to know about the deployment (from settings, at the edge)."""

    base_url: str
    page_name: str
    time_zone: str
    secret_key: str
    lease: timedelta = timedelta(seconds=60)
    webhook_max_failures: int = 5


@dataclass(frozen=True)
class Job:
    delivery_id: int
    channel: str
    notice: Notice
    thread: ThreadRef | None


@dataclass(frozen=True)
class Outcome:
    job: Job
    receipt: Receipt | None = None
    error: ChannelError | None = None


def deliver_due(
    db: Database,
    channels: Mapping[str, Channel],
    context: PublishContext,
    *,
    worker: str,
    limit: int = 200,
    executor: Executor | None = None,
) -> int:
    """Claim due deliveries, send them outside any transaction, record what happened.
    Returns how many were claimed (0: nothing due)."""
    with db.session() as session:
        release_waiting(session)
    # Claims and outcomes read then write ledger rows. PostgreSQL locks rows (SKIP LOCKED in
    # the claim query); SQLite takes its write lock up front (BEGIN IMMEDIATE), so two
    # workers never read the same due rows and a read snapshot never has to be upgraded to
    # a write (which WAL refuses at once with "database is locked").
    with db.session(write_lock=True) as session:
        rows = claim(session, channels, context, worker=worker, limit=limit)
    if not rows:
        return 0
    with db.session() as session:  # built outside the claim: SQLite's write lock is brief
        jobs = _jobs(session, rows, context)
    send = _sender(channels)
    outcomes = list(executor.map(send, jobs)) if executor else [send(job) for job in jobs]
    with db.session(write_lock=True) as session:
        alerts = record(session, outcomes, context, worker=worker)
    _send_alerts(db, channels, alerts)
    return len(jobs)


def _sender(channels: Mapping[str, Channel]) -> Callable[[Job], Outcome]:
    def send(job: Job) -> Outcome:
        try:
            return Outcome(job, receipt=channels[job.channel].publish(job.notice, job.thread))
        except ChannelError as error:
            return Outcome(job, error=error)
        except Exception as exc:  # a bug or an unexpected library error: record, retry later
            log.exception("delivery %s raised", job.notice.delivery_id)
            return Outcome(
                job,
                error=ChannelError(f"unexpected error: {exc!r}", retryable=True, ambiguous=True),
            )

    return send


def release_waiting(session: Session) -> int:
    """Make due every waiting delivery whose earlier ones (same incident, same target) are all
    finished. Runs before each claim, so a chain moves on within one round of the loop."""
    earlier = aliased(Delivery)
    blocked = exists().where(
        earlier.incident_id == Delivery.incident_id,
        earlier.channel == Delivery.channel,
        earlier.target == Delivery.target,
        earlier.update_id < Delivery.update_id,
        earlier.state.not_in(list(FINAL_STATES)),
    )
    result = session.execute(
        sql_update(Delivery)
        .where(Delivery.state == DeliveryState.WAITING, ~blocked)
        .values(state=DeliveryState.QUEUED, next_attempt_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claim:
    """A delivery this worker now holds: what sending it needs to know."""

    id: int
    public_id: str
    update_id: int
    incident_id: int
    channel: str
    target: str
    subscriber_id: int | None
    custom_text: str | None
    ambiguous: bool


def _claimable(
    session: Session, condition, order, channels: Mapping[str, Channel], limit: int
) -> list[Claim]:
    query = (
        select(
            Delivery.id,
            Delivery.public_id,
            Delivery.update_id,
            Delivery.incident_id,
            Delivery.channel,
            Delivery.target,
            Delivery.subscriber_id,
            Delivery.custom_text,
            # A claim taken over from a dead worker may have reached the network.
            or_(Delivery.ambiguous, Delivery.state == DeliveryState.SENDING),
        )
        .where(condition, Delivery.channel.in_(list(channels)))
        .order_by(*order)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    return [Claim(*row) for row in session.execute(query)]


def claim(
    session: Session,
    channels: Mapping[str, Channel],
    context: PublishContext,
    *,
    worker: str,
    limit: int,
) -> list[Claim]:
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
    # One statement for the whole batch, not one ORM object and UPDATE per row: the claim was
    # a quarter of the worker's CPU in a large fan-out.
    at = Delivery.first_attempt_at.type
    session.execute(
        sql_update(Delivery)
        .where(Delivery.id.in_([row.id for row in rows]))
        .values(
            ambiguous=or_(Delivery.ambiguous, Delivery.state == DeliveryState.SENDING),
            state=DeliveryState.SENDING,
            claimed_by=worker,
            claimed_until=now + context.lease,
            attempts=Delivery.attempts + 1,
            first_attempt_at=func.coalesce(Delivery.first_attempt_at, literal(now, at)),
        )
        .execution_options(synchronize_session=False)
    )
    return rows


def _jobs(session: Session, rows: list[Claim], context: PublishContext) -> list[Job]:
    # Held in dicts: the session's identity map alone would let them be collected.
    updates = {
        u.id: u
        for u in session.scalars(
            select(Update)
            .where(Update.id.in_({r.update_id for r in rows}))
            .options(
                selectinload(Update.component_changes),
                selectinload(Update.incident).selectinload(Incident.updates),
            )
        )
    }
    subscriber_ids = {r.subscriber_id for r in rows if r.subscriber_id}
    by_id = (
        {
            s.id: s
            for s in session.scalars(select(Subscriber).where(Subscriber.id.in_(subscriber_ids)))
        }
        if subscriber_ids
        else {}
    )
    threads = _threads(session, rows)
    now = clock.now()
    page = PageInfo(
        name=context.page_name,
        base_url=context.base_url,
        time_zone=context.time_zone,
        updated_at=now,
    )
    notices = {uid: _notice(update, page) for uid, update in updates.items()}
    events: dict[int, dict] = {}
    indicator = None
    jobs = []
    for row in rows:
        update = updates[row.update_id]
        notice = replace(
            notices[row.update_id],
            delivery_id=row.public_id,
            custom_text=row.custom_text,
            ambiguous=row.ambiguous,
        )
        subscriber = by_id.get(row.subscriber_id) if row.subscriber_id else None
        if subscriber is not None:
            token = subscribers.manage_token(context.secret_key, subscriber)
            unsubscribe = f"{context.base_url}/subscribe/unsubscribe/{token}"
            notice = replace(
                notice,
                address=subscriber.address,
                secret=subscriber.secret,
                manage_url=f"{context.base_url}/subscribe/manage/{token}",
                unsubscribe_url=unsubscribe,
            )
            if row.channel == "webhook":
                if indicator is None:
                    indicator = timeline.page_indicator(session)
                if row.update_id not in events:
                    events[row.update_id] = {
                        "incident": incident_object(update.incident, page, now)
                    }
                event = (
                    _component_event(row, update, page)
                    if "/" in row.target
                    else events[row.update_id]
                )
                body = (
                    webhook_envelope(page, indicator, unsubscribe_url=unsubscribe, generated_at=now)
                    | event
                )
                notice = replace(notice, payload=body)
        jobs.append(Job(row.id, row.channel, notice, threads.get(row.id)))
    return jobs


def _component_event(row: Claim, update: Update, page: PageInfo) -> dict:
    code = row.target.split("/", 1)[1]
    change = next(c for c in update.component_changes if c.component.public_id == code)
    return {
        "component_update": component_update_object(change),
        "component": component_object(change.component, page),
    }


def _notice(update: Update, page: PageInfo) -> Notice:
    incident = update.incident
    return Notice(
        delivery_id="",
        incident_id=incident.public_id,
        incident_name=incident.name,
        update_id=update.public_id,
        status=update.status,
        text=markup.plain_text(update.html),
        html=update.html,
        url=page.incident_url(incident),
        created_at=update.created_at,
        resolves=not IncidentStatus(update.status).is_open,
    )


def _threads(session: Session, rows: list[Claim]) -> dict[int, ThreadRef]:
    """For each claimed delivery, the first and latest delivered post of its chain."""
    threaded = [r for r in rows if r.channel != "webhook"]
    if not threaded:
        return {}
    found = session.execute(
        select(
            Delivery.incident_id,
            Delivery.channel,
            Delivery.target,
            Delivery.update_id,
            func.coalesce(Delivery.remote_ref, Delivery.remote_id),
        )
        .where(
            Delivery.incident_id.in_({r.incident_id for r in threaded}),
            Delivery.channel.in_({r.channel for r in threaded}),
            Delivery.target.in_({r.target for r in threaded}),
            Delivery.state == DeliveryState.SENT,
            func.coalesce(Delivery.remote_ref, Delivery.remote_id).is_not(None),
        )
        .order_by(Delivery.update_id)
    )
    chains: dict[tuple[int, str, str], list[tuple[int, str]]] = {}
    for incident_id, channel, target, update_id, ref in found:
        chains.setdefault((incident_id, channel, target), []).append((update_id, ref))
    result = {}
    for row in threaded:
        earlier = [
            ref
            for update_id, ref in chains.get((row.incident_id, row.channel, row.target), [])
            if update_id < row.update_id
        ]
        if earlier:
            result[row.id] = ThreadRef(root=earlier[0], parent=earlier[-1])
    return result


@dataclass(frozen=True)
class Alert:
    to: tuple[str, ...] | None  # None: the admins
    subject: str
    text: str


def record(
    session: Session, outcomes: list[Outcome], context: PublishContext, *, worker: str
) -> list[Alert]:
    """Write each outcome onto its delivery (if this worker still holds the claim)."""
    now = clock.now()
    _record_sent(session, [o for o in outcomes if _plainly_sent(o)], now, worker=worker)
    outcomes = [o for o in outcomes if not _plainly_sent(o)]
    if not outcomes:
        return []
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
    return alerts


def _plainly_sent(outcome: Outcome) -> bool:
    return outcome.receipt is not None and not outcome.receipt.uncertain


def _record_sent(session: Session, outcomes: list[Outcome], now: datetime, *, worker: str) -> None:
    """What _delivered does, for the plain successes that are nearly all of a fan-out, in two
    statements and no ORM objects: loading and flushing each row was half the worker's
    database CPU."""
    if not outcomes:
        return
    table = Delivery.__table__
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


def _delivered(row: Delivery, receipt: Receipt, now: datetime, alerts: list[Alert]) -> None:
    row.state = DeliveryState.UNCERTAIN if receipt.uncertain else DeliveryState.SENT
    row.remote_id, row.remote_url = receipt.remote_id, receipt.url
    row.remote_ref = receipt.ref
    row.sent_at, row.last_error = now, None
    if row.subscriber is not None:
        row.subscriber.failures_in_a_row = 0
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


def _failed_attempt(
    row: Delivery, error: ChannelError, now: datetime, context: PublishContext, alerts: list[Alert]
) -> None:
    row.last_error = str(error)[:2000]
    row.ambiguous = row.ambiguous or error.ambiguous
    retry_at = next_step(error, attempts=row.attempts, now=now)
    if retry_at is not None:
        row.state, row.next_attempt_at = DeliveryState.RETRYING, retry_at
        return
    row.state = DeliveryState.FAILED
    if needs_operators(error):
        alerts.append(
            Alert(
                None,
                f"{row.channel} refused a post: {error.status}",
                f"Delivery {row.public_id} failed at once and will not be "
                f"retried:\n\n{error}\n\nCheck the {row.channel} settings.",
            )
        )
    subscriber = row.subscriber
    if subscriber is not None and subscriber.kind is SubscriberKind.WEBHOOK:
        subscriber.failures_in_a_row += 1
        if (
            subscriber.failures_in_a_row >= context.webhook_max_failures
            and subscriber.disabled_at is None
        ):
            subscriber.disabled_at = now
            if subscriber.contact_email:
                alerts.append(
                    Alert(
                        (subscriber.contact_email,),
                        "webhook disabled",
                        f"Deliveries to {subscriber.address} failed "
                        f"{subscriber.failures_in_a_row} times in a row, so we "
                        f"stopped sending. Last error: {error}\n\nSubscribe "
                        f"again at {context.base_url}/subscribe.",
                    )
                )


def _send_alerts(db: Database, channels: Mapping[str, Channel], alerts: list[Alert]) -> None:
    if not alerts:
        return
    email = channels.get("email")
    admins: tuple[str, ...] = ()
    if any(alert.to is None for alert in alerts):
        with db.session() as session:
            admins = tuple(
                session.scalars(
                    select(Operator.email).where(
                        Operator.role == Role.ADMIN, Operator.active.is_(True)
                    )
                )
            )
    for alert in alerts:
        to = alert.to or admins
        if email is None or not to:
            log.error("alert (no email channel to send it): %s — %s", alert.subject, alert.text)
            continue
        try:
            email.send_notice(
                to=list(to),
                subject=alert.subject,  # type: ignore[attr-defined]
                text=alert.text,
            )
        except ChannelError as exc:
            log.error("could not send alert %r: %s", alert.subject, exc)


# --- operators ------------------------------------------------------------------------------


def retry_now(session: Session, *, delivery: Delivery) -> None:
    """The retry button: a failed or waiting delivery gets a fresh set of attempts now."""
    if delivery.state not in (DeliveryState.FAILED, DeliveryState.RETRYING):
        raise Conflict(f"a {delivery.state.value} delivery cannot be retried", field="delivery")
    delivery.state = DeliveryState.RETRYING
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()


def deliveries_of(session: Session, update: Update) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.update_id == update.id)
            .options(selectinload(Delivery.subscriber))
            .order_by(Delivery.channel, Delivery.id)
        )
    )


def counts_by_state(session: Session, incident: Incident) -> dict[str, int]:
    return {
        state.value: count
        for state, count in session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.incident_id == incident.id)
            .group_by(Delivery.state)
        )
    }


def undelivered_resolutions(session: Session) -> list[tuple[Incident, int]]:
    """Resolved incidents whose resolution has not reached every target: a problem to show.
    Counts resolution deliveries that failed or are still waiting."""
    last = (
        select(func.max(Update.id))
        .where(Update.incident_id == Incident.id)
        .correlate(Incident)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Incident, func.count(Delivery.id))
        .join(Delivery, and_(Delivery.incident_id == Incident.id, Delivery.update_id == last))
        .where(
            Incident.resolved_at.is_not(None),
            Delivery.state.not_in([*DELIVERED, DeliveryState.CANCELLED]),
        )
        .group_by(Incident.id)
        .order_by(Incident.resolved_at.desc())
    )
    return [(incident, count) for incident, count in rows]
