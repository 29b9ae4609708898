"""The intake path's part of the OpenAPI document: the alert webhook (three payload shapes,
its own token) and the operator routes for rules and drafts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statusboard.domain import text
from statusboard.domain.statuses import ComponentStatus, Impact

IMPACTS = [i.value for i in Impact]
STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
STATUS = {"enum": ["firing", "resolved"]}


def schemas(
    obj: Callable[..., dict[str, Any]],
    txt: Callable[..., dict[str, Any]],
    inp: Callable[..., dict[str, Any]],
    timestamp: dict[str, Any],
    nullable_timestamp: dict[str, Any],
) -> dict[str, Any]:
    group_alert = {
        "type": "object",
        "properties": {
            "status": STATUS,
            "labels": STRINGS,
            "annotations": STRINGS,
            "startsAt": {"type": "string"},
            "endsAt": {"type": "string"},
            "generatorURL": {"type": "string"},
            "fingerprint": {"type": "string"},
        },
        "required": ["status"],
    }
    generic = {
        "type": "object",
        "description": 'statusboard\'s generic shape: one alert (or {"alerts": [...]})',
        "properties": {
            "title": {"type": "string", "minLength": 1, "description": "what is wrong"},
            "status": STATUS,
            "labels": STRINGS,
            "fingerprint": {
                "type": "string",
                "description": "the same fingerprint is the same alert (default: a hash of "
                "title and labels)",
            },
        },
        "required": ["title"],
    }
    return {
        "AlertmanagerWebhook": {
            "type": "object",
            "description": "Prometheus Alertmanager webhook payload, version 4",
            "properties": {
                "version": {"const": "4"},
                "status": STATUS,
                "groupKey": {"type": "string"},
                "receiver": {"type": "string"},
                "alerts": {"type": "array", "items": group_alert, "minItems": 1},
            },
            "required": ["version", "alerts"],
        },
        "GrafanaWebhook": {
            "type": "object",
            "description": "Grafana unified alerting webhook payload",
            "properties": {
                "status": STATUS,
                "orgId": {"type": "integer"},
                "alerts": {"type": "array", "items": group_alert, "minItems": 1},
            },
            "required": ["alerts"],
        },
        "GenericAlert": generic,
        "AlertIntake": obj(
            {
                "accepted": {"type": "integer", "description": "alerts recorded"},
                "drafts": {
                    "type": "array",
                    "items": obj(
                        {
                            "id": txt("draft id"),
                            "state": {"enum": ["open", "published", "dismissed"]},
                            "name": txt("suggested incident name"),
                            "created": {"type": "boolean"},
                        }
                    ),
                },
            }
        ),
        "AlertRule": obj(
            {
                "id": txt("public id"),
                "key": txt("label (or annotations.<name>, or title) to match"),
                "value": txt("value it must equal"),
                "component_id": txt("component the alert concerns", nullable=True),
                "impact": {"enum": [*IMPACTS, None]},
                "position": {"type": "integer"},
                "created_at": timestamp,
            }
        ),
        "AlertRuleList": obj({"alert_rules": {"type": "array", "items": _ref("AlertRule")}}),
        "AlertRuleCreate": obj(
            {
                "key": inp("label to match, e.g. service", 120),
                "value": inp("value it must equal, e.g. api", 200),
                "component_id": inp("component id", 64, nullable=True),
                "impact": {"enum": [*IMPACTS, None]},
            },
            required=["key", "value"],
        ),
        "Draft": obj(
            {
                "id": txt("public id"),
                "state": {"enum": ["open", "published", "dismissed"]},
                "name": txt("suggested incident name"),
                "body": txt("suggested first message"),
                "impact": {"enum": IMPACTS},
                "components": {
                    "type": "object",
                    "additionalProperties": {"enum": [s.value for s in ComponentStatus]},
                },
                "first_alert_at": timestamp,
                "last_alert_at": timestamp,
                "alert_count": {"type": "integer"},
                "all_alerts_resolved_at": nullable_timestamp,
                "incident_id": txt("the incident it became", nullable=True),
            }
        ),
        "DraftList": obj({"drafts": {"type": "array", "items": _ref("Draft")}}),
        "DraftPublish": obj(
            {
                "name": inp("incident name (default: the suggestion)", text.INCIDENT_NAME),
                "body": inp(
                    "first message, Markdown (default: the suggestion)",
                    text.MESSAGE_BODY,
                    one_line=False,
                ),
            },
            required=[],
        ),
        "DraftDismiss": obj({"reason": inp("why it is noise (audited)", 500)}, required=[]),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def paths(
    operation: Callable[..., dict[str, Any]],
    json_response: Callable[[dict[str, Any], str], dict[str, Any]],
) -> dict[str, Any]:
    auth = ["401"]
    intake = {
        "summary": "Submit alerts",
        "operationId": "submit_alerts",
        "description": "For monitoring: authenticate with the source's own alert token "
        "(Admin → Alerts), which opens this route only. The source's format decides which "
        "shape is read. A payload that cannot be read gets a 4xx and is kept in the intake "
        "log for the admins.",
        "security": [{"alertToken": []}],
        "parameters": [
            {"name": "source", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _ref("AlertmanagerWebhook"),
                            _ref("GrafanaWebhook"),
                            _ref("GenericAlert"),
                        ]
                    }
                }
            },
        },
        "responses": {
            "202": json_response(_ref("AlertIntake"), "recorded; drafts created or joined"),
            **{
                code: json_response(_ref("Error"), why)
                for code, why in [
                    ("400", "the body is not JSON"),
                    ("401", "missing or wrong alert token for this source"),
                    ("413", "the body is larger than the server accepts"),
                    ("422", "not the shape this source sends; recorded for the admins"),
                ]
            },
        },
    }
    return {
        "/alerts/{source}": {"post": intake},
        "/alert-rules": {
            "get": operation("List alert rules", ("200", "AlertRuleList", "in order"), auth),
            "post": operation(
                "Create an alert rule",
                ("201", "AlertRule", "created"),
                [*auth, "400", "403", "404", "422"],
                body="AlertRuleCreate",
                admin=True,
            ),
        },
        "/alert-rules/{rule_id}": {
            "delete": operation(
                "Delete an alert rule",
                ("200", "AlertRule", "the rule as it was"),
                [*auth, "403", "404"],
                admin=True,
                params=["rule_id"],
            ),
        },
        "/drafts": {
            "get": operation(
                "List open drafts", ("200", "DraftList", "waiting for a human, oldest first"), auth
            ),
        },
        "/drafts/{draft_id}/publish": {
            "post": operation(
                "Publish a draft",
                ("201", "Incident", "the acknowledgement, published through the write path"),
                [*auth, "400", "404", "409", "422"],
                body="DraftPublish",
                params=["draft_id"],
            ),
        },
        "/drafts/{draft_id}/dismiss": {
            "post": operation(
                "Dismiss a draft",
                ("200", "Draft", "dismissed as noise; nothing published"),
                [*auth, "400", "404", "409", "422"],
                body="DraftDismiss",
                params=["draft_id"],
            ),
        },
    }
