"""The OpenAPI document validates, and the API's real responses match it: every request of
a full flow, errors included, is checked against the schema the document gives for that path,
method and status."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from statusboard.models import AlertFormat
from statusboard.services import alert_sources, tokens
from statusboard.services.audit import Actor
from tests.conftest import START


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": "https://status.example.com/api/v1"}]


class Checker:
    """Validates a response against the document's schema for its operation and status."""

    def __init__(self, spec):
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:statusboard:openapi", resource)
        self.seen: set[tuple[str, str, str]] = set()

    def template(self, path):
        for candidate in self.spec["paths"]:
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", candidate) + "$"
            if re.match(pattern, path):
                return candidate
        raise AssertionError(f"{path} is not in the document")

    def check(self, method, path, response):
        template = self.template(path)
        operation = self.spec["paths"][template][method]
        status = str(response.status_code)
        assert status in operation["responses"], (method, path, status, response.get_json())
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        ref = "urn:statusboard:openapi" + schema["$ref"]
        validator = Draft202012Validator(
            {"$ref": ref}, registry=self.registry, format_checker=FormatChecker()
        )
        errors = [e.message for e in validator.iter_errors(response.get_json())]
        assert not errors, (method, path, status, errors)
        self.seen.add((template, method, status))


def test_real_responses_match_the_document(client, session, clock, admin, operator, spec):
    _, admin_secret = tokens.create_token(
        session, operator=admin, name="ci", actor=Actor(None, "test")
    )
    _, operator_secret = tokens.create_token(
        session, operator=operator, name="pager", actor=Actor(None, "test")
    )
    session.commit()
    checker = Checker(spec)

    def call(method, path, body=None, secret=admin_secret, raw=None):
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(client, method)(
            f"/api/v1{path}", data=data, headers=headers, content_type="application/json"
        )
        checker.check(method, path, response)
        return response.get_json()

    group = call("post", "/components", {"name": "Core", "group": True})
    api = call(
        "post", "/components", {"name": "API", "group_id": group["id"], "description": "REST"}
    )
    call("patch", f"/components/{api['id']}", {"status": "degraded_performance"})
    call("get", "/components")
    opened = call(
        "post",
        "/incidents",
        {
            "name": "API errors",
            "impact": "major",
            "body": "Errors.",
            "eta": (START + timedelta(hours=1)).isoformat(),
            "components": {api["id"]: "partial_outage"},
        },
    )
    clock.advance(timedelta(minutes=5))
    call(
        "post",
        f"/incidents/{opened['id']}/updates",
        {"status": "monitoring", "body": "Fixed, watching.", "eta": None},
    )
    call("get", f"/incidents/{opened['id']}")
    call("post", f"/incidents/{opened['id']}/resolve", {"body": "All good."})
    # errors have their documented shape too
    call("get", "/components", secret=None)
    call("post", "/components", {"name": "X"}, secret=operator_secret)
    call("post", "/incidents", raw="{not json")
    call("post", "/incidents", {"name": "X", "impact": "huge", "body": "Y"})
    call("post", f"/incidents/{opened['id']}/updates", {"status": "identified", "body": "Z"})
    call("get", "/incidents/nope")
    call("patch", "/components/nope", {"name": "Y"})
    window = call(
        "post",
        "/maintenance",
        {
            "name": "Database upgrade",
            "body": "Writes pause.",
            "scheduled_for": (START + timedelta(hours=1)).isoformat(),
            "scheduled_until": (START + timedelta(hours=2)).isoformat(),
            "components": [api["id"]],
        },
    )
    call("get", "/maintenance")
    call(
        "post",
        f"/maintenance/{window['id']}/updates",
        {"status": "in_progress", "body": "Started.", "scheduled_until": None},
    )
    call("get", f"/maintenance/{window['id']}")
    call("post", f"/maintenance/{window['id']}/complete", {"body": "Done."})
    call("post", f"/maintenance/{window['id']}/updates", {"status": "verifying", "body": "Z"})
    call("post", "/maintenance", {"name": "X", "body": "Y", "scheduled_for": "soon"})
    call("post", "/maintenance/nope/complete", {"body": "Done."})
    call("post", "/maintenance", raw="[]")
    # the intake path: a rule, an alert from a source (its own token), a draft each way
    rule = call(
        "post", "/alert-rules", {"key": "service", "value": "api", "component_id": api["id"]}
    )
    call("get", "/alert-rules")
    call("post", "/alert-rules", {"key": "service", "value": "api"})  # maps to nothing: 422
    call("post", "/alert-rules", {"key": "a", "value": "b", "component_id": "nope"})
    call(
        "post",
        "/alert-rules",
        {"key": "a", "value": "b", "impact": "minor"},
        secret=operator_secret,
    )
    _, alert_secret = alert_sources.create_source(
        session, name="cron", format=AlertFormat.GENERIC, actor=Actor(None, "test")
    )
    session.commit()
    first = call(
        "post",
        "/alerts/cron",
        {"title": "Errors", "labels": {"service": "api"}},
        secret=alert_secret,
    )
    second = call("post", "/alerts/cron", {"title": "Latency"}, secret=alert_secret)
    call("post", "/alerts/cron", {"title": "Errors"})  # an operator token: 401
    call("post", "/alerts/cron", {"labels": {}}, secret=alert_secret)
    call("post", "/alerts/cron", raw="{not json", secret=alert_secret)
    call("get", "/drafts")
    call("post", f"/drafts/{first['drafts'][0]['id']}/publish", {"body": "Looking into it."})
    call("post", f"/drafts/{first['drafts'][0]['id']}/publish", {})
    call("post", f"/drafts/{second['drafts'][0]['id']}/dismiss", {"reason": "test alert"})
    call("post", "/drafts/nope/dismiss", {})
    call("post", "/drafts/nope/publish", raw="[]")
    call("post", "/drafts/nope/publish", {"body": 1})
    call("post", "/drafts/nope/dismiss", raw="[]")
    call("post", "/drafts/nope/dismiss", {"reason": 1})
    call("delete", f"/alert-rules/{rule['id']}", secret=operator_secret)
    call("delete", f"/alert-rules/{rule['id']}")
    call("delete", f"/alert-rules/{rule['id']}")
    call("get", "/alert-rules", secret=None)

    documented = {
        (path, method) for path, operations in spec["paths"].items() for method in operations
    }
    assert {(path, method) for path, method, _ in checker.seen} == documented
    assert {status for *_, status in checker.seen} >= {
        "200",
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "422",
    }


def test_human_readable_page_lists_every_operation_without_outside_assets(client, spec):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert f"{method.upper()} {path}" in html
            assert operation["summary"] in html
    assert "next_update_at" in html and "Authorization: Bearer" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
