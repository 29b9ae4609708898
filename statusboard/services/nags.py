"""Nags: plan which (promise, level) reminders are due, claim each once, send, record.

Used by services.promises.check_promises. A claim is a committed Nag row, unique per
(promise, level): whichever worker inserts it first sends it; for the others the insert does
nothing (ON CONFLICT DO NOTHING) and they move on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from statusboard import clock
from statusboard.channels.chat import ChatNagChannel
from statusboard.channels.nag_email import EmailNagChannel, SmtpSettings
from statusboard.db import Database
from statusboard.domain import markup
from statusboard.domain.honesty import PromiseState
from statusboard.domain.nags import (
    HEADS_UP,
    Audience,
    NagChannel,
    NagChannelError,
    NagFacts,
    NagMessage,
    NagPolicy,
    audience,
    compose,
)
from statusboard.models import Incident, Nag, Operator, Promise, PromiseKind, Role

# A nag no channel delivered is tried again (30 s, then 60 s later) while its level is current.
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class NagSetup:
    """Everything the nag loop needs from settings, built once per worker."""

    policy: NagPolicy
    channels: tuple[NagChannel, ...]
    base_url: str
    public_honesty: bool = True
    escalation_email: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> NagSetup:
        channels: list[NagChannel] = []
        smtp = SmtpSettings.from_settings(settings)
        if smtp is not None:
            channels.append(EmailNagChannel(smtp))
        chat = ChatNagChannel.from_settings(settings)
        if chat is not None:
            channels.append(chat)
        return cls(
            policy=NagPolicy.from_settings(settings),
            channels=tuple(channels),
            base_url=settings["STATUSBOARD_BASE_URL"],
            public_honesty=settings["STATUSBOARD_PUBLIC_HONESTY"],
            escalation_email=settings.get("STATUSBOARD_ESCALATION_EMAIL"),
        )


def update_form_url(base_url: str, incident: Incident) -> str:
    return f"{base_url}/admin/incidents/{incident.public_id}/update"


@dataclass(frozen=True)
class PlannedNag:
    promise_id: int
    level: str
    message: NagMessage
    # Set when this is another try of a nag no channel delivered: (nag id, attempts so far).
    retry: tuple[int, int] | None = None


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
        update_url=update_form_url(setup.base_url, incident),
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
    claimed = {
        (row.promise_id, row.level): row
        for row in session.execute(
            select(Nag.promise_id, Nag.level, Nag.id, Nag.attempts, Nag.retry_at).where(
                Nag.promise_id.in_([c.id for c in candidates])
            )
        )
    }
    due: dict[int, tuple[str, tuple[int, int] | None]] = {}
    for candidate in candidates:
        level = setup.policy.ladder(candidate.impact).level_at(
            due_at=candidate.due_at, made_at=candidate.made_at, now=now
        )
        if level is None or (candidate.kind is PromiseKind.MAINTENANCE_START and level != HEADS_UP):
            continue
        earlier = claimed.get((candidate.id, level))
        if earlier is None:
            due[candidate.id] = (level, None)
        elif earlier.retry_at is not None and earlier.retry_at <= now:
            due[candidate.id] = (level, (earlier.id, earlier.attempts))
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
            level=due[promise.id][0],
            message=_message(promise, due[promise.id][0], operators, setup, now),
            retry=due[promise.id][1],
        )
        for promise in promises
    ]


def claim(
    database: Database, *, plans: Sequence[PlannedNag], now: datetime
) -> list[tuple[PlannedNag, int]]:
    """Insert and commit the Nag rows in one transaction, skipping any (promise, level) that
    another worker inserted first; returns the plans this worker now owns, with nag ids.
    Rows go in (promise, level) order so concurrent claims on PostgreSQL never deadlock."""
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
            (p for p in plans if p.retry is None and p.promise_id in live),
            key=lambda p: (p.promise_id, p.level),
        )
        owned: list[tuple[PlannedNag, int]] = []
        if fresh:
            insert = _insert_for(database.dialect)
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
                            "attempts": 1,
                        }
                        for p in fresh
                    ]
                )
                .on_conflict_do_nothing(index_elements=["promise_id", "level"])
                .returning(Nag.id, Nag.promise_id, Nag.level)
            ).all()
            ids = {(row.promise_id, row.level): row.id for row in rows}
            owned += [
                (p, ids[(p.promise_id, p.level)]) for p in fresh if (p.promise_id, p.level) in ids
            ]
    for plan in plans:
        if plan.retry is not None and plan.promise_id in live:
            nag_id = _claim_retry(database, plan.retry)
            if nag_id is not None:
                owned.append((plan, nag_id))
    return owned


def _insert_for(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql_insert
    return sqlite_insert


def _claim_retry(database: Database, retry: tuple[int, int]) -> int | None:
    """Another try of an undelivered nag: whoever moves its attempt count first sends it."""
    nag_id, attempts = retry
    with database.session(write_lock=True) as session:
        result = session.execute(
            update(Nag)
            .where(
                Nag.id == nag_id,
                Nag.attempts == attempts,
                Nag.sent_at.is_(None),
                Nag.retry_at.is_not(None),
            )
            .values(attempts=attempts + 1, retry_at=None)
            .execution_options(synchronize_session=False)
        )
    return nag_id if result.rowcount == 1 else None  # type: ignore[attr-defined]


@dataclass
class SendOutcome:
    per_channel: dict[str, str] = field(default_factory=dict)  # channel -> "sent" or error
    retryable: bool = False  # no channel delivered, and trying again may help

    @property
    def delivered(self) -> bool:
        return "sent" in self.per_channel.values()

    @property
    def errors(self) -> list[str]:
        return [f"{name}: {text}" for name, text in self.per_channel.items() if text != "sent"]


def send(channels: Sequence[NagChannel], message: NagMessage) -> SendOutcome:
    """Try every channel; one failing does not stop the others."""
    outcome = SendOutcome()
    for channel in channels:
        try:
            channel.send(message)
        except NagChannelError as exc:
            outcome.per_channel[channel.name] = str(exc)
            outcome.retryable = outcome.retryable or exc.retryable
        else:
            outcome.per_channel[channel.name] = "sent"
    outcome.retryable = outcome.retryable and not outcome.delivered
    return outcome


def record_outcomes(database: Database, outcomes: Sequence[tuple[int, SendOutcome]]) -> None:
    """One transaction for a run's outcomes; a nag no channel delivered may get a retry."""
    if not outcomes:
        return
    now = clock.now()
    with database.session(write_lock=True) as session:
        nags = {
            nag.id: nag
            for nag in session.scalars(
                select(Nag).where(Nag.id.in_([nag_id for nag_id, _ in outcomes]))
            )
        }
        for nag_id, outcome in outcomes:
            nag = nags.get(nag_id)
            if nag is None:  # the incident was deleted meanwhile
                continue
            nag.sent_at = now if outcome.delivered else None
            nag.outcome = dict(outcome.per_channel)
            nag.error = "; ".join(outcome.errors) or None
            if outcome.retryable and nag.attempts < MAX_ATTEMPTS:
                nag.retry_at = now + RETRY_AFTER * nag.attempts
