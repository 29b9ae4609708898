"""The public status page, incident permalinks, history and the maintenance calendar."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.services import calendar, health, maintenance, statuspage, timeline, uptime
from statusboard.services.page import current_version
from statusboard.web.surfaces import Body, surface

blueprint = Blueprint("public", __name__)
HTML = "text/html; charset=utf-8"


@surface(blueprint, "/")
def index(session: Session) -> Body:
    page = settings_of().page
    view = timeline.page_view(session, public_accountability=page.public_accountability)
    history = uptime.uptime(session, zone=page.time_zone)
    return render_template("public/index.html", view=view, uptime=history), HTML


@surface(blueprint, "/incidents/<public_id>")
def incident(session: Session, public_id: str) -> Body:
    found = timeline.incident_with_timeline(session, public_id)
    if found is None:
        raise NotFound("There is no incident at this address.")
    now = clock.now()
    page = render_template(
        "public/incident.html",
        incident=found,
        now=now,
        promise=timeline.promise_state(session, found, now),
    )
    return page, HTML


@surface(blueprint, "/maintenance.ics")
def maintenance_calendar(session: Session) -> Body:
    windows = maintenance.active(session) + maintenance.upcoming(session)
    page = statuspage.page_info(settings_of().page, current_version(session)[1])
    return calendar.maintenance_calendar(windows, page), "text/calendar; charset=utf-8"


@blueprint.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness for load balancers: answers without touching the database."""
    return {"status": "ok"}


@blueprint.route("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: 200 when everything the service needs is there, else 503; each check named."""
    settings = settings_of()
    checks = health.readiness(database(), settings.channels.smtp, clock.now())
    ready = all(check.ok for check in checks)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@surface(blueprint, "/history", "history", defaults={"page": 1})
# Page numbers past any real history are refused by the route itself (404), long before a
# number too large for the database could reach a query.
@surface(blueprint, "/history/<int(min=1, max=1000000):page>", "history")
def history(session: Session, page: int) -> Body:
    incidents, older = timeline.history_page(session, page)
    if page > 1 and not incidents:
        raise NotFound("There is no such page of incident history.")
    return render_template("public/history.html", incidents=incidents, page=page, older=older), HTML
