"""Nags: plan which (promise, level) reminders are due and claim each once; the claim queues
its deliveries in the outbox, which sends them like everything else.

Used by services.promises.check_promises. A claim is a Nag row, unique per (promise, level),
inserted with its deliveries in one transaction: whichever worker inserts it first queues it;
for the others the insert does nothing (ON CONFLICT DO NOTHING) and they move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from statusboard.config import Settings
from statusboard.db import Database, upsert_insert
from statusboard.domain import markup
from statusboard.domain.honesty import PromiseState
from statusboard.domain.nags import (
    HEADS_UP,
    Audience,
    NagFacts,
    NagMessage,
    NagPolicy,
    audience,
    compose,
)
from statusboard.models import Incident, Nag, Operator, Promise, PromiseKind, Role
from statusboard.models.delivery import ACCOUNT, Purpose
from statusboard.services import outbox


@dataclass(frozen=True)
class NagSetup:
    """Everything the nag loop needs from settings, built once per worker."""

    policy: NagPolicy
    base_url: str
    # The channels nags may go through ("email" to each person, "chat" to the room).
    channels: frozenset[str] = frozenset()
    public_honesty: bool = True
    escalation_email: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> NagSetup:
        return cls(
            policy=NagPolicy.from_settings(settings.nags),
            base_url=settings.page.base_url,
            channels=settings.channels.enabled & {"email", "chat"},
            public_honesty=settings.page.public_honesty,
            escalation_email=settings.nags.escalation_email,
        )


def update_form_url(base_url: str, incident: Incident, kind: PromiseKind | None = None) -> str:
    """Where the nag's button leads: the update form, or the postmortem editor."""
    verb = "postmortem" if kind is PromiseKind.POSTMORTEM else "update"
    return f"{base_url}/admin/incidents/{incident.public_id}/{verb}"


@dataclass(frozen=True)
class PlannedNag:
    promise_id: int
    level: str
    message: NagMessage


def _recipients(
    level: str, incident: Incident, operators: Sequence[Operator], escalation_email: str | None
) -> list[Operator | str]:
    """Each level adds people: owner → on-call → every operator → admins + the address."""
    who = audience(level)
    owner = incident.owner if incident.owner is not None and incident.owner.active else None
    on_call = [o for o in operators if o.on_call]
    people: list[Operator | str] = [owner] if owner else []
    if who == Audience.OWNER:
        return people or list(on_call)
    people += on_call
    if who in (Audience.ALL, Audience.ADMINS):
        people += [o for o in operators if o.role is Role.OPERATOR]
    if who == Audience.ADMINS:
        people += [o for o in operators if o.role is Role.ADMIN]
        if escalation_email:
            people.append(escalation_email)
    unique: dict[str, Operator | str] = {}
    for person in people:
        unique.setdefault(person.email if isinstance(person, Operator) else person, person)
    return list(unique.values())


def _public_line(kind: PromiseKind, incident: Incident, now: datetime, honest: bool) -> str | None:
    if not honest:
        return None
    state = PromiseState(incident.next_update_at, incident.eta_at, now)
    if kind is PromiseKind.NEXT_UPDATE:
        return state.overdue_line
    if kind is PromiseKind.ETA and incident.eta_at is not None:
        return state.eta_passed_line(incident.eta_at.strftime("%H:%M UTC"))
    return None


def _message(
    promise: Promise, level: str, operators: Sequence[Operator], setup: NagSetup, now: datetime
) -> NagMessage:
    incident = promise.incident
    people = _recipients(level, incident, operators, setup.escalation_email)
    latest = incident.latest_update
    facts = NagFacts(
        level=level,
        promise_kind=promise.kind.value,
        incident_name=incident.name,
        incident_kind=incident.kind.value,
        impact=incident.impact.value,
        status=incident.status,
        due_at=promise.due_at,
        made_at=promise.made_at,
        now=now,
        public_text=markup.plain_text(latest.html) if latest else "",
        public_posted_at=latest.display_at if latest else None,
        public_line=_public_line(promise.kind, incident, now, setup.public_honesty),
        update_url=update_form_url(setup.base_url, incident, promise.kind),
        incident_url=f"{setup.base_url}/incidents/{incident.public_id}",
        recipient_names=tuple(p.name if isinstance(p, Operator) else p for p in people),
    )
    addresses = tuple(p.email if isinstance(p, Operator) else p for p in people)
    return compose(facts, addresses)


def plan(session: Session, *, setup: NagSetup, now: datetime) -> list[PlannedNag]:
    """The reminders due at `now` that no worker has claimed yet (one per promise at most)."""
    horizon = now + setup.policy.longest_heads_up
    candidates = session.execute(
        select(Promise.id, Promise.kind, Promise.due_at, Promise.made_at, Incident.impact)
        .join(Promise.incident)
        .where(
            Promise.closed_at.is_(None),
            Promise.due_at <= horizon,
            or_(Promise.paused_until.is_(None), Promise.paused_until <= now),
        )
    ).all()
    if not candidates:
        return []
    claimed = set(
        session.execute(
            select(Nag.promise_id, Nag.level).where(Nag.promise_id.in_([c.id for c in candidates]))
        ).tuples()
    )
    due: dict[int, str] = {}
    for candidate in candidates:
        level = setup.policy.ladder(candidate.impact, candidate.kind.value).level_at(
            due_at=candidate.due_at, made_at=candidate.made_at, now=now
        )
        if level is None or (candidate.kind is PromiseKind.MAINTENANCE_START and level != HEADS_UP):
            continue
        if (candidate.id, level) not in claimed:
            due[candidate.id] = level
    if not due:
        return []
    # Only now load what the messages need, for the promises that get one.
    promises = session.scalars(
        select(Promise)
        .where(Promise.id.in_(due))
        .order_by(Promise.due_at, Promise.id)
        .options(
            selectinload(Promise.incident).selectinload(Incident.updates),
            selectinload(Promise.incident).selectinload(Incident.owner),
        )
    ).all()
    operators = session.scalars(
        select(Operator).where(Operator.active.is_(True)).order_by(Operator.id)
    ).all()
    return [
        PlannedNag(
            promise_id=promise.id,
            level=due[promise.id],
            message=_message(promise, due[promise.id], operators, setup, now),
        )
        for promise in promises
    ]


def claim(
    database: Database, *, plans: Sequence[PlannedNag], setup: NagSetup, now: datetime
) -> list[tuple[PlannedNag, int]]:
    """Insert the Nag rows and queue their deliveries in one transaction, skipping any
    (promise, level) that another worker inserted first; returns the plans this worker queued,
    with nag ids. Rows go in (promise, level) order so concurrent claims on PostgreSQL never
    deadlock."""
    if not plans:
        return []
    with database.session(write_lock=True) as session:
        live = set(
            session.scalars(
                select(Promise.id).where(
                    Promise.id.in_({p.promise_id for p in plans}),
                    Promise.closed_at.is_(None),
                    or_(Promise.paused_until.is_(None), Promise.paused_until <= now),
                )
            )
        )
        fresh = sorted(
            (p for p in plans if p.promise_id in live), key=lambda p: (p.promise_id, p.level)
        )
        if not fresh:
            return []
        insert = upsert_insert(database.dialect)
        rows = session.execute(
            insert(Nag)
            .values(
                [
                    {
                        "promise_id": p.promise_id,
                        "level": p.level,
                        "claimed_at": now,
                        "recipients": list(p.message.recipients),
                        "outcome": {},
                    }
                    for p in fresh
                ]
            )
            .on_conflict_do_nothing(index_elements=["promise_id", "level"])
            .returning(Nag.id, Nag.promise_id, Nag.level)
        ).all()
        ids = {(row.promise_id, row.level): row.id for row in rows}
        owned = [(p, ids[(p.promise_id, p.level)]) for p in fresh if (p.promise_id, p.level) in ids]
        for plan, nag_id in owned:
            queue(session, plan.message, nag_id=nag_id, channels=setup.channels)
    return owned


def queue(session: Session, message: NagMessage, *, nag_id: int, channels: frozenset[str]) -> int:
    """One email per person and one post in the operators' room, through the outbox."""
    letters = []
    if "email" in channels:
        letters += [("email", address) for address in message.recipients]
    if "chat" in channels:
        letters.append(("chat", ACCOUNT))
    for channel, to in letters:
        outbox.queue_letter(
            session,
            purpose=Purpose.NAG,
            channel=channel,
            to=to,
            subject=message.subject,
            text=message.text,
            nag_id=nag_id,
        )
    return len(letters)
