"""Incident templates: admins keep them here; the declare and update forms start from one
(`?template=<id>`) and warn when what is sent is (nearly) the template's own text."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from statusboard.db import db_session
from statusboard.domain import text
from statusboard.domain.errors import DomainError
from statusboard.domain.statuses import Impact, IncidentStatus
from statusboard.services import components, templates
from statusboard.services.audit import Actor
from statusboard.web import forms
from statusboard.web.admin import admin_required, show_form_error
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin_templates", __name__)
blueprint.before_request(require_operator)


class TemplateForm(FlaskForm):
    name = StringField("Template name", validators=[DataRequired("Name it."), forms.Text(120)])
    impact = SelectField("Impact", choices=[(i.value, i.label) for i in Impact])
    status = SelectField(
        "Status",
        choices=[(s.value, s.label) for s in IncidentStatus if s.is_open],
    )
    body = TextAreaField(
        "Message (Markdown; mark what must be written each time as [[blank]])",
        validators=[
            DataRequired("Write the template's message."),
            forms.Text(text.MESSAGE_BODY, one_line=False),
        ],
        render_kw={"rows": 8},
    )


@blueprint.route("/", methods=["GET", "POST"])
@admin_required
def index() -> ResponseReturnValue:
    session = db_session()
    form = TemplateForm()
    leaves = [c for c in components.ordered_components(session) if not c.is_group]
    if form.validate_on_submit():
        try:
            created = templates.create_template(
                session,
                name=form.name.data,
                impact=Impact(form.impact.data),
                status=IncidentStatus(form.status.data),
                components=forms.component_changes(request.form, leaves),
                body=form.body.data,
                actor=Actor(current_user._get_current_object(), "web"),
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash(f"Template “{created.name}” saved.", "success")
            return redirect(url_for("admin_templates.index"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/templates.html",
        form=form,
        rows=templates.all_templates(session),
        leaves=leaves,
        chosen=request.form,
        names={c.public_id: c.name for c in leaves},
    ), status


@blueprint.route("/<public_id>/delete", methods=["POST"])
@admin_required
def delete(public_id: str) -> ResponseReturnValue:
    session = db_session()
    found = templates.find_template(session, public_id)
    templates.delete_template(
        session, template=found, actor=Actor(current_user._get_current_object(), "web")
    )
    session.commit()
    flash(f"Template “{found.name}” deleted.", "success")
    return redirect(url_for("admin_templates.index"))
