"""The intake path: receiving alerts into private drafts, and publishing or dismissing a
draft. Sources, their tokens and the mapping rules are in services/alert_sources.py.

An alert joins the live draft that already holds its fingerprint (so repeated firing extends
it); the new fingerprints of one request share one new draft. A draft stays live while it is
open, while the incident it became is unresolved, and, once dismissed, while its alert keeps
firing (noise does not come back as a new draft on every repeat).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from statusboard import clock
from statusboard.config import PublishingSettings
from statusboard.domain import alerts as rules_of
from statusboard.domain import text
from statusboard.domain.errors import Conflict, NotFound
from statusboard.domain.statuses import ComponentStatus, Impact, worst_component_status
from statusboard.models import (
    Alert,
    AlertOutcome,
    AlertSource,
    Component,
    Draft,
    DraftState,
    Incident,
)
from statusboard.services import audit, components, incidents
from statusboard.services.alert_sources import list_rules
from statusboard.services.audit import Actor
from statusboard.services.updates import claimed_statuses

MAX_RAW = 64_000


# --- intake -------------------------------------------------------------------------------------


@dataclass
class Intake:
    alerts: list[Alert] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)  # created or joined, in order
    created: list[Draft] = field(default_factory=list)


def record_refusal(session: Session, *, source: AlertSource, raw: str, error: str) -> Alert:
    """A payload we could not take, kept for the admin to inspect."""
    alert = Alert(
        source_id=source.id,
        received_at=clock.now(),
        outcome=AlertOutcome.REFUSED,
        error=error,
        raw=text.printable(raw)[:MAX_RAW],
    )
    session.add(alert)
    session.flush()
    return alert


def receive(session: Session, *, source: AlertSource, payload: Any) -> Intake:
    """Parse, map and file the alerts of one request. InvalidInput (nothing saved) when the
    payload is not what the source sends; the edge records the refusal."""
    parsed = rules_of.parse(source.format.value, payload)
    now = clock.now()
    rules = list_rules(session)
    domain_rules = [
        rules_of.Rule(
            key=r.key,
            value=r.value,
            component=r.component.public_id if r.component else None,
            impact=r.impact,
            rule_id=r.public_id,
        )
        for r in rules
    ]
    by_id = {c.public_id: c for c in session.scalars(select(Component))}
    intake = Intake()
    shared_new: Draft | None = None
    for item in parsed:
        match = rules_of.apply_rules(domain_rules, item.labels)
        impact = match.impact or rules_of.DEFAULT_IMPACT
        alert = Alert(
            source_id=source.id,
            received_at=now,
            raw=item.raw[:MAX_RAW],
            status=item.status,
            fingerprint=item.fingerprint,
            title=item.title[:500],
            labels=dict(item.labels),
            mapping={
                "components": [c for c in match.components if c in by_id],
                "impact": impact.value,
                "rules": list(match.rules),
            },
        )
        session.add(alert)
        draft = _live_draft(session, item.fingerprint)
        if draft is None and item.status == rules_of.FIRING:
            if shared_new is None:
                shared_new = _new_draft(session, source, now)
                intake.created.append(shared_new)
            draft = shared_new
        if draft is not None:
            alert.draft = draft
            _extend(draft, alert, impact, by_id, now)
            if draft not in intake.drafts:
                intake.drafts.append(draft)
        intake.alerts.append(alert)
        if item.status == rules_of.FIRING:
            _automate(session, [by_id[c] for c in alert.mapping["components"]], impact, source)
    session.flush()
    for draft in intake.drafts:
        _note_resolution(session, draft, by_id, source, now)
    return intake


def _new_draft(session: Session, source: AlertSource, now: datetime) -> Draft:
    draft = Draft(
        source_id=source.id,
        state=DraftState.OPEN,
        name=rules_of.suggested_name([]),
        body=rules_of.suggested_body([], rules_of.DEFAULT_IMPACT),
        impact=rules_of.DEFAULT_IMPACT,
        components={},
        first_alert_at=now,
        last_alert_at=now,
        alert_count=0,
        created_at=now,
    )
    session.add(draft)
    return draft


def _extend(
    draft: Draft, alert: Alert, impact: Impact, by_id: dict[str, Component], now: datetime
) -> None:
    draft.last_alert_at = now
    draft.alert_count = (draft.alert_count or 0) + 1
    if alert.status != rules_of.FIRING:
        return
    draft.all_resolved_at = None
    if draft.state is not DraftState.OPEN:
        return  # what was published or dismissed is not rewritten
    first = draft.alert_count == 1
    draft.impact = impact if first else rules_of.worse(draft.impact, impact) or impact
    status = rules_of.IMPACT_STATUS[draft.impact]
    wanted = dict.fromkeys([*draft.components, *alert.mapping["components"]], status.value)
    draft.components = wanted
    names = [by_id[c].name for c in wanted if c in by_id]
    draft.name = rules_of.suggested_name(names)
    draft.body = rules_of.suggested_body(names, draft.impact)


def _live_draft(session: Session, fingerprint: str) -> Draft | None:
    holding = select(Alert.draft_id).where(Alert.fingerprint == fingerprint)
    candidates = session.scalars(
        select(Draft).where(Draft.id.in_(holding)).order_by(Draft.id.desc()).limit(5)
    ).all()
    for draft in candidates:
        if draft.state is DraftState.OPEN:
            return draft
        if draft.state is DraftState.PUBLISHED:
            incident = draft.incident
            if incident is not None and incident.resolved_at is None:
                return draft
        elif _last_status(session, draft, fingerprint) == rules_of.FIRING:
            return draft
    return None


def _last_status(session: Session, draft: Draft, fingerprint: str) -> str | None:
    return session.scalar(
        select(Alert.status)
        .where(Alert.draft_id == draft.id, Alert.fingerprint == fingerprint)
        .order_by(Alert.received_at.desc(), Alert.id.desc())
        .limit(1)
    )


def firing_fingerprints(session: Session, draft: Draft) -> list[str]:
    """The draft's alerts still firing (the latest word on each fingerprint)."""
    rows = session.execute(
        select(Alert.fingerprint, Alert.status)
        .where(Alert.draft_id == draft.id)
        .order_by(Alert.received_at, Alert.id)
    ).all()
    latest: dict[str, str | None] = {}
    for fingerprint, status in rows:
        latest[fingerprint or ""] = status
    return [f for f, s in latest.items() if s == rules_of.FIRING]


def _note_resolution(
    session: Session,
    draft: Draft,
    by_id: dict[str, Component],
    source: AlertSource,
    now: datetime,
) -> None:
    """All alerts resolved: suggest resolving (never do it); undo the automation of a draft
    nobody published, where no open incident claims the component."""
    if firing_fingerprints(session, draft) or draft.all_resolved_at is not None:
        return
    draft.all_resolved_at = now
    if draft.state is not DraftState.OPEN:
        return
    automated = [by_id[c] for c in draft.components if c in by_id and by_id[c].alert_automation]
    claimed = claimed_statuses(session, [c.id for c in automated])
    for component in automated:
        if component.id not in claimed:
            components.set_component_status(
                session,
                component=component,
                status=ComponentStatus.OPERATIONAL,
                actor=Actor(None, via=f"alert:{source.name}"),
            )


def _automate(
    session: Session, targets: Sequence[Component], impact: Impact, source: AlertSource
) -> None:
    """Opt-in per component: a firing alert sets its status (only ever worse) at once."""
    status = rules_of.IMPACT_STATUS[impact]
    for component in targets:
        if not component.alert_automation or component.is_group:
            continue
        if worst_component_status([component.status, status]) is component.status:
            continue
        components.set_component_status(
            session,
            component=component,
            status=status,
            actor=Actor(None, via=f"alert:{source.name}"),
        )


# --- drafts -------------------------------------------------------------------------------------


def open_drafts(session: Session) -> list[Draft]:
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.state == DraftState.OPEN)
            .order_by(Draft.first_alert_at, Draft.id)
        )
    )


def resolvable_drafts(session: Session) -> list[Draft]:
    """Published drafts whose alerts all resolved while the incident is still open."""
    return list(
        session.scalars(
            select(Draft)
            .join(Draft.incident)
            .where(
                Draft.state == DraftState.PUBLISHED,
                Draft.all_resolved_at.is_not(None),
                Incident.resolved_at.is_(None),
            )
            .order_by(Draft.all_resolved_at)
        )
    )


def find_draft(session: Session, public_id: str) -> Draft:
    draft = session.scalar(select(Draft).where(Draft.public_id == public_id))
    if draft is None:
        raise NotFound(f"no draft {public_id}", field="draft")
    return draft


def recent_alerts(session: Session, limit: int = 200) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .options(selectinload(Alert.source), selectinload(Alert.draft))
            .order_by(Alert.received_at.desc(), Alert.id.desc())
            .limit(limit)
        )
    )


def _check_open(draft: Draft) -> None:
    if draft.state is not DraftState.OPEN:
        raise Conflict(f"this draft was already {draft.state.value}", field="draft")


def publish(
    session: Session,
    *,
    draft: Draft,
    actor: Actor,
    publishing_settings: PublishingSettings,
    name: str | None = None,
    body: str | None = None,
) -> Incident:
    """The acknowledgement: open the incident through the one write path, with the draft's
    components and the default next-update promise for its impact."""
    _check_open(draft)
    wanted = draft.components or {}
    found = session.scalars(select(Component).where(Component.public_id.in_(list(wanted)))).all()
    changes = {c: ComponentStatus(wanted[c.public_id]) for c in found if not c.is_group}
    incident = incidents.open_incident(
        session,
        name=name or draft.name,
        impact=draft.impact,
        body=body or draft.body,
        actor=actor,
        publishing_settings=publishing_settings,
        component_changes=changes,
    )
    session.flush()
    draft.state = DraftState.PUBLISHED
    draft.published_at = clock.now()
    draft.incident = incident
    draft.closed_by = actor.operator
    audit.record(
        session,
        actor=actor,
        action="draft.publish",
        subject_type="draft",
        subject_id=draft.public_id,
        incident=incident.public_id,
    )
    return incident


def dismiss(session: Session, *, draft: Draft, actor: Actor, reason: str = "") -> None:
    """Noise: nothing is published, the nags stop, and who said so is kept."""
    _check_open(draft)
    reason = text.clean(reason or "", field="reason", max_length=500).strip()
    draft.state = DraftState.DISMISSED
    draft.dismissed_at = clock.now()
    draft.closed_by = actor.operator
    draft.dismiss_reason = reason or None
    audit.record(
        session,
        actor=actor,
        action="draft.dismiss",
        subject_type="draft",
        subject_id=draft.public_id,
        reason=reason,
    )
