"""Postmortems as an operator meets them: the resolve form offers one, the editor starts from
the timeline and refuses blanks, the API and the CLI do the same as the forms."""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

import pytest
from click.testing import CliRunner

from statusboard.cli import main
from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.models import Incident, Update
from statusboard.services import components, incidents, tokens
from statusboard.services.audit import Actor
from tests.conftest import QUIET


@pytest.fixture
def incident(session, operator, clock):
    api = components.create_component(session, name="API", actor=Actor(None, "test"))
    opened = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="We are looking into errors.",
        actor=Actor(operator, "test"),
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=QUIET,
    )
    session.commit()
    clock.advance(timedelta(minutes=20))
    return opened


def _resolve(session, incident, operator, day=None):
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=Actor(operator, "test"),
        publishing_settings=QUIET,
        postmortem_by=day,
    )
    session.commit()


def test_the_resolve_form_offers_a_postmortem_five_working_days_out_for_a_major_incident(
    operator_client, incident
):
    page = operator_client.get(f"/admin/incidents/{incident.public_id}/resolve")
    html = page.get_data(as_text=True)
    # Tuesday 24 Nov + 5 working days = Tuesday 1 Dec.
    assert 'name="postmortem_by"' in html and 'value="2026-12-01"' in html
    checkbox = html.split('name="promise_postmortem"')[0].rsplit("<input", 1)[1]
    checkbox += html.split('name="promise_postmortem"')[1].split(">", 1)[0]
    assert "checked" in checkbox


def test_resolving_from_the_form_with_a_postmortem_date_shows_the_promise_publicly(
    operator_client, client, incident
):
    response = operator_client.post(
        f"/admin/incidents/{incident.public_id}/resolve",
        data={
            "body": "Fixed.",
            "notify": "y",
            "promise_postmortem": "y",
            "postmortem_by": "2026-12-03",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "A postmortem will follow by" in page and "3 Dec 2026" in page
    admin_page = operator_client.get(f"/admin/incidents/{incident.public_id}").get_data(
        as_text=True
    )
    assert f"/admin/incidents/{incident.public_id}/postmortem" in admin_page


def test_a_postmortem_date_in_the_past_is_a_field_error_on_the_form(operator_client, incident):
    response = operator_client.post(
        f"/admin/incidents/{incident.public_id}/resolve",
        data={"body": "Fixed.", "promise_postmortem": "y", "postmortem_by": "2026-11-01"},
    )
    assert response.status_code == 400
    assert "promise the postmortem for today or a later date" in response.get_data(as_text=True)


def test_the_editor_starts_from_the_timeline_refuses_blanks_and_publishes(
    operator_client, client, session, operator, incident
):
    _resolve(session, incident, operator)
    editor = operator_client.get(f"/admin/incidents/{incident.public_id}/postmortem")
    html = editor.get_data(as_text=True)
    assert "24 Nov 12:00 — Investigating: We are looking into errors." in html
    assert "24 Nov 12:20 — Resolved: Fixed." in html
    draft = unescape(html.split('name="body"')[1].split(">", 1)[1].split("</textarea>")[0])
    refused = operator_client.post(
        f"/admin/incidents/{incident.public_id}/postmortem", data={"body": draft, "notify": "y"}
    )
    assert refused.status_code == 400
    assert "replace the blanks [[what customers saw, and for how long]]" in refused.get_data(
        as_text=True
    )
    preview = operator_client.post(
        f"/admin/incidents/{incident.public_id}/postmortem",
        data={"body": "### Cause\n\nA bad deploy.", "preview": "1"},
    )
    assert preview.status_code == 200 and "<h3>Cause</h3>" in preview.get_data(as_text=True)
    done = operator_client.post(
        f"/admin/incidents/{incident.public_id}/postmortem",
        data={"body": "### Cause\n\nA bad deploy.", "notify": "y"},
    )
    assert done.status_code == 302
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "<h3>Cause</h3>" in page and "Postmortem" in page


def _token(session, operator):
    _, secret = tokens.create_token(session, operator=operator, name="bot", actor=Actor(None, "t"))
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_promises_on_resolve_and_publishes_as_an_update_with_blanks_refused(
    client, session, operator, incident
):
    auth = _token(session, operator)
    resolved = client.post(
        f"/api/v1/incidents/{incident.public_id}/resolve",
        data=json.dumps({"body": "Fixed.", "postmortem_by": "2026-12-01"}),
        headers=auth,
        content_type="application/json",
    )
    assert resolved.status_code == 200, resolved.get_json()
    refused = client.post(
        f"/api/v1/incidents/{incident.public_id}/updates",
        data=json.dumps({"status": "postmortem", "body": "Cause: [[the cause]]."}),
        headers=auth,
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["field"] == "body"
    assert "[[the cause]]" in refused.get_json()["error"]["message"]
    published = client.post(
        f"/api/v1/incidents/{incident.public_id}/updates",
        data=json.dumps({"status": "postmortem", "body": "Cause: a bad deploy."}),
        headers=auth,
        content_type="application/json",
    )
    assert published.status_code == 201
    assert published.get_json()["status"] == "postmortem"


def test_the_cli_publishes_a_postmortem_and_refuses_one_with_a_blank(
    app, database_url, monkeypatch, session, operator, incident
):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    _resolve(session, incident, operator)

    def run(*args):
        return CliRunner().invoke(main, ["incident", "postmortem", incident.public_id, *args])

    refused = run("We will [[next step]].", "--as", "ops@example.com")
    assert refused.exit_code == 1 and "[[next step]]" in refused.stderr
    session.rollback()
    assert session.query(Update).count() == 2
    done = run("We added a canary.", "--as", "ops@example.com")
    assert done.exit_code == 0, done.output
    session.rollback()
    assert session.get(Incident, incident.id).status == "postmortem"
