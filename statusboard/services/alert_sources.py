"""Where alerts come from and what they mean: alert sources with their own tokens (they can
submit alerts and nothing else), the rules that map labels to components and impact, and the
per-component opt-in to status automation."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from statusboard import clock
from statusboard.domain import text
from statusboard.domain.errors import Conflict, InvalidInput, NotFound
from statusboard.domain.statuses import Impact
from statusboard.models import AlertFormat, AlertRule, AlertSource, Component
from statusboard.services import audit
from statusboard.services.audit import Actor

PREFIX = "sba_"
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- sources ------------------------------------------------------------------------------------


def create_source(
    session: Session, *, name: str, format: AlertFormat, actor: Actor
) -> tuple[AlertSource, str]:
    """A new source; returns it with its token, which is shown once and never stored."""
    name = text.clean(name or "", field="name", one_line=True).strip().lower()
    if not SOURCE_NAME.match(name):
        raise InvalidInput(
            "name the source in lowercase letters, digits, - and _ (it goes in the URL), "
            "e.g. prometheus",
            field="name",
        )
    if session.scalar(select(AlertSource.id).where(AlertSource.name == name)) is not None:
        raise Conflict(f"there is already a source named {name}", field="name")
    secret = PREFIX + secrets.token_urlsafe(32)
    source = AlertSource(
        name=name,
        format=AlertFormat(format),
        secret_hash=_digest(secret),
        prefix=secret[: len(PREFIX) + 6],
        created_at=clock.now(),
    )
    session.add(source)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alert_source.create",
        subject_type="alert_source",
        subject_id=source.public_id,
        name=name,
        format=source.format.value,
    )
    return source, secret


def revoke_source(session: Session, *, source: AlertSource, actor: Actor) -> None:
    if source.revoked_at is not None:
        return
    source.revoked_at = clock.now()
    audit.record(
        session,
        actor=actor,
        action="alert_source.revoke",
        subject_type="alert_source",
        subject_id=source.public_id,
        name=source.name,
    )


def authenticate_source(session: Session, name: str, secret: str) -> AlertSource | None:
    """The active source `name` if `secret` is its token; API tokens never match."""
    if not secret.startswith(PREFIX):
        return None
    source = session.scalar(select(AlertSource).where(AlertSource.name == name))
    if source is None or source.revoked_at is not None:
        return None
    if not hmac.compare_digest(source.secret_hash, _digest(secret)):
        return None
    source.last_used_at = clock.now()
    return source


def list_sources(session: Session) -> list[AlertSource]:
    return list(session.scalars(select(AlertSource).order_by(AlertSource.name)))


def find_source(session: Session, public_id: str) -> AlertSource:
    source = session.scalar(select(AlertSource).where(AlertSource.public_id == public_id))
    if source is None:
        raise NotFound(f"no alert source {public_id}", field="source")
    return source


# --- rules --------------------------------------------------------------------------------------


def list_rules(session: Session) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule)
            .options(selectinload(AlertRule.component))
            .order_by(AlertRule.position, AlertRule.id)
        )
    )


def create_rule(
    session: Session,
    *,
    key: str,
    value: str,
    component: Component | None,
    impact: Impact | None,
    actor: Actor,
) -> AlertRule:
    key = text.clean(key or "", field="key", one_line=True, max_length=120).strip()
    value = text.clean(value or "", field="value", one_line=True, max_length=200).strip()
    if not key or not value:
        raise InvalidInput("a rule needs a label and a value, e.g. service = api", field="key")
    if component is None and impact is None:
        raise InvalidInput("a rule maps to a component, an impact, or both", field="component")
    if component is not None and component.is_group:
        raise InvalidInput("map alerts to a component, not a group", field="component")
    last = session.scalar(select(AlertRule.position).order_by(AlertRule.position.desc()).limit(1))
    rule = AlertRule(
        key=key, value=value, component=component, impact=impact, position=(last or 0) + 1
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alert_rule.create",
        subject_type="alert_rule",
        subject_id=rule.public_id,
        key=key,
        value=value,
        component=component.public_id if component else None,
        impact=impact.value if impact else None,
    )
    return rule


def find_rule(session: Session, public_id: str) -> AlertRule:
    rule = session.scalar(select(AlertRule).where(AlertRule.public_id == public_id))
    if rule is None:
        raise NotFound(f"no alert rule {public_id}", field="rule")
    return rule


def delete_rule(session: Session, *, rule: AlertRule, actor: Actor) -> None:
    audit.record(
        session,
        actor=actor,
        action="alert_rule.delete",
        subject_type="alert_rule",
        subject_id=rule.public_id,
        key=rule.key,
        value=rule.value,
    )
    session.delete(rule)


def set_automation(session: Session, *, component: Component, on: bool, actor: Actor) -> None:
    """Opt a component in to (or out of) status automation from alerts; audited."""
    if component.is_group:
        raise InvalidInput("a group's status follows its components", field="component")
    if component.alert_automation == on:
        return
    component.alert_automation = on
    audit.record(
        session,
        actor=actor,
        action="component.alert_automation",
        subject_type="component",
        subject_id=component.public_id,
        on=on,
    )
