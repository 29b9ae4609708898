"""The operator API for the intake path (operator tokens, as the rest of /api/v1): mapping
rules (admins change them), and drafts (any operator publishes or dismisses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from statusboard.clock import iso
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain import text
from statusboard.domain.errors import Forbidden
from statusboard.domain.statuses import Impact
from statusboard.models import AlertRule, Draft
from statusboard.services import alert_sources, alerts, components
from statusboard.web.api_input import Body
from statusboard.web.api_v1 import _actor, _created, _incident_json, blueprint


def _ts(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def _require_admin() -> None:
    if not g.api_token.operator.is_admin:
        raise Forbidden("only admins can change alert rules", field=None)


def rule_json(rule: AlertRule) -> dict[str, Any]:
    return {
        "id": rule.public_id,
        "key": rule.key,
        "value": rule.value,
        "component_id": rule.component.public_id if rule.component else None,
        "impact": rule.impact.value if rule.impact else None,
        "position": rule.position,
        "created_at": _ts(rule.created_at),
    }


def draft_json(draft: Draft) -> dict[str, Any]:
    return {
        "id": draft.public_id,
        "state": draft.state.value,
        "name": draft.name,
        "body": draft.body,
        "impact": draft.impact.value,
        "components": dict(draft.components or {}),
        "first_alert_at": _ts(draft.first_alert_at),
        "last_alert_at": _ts(draft.last_alert_at),
        "alert_count": draft.alert_count,
        "all_alerts_resolved_at": _ts(draft.all_resolved_at),
        "incident_id": draft.incident.public_id if draft.incident else None,
    }


@blueprint.get("/alert-rules")
def list_alert_rules() -> ResponseReturnValue:
    return jsonify(alert_rules=[rule_json(r) for r in alert_sources.list_rules(db_session())])


@blueprint.post("/alert-rules")
def create_alert_rule() -> ResponseReturnValue:
    _require_admin()
    body = Body({"key", "value", "component_id", "impact"}, nullable={"component_id", "impact"})
    session = db_session()
    component_id = body.text("component_id", max_length=64)
    rule = alert_sources.create_rule(
        session,
        key=body.text("key", required=True, max_length=120),
        value=body.text("value", required=True, max_length=200),
        component=components.find_component(session, component_id) if component_id else None,
        impact=body.choice("impact", Impact),
        actor=_actor(),
    )
    session.commit()
    return _created(rule_json(rule), f"/api/v1/alert-rules/{rule.public_id}")


@blueprint.delete("/alert-rules/<public_id>")
def delete_alert_rule(public_id: str) -> ResponseReturnValue:
    _require_admin()
    session = db_session()
    rule = alert_sources.find_rule(session, public_id)
    data = rule_json(rule)
    alert_sources.delete_rule(session, rule=rule, actor=_actor())
    session.commit()
    return jsonify(data)


@blueprint.get("/drafts")
def list_drafts() -> ResponseReturnValue:
    return jsonify(drafts=[draft_json(d) for d in alerts.open_drafts(db_session())])


@blueprint.post("/drafts/<public_id>/publish")
def publish_draft(public_id: str) -> ResponseReturnValue:
    body = Body({"name", "body"})
    session = db_session()
    incident = alerts.publish(
        session,
        draft=alerts.find_draft(session, public_id),
        actor=_actor(),
        publishing_settings=settings_of().publishing,
        name=body.text("name", max_length=text.INCIDENT_NAME),
        body=body.text("body", max_length=text.MESSAGE_BODY, one_line=False),
    )
    session.commit()
    return _created(_incident_json(incident.public_id), f"/api/v1/incidents/{incident.public_id}")


@blueprint.post("/drafts/<public_id>/dismiss")
def dismiss_draft(public_id: str) -> ResponseReturnValue:
    body = Body({"reason"})
    session = db_session()
    draft = alerts.find_draft(session, public_id)
    alerts.dismiss(
        session, draft=draft, actor=_actor(), reason=body.text("reason", max_length=500) or ""
    )
    session.commit()
    return jsonify(draft_json(draft))
