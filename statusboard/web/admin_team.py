"""Admin → Operators and Audit log: add operators, change roles, deactivate and reactivate
them, say who is on call, and read who did what. Admins only. A role change or deactivation
ends the operator's sessions at once (services/operators.py says why and what is refused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from statusboard.db import db_session
from statusboard.domain.errors import DomainError
from statusboard.models import ApiToken, AuditEvent, Component, Incident, Operator, Role
from statusboard.services import operators
from statusboard.services.audit import Actor
from statusboard.web import forms
from statusboard.web.admin import admin_required, show_form_error
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin_team", __name__)
blueprint.before_request(require_operator)

AUDIT_ROWS = 200


def _actor() -> Actor:
    return Actor(current_user._get_current_object(), "web")


@blueprint.route("/operators", methods=["GET", "POST"])
@admin_required
def operator_list() -> ResponseReturnValue:
    session = db_session()
    form = forms.OperatorForm()
    if form.validate_on_submit():
        try:
            added = operators.add_operator(
                session,
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                actor=_actor(),
                role=Role.ADMIN if form.admin.data else Role.OPERATOR,
            )
            session.commit()
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash(f"Added {added.email}. Give them their password in person.", "success")
            return redirect(url_for("admin_team.operator_list"))
    team = operators.all_operators(session)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/operators.html",
        form=form,
        operators=team,
        nobody_on_call=not any(o.on_call and o.active for o in team),
        change_form=FlaskForm(),
    ), status


def _change(
    email: str, what: str, apply: Callable[[Session, Operator], str]
) -> ResponseReturnValue:
    """One change to one operator from a button on the list: done and said, or refused
    with the rule's words; either way back to the list."""
    if not FlaskForm().validate_on_submit():
        flash("This form has expired; reload the page and try again.", "error")
        return redirect(url_for("admin_team.operator_list"))
    session = db_session()
    try:
        target = operators.find_operator(session, email)
        message = apply(session, target)
        session.commit()
    except DomainError as error:
        session.rollback()
        flash(f"Could not {what}: {error.message}.", "error")
    else:
        flash(message, "success")
    return redirect(url_for("admin_team.operator_list"))


@blueprint.post("/operators/<email>/role")
@admin_required
def operator_role(email: str) -> ResponseReturnValue:
    try:
        role = Role(request.form.get("role", ""))
    except ValueError:
        abort(400, "Choose admin or operator.")

    def apply(session: Session, target: Operator) -> str:
        operators.set_role(session, operator=target, role=role, actor=_actor())
        what = "an admin" if role is Role.ADMIN else "an operator"
        return f"{target.name} is now {what}; they must log in again."

    return _change(email, "change the role", apply)


@blueprint.post("/operators/<email>/active")
@admin_required
def operator_active(email: str) -> ResponseReturnValue:
    active = request.form.get("active") == "1"

    def apply(session: Session, target: Operator) -> str:
        operators.set_active(session, operator=target, active=active, actor=_actor())
        if active:
            return f"{target.name} can log in again."
        return (
            f"{target.name} is deactivated: logged out everywhere, their API tokens stopped "
            "working, and nags no longer go to them."
        )

    return _change(email, "deactivate" if not active else "reactivate", apply)


@blueprint.post("/operators/<email>/on-call")
@admin_required
def operator_on_call(email: str) -> ResponseReturnValue:
    on_call = request.form.get("on_call") == "1"

    def apply(session: Session, target: Operator) -> str:
        operators.set_on_call(session, operator=target, on_call=on_call, actor=_actor())
        if on_call:
            return f"{target.name} is on call: nags reach them when a promise falls due."
        return f"{target.name} is off call: nags reach them only from the first escalation."

    return _change(email, "change who is on call", apply)


# -- audit log -----------------------------------------------------------------------------------


def _subject_names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """What each event's subject is called today (operators by row id, the rest by public
    id); a deleted subject keeps the name its audit event recorded."""
    session = db_session()
    wanted: dict[str, set[str]] = {}
    for event in events:
        wanted.setdefault(event.subject_type, set()).add(event.subject_id)
    names: dict[tuple[str, str], str] = {}
    operator_ids = [int(i) for i in wanted.get("operator", ()) if i.isdigit()]
    for row in session.scalars(select(Operator).where(Operator.id.in_(operator_ids))):
        names[("operator", str(row.id))] = row.name
    named: list[tuple[Any, tuple[str, ...]]] = [
        (Component, ("component",)),
        (Incident, ("incident", "maintenance")),
        (ApiToken, ("api_token",)),
    ]
    for model, kinds in named:
        ids = set().union(*(wanted.get(kind, set()) for kind in kinds))
        for public_id, name in session.execute(
            select(model.public_id, model.name).where(model.public_id.in_(ids))
        ):
            for kind in kinds:
                names[(kind, public_id)] = name
    for event in events:
        recorded = event.detail.get("name") if isinstance(event.detail, dict) else None
        if isinstance(recorded, str):
            names.setdefault((event.subject_type, event.subject_id), recorded)
    return names


@blueprint.route("/audit")
@admin_required
def audit_log() -> ResponseReturnValue:
    events = list(
        db_session().scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_ROWS))
    )
    return render_template(
        "admin/audit.html", events=events, names=_subject_names(events), rows=AUDIT_ROWS
    )
