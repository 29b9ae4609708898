"""Nags: plan which (promise, level) reminders are due and claim each once; the claim queues
its deliveries in the outbox, which sends them like everything else.

Used by services.promises.check_promises. A claim is a Nag row, unique per (promise, level),
inserted with its deliveries in one transaction: whichever worker inserts it first queues it;
for the others the insert does nothing (ON CONFLICT DO NOTHING) and they move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from statusboard.config import Settings
from statusboard.db import Database, upsert_insert
from statusboard.domain import markup
from statusboard.domain.honesty import PromiseState
from statusboard.domain.nags import (
    HEADS_UP,
    Audience,
    DraftNagFacts,
    Ladder,
    NagFacts,
    NagMessage,
    NagPolicy,
    audience,
    compose,
    compose_draft,
)
from statusboard.models import (
    Alert,
    Draft,
    DraftState,
    Incident,
    Nag,
    Operator,
    Promise,
    PromiseKind,
    Role,
)
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
    # The acknowledgement promise of an alert-started draft: due the moment it exists.
    draft_ladder: Ladder = field(default_factory=lambda: draft_ladder(5, 15, 240))

    @classmethod
    def from_settings(cls, settings: Settings) -> NagSetup:
        nags = settings.nags
        return cls(
            policy=NagPolicy.from_settings(nags),
            base_url=settings.page.base_url,
            channels=settings.channels.enabled & {"email", "chat"},
            public_honesty=settings.page.public_honesty,
            escalation_email=nags.escalation_email,
            draft_ladder=draft_ladder(
                nags.draft_escalate_all, nags.draft_escalate_admins, nags.repeat_max
            ),
        )


def update_form_url(base_url: str, incident: Incident, kind: PromiseKind | None = None) -> str:
    """Where the nag's button leads: the update form, or the postmortem editor."""
    verb = "postmortem" if kind is PromiseKind.POSTMORTEM else "update"
    return f"{base_url}/admin/incidents/{incident.public_id}/{verb}"


def draft_ladder(escalate_all: int, escalate_admins: int, repeat_max: int) -> Ladder:
    """At once to the on-call operators, then everyone, then the admins; repeating after."""
    return Ladder(
        heads_up=timedelta(0),
        escalate_all=timedelta(minutes=escalate_all),
        escalate_admins=timedelta(minutes=escalate_admins),
        repeat=timedelta(minutes=escalate_admins),
        repeat_max=timedelta(minutes=max(repeat_max, escalate_admins)),
    )


def draft_url(base_url: str, draft: Draft) -> str:
    return f"{base_url}/admin/drafts/{draft.public_id}"


@dataclass(frozen=True)
class PlannedNag:
    """A reminder about a public promise (promise_id) or an unacknowledged draft (draft_id)."""

    promise_id: int | None
    level: str
    message: NagMessage
    draft_id: int | None = None


def _recipients(
    level: str,
    owner: Operator | None,
    operators: Sequence[Operator],
    escalation_email: str | None,
) -> list[Operator | str]:
    """Each level adds people: owner → on-call → every operator → admins + the address."""
    who = audience(level)
    owner = owner if owner is not None and owner.active else None
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
    people = _recipients(level, incident.owner, operators, setup.escalation_email)
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
    """The reminders due at `now` that no worker has claimed yet (one per promise or draft at
    most)."""
    return _plan_promises(session, setup=setup, now=now) + _plan_drafts(
        session, setup=setup, now=now
    )


def _operators(session: Session) -> Sequence[Operator]:
    return session.scalars(
        select(Operator).where(Operator.active.is_(True)).order_by(Operator.id)
    ).all()


def _plan_drafts(session: Session, *, setup: NagSetup, now: datetime) -> list[PlannedNag]:
    drafts = session.scalars(
        select(Draft)
        .where(Draft.state == DraftState.OPEN, Draft.created_at <= now)
        .order_by(Draft.id)
    ).all()
    if not drafts:
        return []
    claimed = set(
        session.execute(
            select(Nag.draft_id, Nag.level).where(Nag.draft_id.in_([d.id for d in drafts]))
        ).tuples()
    )
    due = []
    for draft in drafts:
        level = setup.draft_ladder.level_at(
            due_at=draft.created_at, made_at=draft.created_at, now=now
        )
        if level is not None and (draft.id, level) not in claimed:
            due.append((draft, level))
    if not due:
        return []
    operators = _operators(session)
    planned = []
    for draft, level in due:
        people = _recipients(level, None, operators, setup.escalation_email)
        titles = session.scalars(
            select(Alert.title).where(Alert.draft_id == draft.id).order_by(Alert.id)
        ).all()
        titles = list(dict.fromkeys(titles))  # each alert once, in the order they came
        facts = DraftNagFacts(
            level=level,
            draft_name=draft.name,
            draft_body=draft.body,
            impact=draft.impact.value,
            first_alert_at=draft.first_alert_at,
            alert_count=draft.alert_count,
            alert_titles=tuple(t or "" for t in titles),
            now=now,
            draft_url=draft_url(setup.base_url, draft),
            recipient_names=tuple(p.name if isinstance(p, Operator) else p for p in people),
        )
        addresses = tuple(p.email if isinstance(p, Operator) else p for p in people)
        planned.append(
            PlannedNag(
                promise_id=None,
                draft_id=draft.id,
                level=level,
                message=compose_draft(facts, addresses),
            )
        )
    return planned


def _plan_promises(session: Session, *, setup: NagSetup, now: datetime) -> list[PlannedNag]:
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
    operators = _operators(session)
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
    (promise, level) or (draft, level) that another worker inserted first; returns the plans
    this worker queued, with nag ids. Rows go in (id, level) order so concurrent claims on
    PostgreSQL never deadlock."""
    if not plans:
        return []
    with database.session(write_lock=True) as session:
        live = set(
            session.scalars(
                select(Promise.id).where(
                    Promise.id.in_({p.promise_id for p in plans if p.promise_id is not None}),
                    Promise.closed_at.is_(None),
                    or_(Promise.paused_until.is_(None), Promise.paused_until <= now),
                )
            )
        )
        open_drafts = set(
            session.scalars(
                select(Draft.id).where(
                    Draft.id.in_({p.draft_id for p in plans if p.draft_id is not None}),
                    Draft.state == DraftState.OPEN,
                )
            )
        )
        owned = _insert(
            session,
            database,
            [p for p in plans if p.promise_id in live],
            "promise_id",
            now,
        )
        owned += _insert(
            session,
            database,
            [p for p in plans if p.draft_id is not None and p.draft_id in open_drafts],
            "draft_id",
            now,
        )
        for plan, nag_id in owned:
            queue(session, plan.message, nag_id=nag_id, channels=setup.channels)
    return owned


def _insert(
    session: Session, database: Database, plans: list[PlannedNag], key: str, now: datetime
) -> list[tuple[PlannedNag, int]]:
    def subject(plan: PlannedNag) -> int:
        return (plan.promise_id if key == "promise_id" else plan.draft_id) or 0

    fresh = sorted(plans, key=lambda p: (subject(p), p.level))
    if not fresh:
        return []
    column = getattr(Nag, key)
    insert = upsert_insert(database.dialect)
    rows = session.execute(
        insert(Nag)
        .values(
            [
                {
                    key: subject(p),
                    "level": p.level,
                    "claimed_at": now,
                    "recipients": list(p.message.recipients),
                    "outcome": {},
                }
                for p in fresh
            ]
        )
        .on_conflict_do_nothing(index_elements=[key, "level"])
        .returning(Nag.id, column, Nag.level)
    ).all()
    ids = {(row[1], row.level): row.id for row in rows}
    return [(p, ids[(subject(p), p.level)]) for p in fresh if (subject(p), p.level) in ids]


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
