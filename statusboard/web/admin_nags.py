"""What operators owe customers: the nag banner on every admin page, the nags page, and the
"on it" acknowledgement that pauses the reminders of an incident."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain.nags import NagPolicy, headline
from statusboard.models import Nag, Promise
from statusboard.services import incidents, promises
from statusboard.services.audit import Actor
from statusboard.services.nags import update_form_url
from statusboard.web.auth import require_operator
from statusboard.web.templating import page_zone_time

blueprint = Blueprint("admin_nags", __name__)
RECENT_NAGS = 50


def _policy() -> NagPolicy:
    return NagPolicy.from_settings(settings_of().nags)


blueprint.before_request(require_operator)


def banner_items() -> list[dict[str, Any]]:
    now = clock.now()
    base_url = settings_of().page.base_url
    return [
        {
            "incident": item.incident,
            "promise": item.promise,
            "late": item.late_by is not None,
            "paused": item.paused,
            "text": headline(item.promise.kind.value, item.promise.due_at, now),
            "update_url": update_form_url(base_url, item.incident, item.promise.kind),
        }
        for item in promises.needing_attention(db_session(), policy=_policy(), now=now)
    ]


@blueprint.app_context_processor
def _nag_banner() -> dict[str, Any]:
    """Only admin pages, only for a logged-in operator: public pages compute nothing."""
    if not request.path.startswith("/admin") or not current_user.is_authenticated:
        return {}
    return {"nag_banner": banner_items()}


@blueprint.route("/")
def index() -> ResponseReturnValue:
    nags = (
        db_session()
        .scalars(
            select(Nag)
            .options(
                selectinload(Nag.promise).selectinload(Promise.incident), selectinload(Nag.draft)
            )
            .order_by(Nag.claimed_at.desc(), Nag.id.desc())
            .limit(RECENT_NAGS)
        )
        .all()
    )
    return render_template("admin/nags.html", nags=nags)


@blueprint.route("/<public_id>/acknowledge", methods=["POST"])
def acknowledge(public_id: str) -> ResponseReturnValue:
    session = db_session()
    incident = incidents.find_incident(session, public_id)
    paused = promises.acknowledge(
        session, incident=incident, actor=Actor(current_user, "web"), policy=_policy()
    )
    session.commit()
    until = paused[0].paused_until
    assert until is not None  # acknowledging sets it
    flash(
        f"Reminders for “{incident.name}” paused until {page_zone_time(until)}. "
        "Customers still see the promise as it stands.",
        "success",
    )
    target = request.form.get("next", "")
    if target.startswith("/admin") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("admin_nags.index"))
