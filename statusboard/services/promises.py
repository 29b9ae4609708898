"""Promises as data. Every update records the promises it makes and answers the ones before it;
the clock breaks promises nobody answered; `check_promises` (the worker's job) marks them broken
and runs the nag ladder. Maintenance windows use the same records (their end is a promise)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, contains_eager

from statusboard import clock
from statusboard.db import Database
from statusboard.domain.errors import InvalidInput
from statusboard.domain.nags import NagPolicy
from statusboard.domain.statuses import FINISHED_STATUSES
from statusboard.models import (
    Incident,
    IncidentKind,
    Promise,
    PromiseKind,
    PromiseStatus,
    Update,
)
from statusboard.services import audit, nags, page
from statusboard.services.audit import Actor


def is_finished(incident: Incident) -> bool:
    return incident.resolved_at is not None or incident.status in FINISHED_STATUSES


def active_promises(session: Session, incident: Incident) -> list[Promise]:
    return list(
        session.scalars(
            select(Promise)
            .where(Promise.incident_id == incident.id, Promise.closed_at.is_(None))
            .order_by(Promise.id)
        )
    )


def _promised(incident: Incident) -> dict[PromiseKind, datetime | None]:
    """What the incident publicly promises right now, per kind."""
    if is_finished(incident):
        # Once resolved, only the postmortem is still owed; publishing it (status
        # "postmortem") keeps it.
        owed = incident.postmortem_due_at if incident.status == "resolved" else None
        return dict.fromkeys(PromiseKind, None) | {PromiseKind.POSTMORTEM: owed}
    maintenance = incident.kind == IncidentKind.MAINTENANCE
    return {
        PromiseKind.POSTMORTEM: None,
        PromiseKind.NEXT_UPDATE: incident.next_update_at,
        PromiseKind.ETA: incident.eta_at,
        PromiseKind.MAINTENANCE_END: incident.scheduled_until if maintenance else None,
        PromiseKind.MAINTENANCE_START: incident.scheduled_for
        if maintenance and incident.status == "scheduled"
        else None,
    }


def _close(promise: Promise, *, at: datetime, by: Update | None, replaced: bool) -> None:
    """Kept (answered in time), superseded (replaced in time) or broken (answered late)."""
    # The worker starts a window on its first run after the start time: that is on time.
    started = promise.kind is PromiseKind.MAINTENANCE_START and not replaced
    if at <= promise.due_at or started:
        promise.status = PromiseStatus.SUPERSEDED if replaced else PromiseStatus.KEPT
    else:
        promise.status = PromiseStatus.BROKEN
        promise.broken_at = promise.broken_at or promise.due_at
    promise.closed_at = at
    promise.closed_by = by


def record_update_promises(session: Session, *, update: Update) -> list[Promise]:
    """Called by post_update after its flush: any update answers the next-update promise; a
    changed ETA or window end replaces the old one; resolution answers them all. Returns the
    promises the update opened."""
    return sync_promises(session, incident=update.incident, update=update, now=update.created_at)


def sync_promises(
    session: Session,
    *,
    incident: Incident,
    update: Update | None = None,
    now: datetime | None = None,
) -> list[Promise]:
    """Bring the incident's active promises in line with what it promises now. Without an
    update (e.g. a maintenance window moved) only changed promises are replaced."""
    now = now or clock.now()
    promised = _promised(incident)
    standing: set[tuple[PromiseKind, datetime]] = set()
    for promise in active_promises(session, incident):
        wanted = promised[promise.kind]
        answered = update is not None and promise.kind is PromiseKind.NEXT_UPDATE
        if wanted is None or answered:
            _close(promise, at=now, by=update, replaced=False)
        elif wanted != promise.due_at:
            _close(promise, at=now, by=update, replaced=True)
        else:
            standing.add((promise.kind, promise.due_at))
    opened = []
    for kind, due_at in promised.items():
        if due_at is None or (kind, due_at) in standing:
            continue
        promise = Promise(
            incident_id=incident.id,
            kind=kind,
            due_at=due_at,
            made_at=now,
            made_by=update,
            status=PromiseStatus.OPEN,
        )
        session.add(promise)
        opened.append(promise)
    session.flush()
    return opened


def mark_broken(session: Session, *, now: datetime) -> int:
    """Open promises whose time has passed become broken (at their due time). Bumps the page
    version when any did, so cached public surfaces pick up the honesty lines."""
    # Lock in id order, as post_update's flush does, so the two never deadlock on PostgreSQL.
    ids = session.scalars(
        select(Promise.id)
        .where(
            Promise.status == PromiseStatus.OPEN,
            Promise.closed_at.is_(None),
            Promise.kind != PromiseKind.MAINTENANCE_START,
            Promise.due_at < now,
        )
        .order_by(Promise.id)
        .with_for_update()
    ).all()
    if not ids:
        return 0
    session.execute(
        update(Promise)
        .where(Promise.id.in_(ids), Promise.status == PromiseStatus.OPEN)
        .values(status=PromiseStatus.BROKEN, broken_at=Promise.due_at)
        .execution_options(synchronize_session=False)
    )
    page.bump_version(session)
    return len(ids)


@dataclass(frozen=True)
class Attention:
    """A promise operators should act on now: due soon, or broken and unanswered."""

    promise: Promise
    incident: Incident
    now: datetime

    @property
    def late_by(self) -> timedelta | None:
        return self.now - self.promise.due_at if self.now > self.promise.due_at else None

    @property
    def due_in(self) -> timedelta:
        return self.promise.due_at - self.now

    @property
    def paused(self) -> bool:
        until = self.promise.paused_until
        return until is not None and until > self.now


def needing_attention(
    session: Session, *, policy: NagPolicy, now: datetime | None = None
) -> list[Attention]:
    """Active promises inside their heads-up window or past due, most late first."""
    now = now or clock.now()
    rows = session.scalars(
        select(Promise)
        .join(Promise.incident)
        .where(Promise.closed_at.is_(None), Promise.due_at <= now + policy.longest_heads_up)
        .options(contains_eager(Promise.incident))
        .order_by(Promise.due_at, Promise.id)
    )
    return [
        Attention(promise=p, incident=p.incident, now=now)
        for p in rows
        if p.due_at <= now + policy.ladder(p.incident.impact, p.kind.value).heads_up
    ]


def acknowledge(
    session: Session,
    *,
    incident: Incident,
    actor: Actor,
    policy: NagPolicy,
    now: datetime | None = None,
) -> list[Promise]:
    """ "On it": pause the nags of the incident's due or broken promises for a bounded time.
    Audited; changes nothing the public sees (no page version bump)."""
    now = now or clock.now()
    due = [
        a.promise
        for a in needing_attention(session, policy=policy, now=now)
        if a.incident.id == incident.id
    ]
    if not due:
        raise InvalidInput(
            "nothing is due on this incident; there is nothing to acknowledge", field="incident"
        )
    until = now + policy.acknowledge_for
    for promise in due:
        promise.paused_until = until
        promise.acknowledged_by_id = actor.operator.id if actor.operator else None
    audit.record(
        session,
        actor=actor,
        action="promise.acknowledge",
        subject_type="incident",
        subject_id=incident.public_id,
        until=until.isoformat(),
        promises=[p.kind.value for p in due],
    )
    return due


def promise_history(session: Session, incident: Incident) -> list[Promise]:
    """Every promise the incident made, oldest first, with how each ended."""
    return list(
        session.scalars(
            select(Promise)
            .where(Promise.incident_id == incident.id)
            .order_by(Promise.made_at, Promise.id)
        )
    )


@dataclass
class CheckReport:
    broken: int = 0
    # (promise id, level) of each nag this run claimed and queued.
    nagged: list[tuple[int, str]] = field(default_factory=list)
    # (draft id, level) of each reminder about an unacknowledged draft.
    drafts_nagged: list[tuple[int, str]] = field(default_factory=list)


def check_promises(
    database: Database, *, setup: nags.NagSetup, now: datetime | None = None
) -> CheckReport:
    """The worker's job: mark broken promises, then claim each due nag and queue it.

    A claim and its deliveries are committed together (the unique (promise, level) row
    decides which worker queues it), so any number of workers may run this at once; the
    outbox sends the deliveries, retries them, and records on the nag when it went out.
    """
    now = now or clock.now()
    report = CheckReport()
    with database.session(write_lock=True) as session:
        report.broken = mark_broken(session, now=now)
    with database.session() as session:
        planned = nags.plan(session, setup=setup, now=now)
    for plan, _nag_id in nags.claim(database, plans=planned, setup=setup, now=now):
        if plan.promise_id is not None:
            report.nagged.append((plan.promise_id, plan.level))
        elif plan.draft_id is not None:
            report.drafts_nagged.append((plan.draft_id, plan.level))
    return report
