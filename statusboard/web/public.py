"""The public status page, incident permalinks, history and the maintenance calendar."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from statusboard import clock
from statusboard.config import settings_of
from statusboard.domain.honesty import PromiseState
from statusboard.services import calendar, maintenance, statuspage, timeline
from statusboard.services.page import current_version
from statusboard.web.surfaces import Body, surface

blueprint = Blueprint("public", __name__)
HTML = "text/html; charset=utf-8"


@surface(blueprint, "/")
def index(session: Session) -> Body:
    view = timeline.page_view(
        session, public_accountability=settings_of().page.public_accountability
    )
    return render_template("public/index.html", view=view), HTML


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
        promise=PromiseState(found.next_update_at, found.eta_at, now),
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


@surface(blueprint, "/history", "history", defaults={"page": 1})
@surface(blueprint, "/history/<int:page>", "history")
def history(session: Session, page: int) -> Body:
    incidents, older = timeline.history_page(session, page)
    if page > 1 and not incidents:
        raise NotFound("There is no such page of incident history.")
    return render_template("public/history.html", incidents=incidents, page=page, older=older), HTML
