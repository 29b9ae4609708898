"""Maintenance windows have their own admin view: when, which components, state and the
notices sent — none of an incident's fields."""

import re

import pytest
from sqlalchemy import select

from statusboard.models import Incident
from statusboard.services import components
from statusboard.services.audit import Actor
from tests.fakes.publishing import deliver


@pytest.fixture
def app_overrides(publishing_overrides):
    return {**publishing_overrides, "TIME_ZONE": "Europe/Berlin"}


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def schedule(client, **overrides):
    data = {
        "name": "Database upgrade",
        "scheduled_for": "2026-11-24 22:00",
        "scheduled_until": "2026-11-24 23:30",
        "body": "Writes pause for a few minutes.",
        "notify": "y",
        "confirm_peak": "y",  # nine hours' notice is short: said and confirmed
    }
    data.update(overrides)
    return client.post("/admin/maintenance/", data=data)


def test_a_scheduled_window_has_its_own_view_without_incident_fields(
    app, operator_client, session, operator, clock, fake_mastodon
):
    database = components.create_component(session, name="Database", actor=Actor(operator, "t"))
    session.commit()
    response = schedule(operator_client, components=[database.public_id])
    window = session.scalar(select(Incident))
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/maintenance/{window.public_id}")
    deliver(app, session)
    page = text_of(operator_client.get(response.location).get_data(as_text=True))
    assert "State Scheduled" in page
    assert "Scheduled for 24 Nov 2026 22:00 CET" in page
    assert "Until 24 Nov 2026 23:30 CET" in page
    assert "Components Database" in page
    assert "Notices sent" in page and "3 sent" in page
    for incident_word in ("impact", "Next update", "Expected resolution", "ETA"):
        assert incident_word not in page
    # The incident address of a window leads to the window's view.
    moved = operator_client.get(f"/admin/incidents/{window.public_id}")
    assert moved.status_code == 302 and moved.location.endswith(window.public_id)


def test_a_window_without_a_name_says_what_is_missing(operator_client, session, clock):
    response = schedule(operator_client, name="")
    assert response.status_code == 400
    assert "Give the maintenance a name customers understand" in response.get_data(as_text=True)
    assert "This field is required." not in response.get_data(as_text=True)
    assert session.scalar(select(Incident)) is None


def test_window_times_are_typed_24_hour_in_the_pages_zone(operator_client, session, clock):
    form = operator_client.get("/admin/maintenance/").get_data(as_text=True)
    assert 'type="datetime-local"' not in form and "24-hour in Europe/Berlin" in form
    bad = schedule(operator_client, scheduled_for="11/24/2026 10:00 PM")
    assert bad.status_code == 400
    assert "write the time as YYYY-MM-DD HH:MM" in bad.get_data(as_text=True)
