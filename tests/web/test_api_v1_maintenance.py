"""Maintenance windows through the operator API: schedule, list, read, update, complete —
what the public sees after each step, and bad input refused with nothing saved."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statusboard.models import AuditEvent, Incident, Update
from statusboard.services import components
from statusboard.services.audit import Actor
from tests.web.test_api_v1 import _token, call


@pytest.fixture
def token(session, operator):
    return _token(session, operator, name="deploy-bot")


@pytest.fixture
def database_component(session, operator):
    created = components.create_component(session, name="Database", actor=Actor(None, "test"))
    session.commit()
    return created


def _counts(session):
    session.rollback()
    return {m.__name__: session.query(m).count() for m in (Incident, Update, AuditEvent)}


def public_windows(client):
    path = "/api/v2/scheduled-maintenances.json"
    return client.get(path).get_json()["scheduled_maintenances"]


def public_components(client):
    listed = client.get("/api/v2/components.json").get_json()["components"]
    return {c["name"]: c["status"] for c in listed}


WINDOW = {
    "name": "Database upgrade",
    "body": "Writes pause for a minute.",
    "scheduled_for": "2026-11-24T14:00:00Z",
    "scheduled_until": "2026-11-24T16:00:00+01:00",
}


def test_schedule_update_and_complete_with_a_token_show_on_the_page_at_once(
    client, session, clock, operator, token, database_component
):
    twice = [database_component.public_id] * 2
    scheduled = call(
        client, "post", "/maintenance", token, {**WINDOW, "components": twice, "notify": False}
    )
    assert scheduled.status_code == 201, scheduled.get_json()
    window = scheduled.get_json()
    assert scheduled.headers["Location"] == f"/api/v1/maintenance/{window['id']}"
    assert window["status"] == "scheduled" and window["impact"] == "maintenance"
    assert window["scheduled_for"] == "2026-11-24T14:00:00.000Z"
    assert window["scheduled_until"] == "2026-11-24T15:00:00.000Z"
    assert window["incident_updates"][0]["deliver_notifications"] is False
    assert [c["name"] for c in window["components"]] == ["Database"]
    assert public_windows(client) == [window]
    event = session.query(AuditEvent).filter_by(action="maintenance.schedule").one()
    assert event.actor_id == operator.id and event.via == "api:deploy-bot"

    listed = call(client, "get", "/maintenance", token)
    assert listed.status_code == 200
    assert listed.get_json() == {"scheduled_maintenances": [window]}
    assert call(client, "get", f"/maintenance/{window['id']}", token).get_json() == window

    clock.advance(timedelta(hours=2))
    started = call(
        client,
        "post",
        f"/maintenance/{window['id']}/updates",
        token,
        {"status": "in_progress", "body": "Started.", "scheduled_until": "2026-11-24T15:30:00Z"},
    )
    assert started.status_code == 201, started.get_json()
    assert [u["status"] for u in started.get_json()["incident_updates"]] == [
        "in_progress",
        "scheduled",
    ]
    assert started.get_json()["scheduled_until"] == "2026-11-24T15:30:00.000Z"
    assert public_components(client) == {"Database": "under_maintenance"}

    clock.advance(timedelta(minutes=30))
    completed = call(
        client, "post", f"/maintenance/{window['id']}/complete", token, {"body": "All done."}
    )
    assert completed.status_code == 200, completed.get_json()
    assert completed.get_json()["status"] == "completed"
    assert completed.get_json()["resolved_at"] == "2026-11-24T14:30:00.000Z"
    assert public_windows(client)[0] == completed.get_json()
    assert public_components(client) == {"Database": "operational"}


@pytest.mark.parametrize(
    "change, status, code, field",
    [
        ({"components": ["nope"]}, 422, "invalid_input", "components"),
        ({"components": "nope"}, 422, "invalid_input", "components"),
        ({"scheduled_for": "2026-11-24T11:00:00Z"}, 422, "promise_in_the_past", "scheduled_for"),
        ({"scheduled_until": "2026-11-24T13:00:00Z"}, 422, "invalid_input", "scheduled_until"),
        ({"scheduled_for": "2026-11-24T14:00:00"}, 422, "invalid_input", "scheduled_for"),
        ({"scheduled_until": None}, 422, "invalid_input", "scheduled_until"),
        ({"body": None}, 422, "invalid_input", "body"),
        ({"body": "   "}, 422, "invalid_input", "body"),
        ({"impact": "major"}, 422, "invalid_input", "impact"),
    ],
)
def test_schedule_refuses_bad_input_and_saves_nothing(
    client, session, clock, token, database_component, change, status, code, field
):
    before = _counts(session)
    refused = call(client, "post", "/maintenance", token, {**WINDOW, **change})
    assert refused.status_code == status, refused.get_json()
    assert refused.get_json()["error"]["code"] == code
    assert refused.get_json()["error"]["field"] == field
    assert _counts(session) == before and public_windows(client) == []


@pytest.fixture
def window(client, clock, token, database_component):
    body = {**WINDOW, "components": [database_component.public_id]}
    return call(client, "post", "/maintenance", token, body).get_json()


@pytest.mark.parametrize(
    "path, body, status, code",
    [
        ("updates", {"status": "in_progress"}, 422, "invalid_input"),
        ("updates", {"status": "done", "body": "x"}, 422, "invalid_input"),
        (
            "updates",
            {"status": "in_progress", "body": "x", "scheduled_until": "2026-11-24T11:00:00Z"},
            422,
            "promise_in_the_past",
        ),
        ("complete", {}, 422, "invalid_input"),
        ("complete", {"body": "Done.", "status": "completed"}, 422, "invalid_input"),
    ],
)
def test_update_and_complete_refuse_bad_input_and_save_nothing(
    client, session, clock, token, window, path, body, status, code
):
    before = _counts(session)
    refused = call(client, "post", f"/maintenance/{window['id']}/{path}", token, body)
    assert refused.status_code == status, refused.get_json()
    assert refused.get_json()["error"]["code"] == code
    assert _counts(session) == before and public_windows(client) == [window]


def test_a_window_only_moves_forward_and_a_completed_one_is_final(
    client, session, clock, token, window
):
    path = f"/maintenance/{window['id']}"
    started = call(client, "post", f"{path}/updates", token, {"status": "verifying", "body": "x"})
    assert started.status_code == 201
    back = call(client, "post", f"{path}/updates", token, {"status": "scheduled", "body": "y"})
    assert back.status_code == 409
    assert back.get_json()["error"] == {
        "code": "invalid_transition",
        "message": "a maintenance that is verifying cannot go back to scheduled",
        "field": "status",
    }
    assert call(client, "post", f"{path}/complete", token, {"body": "Done."}).status_code == 200
    before = _counts(session)
    again = call(client, "post", f"{path}/complete", token, {"body": "Done again."})
    assert again.status_code == 409
    assert "completed; schedule a new one" in again.get_json()["error"]["message"]
    assert _counts(session) == before


def test_unknown_windows_and_incidents_are_404_and_a_bad_token_is_401(
    client, session, clock, token, window
):
    opened = call(
        client, "post", "/incidents", token, {"name": "X", "impact": "minor", "body": "Y"}
    ).get_json()
    for path in ("/maintenance/nope", f"/maintenance/{opened['id']}"):
        missing = call(client, "get", path, token)
        assert missing.status_code == 404 and missing.get_json()["error"]["field"] == "maintenance"
    completed = call(client, "post", f"/maintenance/{opened['id']}/complete", token, {"body": "x"})
    assert completed.status_code == 404
    assert call(client, "get", f"/incidents/{window['id']}", token).status_code == 404
    before = _counts(session)
    for secret in (None, "sb_not-a-token"):
        refused = call(client, "post", "/maintenance", secret, WINDOW)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "unauthorized"
    assert call(client, "get", "/maintenance", None).status_code == 401
    assert _counts(session) == before
