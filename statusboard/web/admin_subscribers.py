"""Admin → Subscribers: find, look at, remove and re-confirm subscribers, export and import
them as CSV (admins); add a webhook or chat room on a customer's behalf (any operator)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from statusboard import clock
from statusboard.channels.webhook import parse_allow_list
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain.errors import DomainError, InvalidInput
from statusboard.models import Component, SubscriberKind
from statusboard.services import components as component_service
from statusboard.services import subscriber_admin
from statusboard.services.audit import Actor
from statusboard.services.subscriber_admin import ImportContext, State
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin_subscribers", __name__)
blueprint.before_request(require_operator)
PAGE_SIZE = 100


def admins_only(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_admin:
            abort(403, "Only admins can see and manage subscribers.")
        return view(*args, **kwargs)

    return wrapped


def _actor() -> Actor:
    return Actor(current_user._get_current_object(), "web")


def _context() -> ImportContext:
    settings = settings_of()
    return ImportContext(
        page=settings.page,
        secret_key=current_app.config["SECRET_KEY"],
        enabled=settings.publishing.channels,
        allow=parse_allow_list(settings.channels.webhook_allow_private),
        chat_base_url=settings.channels.chat_hooks_base_url,
    )


def _csrf_ok() -> bool:
    if FlaskForm().validate_on_submit():
        return True
    flash("This form has expired; reload the page and try again.", "error")
    return False


def _choice(enum: type[SubscriberKind] | type[State], value: str | None) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@blueprint.get("/")
@admins_only
def index() -> ResponseReturnValue:
    session = db_session()
    leaves = [c for c in component_service.ordered_components(session) if not c.is_group]
    component = next((c for c in leaves if c.public_id == request.args.get("component")), None)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = subscriber_admin.find(
        session,
        search=request.args.get("q", "")[:200],
        kind=_choice(SubscriberKind, request.args.get("kind")),
        state=_choice(State, request.args.get("state")),
        component=component,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render_template(
        "admin/subscribers.html",
        found=found,
        page=page,
        page_size=PAGE_SIZE,
        kinds=list(SubscriberKind),
        states=list(State),
        leaves=leaves,
        args=request.args,
        state_of=subscriber_admin.state_of,
        disabled=subscriber_admin.recently_disabled(session),
        form=FlaskForm(),
    )


@blueprint.get("/<public_id>")
@admins_only
def detail(public_id: str) -> ResponseReturnValue:
    session = db_session()
    subscriber = subscriber_admin.get(session, public_id)
    return render_template(
        "admin/subscriber.html",
        subscriber=subscriber,
        state=subscriber_admin.state_of(subscriber),
        deliveries=subscriber_admin.history(session, subscriber),
        form=FlaskForm(),
    )


@blueprint.post("/<public_id>/remove")
@admins_only
def remove(public_id: str) -> ResponseReturnValue:
    if not _csrf_ok():
        return redirect(url_for("admin_subscribers.detail", public_id=public_id))
    session = db_session()
    subscriber = subscriber_admin.get(session, public_id)
    address = subscriber.address
    subscriber_admin.remove(session, subscriber=subscriber, actor=_actor())
    session.commit()
    flash(f"Removed {address}. Nothing more will be sent to it.", "success")
    return redirect(url_for("admin_subscribers.index"))


@blueprint.post("/<public_id>/resend")
@admins_only
def resend(public_id: str) -> ResponseReturnValue:
    if _csrf_ok():
        session = db_session()
        subscriber = subscriber_admin.get(session, public_id)
        context = _context()
        try:
            subscriber_admin.resend_confirmation(
                session,
                subscriber=subscriber,
                actor=_actor(),
                page=context.page,
                secret_key=context.secret_key,
                enabled=context.enabled,
            )
            session.commit()
            flash("The confirmation is on its way again.", "success")
        except DomainError as error:
            session.rollback()
            flash(error.message, "error")
    return redirect(url_for("admin_subscribers.detail", public_id=public_id))


@blueprint.get("/export.csv")
@admins_only
def export() -> ResponseReturnValue:
    data = subscriber_admin.export_csv(db_session())
    name = f"subscribers-{clock.now():%Y%m%d-%H%M}.csv"
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blueprint.post("/import")
@admins_only
def import_csv() -> ResponseReturnValue:
    if not _csrf_ok():
        return redirect(url_for("admin_subscribers.index"))
    upload = request.files.get("file")
    attested = request.form.get("attest") == "yes"
    attestation = request.form.get("attestation", "") if attested else None
    session = db_session()
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("choose a CSV file", field="file")
        if attested and not (attestation or "").strip():
            raise InvalidInput(
                "say how these people agreed to be emailed (it is kept in the audit log)",
                field="attestation",
            )
        data = upload.read().decode("utf-8-sig")
        result = subscriber_admin.import_csv(
            session, data, actor=_actor(), context=_context(), attestation=attestation
        )
    except (InvalidInput, UnicodeDecodeError) as error:
        session.rollback()
        message = error.message if isinstance(error, InvalidInput) else "the file is not UTF-8"
        flash(f"Nothing imported: {message}.", "error")
        return redirect(url_for("admin_subscribers.index"))
    session.commit()
    flash(
        f"Imported {result.created} subscribers ({result.skipped} already here); "
        f"{result.confirmations} confirmation messages queued."
        + (f" Skipped lines: {'; '.join(result.errors[:10])}" if result.errors else ""),
        "success" if not result.errors else "error",
    )
    return redirect(url_for("admin_subscribers.index"))


@blueprint.route("/add", methods=["GET", "POST"])
def add() -> ResponseReturnValue:
    """Any operator: a customer's webhook or Slack, Discord or Teams room."""
    session = db_session()
    leaves = [c for c in component_service.ordered_components(session) if not c.is_group]
    error = None
    if request.method == "POST" and _csrf_ok():
        wanted = set(request.form.getlist("components"))
        chosen: list[Component] = [c for c in leaves if c.public_id in wanted]
        try:
            subscriber = subscriber_admin.add_on_behalf(
                session,
                url=request.form.get("url", ""),
                contact_email=request.form.get("contact_email", ""),
                components=chosen,
                time_zone=request.form.get("time_zone"),
                actor=_actor(),
                context=_context(),
            )
            session.commit()
        except InvalidInput as refused:
            session.rollback()
            error = refused.message
        else:
            flash(
                f"Added the {subscriber.kind.label} subscriber"
                + (": a test message is on its way." if subscriber.kind.is_chat else "."),
                "success",
            )
            return redirect(url_for("admin_subscribers.add"))
    return render_template(
        "admin/subscriber_add.html",
        leaves=leaves,
        error=error,
        form=FlaskForm(),
        values=request.form,
        page_zone=settings_of().page.time_zone,
    ), (422 if error else 200)
