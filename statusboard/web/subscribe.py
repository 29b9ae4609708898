"""Public subscriptions: ask (email, webhook, or a Slack, Discord or Teams room), confirm,
manage components, unsubscribe.

Asking answers the same whether or not the address is known, and is rate limited. The
unsubscribe POST also serves mail clients' one-click List-Unsubscribe-Post, which carries no
CSRF token (the signed token in the URL is the proof)."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from statusboard.channels.webhook import parse_allow_list
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain.errors import InvalidInput
from statusboard.models import Component, Incident, Subscriber
from statusboard.services import components as component_service
from statusboard.services import subscribers
from statusboard.web.extensions import csrf, limiter

blueprint = Blueprint("subscribe", __name__, url_prefix="/subscribe")


def _rate_limit() -> str:
    return settings_of().web.subscribe_rate_limit


def _chosen_components() -> list[Component]:
    wanted = set(request.form.getlist("components"))
    return [c for c in component_service.ordered_components(db_session()) if c.public_id in wanted]


def _incident(public_id: str | None) -> Incident | None:
    """The open incident to follow ("subscribe to this incident"), if one is named."""
    if not public_id:
        return None
    found = db_session().scalar(select(Incident).where(Incident.public_id == public_id))
    return found if found is not None and found.is_open else None


def _form(**context: Any) -> str:
    return render_template(
        "public/subscribe.html",
        components=component_service.ordered_components(db_session()),
        email_available="email" in settings_of().publishing.channels,
        page_zone=settings_of().page.time_zone,
        zones=_zones(),
        **context,
    )


@functools.cache
def _zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


@blueprint.get("")
def form() -> ResponseReturnValue:
    return _form(incident=_incident(request.args.get("incident")))


@blueprint.get("/webhooks")
def webhook_docs() -> ResponseReturnValue:
    """For developers: what a webhook receives and how to check its signature."""
    return render_template("public/webhook_docs.html")


@blueprint.post("")
@limiter.limit(_rate_limit)
def request_email() -> ResponseReturnValue:
    session = db_session()
    email = request.form.get("email", "")
    incident = _incident(request.form.get("incident"))
    try:
        subscriber = subscribers.request_email(
            session,
            email=email,
            components=_chosen_components(),
            incident=incident,
            time_zone=request.form.get("time_zone"),
        )
    except InvalidInput as error:
        session.rollback()
        which = "email_zone_error" if error.field == "time_zone" else "error"
        return _form(**{which: error.message}, email=email, incident=incident), 422
    if subscriber is not None:
        _queue_confirmation(subscriber, subscriber.address)
    session.commit()
    return _sent(subscribers.clean_email(email))


def _sent(address: str) -> str:
    # The same answer whether or not the address is known: only what the asker typed.
    return render_template("public/subscribe_sent.html", address=address, hours=_confirm_hours())


def _confirm_hours() -> int:
    return int(subscribers.CONFIRM_MAX_AGE.total_seconds() // 3600)


@blueprint.post("/webhook")
@limiter.limit(_rate_limit)
def request_webhook() -> ResponseReturnValue:
    session = db_session()
    allow = parse_allow_list(settings_of().channels.webhook_allow_private)
    try:
        subscriber = subscribers.request_webhook(
            session,
            url=request.form.get("url", ""),
            contact_email=request.form.get("contact_email", ""),
            components=_chosen_components(),
            allow=allow,
        )
    except InvalidInput as error:
        session.rollback()
        errors = getattr(error, "errors", None) or {error.field or "url": error.message}
        return _form(
            webhook_errors=errors,
            url=request.form.get("url", ""),
            contact_email=request.form.get("contact_email", ""),
        ), 422
    if not subscriber.active and subscriber.contact_email:
        _queue_confirmation(subscriber, subscriber.contact_email)
    session.commit()
    return _sent(subscribers.clean_email(request.form.get("contact_email", "")))


@blueprint.post("/chat")
@limiter.limit(_rate_limit)
def request_chat() -> ResponseReturnValue:
    """A Slack, Discord or Teams room: the test message is queued, never sent from here."""
    session = db_session()
    settings = settings_of()
    try:
        subscriber, owed = subscribers.request_chat(
            session,
            url=request.form.get("chat_url", ""),
            components=_chosen_components(),
            time_zone=request.form.get("time_zone"),
            contact_email=request.form.get("chat_contact_email"),
            allow=parse_allow_list(settings.channels.webhook_allow_private),
            base_url=settings.channels.chat_hooks_base_url,
        )
    except InvalidInput as error:
        session.rollback()
        which = "chat_zone_error" if error.field == "time_zone" else "chat_error"
        return _form(**{which: error.message}, chat_url=request.form.get("chat_url", "")), 422
    if owed:
        subscribers.queue_chat_test(
            session, subscriber, page=settings.page, secret_key=current_app.config["SECRET_KEY"]
        )
    session.commit()
    return render_template("public/subscribe_chat_sent.html", platform=subscriber.kind.label)


def _queue_confirmation(subscriber: Subscriber, to: str) -> None:
    settings = settings_of()
    if not subscribers.queue_confirmation(
        db_session(),
        subscriber,
        to=to,
        page=settings.page,
        secret_key=current_app.config["SECRET_KEY"],
        enabled=settings.publishing.channels,
    ):
        current_app.logger.error("subscription asked but no SMTP is configured")


@blueprint.get("/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    session = db_session()
    subscriber = subscribers.confirm(
        session, secret_key=current_app.config["SECRET_KEY"], token=token
    )
    session.commit()
    return render_template(
        "public/subscribe_confirmed.html",
        subscriber=subscriber,
        what=subscribers.what_you_get(subscriber),
        token=_manage_token(subscriber),
    )


def _manage_token(subscriber: Subscriber) -> str:
    return subscribers.manage_token(current_app.config["SECRET_KEY"], subscriber)


def _subscriber(token: str) -> Subscriber:
    return subscribers.from_manage_token(
        db_session(), token=token, secret_key=current_app.config["SECRET_KEY"]
    )


@blueprint.route("/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> ResponseReturnValue:
    session = db_session()
    subscriber = _subscriber(token)
    if request.method == "POST":
        subscribers.set_components(session, subscriber=subscriber, components=_chosen_components())
        session.commit()
        flash("Your choice of components is saved.", "success")
        return redirect(url_for("subscribe.manage", token=token))
    return render_template(
        "public/subscribe_manage.html",
        subscriber=subscriber,
        token=token,
        components=component_service.ordered_components(session),
        chosen={c.public_id for c in subscriber.components},
    )


@blueprint.get("/unsubscribe/<token>")
def unsubscribe_form(token: str) -> ResponseReturnValue:
    # A GET never unsubscribes: mail scanners follow links.
    return render_template(
        "public/subscribe_unsubscribe.html", subscriber=_subscriber(token), token=token
    )


@blueprint.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    session = db_session()
    subscriber = _subscriber(token)
    subscribers.unsubscribe(session, subscriber=subscriber)
    session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return render_template(
        "public/subscribe_sent.html", message="You are unsubscribed. Nothing more will be sent."
    )
