import re

import pytest
from flask import render_template_string
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import Impact
from statusboard.models import Delivery, DeliveryState
from statusboard.services import incidents
from statusboard.services.audit import Actor
from statusboard.web.admin_publishing import channel_options_from_form, draft_notice
from tests.fakes.publishing import deliver


@pytest.fixture
def app_overrides(publishing_overrides):
    return publishing_overrides


def test_channels_page_names_missing_variables_of_unconfigured_channels(admin_client):
    page = admin_client.get("/admin/publishing/")
    assert page.status_code == 200
    assert b"STATUSBOARD_X_API_KEY" not in page.data  # configured in this app
    assert b"not configured" in page.data and b"STATUSBOARD_CHAT_WEBHOOK_URL" in page.data


def test_send_test_post_asks_first_and_names_the_public_account(
    app, admin_client, fake_mastodon, fake_bluesky
):
    asked = admin_client.post("/admin/publishing/test/bluesky").get_data(as_text=True)
    assert "Send a test through Bluesky?" in asked
    assert "public Bluesky account @status.example.com" in asked
    assert "everyone who follows the account sees" in asked
    deliver(app)
    assert fake_bluesky.posts == []  # not without a yes
    listed = admin_client.get("/admin/publishing/").get_data(as_text=True)
    assert 'href="/admin/publishing/test/mastodon">Send test post…' in listed


def test_send_test_post_is_queued_then_reaches_the_network(app, admin_client, fake_mastodon):
    response = admin_client.post("/admin/publishing/test/mastodon", data={"confirm": "yes"})
    assert response.status_code == 302
    assert fake_mastodon.statuses == []  # the request only queued it
    deliver(app)
    assert len(fake_mastodon.statuses) == 1
    assert "A test from statusboard" in fake_mastodon.statuses[0]["content"]
    page = admin_client.get("/admin/publishing/").get_data(as_text=True)
    assert "Recent test messages" in page and "sent" in page


def test_test_email_goes_to_the_admin_through_the_outbox(app, admin, admin_client, mailbox):
    admin_client.post("/admin/publishing/test/email")
    assert mailbox.messages == []
    deliver(app)
    [message] = mailbox.messages
    assert message["To"] == admin.email and message["Subject"].endswith("Test message")


def test_preview_returns_each_channels_text_and_counted_length(admin_client):
    response = admin_client.post(
        "/admin/publishing/preview",
        data={
            "name": "API errors",
            "status": "investigating",
            "body": "日本" * 200,
            "text_mastodon": "Custom words.",
        },
    )
    data = response.get_json()["channels"]
    assert data["x"]["length"] <= 280 and data["x"]["limit"] == 280
    # X links are off by default, but a cut post carries one so the rest is a tap away.
    assert data["x"]["text"] == "API errors — Investigating…\n\n" + (
        "https://status.example.com/incidents/xxxxxxxxxxxx"
    )
    assert data["bluesky"]["text"].endswith("/incidents/xxxxxxxxxxxx")
    assert data["mastodon"]["text"].startswith("Custom words.")


def test_update_page_lists_deliveries_and_retry_requeues_a_failed_one(
    app,
    admin_client,
    session,
    admin,
    clock,
    fake_mastodon,
    fake_x,
    fake_bluesky,
    publishing_settings,
):
    fake_mastodon.fail_next(401, {"error": "The access token is invalid"})
    incident = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MINOR,
        body="Looking.",
        actor=Actor(admin, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    update = incident.updates[0]
    page = admin_client.get(f"/admin/publishing/updates/{update.public_id}")
    assert b"The access token is invalid" in page.data and b"Retry now" in page.data
    failed = session.scalar(select(Delivery).where(Delivery.state == DeliveryState.FAILED))
    admin_client.post(f"/admin/publishing/deliveries/{failed.public_id}/retry")
    deliver(app, session)
    assert failed.state is DeliveryState.SENT and len(fake_mastodon.statuses) == 1
    counts = admin_client.get(f"/admin/publishing/incidents/{incident.public_id}")
    assert b"3 sent" in counts.data
    view = admin_client.get(f"/admin/incidents/{incident.public_id}").get_data(as_text=True)
    assert "Sent to networks and subscribers: 3 sent — " in re.sub(r"<[^>]+>", "", view)
    assert f'href="/admin/publishing/updates/{update.public_id}">delivery details' in view


def test_form_fields_become_fan_out_options(app):
    with app.test_request_context():
        form = MultiDict(
            [
                ("channels_offered", "x"),
                ("channels_offered", "mastodon"),
                ("send_mastodon", "on"),
                ("text_mastodon", "Own words."),
            ]
        )
        options = channel_options_from_form(form)
        assert options["x"].send is False
        assert options["mastodon"].send is True
        assert options["mastodon"].custom_text == "Own words."
        notice = draft_notice(name="API", status="investigating", body="b")
        with pytest.raises(InvalidInput, match="280"):
            channel_options_from_form(
                MultiDict([("channels_offered", "x"), ("send_x", "on"), ("text_x", "w " * 200)]),
                notice=notice,
            )


def test_channel_options_partial_offers_each_configured_network_and_posts_back(app):
    with app.test_request_context():
        html = render_template_string(
            '<form method="post">{% include "admin/_channel_options.html" %}</form>'
        )
    for name in ("x", "mastodon", "bluesky"):
        assert f'name="send_{name}" checked' in html
        assert f'name="text_{name}"' in html
        assert f'name="channels_offered" value="{name}"' in html
    assert "/admin/publishing/preview" in html and "<noscript>" in html
