"""Admin → Alerts: the drafts monitoring started (publish in one click, or dismiss as noise),
the intake log, and (admins) the sources, the mapping rules and per-component automation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain.errors import DomainError
from statusboard.domain.statuses import Impact
from statusboard.models import AlertFormat, DraftState
from statusboard.services import alert_sources, alerts, components
from statusboard.services.audit import Actor
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin_alerts", __name__)
blueprint.before_request(require_operator)


def _actor() -> Actor:
    return Actor(current_user._get_current_object(), "web")


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only admins manage alert sources and rules.")


def banner_drafts() -> list[dict[str, Any]]:
    """Open drafts for the nag banner and the dashboard, oldest first."""
    now = clock.now()
    return [
        {"draft": d, "waiting": now - d.first_alert_at} for d in alerts.open_drafts(db_session())
    ]


@blueprint.app_context_processor
def _drafts_banner() -> dict[str, Any]:
    if not request.path.startswith("/admin") or not current_user.is_authenticated:
        return {}
    session = db_session()
    return {
        "draft_banner": banner_drafts(),
        "resolvable_drafts": alerts.resolvable_drafts(session),
    }


def _component_names() -> dict[str, str]:
    return {c.public_id: c.name for c in components.ordered_components(db_session())}


@blueprint.route("/drafts/<public_id>")
def draft(public_id: str) -> ResponseReturnValue:
    found = alerts.find_draft(db_session(), public_id)
    return render_template(
        "admin/draft.html", draft=found, DraftState=DraftState, component_names=_component_names()
    )


@blueprint.route("/drafts/<public_id>/publish", methods=["POST"])
def publish(public_id: str) -> ResponseReturnValue:
    session = db_session()
    found = alerts.find_draft(session, public_id)
    try:
        incident = alerts.publish(
            session,
            draft=found,
            actor=_actor(),
            publishing_settings=settings_of().publishing,
            name=request.form.get("name") or None,
            body=request.form.get("body") or None,
        )
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin_alerts.draft", public_id=public_id))
    session.commit()
    flash(f"Acknowledged in public: “{incident.name}”.", "success")
    return redirect(url_for("admin.incident", public_id=incident.public_id))


@blueprint.route("/drafts/<public_id>/dismiss", methods=["POST"])
def dismiss(public_id: str) -> ResponseReturnValue:
    session = db_session()
    found = alerts.find_draft(session, public_id)
    try:
        alerts.dismiss(session, draft=found, actor=_actor(), reason=request.form.get("reason", ""))
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin_alerts.draft", public_id=public_id))
    session.commit()
    flash(f"Dismissed as noise: “{found.name}”. Nothing was published.", "success")
    return redirect(url_for("admin.dashboard"))


@blueprint.route("/alerts/")
def intake_log() -> ResponseReturnValue:
    session = db_session()
    return render_template(
        "admin/alerts.html",
        alerts=alerts.recent_alerts(session),
        sources=alert_sources.list_sources(session) if current_user.is_admin else [],
        formats=list(AlertFormat),
        secret=None,
        base_url=settings_of().page.base_url,
        component_names=_component_names(),
    )


@blueprint.route("/alerts/sources", methods=["POST"])
def create_source() -> ResponseReturnValue:
    _require_admin()
    session = db_session()
    try:
        source, secret = alert_sources.create_source(
            session,
            name=request.form.get("name", ""),
            format=AlertFormat(request.form.get("format", "alertmanager")),
            actor=_actor(),
        )
    except (DomainError, ValueError) as error:
        session.rollback()
        flash(getattr(error, "message", str(error)), "error")
        return redirect(url_for("admin_alerts.intake_log"))
    session.commit()
    # The token is shown once, in this response, never in a flash message (the cookie).
    return render_template(
        "admin/alerts.html",
        alerts=alerts.recent_alerts(session),
        sources=alert_sources.list_sources(session),
        formats=list(AlertFormat),
        secret=secret,
        new_source=source,
        base_url=settings_of().page.base_url,
        component_names=_component_names(),
    )


@blueprint.route("/alerts/sources/<public_id>/revoke", methods=["POST"])
def revoke_source(public_id: str) -> ResponseReturnValue:
    _require_admin()
    session = db_session()
    alert_sources.revoke_source(
        session, source=alert_sources.find_source(session, public_id), actor=_actor()
    )
    session.commit()
    flash("Source revoked: its token no longer works.", "success")
    return redirect(url_for("admin_alerts.intake_log"))


@blueprint.route("/alerts/rules", methods=["GET", "POST"])
def rules() -> ResponseReturnValue:
    _require_admin()
    session = db_session()
    if request.method == "POST":
        try:
            component_id = request.form.get("component") or None
            impact = request.form.get("impact") or None
            alert_sources.create_rule(
                session,
                key=request.form.get("key", ""),
                value=request.form.get("value", ""),
                component=components.find_component(session, component_id)
                if component_id
                else None,
                impact=Impact(impact) if impact else None,
                actor=_actor(),
            )
        except (DomainError, ValueError) as error:
            session.rollback()
            flash(getattr(error, "message", str(error)), "error")
        else:
            session.commit()
            flash("Rule added.", "success")
        return redirect(url_for("admin_alerts.rules"))
    leaves = [c for c in components.ordered_components(session) if not c.is_group]
    return render_template(
        "admin/alert_rules.html",
        rules=alert_sources.list_rules(session),
        components=leaves,
        impacts=list(Impact),
    )


@blueprint.route("/alerts/rules/<public_id>/delete", methods=["POST"])
def delete_rule(public_id: str) -> ResponseReturnValue:
    _require_admin()
    session = db_session()
    alert_sources.delete_rule(
        session, rule=alert_sources.find_rule(session, public_id), actor=_actor()
    )
    session.commit()
    flash("Rule deleted.", "success")
    return redirect(url_for("admin_alerts.rules"))


@blueprint.route("/alerts/automation/<public_id>", methods=["POST"])
def automation(public_id: str) -> ResponseReturnValue:
    _require_admin()
    session = db_session()
    component = components.find_component(session, public_id)
    alert_sources.set_automation(
        session, component=component, on=request.form.get("on") == "1", actor=_actor()
    )
    session.commit()
    state = "on" if component.alert_automation else "off"
    flash(f"Status automation from alerts is {state} for {component.name}.", "success")
    return redirect(url_for("admin_alerts.rules"))
