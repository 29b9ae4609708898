"""Admin → API tokens: operators create and revoke their own tokens; admins see and revoke
everyone's. The secret is shown once, in the response to the create form, and never again
(it is not put in a flash message, which would keep it in the session cookie)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from statusboard.db import db_session
from statusboard.domain import text
from statusboard.domain.errors import DomainError
from statusboard.services import tokens
from statusboard.services.audit import Actor
from statusboard.web.auth import require_operator
from statusboard.web.forms import Text

blueprint = Blueprint("admin_tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField(
        "What will use it",
        validators=[
            DataRequired("Name the token after what will use it."),
            Text(text.TOKEN_NAME),
        ],
    )


blueprint.before_request(require_operator)


def _render(form: TokenForm, secret: str | None = None, status: int = 200) -> ResponseReturnValue:
    me = current_user._get_current_object()
    listed = tokens.list_tokens(db_session(), None if me.is_admin else me)
    return render_template(
        "admin/tokens.html", form=form, tokens=listed, secret=secret, revoke_form=FlaskForm()
    ), status


@blueprint.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(form, status=400 if request.method == "POST" else 200)
    session = db_session()
    me = current_user._get_current_object()
    try:
        _, secret = tokens.create_token(
            session, operator=me, name=form.name.data, actor=Actor(me, "web")
        )
        session.commit()
    except DomainError as error:
        session.rollback()
        form.name.errors = [*form.name.errors, error.message]
        return _render(form, status=400)
    return _render(TokenForm(formdata=None), secret=secret, status=201)


@blueprint.post("/<public_id>/revoke")
def revoke(public_id: str) -> ResponseReturnValue:
    if not FlaskForm().validate_on_submit():
        flash("This form has expired; reload the page and try again.", "error")
        return redirect(url_for("admin_tokens.index"))
    session = db_session()
    me = current_user._get_current_object()
    token = tokens.find_token(session, public_id)
    tokens.revoke_token(session, token=token, actor=Actor(me, "web"))
    session.commit()
    flash(f"Revoked the token “{token.name}”. It stopped working at once.", "success")
    return redirect(url_for("admin_tokens.index"))
