"""The postmortem editor: starts from the timeline the incident's record generates, previews
the Markdown, publishes through the write path (services/postmortems.py)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain import markup
from statusboard.domain.errors import DomainError
from statusboard.domain.statuses import IncidentStatus
from statusboard.models import IncidentKind
from statusboard.services import postmortems, timeline
from statusboard.services.audit import Actor
from statusboard.web.admin import show_form_error
from statusboard.web.auth import require_operator
from statusboard.web.forms import PostmortemForm

blueprint = Blueprint("admin_postmortems", __name__)


blueprint.before_request(require_operator)


@blueprint.route("/<public_id>/postmortem", methods=["GET", "POST"])
def edit(public_id: str) -> ResponseReturnValue:
    session = db_session()
    incident = timeline.incident_with_timeline(session, public_id)
    if incident is None or incident.kind is not IncidentKind.INCIDENT:
        abort(404, "There is no incident at this address.")
    if incident.status != IncidentStatus.RESOLVED:
        flash(
            "The postmortem is already published."
            if incident.status == IncidentStatus.POSTMORTEM
            else "Resolve the incident before writing its postmortem.",
            "info",
        )
        return redirect(url_for("admin.incident", public_id=public_id))
    form = PostmortemForm()
    zone = settings_of().page.time_zone
    if request.method == "GET":
        form.body.data = postmortems.draft_for(session, incident, time_zone=zone)
    preview = (
        markup.render(form.body.data) if form.body.data and "preview" in request.form else None
    )
    if preview is None and form.validate_on_submit():
        try:
            postmortems.publish(
                session,
                incident=incident,
                body=form.body.data,
                actor=Actor(current_user._get_current_object(), "web"),
                notify=form.notify.data,
                publishing_settings=settings_of().publishing,
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash("Postmortem published.", "success")
            return redirect(url_for("admin.incident", public_id=public_id))
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template(
        "admin/postmortem.html", form=form, incident=incident, preview=preview
    ), status
