"""`statusboard incident open|update|resolve`: what a script sees (exit code, output) and what
the public then sees; every refusal prints the form's message, exits non-zero and saves
nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from statusboard.cli import main
from statusboard.models import AuditEvent, Incident, Update
from statusboard.services import components
from statusboard.services.audit import Actor
from tests.conftest import QUIET, START


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    monkeypatch.setenv("STATUSBOARD_BASE_URL", "https://status.example.com")
    return database_url


@pytest.fixture
def api(session, operator):
    created = components.create_component(session, name="API", actor=Actor(None, "test"))
    session.commit()
    return created


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def public_incidents(client):
    return client.get("/api/v2/incidents.json").get_json()["incidents"]


def public_components(client):
    return {
        c["name"]: c["status"]
        for c in client.get("/api/v2/components.json").get_json()["components"]
    }


def counts(session):
    session.rollback()
    return {m.__name__: session.query(m).count() for m in (Incident, Update, AuditEvent)}


def open_incident(*extra):
    result = run(
        "incident",
        "open",
        "--name",
        "API errors",
        "--impact",
        "major",
        "--as",
        "ops@example.com",
        *extra,
    )
    assert result.exit_code == 0, result.output
    return result.stdout.split("\t")[0]


def test_open_prints_id_and_address_and_the_incident_is_public_at_once(
    env, client, session, clock, operator, api
):
    result = run(
        "incident",
        "open",
        "Some API requests **fail**.",
        "--name",
        "API errors",
        "--impact",
        "major",
        "--status",
        "identified",
        "--eta",
        "2026-11-24T14:00:00+01:00",
        "--next-update",
        "20m",
        "--component",
        "API=partial_outage",
        "--as",
        "OPS@example.com",
    )
    assert result.exit_code == 0, result.output
    public_id, url = result.stdout.strip().split("\t")
    assert url == f"https://status.example.com/incidents/{public_id}"
    [shown] = public_incidents(client)
    assert shown["id"] == public_id and shown["name"] == "API errors"
    assert shown["status"] == "identified" and shown["impact"] == "major"
    assert shown["statusboard"]["eta"] == "2026-11-24T13:00:00.000Z"
    assert shown["statusboard"]["next_update_by"] == "2026-11-24T12:20:00.000Z"
    assert shown["incident_updates"][0]["body"] == "Some API requests **fail**."
    assert public_components(client) == {"API": "partial_outage"}
    assert client.get(f"/incidents/{public_id}").status_code == 200
    event = session.query(AuditEvent).filter_by(action="incident.open").one()
    assert event.actor_id == operator.id and event.via == "cli"


def test_body_from_standard_input_unknown_eta_default_promise_and_no_notify(
    env, client, clock, operator, api
):
    result = run(
        "incident",
        "open",
        "--name",
        "Web app slow",
        "--impact",
        "critical",
        "--body-file",
        "-",
        "--no-notify",
        "--as",
        "ops@example.com",
        input="Pages load *slowly*.\n",
    )
    assert result.exit_code == 0, result.output
    shown = public_incidents(client)[0]
    assert shown["name"] == "Web app slow"
    assert shown["incident_updates"][0]["body"] == "Pages load *slowly*."
    assert shown["incident_updates"][0]["deliver_notifications"] is False
    assert shown["statusboard"]["eta_unknown"] is True
    assert shown["statusboard"]["next_update_by"] == "2026-11-24T12:15:00.000Z"  # critical
    by_id = open_incident("Errors.", "--component", f"{api.public_id}=major_outage")
    assert public_incidents(client)[0]["id"] == by_id
    assert public_components(client) == {"API": "major_outage"}


def test_update_keeps_the_eta_by_default_and_json_prints_the_incident(
    env, client, clock, operator, api
):
    public_id = open_incident("Errors.", "--eta", "2026-11-24T15:00:00Z")
    clock.advance(timedelta(minutes=10))
    result = run(
        "incident",
        "update",
        public_id,
        "A bad deploy; rolling back.",
        "--status",
        "identified",
        "--next-update",
        "2026-11-24T12:40:00Z",
        "--component",
        "API=degraded_performance",
        "--as",
        "ops@example.com",
        "--json",
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["id"] == public_id
    assert [u["status"] for u in printed["incident_updates"]] == ["identified", "investigating"]
    assert printed["statusboard"]["eta"] == "2026-11-24T15:00:00.000Z"
    assert printed["statusboard"]["next_update_by"] == "2026-11-24T12:40:00.000Z"
    assert public_incidents(client)[0] == printed
    assert public_components(client) == {"API": "degraded_performance"}

    unknown = run(
        "incident",
        "update",
        public_id,
        "No ETA yet.",
        "--status",
        "identified",
        "--eta",
        "unknown",
        "--as",
        "ops@example.com",
    )
    assert unknown.exit_code == 0, unknown.output
    assert public_incidents(client)[0]["statusboard"]["eta_unknown"] is True


def test_resolve_restores_the_components_the_incident_touched(env, client, clock, operator, api):
    public_id = open_incident("Errors.", "--component", "API=major_outage")
    clock.advance(timedelta(minutes=20))
    result = run("incident", "resolve", public_id, "Rolled back.", "--as", "ops@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{public_id}\thttps://status.example.com/incidents/{public_id}"
    shown = public_incidents(client)[0]
    assert shown["status"] == "resolved"
    assert shown["resolved_at"] == "2026-11-24T12:20:00.000Z"
    assert public_components(client) == {"API": "operational"}


def test_resolve_with_an_explicit_component_status_keeps_it(env, client, clock, operator, api):
    public_id = open_incident("Errors.", "--component", "API=major_outage")
    result = run(
        "incident",
        "resolve",
        public_id,
        "Mostly fixed.",
        "--component",
        "API=degraded_performance",
        "--as",
        "ops@example.com",
    )
    assert result.exit_code == 0, result.output
    assert public_components(client) == {"API": "degraded_performance"}


OPEN = ["incident", "open", "--name", "API errors", "--impact", "major"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            [*OPEN, "Body.", "--component", "Billing=major_outage", "--as", "ops@example.com"],
            "--component: no component 'Billing'",
        ),
        (
            [*OPEN, "Body.", "--component", "API=on_fire", "--as", "ops@example.com"],
            "--component: status for API must be one of",
        ),
        (
            [*OPEN, "Body.", "--component", "API", "--as", "ops@example.com"],
            "--component: give each component as NAME=STATUS",
        ),
        (
            [*OPEN, "Body.", "--eta", "2026-11-24T11:00:00Z", "--as", "ops@example.com"],
            "--eta: the ETA must be in the future, or say it is unknown",
        ),
        (
            [*OPEN, "Body.", "--eta", "2026-11-24T15:00", "--as", "ops@example.com"],
            "--eta needs a time zone offset",
        ),
        (
            [*OPEN, "Body.", "--eta", "soon", "--as", "ops@example.com"],
            "give --eta as an ISO 8601 time",
        ),
        (
            [*OPEN, "Body.", "--eta", "keep", "--as", "ops@example.com"],
            "a new incident has no ETA to keep",
        ),
        (
            [*OPEN, "Body.", "--next-update", "0m", "--as", "ops@example.com"],
            "--next-update: the next update must be promised for a time in the future",
        ),
        (
            [*OPEN, "Body.", "--next-update", "later", "--as", "ops@example.com"],
            "give --next-update as minutes from now (30m)",
        ),
        ([*OPEN, "--as", "ops@example.com"], "BODY: write what customers should know"),
        ([*OPEN, "  ", "--as", "ops@example.com"], "BODY: write what customers should know"),
        (
            [*OPEN, "Body.", "--as", "nobody@example.com"],
            "--as: no operator with email nobody@example.com",
        ),
    ],
)
def test_open_refuses_bad_input_with_the_forms_message_and_saves_nothing(
    env, client, session, clock, operator, api, args, message
):
    before = counts(session)
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stdout == ""
    assert counts(session) == before
    assert public_incidents(client) == [] and public_components(client) == {"API": "operational"}


def test_a_deactivated_operator_cannot_post(env, session, clock, operator, api):
    operator.active = False
    session.commit()
    result = run(*OPEN, "Body.", "--as", "ops@example.com")
    assert result.exit_code == 1 and "--as: ops@example.com is deactivated" in result.stderr
    assert counts(session)["Incident"] == 0


def test_a_missing_option_is_a_usage_error(env, clock, operator):
    result = run("incident", "open", "Body.", "--name", "X", "--impact", "major")
    assert result.exit_code == 2 and "--as" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--status", "identified", "--component", "Nope=major_outage"],
            "--component: no component 'Nope'",
        ),
        (
            ["--status", "identified", "--eta", "2026-11-24T12:30:00Z"],
            "--eta: the ETA must be in the future",
        ),
        (["--status", "identified", "--body-file", "-"], "BODY: write what customers should know"),
        (["--status", "identified", "--as", "ghost@example.com"], "--as: no operator"),
    ],
)
def test_update_refuses_bad_input_and_saves_nothing(
    env, client, session, clock, operator, api, args, message
):
    public_id = open_incident("Errors.")
    clock.advance(timedelta(minutes=45))
    before, shown = counts(session), public_incidents(client)
    body = [] if "--body-file" in args else ["Still on it."]
    acting = [] if "--as" in args else ["--as", "ops@example.com"]
    result = run("incident", "update", public_id, *body, *args, *acting, input="\n")
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stdout == ""
    assert counts(session) == before and public_incidents(client) == shown


def test_updating_a_resolved_incident_is_a_bad_transition(env, client, session, clock, operator):
    public_id = open_incident("Errors.")
    assert run("incident", "resolve", public_id, "Fixed.", "--as", "ops@example.com").exit_code == 0
    before = counts(session)
    result = run(
        "incident",
        "update",
        public_id,
        "Back again.",
        "--status",
        "investigating",
        "--as",
        "ops@example.com",
    )
    assert result.exit_code == 1
    assert "--status: this incident is resolved; open a new incident" in result.stderr
    assert counts(session) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope", "Fixed.", "--as", "ops@example.com"], "ID: no incident nope"),
        (["{id}", "--as", "ops@example.com"], "BODY: write what customers should know"),
        (
            ["{id}", "Fixed.", "--component", "Nope=operational", "--as", "ops@example.com"],
            "--component: no component 'Nope'",
        ),
        (["{id}", "Fixed.", "--as", "ghost@example.com"], "--as: no operator"),
        (
            ["{id}", "Fixed.", "--body-file", "-", "--as", "ops@example.com"],
            "BODY: give the message as an argument or with --body-file, not both",
        ),
    ],
)
def test_resolve_refuses_bad_input_and_saves_nothing(
    env, client, session, clock, operator, api, args, message
):
    public_id = open_incident("Errors.", "--component", "API=major_outage")
    before, shown = counts(session), public_incidents(client)
    result = run("incident", "resolve", *[a.format(id=public_id) for a in args], input="x\n")
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert counts(session) == before and public_incidents(client) == shown
    assert public_components(client) == {"API": "major_outage"}


def test_a_maintenance_window_is_not_an_incident(env, session, clock, operator):
    from statusboard.services import maintenance

    window = maintenance.schedule_maintenance(
        session,
        name="Upgrade",
        body="Upgrading.",
        actor=Actor(operator, "test"),
        scheduled_for=START + timedelta(hours=1),
        scheduled_until=START + timedelta(hours=2),
        publishing_settings=QUIET,
    )
    session.commit()
    result = run("incident", "resolve", window.public_id, "Done.", "--as", "ops@example.com")
    assert result.exit_code == 1 and f"no incident {window.public_id}" in result.stderr


def test_resolving_twice_is_refused_and_sends_nothing_more(env, client, session, clock, operator):
    public_id = open_incident("Errors.")
    assert run("incident", "resolve", public_id, "Fixed.", "--as", "ops@example.com").exit_code == 0
    before, shown = counts(session), public_incidents(client)
    again = run("incident", "resolve", public_id, "Fixed again.", "--as", "ops@example.com")
    assert again.exit_code == 1
    assert "--status: this incident is already resolved; nothing was sent" in again.stderr
    assert counts(session) == before and public_incidents(client) == shown


def test_resolving_one_of_two_overlapping_incidents_leaves_the_others_status(
    env, client, clock, operator, api
):
    first = open_incident("Errors.", "--component", "API=major_outage")
    open_incident("Slow too.", "--component", "API=degraded_performance")
    assert public_components(client) == {"API": "major_outage"}
    assert run("incident", "resolve", first, "Fixed.", "--as", "ops@example.com").exit_code == 0
    assert public_components(client) == {"API": "degraded_performance"}
