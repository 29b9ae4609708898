"""Synchronized publishing: fan_out queues the public notices of an update with the update
(the outbox), and notices_for builds what each one says when the worker sends it
(services/outbox.py sends every delivery, whatever its purpose).

Rules kept here:
- one delivery per (update, channel, target, purpose), inserted in the update's transaction;
- deliveries of one incident to one target go out in order: a delivery waits while an earlier
  one of the same chain is unfinished, and replies to the latest delivered post (a thread);
- every target that got any notice about an incident gets its resolution (close the loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from statusboard import clock
from statusboard.channels.base import Notice, ThreadRef
from statusboard.domain import markup
from statusboard.domain.errors import Conflict
from statusboard.domain.statuses import is_finished_status
from statusboard.models import (
    Delivery,
    DeliveryState,
    Incident,
    IncidentKind,
    Subscriber,
    SubscriberKind,
    Update,
)
from statusboard.models.base import new_public_id
from statusboard.models.delivery import ACCOUNT, DELIVERED, FINAL_STATES, Purpose
from statusboard.models.subscriber import subscriber_component, subscriber_incident
from statusboard.services import subscribers, timeline
from statusboard.services.statuspage import (
    PageInfo,
    component_object,
    component_update_object,
    incident_object,
    webhook_envelope,
)

SOCIAL = ("x", "mastodon", "bluesky")
PUBLIC_PURPOSES = (Purpose.NOTICE, Purpose.REMINDER, Purpose.CORRECTION)


# --- what the operator chose for one update ------------------------------------------------


@dataclass(frozen=True)
class ChannelChoice:
    send: bool = True
    custom_text: str | None = None


PublishOptions = Mapping[str, ChannelChoice]


# --- the write path ------------------------------------------------------------------------


def fan_out(
    session: Session,
    *,
    update: Update,
    enabled: frozenset[str],
    options: PublishOptions | None = None,
    purpose: Purpose = Purpose.NOTICE,
) -> int:
    """Queue one delivery per enabled channel and matching confirmed subscriber, and — for
    a resolution — one per target that heard anything about the incident. A reminder goes to
    the same targets again. Returns how many were queued. Rows are inserted in bulk: an update
    may reach many thousands."""
    options = options or {}
    incident = update.incident
    now = clock.now()
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    # Targets still owed an earlier message of this incident: the new one waits its turn.
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
        if (channel, target) in wanted or channel not in enabled:
            return
        choice = options.get(channel, ChannelChoice())
        wanted[(channel, target)] = {
            "public_id": new_public_id(),
            "purpose": purpose,
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
            if kind is SubscriberKind.WEBHOOK and purpose is Purpose.NOTICE:
                for component_id, component_public_id in changes:
                    if not filter_ or component_id in filter_:
                        add(kind.value, f"{public_id}/{component_public_id}", subscriber_id)
    if purpose is Purpose.NOTICE and is_finished_status(update.status):
        changed = {c.component.public_id for c in update.component_changes}
        for channel, target, heard_by in _heard_of(session, incident):
            # A webhook's per-component target hears of a component change only; a
            # postmortem changes none, so its subscriber hears of it once, as an incident.
            if channel == "webhook" and "/" in target and target.split("/", 1)[1] not in changed:
                continue
            add(channel, target, heard_by)
    rows = list(wanted.values())
    for start in range(0, len(rows), 5000):
        session.execute(insert(Delivery), rows[start : start + 5000])
    return len(rows)


def queue_corrections(session: Session, *, update: Update, editable: frozenset[str]) -> int:
    """After an update's words were corrected: one delivery per post of it on a network that
    allows editing (`editable`), to edit that post into the new words. Posts in the operator's
    own words for a network stay as they are. A later correction of the same update queues
    the same delivery again: it always sends the latest words. Returns how many."""
    now = clock.now()
    posted = session.scalars(
        select(Delivery).where(
            Delivery.update_id == update.id,
            Delivery.purpose == Purpose.NOTICE,
            Delivery.channel.in_(sorted(editable)),
            Delivery.state == DeliveryState.SENT,
            Delivery.remote_id.is_not(None),
            Delivery.custom_text.is_(None),
        )
    ).all()
    for post in posted:
        existing = session.scalar(
            select(Delivery).where(
                Delivery.update_id == update.id,
                Delivery.channel == post.channel,
                Delivery.target == post.target,
                Delivery.purpose == Purpose.CORRECTION,
            )
        )
        if existing is None:
            session.add(
                Delivery(
                    purpose=Purpose.CORRECTION,
                    update_id=update.id,
                    incident_id=post.incident_id,
                    channel=post.channel,
                    target=post.target,
                    subscriber_id=post.subscriber_id,
                    state=DeliveryState.QUEUED,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        else:
            existing.state, existing.attempts = DeliveryState.QUEUED, 0
            existing.next_attempt_at, existing.last_error = now, None
    return len(posted)


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
    # Subscribers who follow only some incidents: those of this one hear of it whatever its
    # components; the others never do.
    following: dict[int, bool] = {}
    for subscriber_id, incident_id in session.execute(
        select(subscriber_incident.c.subscriber_id, subscriber_incident.c.incident_id)
    ):
        following[subscriber_id] = following.get(subscriber_id, False) or (
            incident_id == incident.id
        )
    affected = {c.id for c in incident.components}
    candidates = session.execute(
        select(Subscriber.id, Subscriber.public_id, Subscriber.kind)
        .where(Subscriber.kind.in_(kinds), *_active())
        .order_by(Subscriber.id)
    )
    return [
        (sid, public_id, kind, set() if sid in following else filters.get(sid, set()))
        for sid, public_id, kind in candidates
        if following.get(sid)
        or (sid not in following and (sid not in filters or filters[sid] & affected))
    ]


def _active() -> tuple[ColumnElement[bool], ...]:
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


# --- what a public notice says, built when it is sent ------------------------------------


@dataclass(frozen=True)
class NoticeContext:
    """What notices need to know about the deployment (from settings, at the edge)."""

    base_url: str
    page_name: str
    time_zone: str
    secret_key: str


def notices_for(
    session: Session, rows: list[Delivery], context: NoticeContext
) -> dict[int, tuple[Notice, ThreadRef | None]]:
    """For each claimed public delivery (notice or reminder), the Notice to send and where it
    threads."""
    public = [r for r in rows if r.update_id is not None]
    if not public:
        return {}
    # Held in dicts: the session's identity map alone would let them be collected.
    updates = {
        u.id: u
        for u in session.scalars(
            select(Update)
            .where(Update.id.in_({r.update_id for r in public}))
            .options(
                selectinload(Update.component_changes),
                selectinload(Update.incident).selectinload(Incident.updates),
                selectinload(Update.incident).selectinload(Incident.components),
            )
        )
    }
    subscriber_ids = {r.subscriber_id for r in public if r.subscriber_id}
    # Columns, not objects: a fan-out reads thousands of these per batch.
    targets = (
        {
            s.id: s
            for s in session.execute(
                select(
                    Subscriber.id,
                    Subscriber.public_id,
                    Subscriber.address,
                    Subscriber.secret,
                    Subscriber.time_zone,
                ).where(Subscriber.id.in_(subscriber_ids))
            )
        }
        if subscriber_ids
        else {}
    )
    thread_refs = threads(session, public)
    originals = _corrected_posts(session, [r for r in public if r.purpose is Purpose.CORRECTION])
    now = clock.now()
    page = PageInfo(
        name=context.page_name,
        base_url=context.base_url,
        time_zone=context.time_zone,
        updated_at=now,
    )
    # What is the same for every target of an update is built once per update (and per time
    # zone subscribers chose: a maintenance window's times are in the words).
    bases: dict[tuple[int, bool, str], Notice] = {}
    events: dict[int, dict[str, Any]] = {}
    indicator = None
    result: dict[int, tuple[Notice, ThreadRef | None]] = {}
    for row in public:
        assert row.update_id is not None
        update = updates[row.update_id]
        reminder = row.purpose is Purpose.REMINDER
        target = targets.get(row.subscriber_id) if row.subscriber_id else None
        zone = (target.time_zone if target is not None else None) or page.time_zone
        base = bases.get((update.id, reminder, zone))
        if base is None:
            base = bases[update.id, reminder, zone] = notice_of(
                update, replace(page, time_zone=zone), reminder=reminder, now=now
            )
        fields: dict[str, Any] = {
            "delivery_id": row.public_id,
            "custom_text": None if reminder else row.custom_text,
            "ambiguous": row.ambiguous,
            "edits": originals.get(row.id),
        }
        if target is not None:
            token = subscribers.manage_token_of(context.secret_key, target.public_id)
            unsubscribe = f"{context.base_url}/subscribe/unsubscribe/{token}"
            fields |= {
                "address": target.address,
                "secret": target.secret,
                "manage_url": f"{context.base_url}/subscribe/manage/{token}",
                "unsubscribe_url": unsubscribe,
            }
            if row.channel == "webhook":
                if indicator is None:
                    indicator = timeline.page_indicator(session)
                if row.update_id not in events:
                    events[row.update_id] = {
                        "incident": incident_object(update.incident, page, now, as_of=update)
                    }
                event = (
                    _component_event(row, update, page)
                    if "/" in row.target
                    else events[row.update_id]
                )
                fields["payload"] = (
                    webhook_envelope(page, indicator, unsubscribe_url=unsubscribe, generated_at=now)
                    | event
                )
        result[row.id] = (replace(base, **fields), thread_refs.get(row.id))
    return result


def _corrected_posts(session: Session, rows: list[Delivery]) -> dict[int, str]:
    """For each correction delivery, the remote id of the post it edits."""
    result: dict[int, str] = {}
    for row in rows:
        remote_id = session.scalar(
            select(Delivery.remote_id).where(
                Delivery.update_id == row.update_id,
                Delivery.channel == row.channel,
                Delivery.target == row.target,
                Delivery.purpose == Purpose.NOTICE,
            )
        )
        if remote_id:
            result[row.id] = remote_id
    return result


def _component_event(row: Delivery, update: Update, page: PageInfo) -> dict:
    code = row.target.split("/", 1)[1]
    change = next(c for c in update.component_changes if c.component.public_id == code)
    return {
        "component_update": component_update_object(change),
        "component": component_object(change.component, page),
    }


def notice_of(
    update: Update, page: PageInfo, *, reminder: bool = False, now: datetime | None = None
) -> Notice:
    """What any channel may say about an update (a maintenance says when it happens; a
    reminder says it starts soon)."""
    return _notice(
        update.incident,
        status=update.status,
        html=update.html,
        update_id=update.public_id,
        created_at=update.created_at,
        page=page,
        reminder=reminder,
        now=now,
        eta_at=update.eta_at,
        next_update_at=update.next_update_at,
        eta_revisions=_eta_revisions(update.incident, update),
    )


PREVIEW_ID = "x" * 12  # as long as a real public id, so counted lengths match


def draft_notice(
    page: PageInfo, *, incident: Incident | None, name: str, status: str, body: str
) -> Notice:
    """What an update not posted yet would say: the forms' preview. Built like `notice_of`
    from the same parts (the incident's name and link, the sanitized body), so a channel's
    `preview` of it is, byte for byte, the text the worker will post. Before an incident
    exists its link has a placeholder id of the same length."""
    html = markup.render(body.strip())
    now = clock.now()
    if incident is not None:
        return _notice(
            incident,
            status=status,
            html=html,
            update_id=PREVIEW_ID,
            created_at=now,
            page=page,
            eta_at=incident.eta_at,
            next_update_at=incident.next_update_at,
        )
    return Notice(
        delivery_id="preview",
        incident_id=PREVIEW_ID,
        incident_name=name,
        update_id=PREVIEW_ID,
        status=status,
        text=markup.plain_text(html),
        html=html,
        url=f"{page.base_url}/incidents/{PREVIEW_ID}",
        created_at=now,
        resolves=is_finished_status(status),
    )


def _notice(
    incident: Incident,
    *,
    status: str,
    html: str,
    update_id: str,
    created_at: datetime,
    page: PageInfo,
    reminder: bool = False,
    now: datetime | None = None,
    eta_at: datetime | None = None,
    next_update_at: datetime | None = None,
    eta_revisions: int = 0,
) -> Notice:
    text = markup.plain_text(html)
    name = incident.name
    if incident.kind is IncidentKind.MAINTENANCE and incident.scheduled_for is not None:
        when = window_text(incident, page.time_zone)
        if reminder:
            name = f"Reminder: {incident.name}"
            soon = _starts_in(incident.scheduled_for - (now or clock.now()))
            when = f"Starts {soon}. {when}"
        if status == "scheduled":
            text = f"{when}\n{text}"
    maintenance = incident.kind is IncidentKind.MAINTENANCE
    return Notice(
        delivery_id="",
        incident_id=incident.public_id,
        incident_name=name,
        update_id=update_id,
        status=status,
        text=text,
        html=html,
        url=page.incident_url(incident),
        created_at=created_at,
        resolves=is_finished_status(status),
        impact="maintenance" if maintenance else incident.impact.value,
        components=tuple(c.name for c in incident.components if not c.is_group),
        eta_at=None if maintenance else eta_at,
        eta_revisions=0 if maintenance else eta_revisions,
        next_update_at=next_update_at,
        time_zone=page.time_zone,
    )


def _eta_revisions(incident: Incident, update: Update) -> int:
    """How often the ETA changed between the incident's open updates, up to this one."""
    etas = [
        u.eta_at for u in incident.updates if u.id <= update.id and not is_finished_status(u.status)
    ]
    return sum(1 for before, after in zip(etas, etas[1:], strict=False) if before != after)


def window_text(window: Incident, zone_name: str) -> str:
    """ "Scheduled for 5 Dec 14:00 – 16:00 UTC", in the page's time zone."""
    assert window.scheduled_for is not None and window.scheduled_until is not None
    zone = ZoneInfo(zone_name)
    start = window.scheduled_for.astimezone(zone)
    end = window.scheduled_until.astimezone(zone)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end.day} {end:%b %H:%M}"
    return f"Scheduled for {start.day} {start:%b %H:%M} – {end_text} {start:%Z}."


def _starts_in(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"in {hours} hour{'s' if hours > 1 else ''}"
    return f"in {minutes} min"


def threads(session: Session, rows: list[Delivery]) -> dict[int, ThreadRef]:
    """For each claimed delivery, the first and latest delivered post of its chain."""
    threaded = [r for r in rows if r.channel != "webhook" and r.incident_id is not None]
    if not threaded:
        return {}
    found = session.execute(
        select(
            Delivery.incident_id,
            Delivery.channel,
            Delivery.target,
            Delivery.id,
            func.coalesce(Delivery.remote_ref, Delivery.remote_id),
        )
        .where(
            Delivery.incident_id.in_({r.incident_id for r in threaded}),
            Delivery.channel.in_({r.channel for r in threaded}),
            Delivery.target.in_({r.target for r in threaded}),
            Delivery.state == DeliveryState.SENT,
            func.coalesce(Delivery.remote_ref, Delivery.remote_id).is_not(None),
            Delivery.purpose != Purpose.CORRECTION,  # an edit is no new post to reply to
        )
        .order_by(Delivery.id)
    )
    # A chain's posts in the order they were queued (a reminder follows the notice it
    # repeats, though both tell of one update).
    chains: dict[tuple[int | None, str, str], list[tuple[int, str]]] = {}
    for incident_id, channel, target, delivery_id, ref in found:
        chains.setdefault((incident_id, channel, target), []).append((delivery_id, ref))
    result = {}
    for row in threaded:
        earlier = [
            ref
            for delivery_id, ref in chains.get((row.incident_id, row.channel, row.target), [])
            if delivery_id < row.id
        ]
        if earlier:
            result[row.id] = ThreadRef(root=earlier[0], parent=earlier[-1])
    return result


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
            .where(Delivery.update_id == update.id, Delivery.purpose == Purpose.NOTICE)
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


def counts_by_update(session: Session, incident: Incident) -> dict[int, dict[str, int]]:
    """Per update of the incident: how many of its public deliveries are in each state."""
    result: dict[int, dict[str, int]] = {}
    for update_id, state, count in session.execute(
        select(Delivery.update_id, Delivery.state, func.count())
        .where(Delivery.incident_id == incident.id, Delivery.purpose.in_(PUBLIC_PURPOSES))
        .group_by(Delivery.update_id, Delivery.state)
    ):
        result.setdefault(update_id, {})[DeliveryState(state).value] = count
    return result


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
        .join(
            Delivery,
            and_(
                Delivery.incident_id == Incident.id,
                Delivery.update_id == last,
                Delivery.purpose == Purpose.NOTICE,
            ),
        )
        .where(
            Incident.resolved_at.is_not(None),
            Delivery.state.not_in([*DELIVERED, DeliveryState.CANCELLED]),
        )
        .group_by(Incident.id)
        .order_by(Incident.resolved_at.desc())
    )
    return [(incident, count) for incident, count in rows]
