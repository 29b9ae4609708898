"""The Statuspage-compatible public API under /api/v2 (../shared/reference/statuspage-v2.md).

GET and HEAD only, JSON with `Access-Control-Allow-Origin: *`, 404 for any other path. The
objects come from services/statuspage.py and the data from services/timeline.py, the same
read queries as the page and feeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import settings_of
from statusboard.models import IncidentKind
from statusboard.services import statuspage, timeline, uptime
from statusboard.services.components import ordered_components
from statusboard.services.page import current_version
from statusboard.services.statuspage import PageInfo
from statusboard.web.surfaces import Body, surface

blueprint = Blueprint("api_v2", __name__)

JSON = "application/json; charset=utf-8"
OPEN_INCIDENT = ("investigating", "identified", "monitoring")


@blueprint.after_request
def _cors(response: Response) -> Response:
    # Browser widgets read the page from other origins; nothing here is private.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _document(session: Session, **parts: Any) -> Body:
    page = statuspage.page_info(settings_of().page, current_version(session)[1])
    document: dict[str, Any] = {"page": statuspage.page_object(page)}
    now = clock.now()
    for key, build in parts.items():
        document[key] = build(session, page, now)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return body, JSON


def _status(session: Session, _page: PageInfo, _now: datetime) -> dict[str, Any]:
    return statuspage.status_object(timeline.page_indicator(session))


def _components(session: Session, page: PageInfo, _now: datetime) -> list[dict[str, Any]]:
    return statuspage.component_list(ordered_components(session), page)


Build = Callable[[Session, PageInfo, datetime], list[dict[str, Any]]]


def _incidents(statuses: Collection[str] | None = None) -> Build:
    def build(session: Session, page: PageInfo, now: datetime) -> list[dict[str, Any]]:
        found = timeline.incident_list(session, statuses=statuses)
        return statuspage.incident_list(found, page, now)

    return build


def _maintenances(statuses: Collection[str] | None = None) -> Build:
    def build(session: Session, page: PageInfo, now: datetime) -> list[dict[str, Any]]:
        found = timeline.incident_list(session, kind=IncidentKind.MAINTENANCE, statuses=statuses)
        return statuspage.incident_list(found, page, now)

    return build


@surface(blueprint, "/summary.json")
def summary(session: Session) -> Body:
    return _document(
        session,
        status=_status,
        components=_components,
        incidents=_incidents(OPEN_INCIDENT),
        scheduled_maintenances=_maintenances(timeline.MAINTENANCE_OPEN),
    )


@surface(blueprint, "/status.json")
def status(session: Session) -> Body:
    return _document(session, status=_status)


@surface(blueprint, "/components.json")
def components(session: Session) -> Body:
    return _document(session, components=_components_with_uptime)


def _components_with_uptime(
    session: Session, page: PageInfo, now: datetime
) -> list[dict[str, Any]]:
    history = uptime.uptime(session, zone=settings_of().page.time_zone, now=now)
    return statuspage.component_list(ordered_components(session), page, history)


@surface(blueprint, "/uptime.json")
def uptime_json(session: Session) -> Body:
    """statusboard's own: every component's 90-day uptime, per day. No Statuspage keys but
    `page`."""
    history = uptime.uptime(session, zone=settings_of().page.time_zone)
    return _document(
        session, **{statuspage.NAMESPACE: lambda *_: statuspage.uptime_document(history)}
    )


@surface(blueprint, "/incidents.json")
def incidents(session: Session) -> Body:
    return _document(session, incidents=_incidents())


@surface(blueprint, "/incidents/unresolved.json")
def unresolved_incidents(session: Session) -> Body:
    return _document(session, incidents=_incidents(OPEN_INCIDENT))


@surface(blueprint, "/scheduled-maintenances.json")
def scheduled_maintenances(session: Session) -> Body:
    return _document(session, scheduled_maintenances=_maintenances())


@surface(blueprint, "/scheduled-maintenances/upcoming.json")
def upcoming_maintenances(session: Session) -> Body:
    return _document(session, scheduled_maintenances=_maintenances(("scheduled",)))


@surface(blueprint, "/scheduled-maintenances/active.json")
def active_maintenances(session: Session) -> Body:
    return _document(session, scheduled_maintenances=_maintenances(timeline.MAINTENANCE_ACTIVE))


@blueprint.route("/", defaults={"rest": ""})
@blueprint.route("/<path:rest>")
def unknown(rest: str) -> ResponseReturnValue:
    abort(404, "There is no such endpoint in the Statuspage-compatible API.")
