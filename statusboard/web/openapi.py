"""The OpenAPI 3.1 document of the operator API (/api/v1/openapi.json and /api/v1/docs).

Response schemas are strict (no extra keys, every key required) so the test that validates
real responses against them keeps this document true.
"""

from __future__ import annotations

from typing import Any

from statusboard.domain import text
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from statusboard.models.operator import Role
from statusboard.web import openapi_alerts

TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
}
NULLABLE_TIMESTAMP = {
    "type": ["string", "null"],
    "format": "date-time",
    "pattern": TIMESTAMP["pattern"],
}
INPUT_TIMESTAMP = {
    "type": ["string", "null"],
    "format": "date-time",
    "examples": ["2026-11-24T15:00:00Z"],
}
# With a template, what the request leaves out (impact, status, components, even the body)
# comes from it; a body with its [[blanks]] unfilled is refused (422, field "body").
TEMPLATE_ID = {
    "type": "string",
    "maxLength": 32,
    "description": "an incident template's id: it fills in what the request leaves out "
    "(impact, status, components, body); its [[blanks]] must be replaced in the body",
}
COMPONENT_STATUSES = [s.value for s in ComponentStatus]
INCIDENT_STATUSES = [s.value for s in IncidentStatus]
IMPACTS = [i.value for i in Impact]
MAINTENANCE_STATUSES = [s.value for s in MaintenanceStatus]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(
    properties: dict[str, Any], required: list[str] | None = None, description: str | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _text(description: str, nullable: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "type": ["string", "null"] if nullable else "string",
        "description": description,
        **extra,
    }


# What domain/text.py accepts: no NUL or other control character (one-line fields: not even
# tab or newline), at least one character, at most the field's limit.
ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
MULTI_LINE = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$"


def _input(
    description: str, max_length: int, *, nullable: bool = False, one_line: bool = True
) -> dict[str, Any]:
    return _text(
        description,
        nullable=nullable,
        minLength=1,
        maxLength=max_length,
        pattern=ONE_LINE if one_line else MULTI_LINE,
    )


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": _text("machine-readable reason, e.g. invalid_input, unauthorized"),
                    "message": _text("what went wrong, for people"),
                    "field": _text("the input at fault, when there is one", nullable=True),
                }
            )
        }
    ),
    "Component": _object(
        {
            "id": _text("public id"),
            "name": _text("name"),
            "status": {"enum": COMPONENT_STATUSES},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "position": {"type": "integer", "minimum": 1},
            "description": _text("shown under the name", nullable=True),
            "showcase": {"type": "boolean"},
            "start_date": {"type": ["string", "null"], "format": "date"},
            "group_id": _text("id of the group it belongs to", nullable=True),
            "page_id": _text("page id"),
            "group": {"type": "boolean", "description": "true for a group row"},
            "only_show_if_degraded": {"type": "boolean"},
            "components": {
                "type": "array",
                "items": {"type": "string"},
                "description": "group rows only: ids of the children",
            },
        },
        required=[
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "position",
            "description",
            "showcase",
            "start_date",
            "group_id",
            "page_id",
            "group",
            "only_show_if_degraded",
        ],
    ),
    "ComponentList": _object({"components": {"type": "array", "items": _ref("Component")}}),
    "AffectedComponent": _object(
        {
            "code": _text("component id"),
            "name": _text("component name"),
            "old_status": {"enum": COMPONENT_STATUSES},
            "new_status": {"enum": COMPONENT_STATUSES},
        }
    ),
    "IncidentUpdate": _object(
        {
            "id": _text("public id"),
            "status": {"enum": INCIDENT_STATUSES},
            "body": _text("the message, Markdown"),
            "incident_id": _text("incident id"),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "display_at": TIMESTAMP,
            "affected_components": {"type": ["array", "null"], "items": _ref("AffectedComponent")},
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": _text("always null", nullable=True),
            "tweet_id": _text("always null here", nullable=True),
        }
    ),
    "Promises": _object(
        {
            "eta": {**NULLABLE_TIMESTAMP, "description": "expected resolution; null = unknown"},
            "eta_unknown": {"type": "boolean"},
            "eta_passed": {"type": "boolean"},
            "next_update_by": {
                **NULLABLE_TIMESTAMP,
                "description": "the next public update is promised by then",
            },
            "next_update_overdue": {"type": "boolean"},
        },
        description="statusboard's own facts: the promises in force and whether they hold",
    ),
    "Incident": _object(
        {
            "id": _text("public id"),
            "name": _text("name"),
            "status": {"enum": INCIDENT_STATUSES},
            "impact": {"enum": IMPACTS},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "started_at": TIMESTAMP,
            "monitoring_at": NULLABLE_TIMESTAMP,
            "resolved_at": NULLABLE_TIMESTAMP,
            "shortlink": _text("the incident's public page", format="uri"),
            "page_id": _text("page id"),
            "incident_updates": {
                "type": "array",
                "items": _ref("IncidentUpdate"),
                "description": "newest first",
                "minItems": 1,
            },
            "components": {"type": "array", "items": _ref("Component")},
            "statusboard": _ref("Promises"),
        }
    ),
    "ComponentCreate": _object(
        {
            "name": _input("shown on the page", text.COMPONENT_NAME),
            "description": _input(
                "optional line under the name", text.COMPONENT_DESCRIPTION, nullable=True
            ),
            "group_id": _input("put it in this group", 64, nullable=True),
            "group": {"type": "boolean", "description": "create a group instead"},
            "status": {"enum": COMPONENT_STATUSES},
        },
        required=["name"],
    ),
    "ComponentChange": _object(
        {
            "name": _input("new name", text.COMPONENT_NAME),
            "description": _input(
                "new description; null clears it", text.COMPONENT_DESCRIPTION, nullable=True
            ),
            "status": {"enum": COMPONENT_STATUSES},
        },
        required=[],
    ),
    "ComponentStatuses": {
        "type": "object",
        "additionalProperties": {"enum": COMPONENT_STATUSES},
        "description": 'component id → new status, e.g. {"k3x9...": "major_outage"}',
    },
    "IncidentCreate": _object(
        {
            "name": _input("what customers will recognise", text.INCIDENT_NAME),
            "impact": {"enum": IMPACTS},
            "body": _input("the first update, Markdown", text.MESSAGE_BODY, one_line=False),
            "status": {"enum": ["investigating", "identified", "monitoring"]},
            "eta": {
                **INPUT_TIMESTAMP,
                "description": "expected resolution; null or absent = unknown",
            },
            "next_update_at": {
                **INPUT_TIMESTAMP,
                "description": "promise the next update by "
                "then; absent = the default for the impact",
            },
            "components": _ref("ComponentStatuses"),
            "notify": {"type": "boolean", "description": "notify subscribers (default true)"},
            "template": TEMPLATE_ID,
            "started_at": {
                **INPUT_TIMESTAMP,
                "description": "when it began, if earlier (up to 30 days back): corrects the "
                "uptime history; absent or null = now",
            },
        },
        required=["name", "impact", "body"],
    ),
    "UpdateCreate": _object(
        {
            "status": {"enum": INCIDENT_STATUSES},
            "body": _input("the update, Markdown", text.MESSAGE_BODY, one_line=False),
            "eta": {
                **INPUT_TIMESTAMP,
                "description": "absent = keep the ETA in force; null = unknown",
            },
            "next_update_at": {
                **INPUT_TIMESTAMP,
                "description": "absent = the default for the impact",
            },
            "components": _ref("ComponentStatuses"),
            "notify": {"type": "boolean"},
            "template": TEMPLATE_ID,
        },
        required=["status", "body"],
    ),
    "Resolve": _object(
        {
            "body": _input("the resolution message, Markdown", text.MESSAGE_BODY, one_line=False),
            "components": {
                **_ref("ComponentStatuses"),
                "description": "absent = every affected component back to operational",
            },
            "notify": {"type": "boolean"},
            "postmortem_by": {
                "type": ["string", "null"],
                "format": "date",
                "description": "promise a postmortem by the end of this day (page time zone); "
                "publish it later as an update with status postmortem",
            },
            "resolved_at": {
                **INPUT_TIMESTAMP,
                "description": "when it ended, if earlier (up to 30 days back, not before its "
                "last update): corrects the uptime history; absent or null = now",
            },
        },
        required=["body"],
    ),
}


def _maintenance_schemas() -> dict[str, Any]:
    """A window is the incident object with maintenance statuses and its scheduled times."""
    update = SCHEMAS["IncidentUpdate"]
    incident = SCHEMAS["Incident"]
    return {
        "MaintenanceUpdate": {
            **update,
            "properties": {**update["properties"], "status": {"enum": MAINTENANCE_STATUSES}},
        },
        "Maintenance": _object(
            {
                **incident["properties"],
                "status": {"enum": MAINTENANCE_STATUSES},
                "impact": {"const": "maintenance"},
                "incident_updates": {
                    **incident["properties"]["incident_updates"],
                    "items": _ref("MaintenanceUpdate"),
                },
                "scheduled_for": TIMESTAMP,
                "scheduled_until": TIMESTAMP,
            }
        ),
        "MaintenanceList": _object(
            {
                "scheduled_maintenances": {
                    "type": "array",
                    "items": _ref("Maintenance"),
                    "description": "the 50 most recent windows, latest start first",
                }
            }
        ),
        "MaintenanceCreate": _object(
            {
                "name": _input("what customers will recognise", text.INCIDENT_NAME),
                "body": _input("the announcement, Markdown", text.MESSAGE_BODY, one_line=False),
                "scheduled_for": {**INPUT_TIMESTAMP, "type": "string", "description": "start"},
                "scheduled_until": {
                    **INPUT_TIMESTAMP,
                    "type": "string",
                    "description": "end; a promise like any other (at most 14 days after start)",
                },
                "components": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "ids of the affected components; under maintenance while "
                    "the window is in progress",
                },
                "notify": {"type": "boolean", "description": "notify subscribers (default true)"},
            },
            required=["name", "body", "scheduled_for", "scheduled_until"],
        ),
        "MaintenanceUpdateCreate": _object(
            {
                "status": {"enum": MAINTENANCE_STATUSES},
                "body": _input("the update, Markdown", text.MESSAGE_BODY, one_line=False),
                "scheduled_until": {
                    **INPUT_TIMESTAMP,
                    "description": "a new end, to extend the window; absent or null = keep",
                },
                "notify": {"type": "boolean"},
            },
            required=["status", "body"],
        ),
        "MaintenanceComplete": _object(
            {
                "body": _input(
                    "the completion message, Markdown", text.MESSAGE_BODY, one_line=False
                ),
                "notify": {"type": "boolean"},
            },
            required=["body"],
        ),
    }


SCHEMAS.update(_maintenance_schemas())
SCHEMAS.update(
    {
        "Operator": _object(
            {
                "email": _text("sign-in email; names the operator in paths"),
                "name": _text("shown to other operators"),
                "role": {"enum": [r.value for r in Role]},
                "active": {"type": "boolean", "description": "false: cannot log in or use tokens"},
                "on_call": {
                    "type": "boolean",
                    "description": "gets the nag when a promise falls due, with the owner",
                },
                "created_at": TIMESTAMP,
                "last_login_at": NULLABLE_TIMESTAMP,
            }
        ),
        "OperatorList": _object({"operators": {"type": "array", "items": _ref("Operator")}}),
        "OperatorChange": _object(
            {
                "role": {
                    "enum": [r.value for r in Role],
                    "description": "a new role ends the operator's sessions",
                },
                "active": {
                    "type": "boolean",
                    "description": "false ends their sessions and stops their tokens",
                },
                "on_call": {"type": "boolean"},
            },
            required=[],
            description="Fields left out stay as they are. The last active admin cannot be "
            "demoted or deactivated, nor can the token's owner demote or deactivate "
            "themselves (409; nothing changes).",
        ),
    }
)
SCHEMAS.update(openapi_alerts.schemas(_object, _text, _input, TIMESTAMP, NULLABLE_TIMESTAMP))

ERRORS = {
    "400": "the body is not a JSON object or nested too deeply, or the address holds a "
    "control character",
    "413": "the body is larger than the server accepts (STATUSBOARD_MAX_REQUEST_BYTES)",
    "401": "missing, invalid or revoked token",
    "403": "the token's owner may not do this",
    "404": "no such component, incident, maintenance or operator",
    "409": "the incident or maintenance cannot move to that status, or the change would "
    "leave no active admin",
    "422": "a field is missing or invalid; `field` names it; nothing was saved",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str,
    ok: tuple[str, str, str],
    errors: list[str],
    body: str | None = None,
    admin: bool = False,
    params: list[str] | None = None,
) -> dict[str, Any]:
    status, schema, description = ok
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": summary.lower().replace(" ", "_").replace(",", ""),
        "responses": {
            status: _json(_ref(schema), description),
            **{
                code: _json(_ref("Error"), ERRORS[code])
                for code in sorted({*errors, "400", *(["413"] if body else [])})
            },
        },
    }
    if admin:
        operation["description"] = "Only tokens of admins may do this (else 403)."
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    if params:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in params
        ]
    return operation


def document(base_url: str) -> dict[str, Any]:
    auth = ["401"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "statusboard operator API",
            "version": "1",
            "description": "Declare and update incidents with honest ETAs and "
            "next-update promises, schedule and update maintenance windows, and manage "
            "components and the team of operators. Authenticate with "
            "`Authorization: Bearer <token>`; create a token with "
            "`statusboard token create EMAIL --name NAME` or under Admin → API tokens. "
            "Every write is audited as the token's owner.",
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "alertToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an alert source's token: POST /alerts/{source} only",
                },
            },
            "schemas": SCHEMAS,
        },
        "paths": {
            "/components": {
                "get": _operation("List components", ("200", "ComponentList", "page order"), auth),
                "post": _operation(
                    "Create a component",
                    ("201", "Component", "created"),
                    [*auth, "400", "403", "404", "422"],
                    body="ComponentCreate",
                    admin=True,
                ),
            },
            "/components/{component_id}": {
                "patch": _operation(
                    "Change a component",
                    ("200", "Component", "changed"),
                    [*auth, "400", "403", "404", "422"],
                    body="ComponentChange",
                    admin=True,
                    params=["component_id"],
                ),
            },
            "/operators": {
                "get": _operation(
                    "List operators",
                    ("200", "OperatorList", "by name"),
                    [*auth, "403"],
                    admin=True,
                ),
            },
            "/operators/{email}": {
                "get": _operation(
                    "Read an operator",
                    ("200", "Operator", "the operator"),
                    [*auth, "403", "404"],
                    admin=True,
                    params=["email"],
                ),
                "patch": _operation(
                    "Change an operator",
                    ("200", "Operator", "changed; audited"),
                    [*auth, "400", "403", "404", "409", "422"],
                    body="OperatorChange",
                    admin=True,
                    params=["email"],
                ),
            },
            "/incidents": {
                "post": _operation(
                    "Open an incident",
                    ("201", "Incident", "opened"),
                    [*auth, "400", "422"],
                    body="IncidentCreate",
                ),
            },
            "/incidents/{incident_id}": {
                "get": _operation(
                    "Read an incident",
                    ("200", "Incident", "with its whole timeline"),
                    [*auth, "404"],
                    params=["incident_id"],
                ),
            },
            "/incidents/{incident_id}/updates": {
                "post": _operation(
                    "Post an update",
                    ("201", "Incident", "the incident with the new update first"),
                    [*auth, "400", "404", "409", "422"],
                    body="UpdateCreate",
                    params=["incident_id"],
                ),
            },
            "/incidents/{incident_id}/resolve": {
                "post": _operation(
                    "Resolve an incident",
                    ("200", "Incident", "resolved"),
                    [*auth, "400", "404", "409", "422"],
                    body="Resolve",
                    params=["incident_id"],
                ),
            },
            "/maintenance": {
                "get": _operation(
                    "List maintenance windows",
                    ("200", "MaintenanceList", "latest start first"),
                    auth,
                ),
                "post": _operation(
                    "Schedule maintenance",
                    ("201", "Maintenance", "scheduled"),
                    [*auth, "400", "422"],
                    body="MaintenanceCreate",
                ),
            },
            "/maintenance/{maintenance_id}": {
                "get": _operation(
                    "Read a maintenance window",
                    ("200", "Maintenance", "with its whole timeline"),
                    [*auth, "404"],
                    params=["maintenance_id"],
                ),
            },
            "/maintenance/{maintenance_id}/updates": {
                "post": _operation(
                    "Post a maintenance update",
                    ("201", "Maintenance", "the window with the new update first"),
                    [*auth, "400", "404", "409", "422"],
                    body="MaintenanceUpdateCreate",
                    params=["maintenance_id"],
                ),
            },
            "/maintenance/{maintenance_id}/complete": {
                "post": _operation(
                    "Complete maintenance",
                    ("200", "Maintenance", "completed; its components are released"),
                    [*auth, "400", "404", "409", "422"],
                    body="MaintenanceComplete",
                    params=["maintenance_id"],
                ),
            },
            **openapi_alerts.paths(_operation, _json),
        },
    }
