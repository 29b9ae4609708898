"""Operators' view of publishing under /admin/publishing: which channels are configured, a
test post per channel, every delivery of an update with a retry button, resolutions that did
not get through, and the live preview the update form calls."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from statusboard.app import channels
from statusboard.channels.base import Channel, Notice
from statusboard.channels.registry import LABELS, SOCIAL, statuses
from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.domain import text
from statusboard.domain.errors import InvalidInput
from statusboard.models import Delivery, Incident, Subscriber, SubscriberKind, Update
from statusboard.models.delivery import ACCOUNT, Purpose
from statusboard.services import incidents, outbox, publishing
from statusboard.services.publishing import ChannelChoice, PublishOptions
from statusboard.services.statuspage import page_info
from statusboard.web.auth import require_operator

blueprint = Blueprint("admin_publishing", __name__)


blueprint.before_request(require_operator)


@blueprint.app_context_processor
def _channel_options_context() -> dict[str, object]:
    """For templates/admin/_channel_options.html, included by the update form."""

    def offered() -> list[tuple[str, str]]:
        configured = channels()
        return [(name, configured[name].label) for name in SOCIAL if name in configured]

    return {"publishing_channels": offered}


def channel_options_from_form(
    form: MultiDict[str, str],
    configured: Mapping[str, Channel] | None = None,
    notice: Notice | None = None,
) -> PublishOptions:
    """Parse the fields of _channel_options.html into fan_out's options. A channel listed in
    `channels_offered` but not ticked is not sent to; a custom text must fit the channel
    (checked against `notice` for the link, when given)."""
    configured = channels() if configured is None else configured
    options: dict[str, ChannelChoice] = {}
    for name in form.getlist("channels_offered"):
        if name not in configured:
            continue
        custom = (form.get(f"text_{name}") or "").strip() or None
        options[name] = ChannelChoice(send=form.get(f"send_{name}") == "on", custom_text=custom)
        if custom and notice is not None:
            _, length, limit = configured[name].preview(_with(notice, custom))
            if limit and length > limit:
                raise InvalidInput(
                    f"the {configured[name].label} text is {length} of "
                    f"{limit} characters: shorten it",
                    field=f"text_{name}",
                )
    return options


def _with(notice: Notice, custom: str | None) -> Notice:
    return replace(notice, custom_text=custom)


def draft_notice(*, name: str, status: str, body: str, incident: Incident | None = None) -> Notice:
    """The notice of a message not posted yet, built by the same function the worker's
    notices come from (services/publishing.py)."""
    with suppress(InvalidInput):  # the form will refuse it; the preview still shows some
        body = text.clean(body, field="body")
    return publishing.draft_notice(
        page_info(settings_of().page, None),
        incident=incident,
        name=name,
        status=status,
        body=body,
    )


@blueprint.get("/")
def channels_page() -> ResponseReturnValue:
    session = db_session()
    counts: dict[SubscriberKind, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Subscriber.kind, func.count())
            .where(
                Subscriber.confirmed_at.is_not(None),
                Subscriber.unsubscribed_at.is_(None),
                Subscriber.disabled_at.is_(None),
            )
            .group_by(Subscriber.kind)
        ).all()
    )
    return render_template(
        "admin/publishing.html",
        statuses=statuses(settings_of().channels),
        tests=session.scalars(
            select(Delivery)
            .where(Delivery.purpose == Purpose.TEST)
            .order_by(Delivery.id.desc())
            .limit(10)
        ).all(),
        purges=session.scalars(
            select(Delivery)
            .where(Delivery.purpose == Purpose.PURGE)
            .order_by(Delivery.id.desc())
            .limit(10)
        ).all(),
        problems=publishing.undelivered_resolutions(session),
        subscriber_counts={str(k): v for k, v in counts.items()},
    )


def _where(name: str, channel: Channel) -> str:
    """Where a test through this channel will appear, in words an operator can check."""
    if name == "x":
        return "the public X account of the configured access token (STATUSBOARD_X_ACCESS_TOKEN)"
    if name == "mastodon":
        base = getattr(getattr(channel, "client", None), "api_base_url", "the configured server")
        return f"the public Mastodon account on {base}"
    if name == "bluesky":
        return f"the public Bluesky account @{getattr(channel, 'handle', '?')}"
    if name == "email":
        return f"your own inbox ({current_user.email})"
    if name == "purge":
        return "the CDN purge hook (it drops / from the CDN's cache)"
    return "the operators' chat room"


@blueprint.route("/test/<name>", methods=["GET", "POST"])
def test_post(name: str) -> ResponseReturnValue:
    """Queue a test message through one channel; the worker sends it, like everything else.
    A test on a public account is visible to its followers, so it is asked for first."""
    channel = channels().get(name)
    if channel is None:
        abort(404, "That channel is not configured.")
    public = name in SOCIAL
    if request.method == "GET" or (public and request.form.get("confirm") != "yes"):
        return render_template(
            "admin/publishing_test.html",
            name=name,
            label=channel.label,
            where=_where(name, channel),
            public=public,
        )
    session = db_session()
    to = current_user.email if name == "email" else ACCOUNT
    outbox.queue_letter(
        session,
        purpose=Purpose.TEST,
        channel=name,
        to=to,
        subject="Test message" if name == "email" else "Test post",
        text=f"A test from statusboard ({secrets.token_hex(3)}).",
    )
    session.commit()
    flash(
        f"{channel.label}: test queued for {_where(name, channel)}; it goes out within "
        "seconds. Its outcome is listed under Recent test messages.",
        "success",
    )
    return redirect(url_for("admin_publishing.channels_page"))


@blueprint.get("/updates/<public_id>")
def update_deliveries(public_id: str) -> ResponseReturnValue:
    session = db_session()
    update = session.scalar(select(Update).where(Update.public_id == public_id))
    if update is None:
        abort(404, "There is no such update.")
    return render_template(
        "admin/publishing_update.html",
        update=update,
        labels=LABELS,
        deliveries=publishing.deliveries_of(session, update),
        counts=publishing.counts_by_state(session, update.incident),
    )


@blueprint.get("/incidents/<public_id>")
def incident_deliveries(public_id: str) -> ResponseReturnValue:
    session = db_session()
    incident: Incident = incidents.find_incident(session, public_id)
    return render_template(
        "admin/publishing_incident.html",
        incident=incident,
        counts=publishing.counts_by_state(session, incident),
    )


@blueprint.post("/deliveries/<public_id>/retry")
def retry(public_id: str) -> ResponseReturnValue:
    session = db_session()
    delivery = session.scalar(select(Delivery).where(Delivery.public_id == public_id))
    if delivery is None:
        abort(404, "There is no such delivery.")
    publishing.retry_now(session, delivery=delivery)
    session.commit()
    flash("Queued again: the worker will send it within a second or two.", "success")
    if delivery.update is None:
        return redirect(url_for("admin_publishing.channels_page"))
    return redirect(
        url_for("admin_publishing.update_deliveries", public_id=delivery.update.public_id)
    )


@blueprint.post("/preview")
def preview() -> ResponseReturnValue:
    """Per channel: the text that would go out, its counted length and the limit. The forms
    send the incident's public id (update, resolve) so the preview has its real name and link."""
    form = request.form
    incident = None
    if form.get("incident"):
        incident = incidents.find_incident(db_session(), form["incident"])
    notice = draft_notice(
        name=form.get("name", "") or "Incident name",
        status=form.get("status", "investigating"),
        body=form.get("body", ""),
        incident=incident,
    )
    result = {}
    for name, channel in channels().items():
        if name not in SOCIAL:
            continue
        custom = (form.get(f"text_{name}") or "").strip() or None
        text_, length, limit = channel.preview(_with(notice, custom))
        result[name] = {
            "label": channel.label,
            "text": text_,
            "length": length,
            "limit": limit,
            "fits": length <= limit,
            "link": getattr(channel, "include_link", True),
        }
    return jsonify(channels=result)
