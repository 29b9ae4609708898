"""The operator API under /api/v1: bearer tokens, the same services as the admin forms.

Every write is audited as the token's owner ("api:<token name>"); errors are
{"error": {"code", "message", "field"}}. Token auth means no CSRF and no login rate limit.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain import text
from statusboard.domain.errors import Forbidden, InvalidInput, NotFound
from statusboard.domain.statuses import (
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
)
from statusboard.models import Component, Incident, IncidentKind
from statusboard.services import (
    components,
    incidents,
    maintenance,
    statuspage,
    templates,
    timeline,
    tokens,
)
from statusboard.services.audit import Actor
from statusboard.services.page import current_version
from statusboard.web import openapi
from statusboard.web.api_input import MISSING, Body
from statusboard.web.extensions import csrf

blueprint = Blueprint("api_v1", __name__)
csrf.exempt(blueprint)

UNAUTHENTICATED = {"api_v1.openapi_document", "api_v1.docs"}


@blueprint.before_request
def authenticate() -> None:
    if request.endpoint in UNAUTHENTICATED:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = None
    if scheme.lower() == "bearer" and secret.strip():
        token = tokens.authenticate(db_session(), secret.strip())
    if token is None:
        abort(401, "Send a valid API token: Authorization: Bearer <token>.")
    db_session().commit()  # the last use is kept even if the request is then refused
    g.api_token = token


@blueprint.after_request
def challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="statusboard"'
    return response


def _actor() -> Actor:
    return Actor(g.api_token.operator, via=f"api:{g.api_token.name}")


def _require_admin() -> None:
    if not g.api_token.operator.is_admin:
        raise Forbidden("only admins can manage components", field=None)


def _page() -> statuspage.PageInfo:
    return statuspage.page_info(settings_of().page, current_version(db_session())[1])


def _component_json(component: Component) -> dict[str, Any]:
    return statuspage.component_object(component, _page())


def _incident_json(public_id: str, kind: IncidentKind = IncidentKind.INCIDENT) -> dict[str, Any]:
    found = timeline.incident_with_timeline(db_session(), public_id)
    if found is None or found.kind is not kind:
        name = "incident" if kind is IncidentKind.INCIDENT else "maintenance"
        raise NotFound(f"no {name} {public_id}", field=name)
    return statuspage.incident_object(found, _page(), clock.now())


def _created(data: dict[str, Any], location: str) -> Response:
    response = jsonify(data)
    response.status_code = 201
    response.headers["Location"] = location
    return response


def _find_incident(public_id: str) -> Incident:
    return incidents.find_incident(db_session(), public_id, kind=IncidentKind.INCIDENT)


@blueprint.get("/components")
def list_components() -> ResponseReturnValue:
    page = _page()
    return jsonify(
        components=statuspage.component_list(components.ordered_components(db_session()), page)
    )


@blueprint.post("/components")
def create_component() -> ResponseReturnValue:
    _require_admin()
    body = Body(
        {"name", "description", "group_id", "group", "status"},
        nullable={"description", "group_id"},
    )
    session = db_session()
    group_id = body.text("group_id", max_length=64)
    group = components.find_component(session, group_id) if group_id else None
    created = components.create_component(
        session,
        name=body.text("name", required=True, max_length=text.COMPONENT_NAME),
        description=body.text("description", max_length=text.COMPONENT_DESCRIPTION),
        group=group,
        is_group=body.boolean("group", False),
        actor=_actor(),
        status=body.choice("status", ComponentStatus) or ComponentStatus.OPERATIONAL,
    )
    session.commit()
    return _created(_component_json(created), f"/api/v1/components/{created.public_id}")


@blueprint.patch("/components/<public_id>")
def update_component(public_id: str) -> ResponseReturnValue:
    _require_admin()
    body = Body({"name", "description", "status"}, nullable={"description"})
    session = db_session()
    component = components.find_component(session, public_id)
    status = body.choice("status", ComponentStatus)
    if body.has("name") or body.has("description"):
        name = (
            body.text("name", max_length=text.COMPONENT_NAME)
            if body.has("name")
            else component.name
        )
        description = (
            body.text("description", max_length=text.COMPONENT_DESCRIPTION)
            if body.has("description")
            else component.description
        )
        components.edit_component(
            session, component=component, name=name or "", description=description, actor=_actor()
        )
    if status is not None:
        components.set_component_status(session, component=component, status=status, actor=_actor())
    session.commit()
    return jsonify(_component_json(component))


@blueprint.post("/incidents")
def open_incident() -> ResponseReturnValue:
    body = Body(
        {
            "name",
            "impact",
            "body",
            "status",
            "eta",
            "next_update_at",
            "components",
            "notify",
            "template",
            "started_at",
        },
        nullable={"eta", "next_update_at", "started_at"},
    )
    session = db_session()
    eta = body.timestamp("eta")
    next_update_at = body.timestamp("next_update_at")
    filled = _from_template(session, body)
    started_at = body.timestamp("started_at")
    incident = incidents.open_incident(
        session,
        name=body.text("name", required=True, max_length=text.INCIDENT_NAME),
        impact=filled.impact if filled else body.choice("impact", Impact, required=True),
        body=filled.body if filled else _message(body),
        status=(filled.status if filled else body.choice("status", IncidentStatus))
        or IncidentStatus.INVESTIGATING,
        eta=None if eta is MISSING else eta,
        next_update_at=None if next_update_at is MISSING else next_update_at,
        component_changes=filled.component_changes if filled else body.component_changes(session),
        notify=body.boolean("notify", True),
        publishing_settings=settings_of().publishing,
        actor=_actor(),
        started_at=None if started_at is MISSING else started_at,
    )
    session.commit()
    return _created(_incident_json(incident.public_id), f"/api/v1/incidents/{incident.public_id}")


@blueprint.get("/incidents/<public_id>")
def read_incident(public_id: str) -> ResponseReturnValue:
    return jsonify(_incident_json(public_id))


@blueprint.post("/incidents/<public_id>/updates")
def post_update(public_id: str) -> ResponseReturnValue:
    body = Body(
        {"status", "body", "eta", "next_update_at", "components", "notify", "template"},
        nullable={"eta", "next_update_at"},
    )
    session = db_session()
    incident = _find_incident(public_id)
    eta = body.timestamp("eta")
    next_update_at = body.timestamp("next_update_at")
    filled = _from_template(session, body, status=IncidentStatus(incident.status))
    incidents.post_update(
        session,
        incident=incident,
        status=filled.status if filled else body.choice("status", IncidentStatus, required=True),
        body=filled.body if filled else _message(body),
        eta=incidents.KEEP_ETA if eta is MISSING else eta,
        next_update_at=None if next_update_at is MISSING else next_update_at,
        component_changes=body.component_changes(session),
        notify=body.boolean("notify", True),
        publishing_settings=settings_of().publishing,
        actor=_actor(),
    )
    session.commit()
    return _created(_incident_json(public_id), f"/api/v1/incidents/{public_id}")


def _message(body: Body) -> str:
    return body.text("body", required=True, max_length=text.MESSAGE_BODY, one_line=False)


def _from_template(
    session: Session, body: Body, *, status: IncidentStatus | None = None
) -> templates.Filled | None:
    """With a `template` id, what the request leaves out comes from the template — its body
    too, whose blanks the write path then refuses by name."""
    public_id = body.text("template", max_length=32)
    if not public_id:
        return None
    try:
        template = templates.find_template(session, public_id)
    except NotFound as missing:  # a bad field of this request, not a missing resource
        raise InvalidInput(missing.message, field="template") from None
    return templates.apply(
        session,
        template,
        body=body.text("body", max_length=text.MESSAGE_BODY, one_line=False),
        impact=body.choice("impact", Impact),
        status=body.choice("status", IncidentStatus) or status,
        component_changes=body.component_changes(session),
    )


@blueprint.post("/incidents/<public_id>/resolve")
def resolve(public_id: str) -> ResponseReturnValue:
    body = Body(
        {"body", "components", "notify", "postmortem_by", "resolved_at"},
        nullable={"postmortem_by", "resolved_at"},
    )
    session = db_session()
    incident = _find_incident(public_id)
    resolved_at = body.timestamp("resolved_at")
    incidents.resolve(
        session,
        incident=incident,
        body=body.text("body", required=True, max_length=text.MESSAGE_BODY, one_line=False),
        component_changes=body.component_changes(session),
        notify=body.boolean("notify", True),
        actor=_actor(),
        publishing_settings=settings_of().publishing,
        postmortem_by=body.day("postmortem_by"),
        time_zone=settings_of().page.time_zone,
        resolved_at=None if resolved_at is MISSING else resolved_at,
    )
    session.commit()
    return jsonify(_incident_json(public_id))


# -- maintenance windows -------------------------------------------------------------------------


def _maintenance_json(public_id: str) -> dict[str, Any]:
    return _incident_json(public_id, IncidentKind.MAINTENANCE)


@blueprint.post("/maintenance")
def schedule_maintenance() -> Response:
    body = Body({"name", "body", "scheduled_for", "scheduled_until", "components", "notify"})
    session = db_session()
    window = maintenance.schedule_maintenance(
        session,
        name=body.text("name", required=True, max_length=text.INCIDENT_NAME),
        body=body.text("body", required=True, max_length=text.MESSAGE_BODY, one_line=False),
        scheduled_for=body.required_timestamp("scheduled_for"),
        scheduled_until=body.required_timestamp("scheduled_until"),
        components=body.components(session),
        notify=body.boolean("notify", True),
        actor=_actor(),
        publishing_settings=settings_of().publishing,
    )
    session.commit()
    return _created(_maintenance_json(window.public_id), f"/api/v1/maintenance/{window.public_id}")


@blueprint.get("/maintenance")
def list_maintenance() -> Response:
    windows = timeline.incident_list(db_session(), kind=IncidentKind.MAINTENANCE)
    return jsonify(scheduled_maintenances=statuspage.incident_list(windows, _page(), clock.now()))


@blueprint.get("/maintenance/<public_id>")
def read_maintenance(public_id: str) -> Response:
    return jsonify(_maintenance_json(public_id))


@blueprint.post("/maintenance/<public_id>/updates")
def update_maintenance(public_id: str) -> Response:
    body = Body({"status", "body", "scheduled_until", "notify"}, nullable={"scheduled_until"})
    session = db_session()
    until = body.timestamp("scheduled_until")
    maintenance.update_maintenance(
        session,
        window=maintenance.find_window(session, public_id),
        status=body.choice("status", MaintenanceStatus, required=True),
        body=body.text("body", required=True, max_length=text.MESSAGE_BODY, one_line=False),
        scheduled_until=None if until is MISSING else until,
        notify=body.boolean("notify", True),
        actor=_actor(),
        publishing_settings=settings_of().publishing,
    )
    session.commit()
    return _created(_maintenance_json(public_id), f"/api/v1/maintenance/{public_id}")


@blueprint.post("/maintenance/<public_id>/complete")
def complete_maintenance(public_id: str) -> Response:
    body = Body({"body", "notify"})
    session = db_session()
    maintenance.complete_maintenance(
        session,
        window=maintenance.find_window(session, public_id),
        body=body.text("body", required=True, max_length=text.MESSAGE_BODY, one_line=False),
        notify=body.boolean("notify", True),
        actor=_actor(),
        publishing_settings=settings_of().publishing,
    )
    session.commit()
    return jsonify(_maintenance_json(public_id))


@blueprint.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    response = jsonify(openapi.document(settings_of().page.base_url))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/docs")
def docs() -> ResponseReturnValue:
    spec = openapi.document(settings_of().page.base_url)
    return render_template("api/docs.html", spec=spec, schemas=spec["components"]["schemas"])


# The intake path's rules and drafts add their routes to this blueprint.
from statusboard.web import api_v1_alerts  # noqa: E402, F401
