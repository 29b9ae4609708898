"""Nags: plan which (promise, level) reminders are due, claim each once, send, record.

Used by services.promises.check_promises. A claim is a committed Nag row, unique per
(promise, level): whichever worker inserts it first sends it; the others get an IntegrityError
and move on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from statusboard import clock
from statusboard.channels.chat import ChatNagChannel
from statusboard.channels.nag_email import EmailNagChannel, SmtpSettings
from statusboard.db import Database
from statusboard.domain import markup
from statusboard.domain.honesty import PromiseState
from statusboard.domain.nags import (
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
        return cls(policy=NagPolicy.from_settings(settings), channels=tuple(channels),
                   base_url=settings["STATUSBOARD_BASE_URL"],
                   public_honesty=settings["STATUSBOARD_PUBLIC_HONESTY"],
                   escalation_email=settings.get("STATUSBOARD_ESCALATION_EMAIL"))


def update_form_url(base_url: str, incident: Incident) -> str:
    return f"{base_url}/admin/incidents/{incident.public_id}/update"


@dataclass(frozen=True)
class PlannedNag:
    promise_id: int
    level: str
    message: NagMessage


def _recipients(level: str, incident: Incident, operators: Sequence[Operator],
                escalation_email: str | None) -> list[Operator | str]:
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


def _public_line(kind: PromiseKind, incident: Incident, now: datetime,
                 honest: bool) -> str | None:
    if not honest:
        return None
    state = PromiseState(incident.next_update_at, incident.eta_at, now)
    if kind is PromiseKind.NEXT_UPDATE:
        return state.overdue_line
    if kind is PromiseKind.ETA and incident.eta_at is not None:
        return state.eta_passed_line(incident.eta_at.strftime("%H:%M UTC"))
    return None


def _message(promise: Promise, level: str, operators: Sequence[Operator], setup: NagSetup,
             now: datetime) -> NagMessage:
    incident = promise.incident
    people = _recipients(level, incident, operators, setup.escalation_email)
    latest = incident.latest_update
    facts = NagFacts(
        level=level, promise_kind=promise.kind.value, incident_name=incident.name,
        incident_kind=incident.kind.value, impact=incident.impact.value, status=incident.status,
        due_at=promise.due_at, made_at=promise.made_at, now=now,
        public_text=markup.plain_text(latest.html) if latest else "",
        public_posted_at=latest.display_at if latest else None,
        public_line=_public_line(promise.kind, incident, now, setup.public_honesty),
        update_url=update_form_url(setup.base_url, incident),
        incident_url=f"{setup.base_url}/incidents/{incident.public_id}",
        recipient_names=tuple(p.name if isinstance(p, Operator) else p for p in people))
    addresses = tuple(p.email if isinstance(p, Operator) else p for p in people)
    return compose(facts, addresses)


def plan(session: Session, *, setup: NagSetup, now: datetime) -> list[PlannedNag]:
    """The reminders due at `now` that no worker has claimed yet (one per promise at most)."""
    horizon = now + setup.policy.longest_heads_up
    promises = list(session.scalars(
        select(Promise).join(Promise.incident)
        .where(Promise.closed_at.is_(None), Promise.due_at <= horizon,
               or_(Promise.paused_until.is_(None), Promise.paused_until <= now))
        .options(contains_eager(Promise.incident).selectinload(Incident.updates),
                 contains_eager(Promise.incident).selectinload(Incident.owner))
        .order_by(Promise.due_at, Promise.id)))
    if not promises:
        return []
    claimed = set(session.execute(
        select(Nag.promise_id, Nag.level)
        .where(Nag.promise_id.in_([p.id for p in promises]))).tuples())
    operators: list[Operator] | None = None
    planned = []
    for promise in promises:
        ladder = setup.policy.ladder(promise.incident.impact)
        level = ladder.level_at(due_at=promise.due_at, made_at=promise.made_at, now=now)
        if level is None or (promise.id, level) in claimed:
            continue
        if operators is None:
            operators = list(session.scalars(
                select(Operator).where(Operator.active.is_(True)).order_by(Operator.id)))
        planned.append(PlannedNag(promise_id=promise.id, level=level,
                                  message=_message(promise, level, operators, setup, now)))
    return planned


@contextmanager
def writing(database: Database) -> Iterator[Session]:
    """A session that commits on success and, on SQLite, takes the write lock up front
    (BEGIN IMMEDIATE): a read that later upgrades to a write fails at once, without waiting,
    when another worker committed in between."""
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            connection.info["sqlite_begin"] = "BEGIN IMMEDIATE"
        with Session(bind=connection, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def claim(database: Database, *, plan: PlannedNag, now: datetime) -> int | None:
    """Insert and commit the Nag row; None when another worker has it or it is moot now."""
    try:
        with writing(database) as session:
            promise = session.get(Promise, plan.promise_id)
            if promise is None or promise.closed_at is not None or (
                    promise.paused_until is not None and promise.paused_until > now):
                return None
            nag = Nag(promise_id=plan.promise_id, level=plan.level, claimed_at=now,
                      recipients=list(plan.message.recipients))
            session.add(nag)
            session.flush()
            return nag.id
    except IntegrityError:
        return None


@dataclass
class SendOutcome:
    per_channel: dict[str, str] = field(default_factory=dict)  # channel -> "sent" or error

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
        else:
            outcome.per_channel[channel.name] = "sent"
    return outcome


def record_outcome(database: Database, *, nag_id: int, outcome: SendOutcome) -> None:
    with writing(database) as session:
        nag = session.get(Nag, nag_id)
        if nag is None:  # the incident was deleted meanwhile
            return
        nag.sent_at = clock.now() if outcome.delivered else None
        nag.outcome = dict(outcome.per_channel)
        nag.error = "; ".join(outcome.errors) or None
