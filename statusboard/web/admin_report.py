"""Admin → Report: promises kept vs broken, ETA accuracy, time to update and to resolve, per
component and overall, for the last 30 or 90 days. Open to every operator."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain.accountability import format_duration
from statusboard.services import accountability, planning
from statusboard.web import charts
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin_report", __name__)


blueprint.before_request(require_operator)


@blueprint.app_template_filter("duration")
def _duration(value: timedelta | None) -> str:
    return format_duration(value)


@blueprint.route("/")
def index() -> ResponseReturnValue:
    days = request.args.get("days", str(accountability.WINDOWS[0]))
    if not days.isdigit() or int(days) not in accountability.WINDOWS:
        abort(400, "The report covers the last 30 or 90 days: use ?days=30 or ?days=90.")
    report = accountability.report(db_session(), days=int(days))
    return render_template(
        "admin/report.html",
        report=report,
        windows=accountability.WINDOWS,
        week_rows=charts.promise_weeks(report.weeks),
        mttr_rows=charts.mttr_by_component(report.components),
        planned=planning.figures(
            db_session(),
            planning.effective(db_session(), settings_of().planning),
            since=report.since,
            now=report.now,
        ),
    )
