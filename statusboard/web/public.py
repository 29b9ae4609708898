"""The public status page, incident permalinks and history."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import database, db_session
from statusboard.domain.honesty import PromiseState
from statusboard.services import calendar, health, maintenance, statuspage, timeline
from statusboard.services.page import current_version
from statusboard.web.snapshots import snapshot

blueprint = Blueprint("public", __name__)


@blueprint.route("/")
@snapshot
def index():
    view = timeline.page_view(
        db_session(), public_accountability=settings_of().page.public_accountability
    )
    return render_template("public/index.html", view=view)


@blueprint.route("/incidents/<public_id>")
@snapshot
def incident(public_id: str):
    found = timeline.incident_with_timeline(db_session(), public_id)
    if found is None:
        abort(404, "There is no incident at this address.")
    now = clock.now()
    return render_template(
        "public/incident.html",
        incident=found,
        now=now,
        promise=PromiseState(found.next_update_at, found.eta_at, now),
    )


@blueprint.route("/maintenance.ics")
@snapshot
def maintenance_calendar():
    session = db_session()
    windows = maintenance.active(session) + maintenance.upcoming(session)
    page = statuspage.page_info(settings_of().page, current_version(session)[1])
    return Response(
        calendar.maintenance_calendar(windows, page), content_type="text/calendar; charset=utf-8"
    )


@blueprint.route("/healthz")
def healthz():
    """Liveness for load balancers: answers without touching the database."""
    return {"status": "ok"}


@blueprint.route("/readyz")
def readyz():
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


@blueprint.route("/history", defaults={"page": 1})
# Page numbers past any real history are refused by the route itself (404), long before a
# number too large for the database could reach a query.
@blueprint.route("/history/<int(min=1, max=1000000):page>")
@snapshot
def history(page: int):
    incidents, older = timeline.history_page(db_session(), page)
    if page > 1 and not incidents:
        abort(404, "There is no such page of incident history.")
    return render_template("public/history.html", incidents=incidents, page=page, older=older)
