import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.models import AuditEvent, Component, Incident
from tests.conftest import START


def add_component(client, name, group="", is_group=False):
    data = {"name": name, "group": group}
    if is_group:
        data["is_group"] = "y"
    return client.post("/admin/components", data=data)


def test_admin_creates_group_and_components_shown_on_public_page(admin_client, session):
    assert add_component(admin_client, "Regions", is_group=True).status_code == 302
    group = session.scalar(select(Component).where(Component.name == "Regions"))
    add_component(admin_client, "EU", group=group.public_id)
    add_component(admin_client, "US", group=group.public_id)
    page = admin_client.get("/").get_data(as_text=True)
    assert page.index("Regions") < page.index("EU") < page.index("US")


def declare(client, **overrides):
    data = {
        "name": "API errors",
        "impact": "major",
        "status": "investigating",
        "body": "We see **errors**.",
        "eta_mode": "unknown",
        "next_mode": "in",
        "next_in": "20",
        "time_zone": "UTC",
        "notify": "y",
    }
    data.update(overrides)
    return client.post("/admin/incidents/new", data=data)


def test_declared_incident_with_eta_and_promise_is_on_the_page_at_once(
    operator_client, session, clock
):
    response = declare(operator_client, eta_mode="time", eta="2026-11-24T15:00")
    assert response.status_code == 302
    page = operator_client.get("/").get_data(as_text=True)
    assert "API errors" in page
    assert "<strong>errors</strong>" in page
    assert 'datetime="2026-11-24T12:20:00.000Z"' in page  # next update by
    assert 'datetime="2026-11-24T15:00:00.000Z"' in page  # ETA


def test_update_and_resolve_through_the_forms(operator_client, session, clock):
    declare(operator_client)
    incident = session.scalar(select(Incident))
    clock.advance(timedelta(minutes=5))
    response = operator_client.post(
        f"/admin/incidents/{incident.public_id}/update",
        data={
            "status": "identified",
            "body": "Found the cause.",
            "eta_mode": "unknown",
            "next_mode": "by",
            "next_by": "13:00",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    public = operator_client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "Found the cause." in public
    assert 'datetime="2026-11-24T13:00:00.000Z"' in public
    response = operator_client.post(
        f"/admin/incidents/{incident.public_id}/resolve", data={"body": "All good now."}
    )
    assert response.status_code == 302
    page = operator_client.get("/").get_data(as_text=True)
    assert "All Systems Operational" in page
    assert "All good now." in page  # in past incidents


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"body": ""}, "Write what customers should know."),
        ({"eta_mode": "time", "eta": "2026-11-24T11:00"}, "ETA must be in the future"),
        ({"next_mode": "by", "next_by": "25:99"}, "HH:MM"),
        ({"component_nosuchthing": "major_outage"}, "does not exist"),
    ],
)
def test_bad_declare_input_shows_error_and_saves_nothing(
    operator_client, session, clock, overrides, message
):
    response = declare(operator_client, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(Incident)) is None


def test_operator_cannot_manage_components(operator_client):
    assert operator_client.get("/admin/components").status_code == 403
    assert add_component(operator_client, "API").status_code == 403


def test_writes_are_audited_with_their_author(admin_client, session):
    add_component(admin_client, "API")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "component.create"))
    assert event.actor.email == "admin@example.com" and event.via == "web"


ADMIN_ROUTES = [
    "/admin/",
    "/admin/incidents/new",
    "/admin/components",
    "/admin/operators",
    "/admin/profile",
    "/admin/audit",
    "/admin/incidents/x/update",
    "/admin/incidents/x",
]


@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_anonymous_requests_to_admin_routes_go_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_every_admin_route_requires_login(app, client):
    """No admin route is left out of the login check, including ones added later."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and "GET" in rule.methods:
            path = re.sub(r"<[^>]+>", "x", rule.rule)
            assert client.get(path).status_code == 302, rule.rule


def test_started_incident_is_shown_with_start_time(operator_client, clock):
    declare(operator_client)
    assert 'datetime="2026-11-24T12:00:00.000Z"' in operator_client.get("/").get_data(as_text=True)
    assert START.year == 2026


def test_forms_render_for_a_page_with_components_and_an_open_incident(admin_client, session, clock):
    add_component(admin_client, "API")
    declare(admin_client)
    incident = session.scalar(select(Incident))
    for path in (
        "/admin/",
        "/admin/incidents/new",
        "/admin/components",
        "/admin/operators",
        "/admin/profile",
        "/admin/audit",
        f"/admin/incidents/{incident.public_id}",
        f"/admin/incidents/{incident.public_id}/update",
        f"/admin/incidents/{incident.public_id}/resolve",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
    update_form = admin_client.get(f"/admin/incidents/{incident.public_id}/update")
    assert '<option selected value="investigating">' in update_form.get_data(as_text=True)


def test_update_form_says_how_late_the_team_is(operator_client, session, clock):
    declare(operator_client)  # next update promised in 20 minutes
    incident = session.scalar(select(Incident))
    clock.advance(timedelta(minutes=27))
    page = operator_client.get(f"/admin/incidents/{incident.public_id}/update")
    assert "You are late" in page.get_data(as_text=True)
    assert "7 min ago" in page.get_data(as_text=True)


def test_near_copy_of_an_earlier_update_asks_for_confirmation(operator_client, session, clock):
    declare(operator_client, body="We are investigating elevated error rates on the API.")
    incident = session.scalar(select(Incident))
    data = {
        "status": "investigating",
        "eta_mode": "unknown",
        "next_mode": "in",
        "time_zone": "UTC",
        "body": "We are investigating elevated error rates on the API!",
    }
    path = f"/admin/incidents/{incident.public_id}/update"
    refused = operator_client.post(path, data=data)
    assert refused.status_code == 400
    assert "Customers notice copy-paste" in refused.get_data(as_text=True)
    session.rollback()
    assert len(incident.updates) == 1
    confirmed = operator_client.post(path, data={**data, "confirm_repeat": "1"})
    assert confirmed.status_code == 302
    session.rollback()
    assert len(incident.updates) == 2
