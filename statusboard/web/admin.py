"""The operators' UI under /admin/: every route needs a logged-in operator."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from statusboard.db import db_session
from statusboard.services import timeline

blueprint = Blueprint("admin", __name__)


@blueprint.before_request
@login_required
def _require_login() -> None:
    return None


@blueprint.route("/")
def dashboard():
    view = timeline.page_view(db_session())
    return render_template("admin/dashboard.html", view=view)
