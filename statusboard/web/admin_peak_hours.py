"""Admin → Peak hours: when maintenance should not happen (replaces the environment's
STATUSBOARD_PEAK_HOURS and STATUSBOARD_BLACKOUT_DATES once saved)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain.errors import DomainError
from statusboard.models import PeakHoursSetting
from statusboard.services import planning
from statusboard.services.audit import Actor
from statusboard.web import forms
from statusboard.web.admin import admin_required, show_form_error
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin_peak_hours", __name__)
blueprint.before_request(require_operator)


class PeakHoursForm(FlaskForm):
    peak_hours = TextAreaField(
        "Weekly peak hours, one a line: ZONE DAYS HH:MM-HH:MM",
        validators=[forms.Text(2000, one_line=False)],
        render_kw={"rows": 4, "placeholder": "Europe/Berlin mon-fri 08:00-18:00"},
    )
    blackout_dates = TextAreaField(
        "Blackout dates, one a line: YYYY-MM-DD (the page's time zone)",
        validators=[forms.Text(2000, one_line=False)],
        render_kw={"rows": 3, "placeholder": "2026-12-24"},
    )


@blueprint.route("/", methods=["GET", "POST"])
@admin_required
def index() -> ResponseReturnValue:
    session = db_session()
    form = PeakHoursForm()
    if request.method == "GET":
        row = session.get(PeakHoursSetting, 1)
        if row is not None:
            form.peak_hours.data, form.blackout_dates.data = row.peak_hours, row.blackout_dates
        else:  # start from what the environment sets
            configured = settings_of().planning.peak_hours
            form.peak_hours.data = "\n".join(w.setting_text() for w in configured.windows)
            form.blackout_dates.data = "\n".join(
                d.isoformat() for d in sorted(configured.blackouts)
            )
    if form.validate_on_submit():
        try:
            planning.save_peak_hours(
                session,
                peak_hours_text=form.peak_hours.data or "",
                blackout_dates=form.blackout_dates.data or "",
                actor=Actor(current_user._get_current_object(), "web"),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash("Peak hours saved; maintenance scheduling follows them now.", "success")
            return redirect(url_for("admin_peak_hours.index"))
    status = 400 if request.method == "POST" else 200
    current = planning.effective(session, settings_of().planning)
    return render_template(
        "admin/peak_hours.html",
        form=form,
        windows=[w.describe() for w in current.peak_hours.windows],
        blackouts=sorted(current.peak_hours.blackouts),
        zone=settings_of().page.time_zone,
        min_notice_hours=int(current.min_notice.total_seconds() // 3600),
    ), status
