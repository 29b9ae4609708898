"""What an operator sees first: overdue incidents on top, times in the page's zone everywhere
(banner, "On it", footer), an update form that starts from what matters."""

import re
from datetime import timedelta

import pytest

from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.services import components, incidents
from statusboard.services.audit import Actor
from tests.conftest import START

MIN = timedelta(minutes=1)


@pytest.fixture
def app_overrides():
    return {"TIME_ZONE": "Europe/Berlin"}


def open_incident(session, operator, publishing_settings, name, next_in, **extra):
    return incidents.open_incident(
        session,
        name=name,
        impact=Impact.MAJOR,
        body=f"{name}: looking.",
        actor=Actor(operator, "test"),
        next_update_at=START + next_in * MIN,
        publishing_settings=publishing_settings,
        **extra,
    )


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_dashboard_lists_overdue_incidents_first(
    operator_client, session, operator, clock, publishing_settings
):
    open_incident(session, operator, publishing_settings, "Late one", 10)
    clock.advance(MIN)
    open_incident(session, operator, publishing_settings, "On time", 60)
    session.commit()
    clock.freeze(START + 20 * MIN)
    html = operator_client.get("/admin/").get_data(as_text=True)
    dashboard = html.split("Open incidents", 1)[1]
    assert dashboard.index("Late one") < dashboard.index("On time")


def test_on_it_pause_and_banner_use_the_pages_zone(
    operator_client, session, operator, clock, publishing_settings
):
    incident = open_incident(session, operator, publishing_settings, "Late one", 10)
    session.commit()
    clock.freeze(START + 12 * MIN)
    page = text_of(operator_client.get("/admin/").get_data(as_text=True))
    assert "(promised for 13:10 CET" in page  # 12:10 UTC
    assert "UTC" not in page
    response = operator_client.post(
        f"/admin/nags/{incident.public_id}/acknowledge", follow_redirects=True
    )
    text = text_of(response.get_data(as_text=True))
    assert re.search(r"paused until \d\d:\d\d CET", text)
    assert re.search(r"reminders paused until \d\d:\d\d CET", text)
    assert "Times are in Europe/Berlin, the status page's time zone, 24-hour." in text


def test_menu_names_the_profile_link_honestly(operator_client):
    html = operator_client.get("/admin/").get_data(as_text=True)
    assert '<a href="/admin/profile"' in html and ">Your profile</a>" in html


def test_update_form_lists_affected_components_first_and_shows_the_previous_update(
    operator_client, session, operator, clock, publishing_settings
):
    actor = Actor(operator, "test")
    components.create_component(session, name="Aardvark API", actor=actor)
    zebra = components.create_component(session, name="Zebra DB", actor=actor)
    incident = open_incident(
        session,
        operator,
        publishing_settings,
        "DB slow",
        30,
        component_changes={zebra: ComponentStatus.DEGRADED_PERFORMANCE},
    )
    clock.advance(5 * MIN)
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="The **disk** is full.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    html = operator_client.get(f"/admin/incidents/{incident.public_id}/update").get_data(
        as_text=True
    )
    assert html.index("Zebra DB") < html.index("Aardvark API")
    assert "affected · now degraded performance" in text_of(html)
    previous = html.split("Previous update", 1)[1]
    assert "<strong>disk</strong>" in previous.split("Status", 1)[0]
