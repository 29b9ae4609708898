"""The operators' UI under /admin/: every route needs a logged-in operator; managing
components needs an admin (operators and the audit log: admin_team.py). Views parse, call
one service, commit, redirect."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from statusboard import clock
from statusboard.app import channels
from statusboard.channels.registry import SOCIAL
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain import markup
from statusboard.domain.errors import DomainError
from statusboard.domain.postmortems import add_working_days, default_postmortem_date
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.domain.wording import near_duplicate
from statusboard.models import Component, Incident, IncidentKind, Update
from statusboard.services import (
    components,
    incidents,
    operators,
    publishing,
    templates,
    timeline,
    updates,
)
from statusboard.services.audit import Actor
from statusboard.services.publishing import PublishOptions
from statusboard.web import forms, template_offer
from statusboard.web.admin_publishing import channel_options_from_form, draft_notice
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin", __name__)


blueprint.before_request(require_operator)


def admin_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_admin:
            abort(403, "Only admins can manage components and operators.")
        return view(*args, **kwargs)

    return wrapped


@blueprint.app_context_processor
def _page_zone() -> dict[str, str]:
    """The zone every operator page reads and shows times in (footer, forms)."""
    return {"page_zone": settings_of().page.time_zone}


def _actor() -> Actor:
    return Actor(current_user._get_current_object(), "web")


def _zone() -> str:
    return settings_of().page.time_zone


def show_form_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it names (or on top of the form)."""
    db_session().rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _leaves() -> list[Component]:
    return [c for c in components.ordered_components(db_session()) if not c.is_group]


def _minutes() -> Mapping[str, int]:
    return settings_of().publishing.next_update_minutes


def _time_fields(impact: str | None) -> dict[str, object]:
    """What the ETA and next-update fields say: the zone times are read in, its clock now,
    and the real default number of minutes for this impact."""
    minutes = _minutes()
    chosen = impact if impact is not None and impact in minutes else Impact.MAJOR.value
    zone = _zone()
    return {
        "minutes": minutes,
        "default_minutes": minutes.get(chosen, 30),
        "default_impact": chosen,
        "zone": zone,
        "zone_now": f"{clock.now().astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}",
    }


# -- dashboard and incidents -------------------------------------------------------------------


@blueprint.route("/")
def dashboard() -> ResponseReturnValue:
    view = timeline.page_view(db_session())
    # Overdue promises first (longest overdue on top), then the rest as they came.
    ordered = sorted(
        view.open_incidents,
        key=lambda i: -(view.promise_state(i).update_overdue_by or timedelta(0)).total_seconds(),
    )
    return render_template("admin/dashboard.html", view=view, open_incidents=ordered)


@blueprint.route("/incidents/new", methods=["GET", "POST"])
def declare() -> ResponseReturnValue:
    form = forms.DeclareForm()
    leaves = _leaves()
    template = template_offer.chosen_template()
    chosen: Mapping[str, str] = request.form
    if template is not None and request.method == "GET":
        chosen = template_offer.start_from(form, template)
    preview = (
        markup.render(form.body.data) if form.body.data and "preview" in request.form else None
    )
    repeated = preview is None and template_offer.copy_paste(form, template)
    if not repeated and form.validate_on_submit() and preview is None:
        session = db_session()
        try:
            incident = incidents.open_incident(
                session,
                name=form.name.data,
                impact=Impact(form.impact.data),
                status=IncidentStatus(form.status.data),
                body=form.body.data,
                actor=_actor(),
                eta=form.eta_value(_zone()),
                next_update_at=form.next_update_value(_zone()),
                component_changes=forms.component_changes(request.form, leaves),
                notify=form.notify.data,
                publishing_settings=settings_of().publishing,
                channels=_channel_choices(form.name.data, form.status.data, form.body.data, None),
                started_at=form.started_at_value(_zone()),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash(f"Incident “{incident.name}” is live on the status page.", "success")
            return redirect(url_for("admin.incident", public_id=incident.public_id))
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template(
        "admin/declare.html",
        form=form,
        leaves=leaves,
        preview=preview,
        chosen=chosen,
        **_time_fields(form.impact.data),
        template=template,
        templates=templates.all_templates(db_session()),
        repeated=repeated,
    ), status


@blueprint.route("/incidents/<public_id>")
def incident(public_id: str) -> ResponseReturnValue:
    found = timeline.incident_with_timeline(db_session(), public_id)
    if found is None:
        abort(404, "There is no incident at this address.")
    if found.kind is IncidentKind.MAINTENANCE:
        return redirect(url_for("admin_maintenance.window", public_id=public_id))
    return render_template(
        "admin/incident.html",
        incident=found,
        view=timeline.page_view(db_session()),
        delivery_counts=publishing.counts_by_update(db_session(), found),
    )


@blueprint.route("/incidents/<public_id>/update", methods=["GET", "POST"])
def post_update(public_id: str) -> ResponseReturnValue:
    session = db_session()
    incident = incidents.find_incident(session, public_id)
    if not incident.is_open:
        flash("This incident is resolved; open a new one if the problem is back.", "info")
        return redirect(url_for("admin.incident", public_id=public_id))
    form = forms.MessageForm()
    template = template_offer.chosen_template()
    chosen: Mapping[str, str] = request.form
    if request.method == "GET":
        form.status.data = incident.status
        form.eta_mode.data = "time" if incident.eta_at else "unknown"
        form.notify.data = True
        if template is not None:
            chosen = template_offer.start_from(form, template)
            form.status.data = incident.status
    leaves = _leaves()
    preview = (
        markup.render(form.body.data) if form.body.data and "preview" in request.form else None
    )
    repeated = (
        near_duplicate(form.body.data or "", [u.body for u in incident.updates])
        if request.method == "POST" and not request.form.get("confirm_repeat")
        else None
    )
    if repeated is not None and preview is None:
        form.body.errors = [
            *form.body.errors,
            "This says (nearly) the same as an earlier "
            "update. Customers notice copy-paste: say what changed, what you "
            "tried, or when you expect to know more — or confirm below.",
        ]
    elif preview is None and template_offer.copy_paste(form, template):
        repeated = template.body if template else None
    if repeated is None and form.validate_on_submit() and preview is None:
        try:
            eta = (
                form.eta_value(_zone())
                if form.eta_mode.data == "unknown" or form.eta.data
                else incidents.KEEP_ETA
            )
            resolving = form.status.data == IncidentStatus.RESOLVED
            incidents.post_update(
                session,
                incident=incident,
                status=IncidentStatus(form.status.data),
                body=form.body.data,
                actor=_actor(),
                eta=eta,
                next_update_at=None if resolving else form.next_update_value(_zone()),
                component_changes=forms.component_changes(request.form, leaves),
                notify=form.notify.data,
                publishing_settings=settings_of().publishing,
                channels=_channel_choices(
                    incident.name, form.status.data, form.body.data, incident
                ),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash("Update posted.", "success")
            return redirect(url_for("admin.incident", public_id=public_id))
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template(
        "admin/update.html",
        form=form,
        incident=incident,
        # The components this incident affects come first.
        leaves=sorted(leaves, key=lambda c: c not in incident.components),
        affected=set(incident.components),
        previous=incident.updates[-1] if incident.updates else None,
        preview=preview,
        chosen=chosen,
        view=timeline.page_view(session),
        **_time_fields(str(incident.impact)),
        repeated=repeated,
        template=template,
        templates=templates.all_templates(session),
    ), status


def _channel_choices(
    name: str, status: str, body: str, incident: Incident | None
) -> PublishOptions:
    """The form's per-channel choices (untick a network, or a custom text that must fit)."""
    notice = draft_notice(name=name, status=status, body=body, incident=incident)
    return channel_options_from_form(request.form, notice=notice)


@blueprint.route("/incidents/<public_id>/resolve", methods=["GET", "POST"])
def resolve(public_id: str) -> ResponseReturnValue:
    session = db_session()
    incident = incidents.find_incident(session, public_id)
    form = forms.ResolveForm()
    if request.method == "GET":
        offered = default_postmortem_date(
            incident.impact, clock.now(), _zone(), settings_of().publishing.postmortem_days
        )
        form.promise_postmortem.data = offered is not None
        form.postmortem_by.data = offered or add_working_days(
            clock.now().astimezone(ZoneInfo(_zone())).date(), 5
        )
    if form.validate_on_submit():
        try:
            incidents.resolve(
                session,
                incident=incident,
                body=form.body.data,
                actor=_actor(),
                notify=form.notify.data,
                publishing_settings=settings_of().publishing,
                postmortem_by=form.postmortem_date(),
                time_zone=_zone(),
                channels=_channel_choices(
                    incident.name, IncidentStatus.RESOLVED, form.body.data, incident
                ),
                resolved_at=form.resolved_at_value(_zone()),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash("Incident resolved.", "success")
            return redirect(url_for("admin.incident", public_id=public_id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/resolve.html",
        form=form,
        incident=incident,
        chosen=request.form,
        page_zone=_zone(),
    ), status


@blueprint.route("/updates/<public_id>/correct", methods=["GET", "POST"])
def correct_update(public_id: str) -> ResponseReturnValue:
    """Correct a typo in a posted update: an audited edit that keeps the earlier words."""
    session = db_session()
    found = session.scalar(select(Update).where(Update.public_id == public_id))
    if found is None:
        abort(404, "There is no such update.")
    form = forms.CorrectionForm()
    if request.method == "GET":
        form.body.data = found.body
    configured = channels()
    social = [c for name, c in configured.items() if name in SOCIAL]
    if form.validate_on_submit():
        try:
            edits = updates.correct_update(
                session,
                update=found,
                body=form.body.data,
                actor=_actor(),
                editable=frozenset(c.name for c in social if c.editable),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash(
                "Corrected on the status page, feeds and API"
                + (f"; {edits} post{'s' if edits != 1 else ''} will be edited." if edits else "."),
                "success",
            )
            return redirect(url_for("admin.incident", public_id=found.incident.public_id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/correct.html", form=form, update=found, social=social), status


# -- components ----------------------------------------------------------------------------------


@blueprint.route("/components", methods=["GET", "POST"])
@admin_required
def component_list() -> ResponseReturnValue:
    session = db_session()
    rows = components.ordered_components(session)
    form = forms.ComponentForm()
    form.group.choices = [("", "No group")] + [(c.public_id, c.name) for c in rows if c.is_group]
    if form.validate_on_submit():
        try:
            group = components.find_component(session, form.group.data) if form.group.data else None
            created = components.create_component(
                session,
                name=form.name.data,
                description=form.description.data,
                group=group,
                is_group=form.is_group.data,
                actor=_actor(),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash(
                f"Added {'group' if created.is_group else 'component'} “{created.name}”.", "success"
            )
            return redirect(url_for("admin.component_list"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/components.html", rows=rows, form=form, status_form=forms.ComponentStatusForm()
    ), status


@blueprint.route("/components/<public_id>/edit", methods=["POST"])
@admin_required
def component_edit(public_id: str) -> ResponseReturnValue:
    session = db_session()
    component = components.find_component(session, public_id)
    components.edit_component(
        session,
        component=component,
        name=request.form.get("name", ""),
        description=request.form.get("description"),
        actor=_actor(),
    )
    session.commit()
    flash(f"Saved “{component.name}”.", "success")
    return redirect(url_for("admin.component_list"))


@blueprint.route("/components/<public_id>/move", methods=["POST"])
@admin_required
def component_move(public_id: str) -> ResponseReturnValue:
    session = db_session()
    offset = -1 if request.form.get("direction") == "up" else 1
    components.move_component(
        session,
        component=components.find_component(session, public_id),
        offset=offset,
        actor=_actor(),
    )
    session.commit()
    return redirect(url_for("admin.component_list"))


@blueprint.route("/components/<public_id>/delete", methods=["POST"])
@admin_required
def component_delete(public_id: str) -> ResponseReturnValue:
    if not FlaskForm().validate_on_submit():
        flash("This form has expired; reload the page and try again.", "error")
        return redirect(url_for("admin.component_list"))
    session = db_session()
    component = components.find_component(session, public_id)
    name = component.name
    try:
        unsubscribed = components.delete_component(session, component=component, actor=_actor())
        session.commit()
    except DomainError as error:
        session.rollback()
        flash(f"Could not delete {name}: {error.message}.", "error")
    else:
        followers = (
            f" {unsubscribed} subscriber(s) who followed only {name} were unsubscribed."
            if unsubscribed
            else ""
        )
        flash(f"Deleted “{name}”. Past incidents keep their messages.{followers}", "success")
    return redirect(url_for("admin.component_list"))


@blueprint.route("/components/<public_id>/status", methods=["POST"])
@admin_required
def component_status(public_id: str) -> ResponseReturnValue:
    session = db_session()
    form = forms.ComponentStatusForm()
    if not form.validate_on_submit():
        abort(400, "Choose one of the listed statuses.")
    component = components.find_component(session, public_id)
    components.set_component_status(
        session, component=component, status=ComponentStatus(form.status.data), actor=_actor()
    )
    session.commit()
    flash(f"{component.name} is now {ComponentStatus(form.status.data).label.lower()}.", "success")
    return redirect(url_for("admin.component_list"))


# -- profile -------------------------------------------------------------------------


@blueprint.route("/profile", methods=["GET", "POST"])
def profile() -> ResponseReturnValue:
    session = db_session()
    me = current_user._get_current_object()
    form = forms.ProfileForm(obj=me)
    if request.method == "GET":
        form.show_signing(me.sign_updates)
    if form.validate_on_submit():
        try:
            operators.update_profile(
                session,
                operator=me,
                name=form.name.data,
                sign_updates=form.sign_updates_choice(),
                actor=_actor(),
            )
            if form.password.data:
                operators.change_own_password(
                    session,
                    operator=me,
                    current=form.current_password.data,
                    new=form.password.data,
                    actor=_actor(),
                )
            session.commit()
            if form.password.data:
                login_user(me)  # every other session has ended; this one goes on
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("admin.profile"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/profile.html", form=form, page_signs=settings_of().publishing.sign_updates
    ), status
