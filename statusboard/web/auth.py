"""Log in and out. Login attempts are rate-limited per client address."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from statusboard.db import db_session
from statusboard.services import audit, operators
from statusboard.services.audit import Actor
from statusboard.web.extensions import limiter, login_rate_limit

blueprint = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("admin.dashboard")


@login_required
def require_operator() -> None:
    """The before_request of every admin blueprint: operators only, everyone else to /login."""
    return None


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        session = db_session()
        operator = operators.authenticate(
            session, email=form.email.data, password=form.password.data
        )
        if operator is None:
            form.password.errors.append("That email and password do not match an operator.")
        else:
            audit.record(
                session,
                actor=Actor(operator, "web"),
                action="operator.login",
                subject_type="operator",
                subject_id=str(operator.id),
            )
            session.commit()
            login_user(operator)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
