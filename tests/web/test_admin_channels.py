"""The update form's per-network choices reach the delivery ledger."""

import pytest
from sqlalchemy import select

from statusboard.models import Delivery, Incident


@pytest.fixture
def app_overrides():
    return {"MASTODON_BASE_URL": "http://127.0.0.1:9", "MASTODON_ACCESS_TOKEN": "token"}


FORM = {
    "name": "API errors",
    "impact": "major",
    "status": "investigating",
    "body": "We see errors.",
    "eta_mode": "unknown",
    "next_mode": "in",
    "time_zone": "UTC",
    "notify": "y",
    "channels_offered": "mastodon",
}


def test_the_form_offers_the_configured_network(operator_client):
    page = operator_client.get("/admin/incidents/new").get_data(as_text=True)
    assert 'name="send_mastodon"' in page


def test_unticked_network_gets_no_delivery(operator_client, session, clock):
    assert operator_client.post("/admin/incidents/new", data=FORM).status_code == 302
    assert session.scalars(select(Delivery.channel)).all() == []


def test_ticked_network_gets_the_custom_text(operator_client, session, clock):
    data = {**FORM, "send_mastodon": "on", "text_mastodon": "API errors: we are on it."}
    assert operator_client.post("/admin/incidents/new", data=data).status_code == 302
    [delivery] = session.scalars(select(Delivery)).all()
    assert (delivery.channel, delivery.custom_text) == ("mastodon", "API errors: we are on it.")


def test_custom_text_over_the_limit_is_refused_with_its_count(operator_client, session, clock):
    data = {**FORM, "send_mastodon": "on", "text_mastodon": "x" * 600}
    response = operator_client.post("/admin/incidents/new", data=data)
    assert response.status_code == 400
    assert "of 500 characters" in response.get_data(as_text=True)
    assert session.scalar(select(Incident)) is None
