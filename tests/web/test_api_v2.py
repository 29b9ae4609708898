"""/api/v2 against the contract in ../shared/reference/statuspage-v2.md: every key, enum and
timestamp format, for a page with groups, open and resolved incidents, component changes and
maintenances (inserted as rows until the maintenance services exist)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import Incident, IncidentKind, Update
from statusboard.services import components, incidents
from statusboard.services import page as page_state
from statusboard.services.audit import Actor

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "impact",
    "created_at",
    "updated_at",
    "started_at",
    "monitoring_at",
    "resolved_at",
    "shortlink",
    "page_id",
    "incident_updates",
    "components",
    "statusboard",
}
MAINTENANCE_KEYS = INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
UPDATE_KEYS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}
PROMISE_KEYS = {"eta", "eta_unknown", "eta_passed", "next_update_by", "next_update_overdue"}

COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
INDICATORS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}

ENDPOINTS = {
    "/api/v2/summary.json": {"page", "status", "components", "incidents", "scheduled_maintenances"},
    "/api/v2/status.json": {"page", "status"},
    "/api/v2/components.json": {"page", "components"},
    "/api/v2/incidents.json": {"page", "incidents"},
    "/api/v2/incidents/unresolved.json": {"page", "incidents"},
    "/api/v2/scheduled-maintenances.json": {"page", "scheduled_maintenances"},
    "/api/v2/scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
    "/api/v2/scheduled-maintenances/active.json": {"page", "scheduled_maintenances"},
}


def _maintenance(session, name, status, starts_in, component, clock):
    """A maintenance row as the maintenance services will write it."""
    now = clock.now()
    window = Incident(
        kind=IncidentKind.MAINTENANCE,
        name=name,
        status=status,
        impact=Impact.NONE,
        started_at=now,
        created_at=now,
        updated_at=now,
        scheduled_for=now + starts_in,
        scheduled_until=now + starts_in + timedelta(hours=2),
        components=[component],
    )
    window.updates.append(
        Update(
            status=status, body=f"{name}.", html=f"<p>{name}.</p>", created_at=now, display_at=now
        )
    )
    session.add(window)
    return window


@pytest.fixture
def page(session, clock, operator, publishing_settings):
    """Groups with children, a loose component, one open and one resolved incident whose
    updates change components, and maintenances in every state."""
    actor = Actor(operator, "test")
    core = components.create_component(session, name="Core", is_group=True, actor=actor)
    api = components.create_component(
        session, name="API", group=core, actor=actor, description="Public REST API"
    )
    web = components.create_component(session, name="Web app", group=core, actor=actor)
    email = components.create_component(session, name="Email", actor=actor)
    old = incidents.open_incident(
        session,
        name="Email delays",
        impact=Impact.MINOR,
        body="Emails are slow.",
        actor=actor,
        component_changes={email: ComponentStatus.DEGRADED_PERFORMANCE},
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=20))
    incidents.resolve(
        session,
        incident=old,
        body="Emails flow again.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=20))
    current = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="Errors on **API**.",
        actor=actor,
        eta=clock.now() + timedelta(hours=1),
        next_update_at=clock.now() + timedelta(minutes=30),
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=10))
    incidents.post_update(
        session,
        incident=current,
        status=IncidentStatus.MONITORING,
        body="Fix deployed.",
        actor=actor,
        component_changes={
            api: ComponentStatus.DEGRADED_PERFORMANCE,
            web: ComponentStatus.DEGRADED_PERFORMANCE,
        },
        publishing_settings=publishing_settings,
    )
    maintenances = {
        status: _maintenance(
            session, f"Window {status}", status, timedelta(days=i + 1), email, clock
        )
        for i, status in enumerate(sorted(MAINTENANCE_STATUSES))
    }
    session.commit()
    return {
        "core": core,
        "api": api,
        "web": web,
        "email": email,
        "old": old,
        "current": current,
        "maintenances": maintenances,
    }


def _get(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def _check_timestamp(value, nullable=False):
    if value is None:
        assert nullable
        return
    assert TIMESTAMP.match(value), value


def _check_page(data):
    assert set(data) == PAGE_KEYS
    assert data == {
        "id": data["id"],
        "name": "Example Status",
        "url": "https://status.example.com",
        "time_zone": "UTC",
        "updated_at": data["updated_at"],
    }
    assert isinstance(data["id"], str) and data["id"]
    _check_timestamp(data["updated_at"])


def _check_component(data, page_id):
    expected = COMPONENT_KEYS | ({"components"} if data["group"] else set())
    # statusboard's own facts (uptime, in components.json) go under the one namespaced key.
    assert set(data) - {"statusboard"} == expected
    assert data["status"] in COMPONENT_STATUSES
    _check_timestamp(data["created_at"])
    _check_timestamp(data["updated_at"])
    assert isinstance(data["position"], int) and data["position"] >= 1
    assert data["description"] is None or isinstance(data["description"], str)
    assert isinstance(data["showcase"], bool) and isinstance(data["group"], bool)
    assert isinstance(data["only_show_if_degraded"], bool)
    assert data["start_date"] is None or DATE.match(data["start_date"])
    assert data["page_id"] == page_id
    if data["group"]:
        assert data["group_id"] is None
        assert all(isinstance(child, str) for child in data["components"])


def _check_update(data, incident_id, statuses):
    assert set(data) == UPDATE_KEYS
    assert data["status"] in statuses
    assert data["incident_id"] == incident_id
    for key in ("created_at", "updated_at", "display_at"):
        _check_timestamp(data[key])
    assert isinstance(data["deliver_notifications"], bool)
    assert data["custom_tweet"] is None and data["tweet_id"] is None
    if data["affected_components"] is not None:
        for change in data["affected_components"]:
            assert set(change) == {"code", "name", "old_status", "new_status"}
            assert change["old_status"] in COMPONENT_STATUSES
            assert change["new_status"] in COMPONENT_STATUSES


def _check_incident(data, page_id, maintenance=False):
    assert set(data) == (MAINTENANCE_KEYS if maintenance else INCIDENT_KEYS)
    statuses = MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES
    assert data["status"] in statuses
    assert (
        data["impact"] == "maintenance"
        if maintenance
        else data["impact"] in {"none", "minor", "major", "critical"}
    )
    for key in ("created_at", "updated_at", "started_at"):
        _check_timestamp(data[key])
    for key in ("monitoring_at", "resolved_at"):
        _check_timestamp(data[key], nullable=True)
    if maintenance:
        _check_timestamp(data["scheduled_for"])
        _check_timestamp(data["scheduled_until"])
    assert data["shortlink"] == f"https://status.example.com/incidents/{data['id']}"
    assert data["page_id"] == page_id
    assert data["incident_updates"], "clients read incident_updates[0]"
    created = [u["created_at"] for u in data["incident_updates"]]
    assert created == sorted(created, reverse=True)
    for update in data["incident_updates"]:
        _check_update(update, data["id"], statuses)
    for component in data["components"]:
        _check_component(component, page_id)
        assert not component["group"]
    assert set(data["statusboard"]) == PROMISE_KEYS


def test_every_endpoint_has_exactly_its_keys_with_contract_formats(client, page):
    for path, keys in ENDPOINTS.items():
        document = _get(client, path)
        assert set(document) == keys, path
        _check_page(document["page"])
        page_id = document["page"]["id"]
        if "status" in document:
            status = document["status"]
            assert set(status) == {"indicator", "description"}
            assert INDICATORS[status["indicator"]] == status["description"]
        for component in document.get("components", []):
            _check_component(component, page_id)
        for incident in document.get("incidents", []):
            _check_incident(incident, page_id)
        for window in document.get("scheduled_maintenances", []):
            _check_incident(window, page_id, maintenance=True)


def test_summary_lists_only_unresolved_incidents_and_open_maintenances(client, page):
    summary = _get(client, "/api/v2/summary.json")
    assert [i["id"] for i in summary["incidents"]] == [page["current"].public_id]
    assert {m["status"] for m in summary["scheduled_maintenances"]} == {
        "scheduled",
        "in_progress",
        "verifying",
    }
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}


def test_incident_lists_filter_by_status_newest_first(client, page):
    everything = _get(client, "/api/v2/incidents.json")["incidents"]
    assert [i["id"] for i in everything] == [page["current"].public_id, page["old"].public_id]
    assert [i["status"] for i in everything] == ["monitoring", "resolved"]
    unresolved = _get(client, "/api/v2/incidents/unresolved.json")["incidents"]
    assert [i["id"] for i in unresolved] == [page["current"].public_id]
    upcoming = _get(client, "/api/v2/scheduled-maintenances/upcoming.json")
    assert [m["status"] for m in upcoming["scheduled_maintenances"]] == ["scheduled"]
    active = _get(client, "/api/v2/scheduled-maintenances/active.json")
    assert {m["status"] for m in active["scheduled_maintenances"]} == {"in_progress", "verifying"}
    every = _get(client, "/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]
    assert sorted(m["status"] for m in every) == sorted(MAINTENANCE_STATUSES)
    assert all(m["impact"] == "maintenance" for m in every)


def test_components_are_flat_in_page_order_with_group_rows_listing_children(client, page):
    rows = _get(client, "/api/v2/components.json")["components"]
    assert [(r["name"], r["position"], r["group"]) for r in rows] == [
        ("Core", 1, True),
        ("API", 1, False),
        ("Web app", 2, False),
        ("Email", 2, False),
    ]
    core, api, web, email = rows
    assert core["components"] == [api["id"], web["id"]]
    assert api["group_id"] == web["group_id"] == core["id"]
    assert email["group_id"] is None and "components" not in email
    assert core["status"] == "degraded_performance"  # the worst of its children
    assert api["description"] == "Public REST API" and web["description"] is None


def test_updates_are_newest_first_and_record_component_changes(client, page):
    [current] = _get(client, "/api/v2/incidents/unresolved.json")["incidents"]
    latest, first = current["incident_updates"]
    assert latest["status"] == "monitoring" and first["status"] == "investigating"
    assert first["body"] == "Errors on **API**."
    assert first["affected_components"] == [
        {
            "code": page["api"].public_id,
            "name": "API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert {c["code"]: c["new_status"] for c in latest["affected_components"]} == {
        page["api"].public_id: "degraded_performance",
        page["web"].public_id: "degraded_performance",
    }
    assert [c["name"] for c in current["components"]] == ["API", "Web app"]
    assert current["monitoring_at"] == "2026-11-24T12:50:00.000Z"
    assert current["resolved_at"] is None


def test_resolved_incident_has_resolution_time_and_no_promises(client, page):
    incidents_ = _get(client, "/api/v2/incidents.json")["incidents"]
    old = next(i for i in incidents_ if i["status"] == "resolved")
    assert old["resolved_at"] == "2026-11-24T12:20:00.000Z"
    assert old["incident_updates"][0]["affected_components"] == [
        {
            "code": page["email"].public_id,
            "name": "Email",
            "old_status": "degraded_performance",
            "new_status": "operational",
        }
    ]
    assert old["statusboard"] == {
        "eta": None,
        "eta_unknown": False,
        "eta_passed": False,
        "next_update_by": None,
        "next_update_overdue": False,
    }


def test_namespaced_promises_say_when_the_next_update_is_overdue(client, session, page, clock):
    facts = _get(client, "/api/v2/summary.json")["incidents"][0]["statusboard"]
    assert facts == {
        "eta": "2026-11-24T13:40:00.000Z",
        "eta_unknown": False,
        "eta_passed": False,
        "next_update_by": "2026-11-24T13:20:00.000Z",
        "next_update_overdue": False,
    }
    clock.advance(timedelta(minutes=37))  # 13:27: the 13:20 promise passed 7 minutes ago
    page_state.bump_version(session)  # as the promise check does when a promise passes
    session.commit()
    facts = _get(client, "/api/v2/summary.json")["incidents"][0]["statusboard"]
    assert facts["next_update_overdue"] is True and facts["eta_passed"] is False
    clock.advance(timedelta(minutes=20))  # 13:47: the 13:40 ETA has passed too
    page_state.bump_version(session)
    session.commit()
    facts = _get(client, "/api/v2/summary.json")["incidents"][0]["statusboard"]
    assert facts["eta_passed"] is True


def test_active_maintenance_alone_shows_maintenance_indicator(client, session, clock, operator):
    email = components.create_component(session, name="Email", actor=Actor(operator, "test"))
    _maintenance(session, "DB upgrade", "in_progress", timedelta(0), email, clock)
    session.commit()
    status = _get(client, "/api/v2/status.json")["status"]
    assert status == {"indicator": "maintenance", "description": "Service Under Maintenance"}


def test_empty_page_is_operational_with_empty_lists(client, clock):
    summary = _get(client, "/api/v2/summary.json")
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["components"] == summary["incidents"] == []
    assert summary["scheduled_maintenances"] == []
    _check_page(summary["page"])


def test_lists_are_capped_at_fifty_newest(client, session, clock, operator, publishing_settings):
    actor = Actor(operator, "test")
    for number in range(52):
        incidents.open_incident(
            session,
            name=f"Incident {number}",
            impact=Impact.NONE,
            body="Looking.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
        clock.advance(timedelta(minutes=1))
    session.commit()
    listed = _get(client, "/api/v2/incidents.json")["incidents"]
    assert len(listed) == 50
    assert listed[0]["name"] == "Incident 51" and listed[-1]["name"] == "Incident 2"


def test_head_unknown_paths_and_writes(client, page):
    head = client.head("/api/v2/summary.json")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Access-Control-Allow-Origin"] == "*"
    for path in ("/api/v2/nope.json", "/api/v2/incidents/nope.json", "/api/v2/"):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert missing.get_json()["error"]["code"] == "not_found"
        assert missing.headers["Access-Control-Allow-Origin"] == "*"
    assert client.post("/api/v2/summary.json").status_code == 405


def test_output_is_deterministic_and_conditional_get_returns_304(client, page):
    first = client.get("/api/v2/summary.json")
    second = client.get("/api/v2/summary.json")
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    again = client.get("/api/v2/summary.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
