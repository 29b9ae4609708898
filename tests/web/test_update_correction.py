"""Correcting a typo in a posted update: audited, the original kept, shown as "edited" on every
public surface, and edited into the post where the network allows it (Mastodon), through the
outbox."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.domain.statuses import Impact
from statusboard.models import AuditEvent
from statusboard.services import incidents
from statusboard.services.audit import Actor
from tests.fakes.publishing import deliver


@pytest.fixture
def app_overrides(publishing_overrides):
    return publishing_overrides


@pytest.fixture
def incident(app, session, admin, clock, publishing_settings):
    opened = incidents.open_incident(
        session,
        name="Login errors",
        impact=Impact.MAJOR,
        body="Logins fial for some customers.",
        actor=Actor(admin, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    clock.advance(timedelta(minutes=3))
    return opened


def correct(client, incident, body):
    update = incident.updates[0]
    return client.post(f"/admin/updates/{update.public_id}/correct", data={"body": body})


def test_a_correction_shows_everywhere_as_edited_and_keeps_the_original(
    app, admin_client, client, session, incident
):
    before = client.get(f"/incidents/{incident.public_id}")
    response = correct(admin_client, incident, "Logins fail for some customers.")
    assert response.status_code == 302
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "Logins fail for some customers." in page and "fial" not in page
    assert "edited" in page
    assert before.headers.get("ETag") != client.get(f"/incidents/{incident.public_id}").headers.get(
        "ETag"
    )
    api = client.get("/api/v2/incidents.json").get_json()
    [update] = api["incidents"][0]["incident_updates"]
    assert update["body"] == "Logins fail for some customers."
    assert update["created_at"] == "2026-11-24T12:00:00.000Z"
    assert update["updated_at"] == "2026-11-24T12:03:00.000Z"  # when it was corrected
    assert "Logins fail for some customers." in client.get("/history.atom").get_data(as_text=True)
    admin_view = admin_client.get(f"/admin/incidents/{incident.public_id}").get_data(as_text=True)
    assert "Earlier words (1)" in admin_view and "Logins fial for some customers." in admin_view
    session.rollback()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "update.correct"))
    assert event is not None and event.actor.email == "admin@example.com"


def test_mastodon_posts_are_edited_by_the_worker_x_and_bluesky_keep_theirs(
    app, admin_client, session, incident, fake_x, fake_mastodon, fake_bluesky
):
    form = admin_client.get(f"/admin/updates/{incident.updates[0].public_id}/correct")
    text = re.sub(r"\s+", " ", form.get_data(as_text=True))
    assert "Mastodon: the post is edited to the new words" in text
    assert "X: does not allow editing a post — the post keeps the original words." in text
    assert "Bluesky: does not allow editing a post" in text
    [status] = fake_mastodon.statuses
    correct(admin_client, incident, "Logins fail for some customers.")
    assert "fial" in status["content"]  # nothing is sent from the request
    deliver(app, session)
    assert len(fake_mastodon.statuses) == 1  # the same post, edited
    assert status["content"].startswith("Login errors — Investigating\nLogins fail for some")
    assert "fial" in status["history"][0]
    assert len(fake_x.tweets) == 1 and "fial" in fake_x.tweets[0]["text"]
    assert len(fake_bluesky.posts) == 1
    # A second correction sends the latest words again.
    correct(admin_client, incident, "Logins fail for some customers in the EU.")
    deliver(app, session)
    assert status["content"].endswith("in the EU.\n\n" + incident_url(incident))
    assert len(status["history"]) == 2


def test_an_unchanged_or_empty_correction_is_refused(admin_client, incident):
    same = correct(admin_client, incident, "Logins fial for some customers.")
    assert same.status_code == 400 and "the text is unchanged" in same.get_data(as_text=True)
    empty = correct(admin_client, incident, "")
    assert empty.status_code == 400 and "Write the corrected message." in empty.get_data(
        as_text=True
    )


def incident_url(incident):
    return f"https://status.example.com/incidents/{incident.public_id}"
