"""Admin pages for planned maintenance: schedule a window, see it, post its updates. A window
has its own view (when, which components, its state, the notices sent), not the incident's:
it has no impact, ETA or next-update promise, only a promised end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain import text
from statusboard.domain.errors import DomainError, InvalidInput
from statusboard.domain.promises import local_datetime
from statusboard.domain.statuses import MaintenanceStatus
from statusboard.models import IncidentKind
from statusboard.services import components, maintenance, planning, publishing
from statusboard.services.audit import Actor
from statusboard.services.incidents import find_incident
from statusboard.web.admin import show_form_error
from statusboard.web.auth import require_operator
from statusboard.web.forms import Text, operator_zone, parse_date_time

blueprint = Blueprint("admin_maintenance", __name__)


blueprint.before_request(require_operator)


class ScheduleForm(FlaskForm):
    name = StringField(
        "Name (what customers see)",
        validators=[
            DataRequired(
                "Give the maintenance a name customers understand, e.g. “Database upgrade”."
            ),
            Text(text.INCIDENT_NAME),
        ],
    )
    scheduled_for = StringField(
        "Starts (YYYY-MM-DD HH:MM)", validators=[DataRequired("Give the start time."), Text(20)]
    )
    scheduled_until = StringField(
        "Ends (YYYY-MM-DD HH:MM)", validators=[DataRequired("Give the end time."), Text(20)]
    )
    body = TextAreaField(
        "Message to customers (Markdown)",
        validators=[
            DataRequired("Say what will happen and what customers may notice."),
            Text(text.MESSAGE_BODY, one_line=False),
        ],
    )
    time_zone = HiddenField(default="")
    notify = BooleanField("Notify subscribers and social accounts", default=True)


class WindowUpdateForm(FlaskForm):
    status = SelectField(
        "Status",
        choices=[
            (s.value, s.label) for s in MaintenanceStatus if s is not MaintenanceStatus.SCHEDULED
        ],
    )
    body = TextAreaField(
        "Message to customers (Markdown)",
        validators=[
            DataRequired("Write what customers should know."),
            Text(text.MESSAGE_BODY, one_line=False),
        ],
    )
    scheduled_until = StringField(
        "New end (only to extend; YYYY-MM-DD HH:MM)", validators=[Optional(), Text(20)]
    )
    time_zone = HiddenField(default="")
    notify = BooleanField("Notify subscribers and social accounts", default=True)


def _zone(form: ScheduleForm | WindowUpdateForm) -> str:
    return operator_zone(form.time_zone.data, settings_of().page.time_zone)


def _time(form: ScheduleForm | WindowUpdateForm, field: str) -> datetime:
    """A typed time, 24-hour, in the page's zone (or the one the client names)."""
    return local_datetime(parse_date_time(getattr(form, field).data, field=field), _zone(form))


@blueprint.route("/", methods=["GET", "POST"])
def schedule() -> ResponseReturnValue:
    session = db_session()
    form = ScheduleForm()
    leaves = [c for c in components.ordered_components(session) if not c.is_group]
    if "suggest" in request.form or "slot" in request.form:
        return _suggest(form, leaves)
    if form.validate_on_submit():
        try:
            chosen = set(request.form.getlist("components"))
            unknown = chosen - {c.public_id for c in leaves}
            if unknown:
                raise InvalidInput("that component does not exist (any more)", field="components")
            window = maintenance.schedule_maintenance(
                session,
                name=form.name.data,
                body=form.body.data,
                actor=Actor(current_user._get_current_object(), "web"),
                scheduled_for=_time(form, "scheduled_for"),
                scheduled_until=_time(form, "scheduled_until"),
                components=[c for c in leaves if c.public_id in chosen],
                notify=form.notify.data,
                publishing_settings=settings_of().publishing,
                planning=planning.effective(session, settings_of().planning),
                confirmed=bool(request.form.get("confirm_peak")),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash(f"Maintenance “{window.name}” is scheduled and on the status page.", "success")
            return redirect(url_for("admin_maintenance.window", public_id=window.public_id))
    status = 400 if request.method == "POST" else 200
    return _page(form, leaves, status)


def _page(
    form: ScheduleForm,
    leaves: list[Any],
    status: int,
    suggestions: list[tuple[datetime, datetime]] | None = None,
) -> ResponseReturnValue:
    session = db_session()
    plan = planning.effective(session, settings_of().planning)
    return render_template(
        "admin/maintenance.html",
        form=form,
        leaves=leaves,
        chosen=set(request.form.getlist("components")),
        upcoming=maintenance.upcoming(session),
        active=maintenance.active(session),
        needs_confirmation=any(
            e.startswith("Confirm to schedule it anyway") for e in form.scheduled_for.errors
        ),
        suggestions=suggestions,
        zone=_zone(form),
        peak_hours=[w.describe() for w in plan.peak_hours.windows],
        blackouts=sorted(plan.peak_hours.blackouts),
        min_notice_hours=int(plan.min_notice.total_seconds() // 3600),
    ), status


def _suggest(form: ScheduleForm, leaves: list[Any]) -> ResponseReturnValue:
    """ "Suggest a time": three quiet slots of the window's length (1 h when not given);
    "Use" fills the form with one. Nothing is scheduled."""
    zone = _zone(form)
    picked = request.form.get("slot", "")
    if picked:
        start, _, end = picked.partition("/")
        form.scheduled_for.data = start.replace("T", " ")
        form.scheduled_until.data = end.replace("T", " ")
        form.scheduled_for.errors = form.scheduled_until.errors = []
        return _page(form, leaves, 200)
    length = timedelta(hours=1)
    try:
        given = _time(form, "scheduled_until") - _time(form, "scheduled_for")
    except DomainError:
        given = length  # times not given (or not readable): an hour
    if timedelta(0) < given <= timedelta(days=14):
        length = given
    session = db_session()
    plan = planning.effective(session, settings_of().planning)
    slots = planning.suggest(session, plan, length=length, now=clock.now())
    local = ZoneInfo(zone)
    shown = [
        (a.astimezone(local).replace(tzinfo=None), b.astimezone(local).replace(tzinfo=None))
        for a, b in slots
    ]
    return _page(form, leaves, 200, suggestions=shown)


@blueprint.get("/<public_id>")
def window(public_id: str) -> ResponseReturnValue:
    session = db_session()
    found = find_incident(session, public_id)
    if found.kind is not IncidentKind.MAINTENANCE:
        return redirect(url_for("admin.incident", public_id=public_id))
    return render_template(
        "admin/maintenance_window.html",
        window=found,
        delivery_counts=publishing.counts_by_update(session, found),
    )


@blueprint.route("/<public_id>/update", methods=["GET", "POST"])
def update(public_id: str) -> ResponseReturnValue:
    session = db_session()
    window = find_incident(session, public_id)
    form = WindowUpdateForm()
    if form.validate_on_submit():
        try:
            until = _time(form, "scheduled_until") if form.scheduled_until.data else None
            maintenance.update_maintenance(
                session,
                window=window,
                status=MaintenanceStatus(form.status.data),
                body=form.body.data,
                actor=Actor(current_user._get_current_object(), "web"),
                scheduled_until=until,
                notify=form.notify.data,
                publishing_settings=settings_of().publishing,
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash("Maintenance update posted.", "success")
            return redirect(url_for("admin_maintenance.window", public_id=public_id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/maintenance_update.html",
        form=form,
        window=window,
        zone=settings_of().page.time_zone,
    ), status
