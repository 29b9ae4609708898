"""The operator API: the automation flow with only a token, what the public sees after each
step, token failures (401) and permissions (403), and bad input refused with nothing saved."""

from __future__ import annotations

import json
from datetime import timedelta

import feedparser
import pytest

from statusboard.models import ApiToken, AuditEvent, Component, Incident, Update
from statusboard.services import tokens
from statusboard.services.audit import Actor
from tests.conftest import START


def _token(session, operator, name="deploy-bot"):
    _, secret = tokens.create_token(
        session, operator=operator, name=name, actor=Actor(None, "test")
    )
    session.commit()
    return secret


@pytest.fixture
def admin_token(session, admin):
    return _token(session, admin)


@pytest.fixture
def operator_token(session, operator):
    return _token(session, operator, name="pager")


def call(client, method, path, token, body=None, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return getattr(client, method)(
        f"/api/v1{path}", data=data, headers=headers, content_type="application/json"
    )


def _counts(session):
    session.rollback()  # end the read snapshot, so the requests' commits are visible
    return {
        model.__name__: session.query(model).count()
        for model in (Component, Incident, Update, AuditEvent)
    }


def test_full_flow_with_a_token_shows_on_summary_and_feed_at_once(
    client, session, clock, admin, admin_token
):
    created = call(
        client,
        "post",
        "/components",
        admin_token,
        {"name": "API", "description": "Public REST API"},
    )
    assert created.status_code == 201, created.get_json()
    api = created.get_json()
    assert created.headers["Location"] == f"/api/v1/components/{api['id']}"
    summary = client.get("/api/v2/summary.json").get_json()
    assert [c["name"] for c in summary["components"]] == ["API"]

    eta, promise = START + timedelta(hours=1), START + timedelta(minutes=20)
    opened = call(
        client,
        "post",
        "/incidents",
        admin_token,
        {
            "name": "API errors",
            "impact": "major",
            "body": "Elevated **errors**.",
            "eta": "2026-11-24T13:00:00Z",
            "next_update_at": "2026-11-24T13:20:00+01:00",
            "components": {api["id"]: "partial_outage"},
        },
    )
    assert opened.status_code == 201, opened.get_json()
    incident = opened.get_json()
    assert (
        incident["statusboard"]["eta"]
        == "2026-11-24T13:00:00.000Z"
        == eta.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    assert (
        incident["statusboard"]["next_update_by"]
        == "2026-11-24T12:20:00.000Z"
        == promise.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    summary = client.get("/api/v2/summary.json").get_json()
    assert [i["id"] for i in summary["incidents"]] == [incident["id"]]
    assert summary["components"][0]["status"] == "partial_outage"
    feed = feedparser.parse(client.get("/feed.atom").data)
    assert feed.entries[0].title == "API errors — Investigating: Elevated errors."

    clock.advance(timedelta(minutes=10))
    updated = call(
        client,
        "post",
        f"/incidents/{incident['id']}/updates",
        admin_token,
        {
            "status": "identified",
            "body": "Found a bad deploy.",
            "next_update_at": "2026-11-24T12:40:00Z",
        },
    )
    assert updated.status_code == 201, updated.get_json()
    assert [u["status"] for u in updated.get_json()["incident_updates"]] == [
        "identified",
        "investigating",
    ]
    assert updated.get_json()["statusboard"]["eta"] == "2026-11-24T13:00:00.000Z"  # kept
    summary = client.get("/api/v2/summary.json").get_json()
    assert summary["incidents"][0]["status"] == "identified"
    feed = feedparser.parse(client.get("/feed.atom").data)
    assert feed.entries[0].title == "API errors — Identified: Found a bad deploy."

    clock.advance(timedelta(minutes=10))
    resolved = call(
        client,
        "post",
        f"/incidents/{incident['id']}/resolve",
        admin_token,
        {"body": "Rolled back."},
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["resolved_at"] == "2026-11-24T12:20:00.000Z"
    summary = client.get("/api/v2/summary.json").get_json()
    assert summary["incidents"] == []
    assert summary["components"][0]["status"] == "operational"
    assert summary["status"]["indicator"] == "none"
    feed = feedparser.parse(client.get("/feed.atom").data)
    assert feed.entries[0].title == "API errors — Resolved: Rolled back."

    read = call(client, "get", f"/incidents/{incident['id']}", admin_token)
    assert [u["status"] for u in read.get_json()["incident_updates"]] == [
        "resolved",
        "identified",
        "investigating",
    ]


def test_every_write_is_audited_as_the_tokens_owner(client, session, clock, admin, admin_token):
    call(client, "post", "/components", admin_token, {"name": "API"})
    event = session.query(AuditEvent).filter_by(action="component.create").one()
    assert event.actor_id == admin.id
    assert event.via == "api:deploy-bot"


def test_list_and_change_components(client, session, clock, admin_token):
    group = call(
        client, "post", "/components", admin_token, {"name": "Core", "group": True}
    ).get_json()
    child = call(
        client, "post", "/components", admin_token, {"name": "API", "group_id": group["id"]}
    ).get_json()
    assert child["group_id"] == group["id"]
    changed = call(
        client,
        "patch",
        f"/components/{child['id']}",
        admin_token,
        {"name": "Public API", "status": "degraded_performance"},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["name"] == "Public API"
    assert changed.get_json()["status"] == "degraded_performance"
    listed = call(client, "get", "/components", admin_token).get_json()["components"]
    assert [(c["name"], c["status"]) for c in listed] == [
        ("Core", "degraded_performance"),
        ("Public API", "degraded_performance"),
    ]
    assert listed[0]["components"] == [child["id"]]


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer sb_not-a-real-token", "Basic dXNlcjpwYXNz", "sb_no-scheme"]
)
def test_missing_or_invalid_token_is_401(client, session, clock, admin_token, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(
        "/api/v1/incidents", headers=headers, json={"name": "X", "impact": "minor", "body": "Y"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/components", headers=headers).status_code == 401
    assert session.query(Incident).count() == 0


def test_revoked_token_and_deactivated_owner_are_401(client, session, clock, admin, admin_token):
    assert call(client, "get", "/components", admin_token).status_code == 200
    token = session.query(ApiToken).one()
    tokens.revoke_token(session, token=token, actor=Actor(admin, "test"))
    session.commit()
    assert call(client, "get", "/components", admin_token).status_code == 401
    second = _token(session, admin, name="second")
    admin.active = False
    session.commit()
    assert call(client, "get", "/components", second).status_code == 401


def test_use_is_recorded_on_the_token(client, session, clock, admin_token):
    assert session.query(ApiToken).one().last_used_at is None
    clock.advance(timedelta(minutes=5))
    call(client, "get", "/components", admin_token)
    session.rollback()
    assert session.query(ApiToken).one().last_used_at == START + timedelta(minutes=5)


def test_operator_token_may_post_incidents_but_not_manage_components(
    client, session, clock, admin_token, operator_token
):
    api = call(client, "post", "/components", admin_token, {"name": "API"}).get_json()
    before = _counts(session)
    for method, path in (("post", "/components"), ("patch", f"/components/{api['id']}")):
        refused = call(client, method, path, operator_token, {"name": "Sneaky"})
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "forbidden"
    assert _counts(session) == before
    opened = call(
        client,
        "post",
        "/incidents",
        operator_token,
        {"name": "Slow", "impact": "minor", "body": "Slow pages."},
    )
    assert opened.status_code == 201


def test_api_is_exempt_from_csrf(client, session, clock, admin_token, app):
    app.config["WTF_CSRF_ENABLED"] = True
    response = call(client, "post", "/components", admin_token, {"name": "API"})
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("raw", ['{"name": "API"', "[1, 2]", '"text"', "nul"])
def test_malformed_json_is_400_and_saves_nothing(client, session, clock, admin_token, raw):
    before = _counts(session)
    response = call(client, "post", "/components", admin_token, raw=raw)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert _counts(session) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"impact": "major", "body": "Down."}, "name"),
        ({"name": "Down", "body": "Down."}, "impact"),
        ({"name": "Down", "impact": "catastrophic", "body": "Down."}, "impact"),
        ({"name": "Down", "impact": "major"}, "body"),
        ({"name": "Down", "impact": "major", "body": "   "}, "body"),
        ({"name": 7, "impact": "major", "body": "Down."}, "name"),
        ({"name": "Down", "impact": "major", "body": "Down.", "eta": "soon"}, "eta"),
        ({"name": "Down", "impact": "major", "body": "Down.", "eta": "2026-11-24T13:00:00"}, "eta"),
        (
            {"name": "Down", "impact": "major", "body": "Down.", "eta": "2026-11-24T11:00:00Z"},
            "eta",
        ),
        (
            {
                "name": "Down",
                "impact": "major",
                "body": "Down.",
                "next_update_at": "2026-11-24T11:59:00Z",
            },
            "next_update_at",
        ),
        (
            {
                "name": "Down",
                "impact": "major",
                "body": "Down.",
                "components": {"nope": "major_outage"},
            },
            "components",
        ),
        ({"name": "Down", "impact": "major", "body": "Down.", "components": ["x"]}, "components"),
        ({"name": "Down", "impact": "major", "body": "Down.", "status": "resolved"}, "status"),
        ({"name": "Down", "impact": "major", "body": "Down.", "notify": "yes"}, "notify"),
        ({"name": "Down", "impact": "major", "body": "Down.", "severity": "high"}, "severity"),
    ],
)
def test_bad_fields_are_422_naming_the_field_and_save_nothing(
    client, session, clock, admin_token, body, field
):
    before = _counts(session)
    response = call(client, "post", "/incidents", admin_token, body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"] and error["code"]
    assert _counts(session) == before


def test_bad_component_status_in_an_update_saves_nothing(client, session, clock, admin_token):
    api = call(client, "post", "/components", admin_token, {"name": "API"}).get_json()
    opened = call(
        client,
        "post",
        "/incidents",
        admin_token,
        {
            "name": "Down",
            "impact": "major",
            "body": "Down.",
            "components": {api["id"]: "major_outage"},
        },
    ).get_json()
    before = _counts(session)
    response = call(
        client,
        "post",
        f"/incidents/{opened['id']}/updates",
        admin_token,
        {"status": "identified", "body": "Found it.", "components": {api["id"]: "on_fire"}},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "components"
    assert _counts(session) == before
    summary = client.get("/api/v2/summary.json").get_json()
    assert summary["incidents"][0]["status"] == "investigating"


def test_refused_transition_is_409_and_unknown_incident_404(client, session, clock, admin_token):
    opened = call(
        client,
        "post",
        "/incidents",
        admin_token,
        {"name": "Down", "impact": "major", "body": "Down."},
    ).get_json()
    call(client, "post", f"/incidents/{opened['id']}/resolve", admin_token, {"body": "Fixed."})
    before = _counts(session)
    reopened = call(
        client,
        "post",
        f"/incidents/{opened['id']}/updates",
        admin_token,
        {"status": "investigating", "body": "Back."},
    )
    assert reopened.status_code == 409
    assert reopened.get_json()["error"]["field"] == "status"
    assert _counts(session) == before
    missing = call(client, "get", "/incidents/nope", admin_token)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_unknown_eta_is_explicit_and_kept_until_changed(client, session, clock, admin_token):
    opened = call(
        client,
        "post",
        "/incidents",
        admin_token,
        {"name": "Down", "impact": "critical", "body": "Down.", "eta": None},
    )
    facts = opened.get_json()["statusboard"]
    assert facts["eta"] is None and facts["eta_unknown"] is True
    assert facts["next_update_by"] == "2026-11-24T12:15:00.000Z"  # critical: 15 min default
    with_eta = call(
        client,
        "post",
        f"/incidents/{opened.get_json()['id']}/updates",
        admin_token,
        {"status": "identified", "body": "Found it.", "eta": "2026-11-24T14:00:00Z"},
    )
    assert with_eta.get_json()["statusboard"]["eta"] == "2026-11-24T14:00:00.000Z"


def test_json_body_is_read_even_with_curls_default_form_content_type(
    client, session, clock, admin_token
):
    response = client.post(
        "/api/v1/components",
        data='{"name": "API"}',
        headers={"Authorization": f"Bearer {admin_token}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "API"
