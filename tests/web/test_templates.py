"""Incident templates: kept by admins, offered on the forms, never sent with a blank left,
and never sent as-is without the copy-paste warning — by form, API and CLI alike."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from statusboard.cli import main
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import Incident, Update
from statusboard.services import components, incidents, templates, tokens
from statusboard.services.audit import Actor
from tests.conftest import QUIET

BODY = (
    "Some customers see [[what customers see]] on the API. We are investigating and will "
    "post the next update when we know more about the cause. Next: [[next step]]."
)
FILLED = BODY.replace("[[what customers see]]", "timeouts").replace("[[next step]]", "roll back")


@pytest.fixture
def api(session):
    created = components.create_component(session, name="API", actor=Actor(None, "test"))
    session.commit()
    return created


@pytest.fixture
def template(session, api):
    created = templates.create_template(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        status=IncidentStatus.INVESTIGATING,
        components={api: ComponentStatus.PARTIAL_OUTAGE},
        body=BODY,
        actor=Actor(None, "test"),
    )
    session.commit()
    return created


def _declare(client, template, body, **extra):
    return client.post(
        "/admin/incidents/new",
        data={
            "name": "API errors",
            "impact": "major",
            "status": "investigating",
            "body": body,
            "eta_mode": "unknown",
            "next_mode": "in",
            "notify": "y",
            "template": template.public_id,
            **extra,
        },
    )


def _count(session, model):
    session.rollback()
    return session.query(model).count()


def test_an_admin_keeps_templates_and_an_operator_may_not(admin_client, session, api):
    created = admin_client.post(
        "/admin/templates/",
        data={
            "name": "Login trouble",
            "impact": "minor",
            "status": "identified",
            f"component_{api.public_id}": "degraded_performance",
            "body": "Logins are slow: [[cause]].",
        },
    )
    assert created.status_code == 302
    page = admin_client.get("/admin/templates/").get_data(as_text=True)
    assert "Login trouble" in page and "API: degraded performance" in page


def test_an_operator_cannot_manage_templates(operator_client):
    assert operator_client.get("/admin/templates/").status_code == 403


def test_the_declare_form_starts_from_a_template(operator_client, template, api):
    page = operator_client.get(f"/admin/incidents/new?template={template.public_id}")
    html = page.get_data(as_text=True)
    assert "[[what customers see]]" in html
    assert f'name="template" value="{template.public_id}"' in html
    assert '<option value="partial_outage" selected>' in html
    assert '<option selected value="major">' in html


def test_the_form_refuses_a_template_with_its_blanks_left_naming_them(
    operator_client, session, template
):
    response = _declare(operator_client, template, BODY.replace("[[next step]]", "roll back"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "replace the blank [[what customers see]] with what customers should read" in html
    assert _count(session, Incident) == 0


def test_a_template_sent_unchanged_but_for_its_blanks_gets_the_copy_paste_warning(
    operator_client, session, template
):
    warned = _declare(operator_client, template, FILLED)
    assert warned.status_code == 400
    assert "the template&#39;s own text" in warned.get_data(as_text=True)
    assert _count(session, Incident) == 0
    confirmed = _declare(operator_client, template, FILLED, confirm_repeat="1")
    assert confirmed.status_code == 302
    own_words = _declare(
        operator_client,
        template,
        "Logins through the API time out for about one request in ten since 11:40. "
        "We are rolling back this morning's deploy.",
    )
    assert own_words.status_code == 302
    assert _count(session, Incident) == 2


def test_the_update_form_warns_when_the_template_is_sent_as_is(
    operator_client, session, operator, template
):
    incident = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="Something else entirely.",
        actor=Actor(operator, "test"),
        publishing_settings=QUIET,
    )
    session.commit()
    url = f"/admin/incidents/{incident.public_id}/update"
    assert "[[next step]]" in operator_client.get(f"{url}?template={template.public_id}").get_data(
        as_text=True
    )
    data = {
        "status": "identified",
        "eta_mode": "unknown",
        "next_mode": "in",
        "template": template.public_id,
    }
    refused = operator_client.post(url, data={**data, "body": BODY})
    assert refused.status_code == 400 and "replace the blanks" in refused.get_data(as_text=True)
    warned = operator_client.post(url, data={**data, "body": FILLED})
    assert warned.status_code == 400
    assert "the template&#39;s own text" in warned.get_data(as_text=True)
    assert _count(session, Update) == 1


def _auth(session, operator):
    _, secret = tokens.create_token(session, operator=operator, name="bot", actor=Actor(None, "t"))
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_fills_from_a_template_and_refuses_its_blanks(
    client, session, operator, template, api
):
    auth = _auth(session, operator)

    def post(body):
        return client.post(
            "/api/v1/incidents",
            data=json.dumps(body),
            headers=auth,
            content_type="application/json",
        )

    refused = post({"name": "API errors", "template": template.public_id})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["field"] == "body" and "[[what customers see]], [[next step]]" in error["message"]
    unknown = post({"name": "API errors", "template": "nope"})
    assert unknown.status_code == 422 and unknown.get_json()["error"]["field"] == "template"
    created = post({"name": "API errors", "template": template.public_id, "body": FILLED})
    assert created.status_code == 201, created.get_json()
    shown = created.get_json()
    assert shown["impact"] == "major"
    assert shown["components"][0]["status"] == "partial_outage"
    assert _count(session, Incident) == 1


def test_the_cli_refuses_a_template_with_a_blank_left(
    app, database_url, monkeypatch, session, operator, template
):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    args = ["incident", "open", "--name", "API errors", "--impact", "major"]
    args += ["--template", template.public_id, "--as", "ops@example.com"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert "BODY: replace the blanks [[what customers see]], [[next step]]" in refused.stderr
    assert _count(session, Incident) == 0
    done = CliRunner().invoke(main, [*args, FILLED])
    assert done.exit_code == 0, done.output
    assert _count(session, Incident) == 1
