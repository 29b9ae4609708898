"""Log in and out. Failed logins are limited per client address (services/login_limit.py);
a session ends at logout everywhere, including copies of its cookie (Operator.end_sessions)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.services import audit, login_limit, operators
from statusboard.services.audit import Actor

blueprint = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=operators.MAX_PASSWORD_LENGTH)]
    )


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host, nor a header break."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and target.isprintable()
        and not any(char.isspace() or char == "\\" for char in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("admin.dashboard")


@login_required
def require_operator() -> None:
    """The before_request of every admin blueprint: operators only, everyone else to /login."""
    return None


def _limit() -> login_limit.Limit:
    return login_limit.Limit.parse(settings_of().web.login_rate_limit)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        session = db_session()
        client = request.remote_addr or "unknown"
        limit = _limit()
        now = clock.now()
        limited = login_limit.is_limited(session, client=client, limit=limit, now=now)
        operator = operators.authenticate(
            session, email=form.email.data, password=form.password.data
        )
        if operator is None:
            login_limit.record_failure(session, client=client, limit=limit, now=now)
            session.commit()
            if limited:
                abort(
                    429,
                    "Too many failed logins from your address. Wait a minute and try again.",
                )
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
    session = db_session()
    operators.end_sessions(session, operator=current_user._get_current_object())
    session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
