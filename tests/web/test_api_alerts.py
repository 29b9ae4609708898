"""Alert intake as monitoring and operators meet it: real payload shapes (Alertmanager v4,
Grafana unified alerting, generic JSON) mapped by rules into one private draft per problem,
published in one click through the write path or dismissed; bad payloads refused and kept;
tokens scoped to the intake route."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy import select

from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.models import (
    Alert,
    AlertFormat,
    AlertRule,
    AlertSource,
    AuditEvent,
    Component,
    Draft,
    DraftState,
    Incident,
    Update,
)
from statusboard.services import alert_sources, components, tokens
from statusboard.services.audit import Actor
from tests.conftest import START

SYSTEM = Actor(None, "test")

ALERTMANAGER_FIRING = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "statusboard",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "service": "api", "severity": "critical"},
    "commonAnnotations": {"summary": "5xx ratio above 5% on api-gateway"},
    "externalURL": "http://alertmanager.internal:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "service": "api",
                "severity": "critical",
                "instance": "api-gateway-1:9100",
            },
            "annotations": {"summary": "5xx ratio above 5% on api-gateway"},
            "startsAt": "2026-11-24T11:59:30.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.internal:9090/graph?g0.expr=rate",
            "fingerprint": "c4a1b2d3e4f50617",
        }
    ],
}

GRAFANA_FIRING = {
    "receiver": "statusboard",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "Checkout latency", "grafana_folder": "Shop", "service": "web"},
            "annotations": {"summary": "p95 checkout latency over 2s"},
            "startsAt": "2026-11-24T11:58:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://grafana.internal:3000/alerting/grafana/abc/view",
            "fingerprint": "8f3a2c1d9e0b7a65",
            "silenceURL": "http://grafana.internal:3000/alerting/silence/new",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 2.4},
            "valueString": "[ var='B' labels={} value=2.4 ]",
        }
    ],
    "groupLabels": {"alertname": "Checkout latency"},
    "commonLabels": {"alertname": "Checkout latency", "service": "web"},
    "commonAnnotations": {"summary": "p95 checkout latency over 2s"},
    "externalURL": "http://grafana.internal:3000/",
    "version": "1",
    "groupKey": '{}:{alertname="Checkout latency"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:1] Checkout latency (Shop)",
    "state": "alerting",
    "message": "**Firing**\n\nValue: B=2.4",
}


def resolved(payload: dict) -> dict:
    copied = copy.deepcopy(payload)
    copied["status"] = "resolved"
    for alert in copied["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-24T12:20:00Z"
    return copied


@pytest.fixture
def api(session):
    api = components.create_component(session, name="API", actor=SYSTEM)
    web = components.create_component(session, name="Web app", actor=SYSTEM)
    alert_sources.create_rule(
        session, key="service", value="api", component=api, impact=None, actor=SYSTEM
    )
    alert_sources.create_rule(
        session, key="service", value="web", component=web, impact=None, actor=SYSTEM
    )
    alert_sources.create_rule(
        session,
        key="severity",
        value="critical",
        component=None,
        impact=Impact.CRITICAL,
        actor=SYSTEM,
    )
    session.commit()
    return api


def source_token(session, name="prometheus", format=AlertFormat.ALERTMANAGER) -> str:
    _, secret = alert_sources.create_source(session, name=name, format=format, actor=SYSTEM)
    session.commit()
    return secret


@pytest.fixture
def prometheus(session) -> str:
    return source_token(session)


def post(client, source, token, payload=None, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(payload)
    return client.post(
        f"/api/v1/alerts/{source}", data=data, headers=headers, content_type="application/json"
    )


def fresh(session):
    session.rollback()
    session.expire_all()
    return session


def test_an_alertmanager_alert_makes_one_private_draft_mapped_by_the_rules(
    client, session, clock, api, prometheus
):
    response = post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    assert response.status_code == 202
    assert response.json["accepted"] == 1
    assert response.json["drafts"][0]["created"] is True
    draft = fresh(session).scalar(select(Draft))
    assert draft.name == "Problems with API"
    assert draft.body == "We are investigating an outage of API."
    assert draft.impact is Impact.CRITICAL
    assert draft.components == {api.public_id: "major_outage"}
    assert draft.first_alert_at == START
    # Nothing is public: the page, the Statuspage JSON and the feed know nothing of it.
    summary = client.get("/api/v2/summary.json").json
    assert summary["incidents"] == []
    assert summary["status"]["indicator"] == "none"
    assert "Problems with API" not in client.get("/").get_data(as_text=True)
    assert feedparser.parse(client.get("/history.atom").data).entries == []
    assert client.get("/api/v2/components.json").json["components"][0]["status"] == "operational"


def test_repeated_firing_extends_the_same_draft_and_a_new_fingerprint_makes_another(
    client, session, clock, api, prometheus
):
    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    clock.advance(timedelta(minutes=4))
    again = post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    assert again.json["drafts"][0]["created"] is False
    draft = fresh(session).scalar(select(Draft))
    assert session.query(Draft).count() == 1
    assert draft.alert_count == 2
    assert draft.last_alert_at == START + timedelta(minutes=4)
    other = copy.deepcopy(ALERTMANAGER_FIRING)
    other["alerts"][0]["fingerprint"] = "ffff000011112222"
    assert post(client, "prometheus", prometheus, other).json["drafts"][0]["created"] is True
    assert fresh(session).query(Draft).count() == 2


def test_the_firing_alerts_of_one_group_share_one_draft(client, session, clock, api, prometheus):
    payload = copy.deepcopy(ALERTMANAGER_FIRING)
    second = copy.deepcopy(payload["alerts"][0])
    second["labels"] = {"alertname": "HighLatency", "service": "web", "severity": "warning"}
    second["fingerprint"] = "aaaabbbbccccdddd"
    payload["alerts"].append(second)
    assert post(client, "prometheus", prometheus, payload).json["accepted"] == 2
    draft = fresh(session).scalar(select(Draft))
    assert session.query(Draft).count() == 1
    assert draft.name == "Problems with API and Web app"
    assert set(draft.components.values()) == {"major_outage"}


def test_a_grafana_unified_alert_is_mapped_by_its_labels(client, session, clock, api):
    token = source_token(session, "grafana", AlertFormat.GRAFANA)
    response = post(client, "grafana", token, GRAFANA_FIRING)
    assert response.status_code == 202
    draft = fresh(session).scalar(select(Draft))
    web = session.scalar(select(Component).where(Component.name == "Web app"))
    assert draft.components == {web.public_id: "degraded_performance"}
    assert draft.impact is Impact.MINOR  # no severity rule matched: the default
    alert = session.scalar(select(Alert))
    assert alert.fingerprint == "8f3a2c1d9e0b7a65"
    assert alert.title == "p95 checkout latency over 2s"


def test_a_generic_alert_needs_only_a_title(client, session, clock, api):
    token = source_token(session, "cron", AlertFormat.GENERIC)
    body = {"title": "Nightly export failed", "labels": {"service": "api"}}
    assert post(client, "cron", token, body).status_code == 202
    assert post(client, "cron", token, body).json["drafts"][0]["created"] is False
    draft = fresh(session).scalar(select(Draft))
    assert draft.alert_count == 2  # the same title and labels are the same alert
    assert draft.components == {api.public_id: "degraded_performance"}


@pytest.mark.parametrize(
    "source_format,raw,status,message",
    [
        (AlertFormat.ALERTMANAGER, "{not json", 400, "not JSON"),
        (AlertFormat.ALERTMANAGER, json.dumps({"version": "3", "alerts": []}), 422, 'version "4"'),
        (AlertFormat.ALERTMANAGER, json.dumps({"version": "4", "alerts": []}), 422, "non-empty"),
        (
            AlertFormat.GRAFANA,
            json.dumps({"alerts": [{"status": "pending", "labels": {}}]}),
            422,
            '"firing" or "resolved"',
        ),
        (AlertFormat.GENERIC, json.dumps({"labels": {"a": "b"}}), 422, "title is required"),
        (AlertFormat.GENERIC, json.dumps(["a list"]), 422, "JSON object"),
    ],
)
def test_a_bad_payload_gets_a_clear_4xx_and_is_kept_for_the_admin(
    client, session, clock, admin, source_format, raw, status, message
):
    token = source_token(session, "mon", source_format)
    response = post(client, "mon", token, raw=raw)
    assert response.status_code == status
    assert message in response.json["error"]["message"]
    refused = fresh(session).scalar(select(Alert))
    assert refused.outcome == "refused" and message in refused.error
    assert refused.raw == raw
    assert session.query(Draft).count() == 0
    from tests.conftest import login

    login(client, admin)
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "Refused:" in page and message.replace('"', "&#34;") in page


def test_missing_or_wrong_tokens_are_refused_with_401_and_nothing_is_kept(
    client, session, clock, admin, prometheus
):
    operator_secret = tokens.create_token(session, operator=admin, name="bot", actor=SYSTEM)[1]
    other_source = source_token(session, "grafana", AlertFormat.GRAFANA)
    session.commit()
    for token in (None, "sba_wrong", operator_secret, other_source):
        response = post(client, "prometheus", token, ALERTMANAGER_FIRING)
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert post(client, "nosuchsource", prometheus, ALERTMANAGER_FIRING).status_code == 401
    assert fresh(session).query(Alert).count() == 0


def test_a_revoked_source_token_stops_working(client, session, clock, prometheus):
    source = session.scalar(select(AlertSource))
    alert_sources.revoke_source(session, source=source, actor=SYSTEM)
    session.commit()
    assert post(client, "prometheus", prometheus, ALERTMANAGER_FIRING).status_code == 401


def test_an_alert_token_cannot_call_any_other_api(app, client, session, clock, prometheus):
    """Every route of the operator API, as the app has them, refuses the alert token."""
    import re

    headers = {"Authorization": f"Bearer {prometheus}"}
    public = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/alerts/<source_name>"}
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in public:
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=headers, json={})
            assert response.status_code == 401, (method, path)
            checked.append((method, rule.rule))
    assert ("POST", "/api/v1/incidents") in checked and ("GET", "/api/v1/drafts") in checked
    assert len(checked) >= 18
    # The admin pages want a login, not a token.
    assert client.get("/admin/", headers=headers).status_code == 302


def test_publishing_a_draft_is_one_click_through_the_write_path(
    client, session, clock, api, prometheus, operator
):
    from tests.conftest import login

    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    draft = fresh(session).scalar(select(Draft))
    login(client, operator)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Drafts from monitoring" in dashboard and "Problems with API" in dashboard
    clock.advance(timedelta(minutes=3))
    response = client.post(f"/admin/drafts/{draft.public_id}/publish")
    assert response.status_code == 302
    draft = fresh(session).scalar(select(Draft))
    assert draft.state is DraftState.PUBLISHED
    incident = draft.incident
    assert incident.name == "Problems with API"
    assert incident.impact is Impact.CRITICAL
    update = session.scalar(select(Update).where(Update.incident_id == incident.id))
    assert update.body == "We are investigating an outage of API."
    # The default next-update promise for a critical incident: 15 minutes.
    assert incident.next_update_at == START + timedelta(minutes=18)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "draft.publish"))
    summary = client.get("/api/v2/summary.json").json
    assert [i["name"] for i in summary["incidents"]] == ["Problems with API"]
    assert summary["components"][0]["status"] == "major_outage"
    assert "We are investigating an outage of API." in client.get("/").get_data(as_text=True)
    entries = feedparser.parse(client.get("/history.atom").data).entries
    assert [e.title for e in entries] == ["Problems with API (Investigating)"]
    # Publishing twice is refused; the draft leaves the dashboard.
    assert "Drafts from monitoring" not in client.get("/admin/").get_data(as_text=True)
    again = client.post(f"/admin/drafts/{draft.public_id}/publish", follow_redirects=True)
    assert "already published" in again.get_data(as_text=True)
    assert fresh(session).query(Incident).count() == 1


def test_resolved_alerts_suggest_resolving_but_never_resolve(
    client, session, clock, api, prometheus, operator
):
    from tests.conftest import login

    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    draft = fresh(session).scalar(select(Draft))
    login(client, operator)
    client.post(f"/admin/drafts/{draft.public_id}/publish")
    clock.advance(timedelta(minutes=20))
    assert post(client, "prometheus", prometheus, resolved(ALERTMANAGER_FIRING)).status_code == 202
    draft = fresh(session).scalar(select(Draft))
    assert draft.all_resolved_at == START + timedelta(minutes=20)
    assert draft.incident.resolved_at is None
    assert session.query(Draft).count() == 1  # the resolution joined the draft
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Resolve it?" in dashboard
    assert client.get("/api/v2/summary.json").json["incidents"][0]["status"] == "investigating"


def test_dismissing_as_noise_is_audited_and_the_noise_does_not_come_back(
    client, session, clock, api, prometheus, operator
):
    from tests.conftest import login

    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    draft = fresh(session).scalar(select(Draft))
    login(client, operator)
    client.post(f"/admin/drafts/{draft.public_id}/dismiss", data={"reason": "load test"})
    draft = fresh(session).scalar(select(Draft))
    assert draft.state is DraftState.DISMISSED
    assert draft.closed_by.email == operator.email
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "draft.dismiss"))
    assert event.detail == {"reason": "load test"}
    # Alertmanager repeats a firing group: it joins the dismissed draft, no new one.
    clock.advance(timedelta(hours=4))
    assert (
        post(client, "prometheus", prometheus, ALERTMANAGER_FIRING).json["drafts"][0]["state"]
        == "dismissed"
    )
    assert fresh(session).query(Draft).count() == 1
    # Once resolved, the same alert firing again is a new problem.
    post(client, "prometheus", prometheus, resolved(ALERTMANAGER_FIRING))
    assert (
        post(client, "prometheus", prometheus, ALERTMANAGER_FIRING).json["drafts"][0]["created"]
        is True
    )
    assert client.get("/api/v2/summary.json").json["incidents"] == []


def test_component_automation_is_off_by_default_and_on_sets_the_status_at_once(
    client, session, clock, api, prometheus
):
    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    assert client.get("/api/v2/components.json").json["components"][0]["status"] == "operational"
    post(client, "prometheus", prometheus, resolved(ALERTMANAGER_FIRING))
    component = fresh(session).get(Component, api.id)
    alert_sources.set_automation(session, component=component, on=True, actor=SYSTEM)
    session.commit()
    clock.advance(timedelta(minutes=1))
    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    listed = client.get("/api/v2/components.json").json["components"]
    assert listed[0]["status"] == "major_outage"  # before anyone published anything
    assert client.get("/api/v2/summary.json").json["incidents"] == []
    event = fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "component.status"))
    assert event.via == "alert:prometheus"
    clock.advance(timedelta(minutes=5))
    post(client, "prometheus", prometheus, resolved(ALERTMANAGER_FIRING))
    assert client.get("/api/v2/components.json").json["components"][0]["status"] == (
        ComponentStatus.OPERATIONAL.value
    )


def test_rules_are_managed_by_admins_through_the_api(client, session, clock, admin, operator):
    component = components.create_component(session, name="API", actor=SYSTEM)
    admin_token = tokens.create_token(session, operator=admin, name="a", actor=SYSTEM)[1]
    operator_token = tokens.create_token(session, operator=operator, name="o", actor=SYSTEM)[1]
    session.commit()
    body = {"key": "service", "value": "api", "component_id": component.public_id}
    denied = client.post(
        "/api/v1/alert-rules", json=body, headers={"Authorization": f"Bearer {operator_token}"}
    )
    assert denied.status_code == 403
    created = client.post(
        "/api/v1/alert-rules", json=body, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert created.status_code == 201
    assert created.json["component_id"] == component.public_id
    listed = client.get(
        "/api/v1/alert-rules", headers={"Authorization": f"Bearer {operator_token}"}
    ).json["alert_rules"]
    assert [(r["key"], r["value"]) for r in listed] == [("service", "api")]
    gone = client.delete(
        f"/api/v1/alert-rules/{created.json['id']}",
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert gone.status_code == 200
    assert fresh(session).query(AlertRule).count() == 0


def test_drafts_can_be_published_through_the_api(client, session, clock, api, prometheus, operator):
    token = tokens.create_token(session, operator=operator, name="o", actor=SYSTEM)[1]
    session.commit()
    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    headers = {"Authorization": f"Bearer {token}"}
    drafts = client.get("/api/v1/drafts", headers=headers).json["drafts"]
    assert [d["name"] for d in drafts] == ["Problems with API"]
    published = client.post(
        f"/api/v1/drafts/{drafts[0]['id']}/publish",
        json={"body": "We are looking into API errors."},
        headers=headers,
    )
    assert published.status_code == 201
    assert published.json["incident_updates"][0]["body"] == "We are looking into API errors."
    assert client.get("/api/v1/drafts", headers=headers).json["drafts"] == []


def test_the_intake_log_shows_each_alert_its_mapping_and_its_draft(
    client, session, clock, api, prometheus, admin
):
    from tests.conftest import login

    post(client, "prometheus", prometheus, ALERTMANAGER_FIRING)
    post(client, "prometheus", prometheus, resolved(ALERTMANAGER_FIRING))
    login(client, admin)
    page = " ".join(client.get("/admin/alerts/").get_data(as_text=True).split())
    assert page.count('Problems with API</a> <span class="muted">(open)') == 2
    assert "firing: 5xx ratio above 5% on api-gateway" in page
    assert "resolved: 5xx ratio above 5% on api-gateway" in page
    assert "API, critical impact" in page


def test_hostile_alert_text_is_made_printable_and_deep_nesting_is_refused(
    client, session, clock, api
):
    token = source_token(session, "cron", AlertFormat.GENERIC)
    body = {"title": "Disk\x00 full\x1b[31m", "labels": {"service": "api\x07"}}
    assert post(client, "cron", token, body).status_code == 202
    alert = fresh(session).scalar(select(Alert))
    assert alert.title == "Disk full[31m"
    assert alert.labels["service"] == "api"
    deep = "[" * 100_000 + "]" * 100_000
    response = post(client, "cron", token, raw=deep)
    assert response.status_code in (400, 413)
