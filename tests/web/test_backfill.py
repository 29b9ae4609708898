"""Incidents declared or resolved after the fact, from the API and the forms, correct the
uptime history; times out of bounds are refused and change nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from statusboard.models import Incident
from statusboard.services import components
from statusboard.services.audit import Actor
from tests.conftest import START
from tests.web.test_admin import declare
from tests.web.test_api_v1 import _token, call


def _api(session, operator, clock):
    clock.freeze(START - timedelta(days=20))
    api = components.create_component(session, name="API", actor=Actor(operator, "test"))
    session.commit()
    clock.freeze(START)
    return api


def _downtime(client, day):
    document = client.get("/api/v2/uptime.json").get_json()
    daily = document["statusboard"]["components"][0]["uptime"]["daily"]
    return {d["date"]: d["downtime_minutes"] for d in daily}[day]


def test_the_api_backfills_a_start_and_a_resolution(client, session, clock, operator):
    api = _api(session, operator, clock)
    token = _token(session, operator)
    opened = call(
        client,
        "post",
        "/incidents",
        token,
        {
            "name": "Missed outage",
            "impact": "major",
            "body": "We missed this one.",
            "started_at": "2026-11-20T10:00:00Z",
            "components": {api.public_id: "major_outage"},
        },
    )
    assert opened.status_code == 201, opened.get_data(as_text=True)
    incident_id = opened.get_json()["id"]
    resolved = call(
        client,
        "post",
        f"/incidents/{incident_id}/resolve",
        token,
        {"body": "It had ended.", "resolved_at": "2026-11-20T10:30:00+00:00"},
    )
    assert resolved.status_code == 200, resolved.get_data(as_text=True)
    assert resolved.get_json()["resolved_at"] == "2026-11-20T10:30:00.000Z"
    assert _downtime(client, "2026-11-20") == 30
    assert _downtime(client, "2026-11-24") == 0


def test_the_api_refuses_a_start_more_than_30_days_back(client, session, clock, operator):
    token = _token(session, operator)
    response = call(
        client,
        "post",
        "/incidents",
        token,
        {"name": "Old", "impact": "minor", "body": "Old.", "started_at": "2026-10-01T00:00:00Z"},
    )
    assert response.status_code in (400, 422)
    assert "30 days" in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count(Incident.id))) == 0


def test_the_forms_backfill_in_the_operators_zone(operator_client, session, clock, operator):
    api = _api(session, operator, clock)
    response = declare(
        operator_client,
        started_at="2026-11-20T11:00",  # Berlin: 10:00 UTC
        time_zone="Europe/Berlin",
        **{f"component_{api.public_id}": "partial_outage"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    incident = session.scalar(select(Incident))
    response = operator_client.post(
        f"/admin/incidents/{incident.public_id}/resolve",
        data={"body": "Ended.", "resolved_at": "2026-11-20T13:00", "time_zone": "Europe/Berlin"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _downtime(operator_client, "2026-11-20") == 0.3 * 120


def test_the_resolve_form_refuses_an_end_before_the_start(operator_client, session, clock):
    declare(operator_client)
    incident = session.scalar(select(Incident))
    response = operator_client.post(
        f"/admin/incidents/{incident.public_id}/resolve",
        data={"body": "Ended.", "resolved_at": "2026-11-24T11:00", "time_zone": "UTC"},
    )
    assert response.status_code == 400
    assert "cannot be earlier than the incident" in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(Incident)).resolved_at is None
