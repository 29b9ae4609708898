"""`statusboard maintenance schedule|update|complete`: what a script sees and what the public
then sees; every refusal prints the form's message, exits non-zero and saves nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from statusboard.cli import main
from statusboard.models import AuditEvent, Incident, Update
from statusboard.services import components
from statusboard.services.audit import Actor


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    monkeypatch.setenv("STATUSBOARD_BASE_URL", "https://status.example.com")
    return database_url


@pytest.fixture
def database_component(session, operator):
    created = components.create_component(session, name="Database", actor=Actor(None, "test"))
    session.commit()
    return created


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def public_windows(client):
    path = "/api/v2/scheduled-maintenances.json"
    return client.get(path).get_json()["scheduled_maintenances"]


def public_components(client):
    listed = client.get("/api/v2/components.json").get_json()["components"]
    return {c["name"]: c["status"] for c in listed}


def counts(session):
    session.rollback()
    return {m.__name__: session.query(m).count() for m in (Incident, Update, AuditEvent)}


SCHEDULE = [
    "maintenance",
    "schedule",
    "--name",
    "Database upgrade",
    "--from",
    "2026-11-24T14:00:00Z",
    "--until",
    "2026-11-24T15:00:00+00:00",
]


def schedule(*extra):
    result = run(*SCHEDULE, "We upgrade the database.", *extra, "--as", "ops@example.com")
    assert result.exit_code == 0, result.output
    return result.stdout.split("\t")[0]


def test_schedule_prints_id_and_address_and_the_window_is_public_at_once(
    env, client, session, clock, operator, database_component
):
    result = run(
        *SCHEDULE,
        "--component",
        "Database",
        "--body-file",
        "-",
        "--as",
        "ops@example.com",
        input="Writes pause for a minute.\n",
    )
    assert result.exit_code == 0, result.output
    public_id, url = result.stdout.strip().split("\t")
    assert url == f"https://status.example.com/incidents/{public_id}"
    [shown] = public_windows(client)
    assert shown["id"] == public_id and shown["status"] == "scheduled"
    assert shown["scheduled_for"] == "2026-11-24T14:00:00.000Z"
    assert shown["scheduled_until"] == "2026-11-24T15:00:00.000Z"
    assert [c["name"] for c in shown["components"]] == ["Database"]
    assert shown["incident_updates"][0]["body"] == "Writes pause for a minute."
    event = session.query(AuditEvent).filter_by(action="maintenance.schedule").one()
    assert event.actor_id == operator.id and event.via == "cli"


def test_update_then_complete_moves_the_window_and_its_components(
    env, client, clock, operator, database_component
):
    public_id = schedule("--component", database_component.public_id)
    clock.advance(timedelta(hours=2))
    started = run(
        "maintenance",
        "update",
        public_id,
        "Started early.",
        "--status",
        "in_progress",
        "--until",
        "2026-11-24T15:30:00Z",
        "--as",
        "ops@example.com",
        "--json",
    )
    assert started.exit_code == 0, started.output
    printed = json.loads(started.stdout)
    assert printed["status"] == "in_progress"
    assert printed["scheduled_until"] == "2026-11-24T15:30:00.000Z"
    assert public_windows(client)[0] == printed
    assert public_components(client) == {"Database": "under_maintenance"}

    clock.advance(timedelta(minutes=20))
    done = run(
        "maintenance", "complete", public_id, "All done.", "--no-notify", "--as", "ops@example.com"
    )
    assert done.exit_code == 0, done.output
    shown = public_windows(client)[0]
    assert shown["status"] == "completed"
    assert shown["incident_updates"][0]["body"] == "All done."
    assert shown["incident_updates"][0]["deliver_notifications"] is False
    assert public_components(client) == {"Database": "operational"}


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["Body.", "--component", "Cache", "--as", "ops@example.com"],
            "--component: no component 'Cache'",
        ),
        (["--as", "ops@example.com"], "BODY: write what customers should know"),
        (["Body.", "--as", "nobody@example.com"], "--as: no operator with email"),
    ],
)
def test_schedule_refuses_bad_input_and_saves_nothing(
    env, client, session, clock, operator, database_component, args, message
):
    before = counts(session)
    result = run(*SCHEDULE, *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stdout == ""
    assert counts(session) == before and public_windows(client) == []


@pytest.mark.parametrize(
    "starts, ends, message",
    [
        ("2026-11-24T11:00:00Z", "2026-11-24T13:00:00Z", "--from: the window must start in the"),
        ("2026-11-24T14:00:00Z", "2026-11-24T13:00:00Z", "--until: the window must end after"),
        ("2026-11-24T14:00", "2026-11-24T15:00:00Z", "--from needs a time zone offset"),
        ("tomorrow", "2026-11-24T15:00:00Z", "give --from as an ISO 8601 time"),
    ],
)
def test_schedule_refuses_bad_times_and_saves_nothing(
    env, client, session, clock, operator, starts, ends, message
):
    result = run(
        "maintenance",
        "schedule",
        "Body.",
        "--name",
        "Upgrade",
        "--from",
        starts,
        "--until",
        ends,
        "--as",
        "ops@example.com",
    )
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert counts(session)["Incident"] == 0


@pytest.mark.parametrize(
    "command, args, message",
    [
        ("update", ["--status", "in_progress", "--as", "ops@example.com"], "BODY: write what"),
        (
            "update",
            ["Later.", "--status", "in_progress", "--until", "2026-11-24T11:00:00Z"],
            "--until: the new end must be in the future",
        ),
        (
            "update",
            ["Still on.", "--status", "in_progress", "--as", "ghost@example.com"],
            "--as: no operator",
        ),
        ("complete", ["--as", "ops@example.com"], "BODY: write what customers should know"),
        ("complete", ["Done.", "--as", "ghost@example.com"], "--as: no operator"),
    ],
)
def test_update_and_complete_refuse_bad_input_and_save_nothing(
    env, client, session, clock, operator, database_component, command, args, message
):
    public_id = schedule("--component", "Database")
    before, shown = counts(session), public_windows(client)
    if "--as" not in args:
        args = [*args, "--as", "ops@example.com"]
    result = run("maintenance", command, public_id, *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stdout == ""
    assert counts(session) == before and public_windows(client) == shown


def test_a_completed_window_cannot_be_updated_or_go_back(env, client, session, clock, operator):
    public_id = schedule()
    started = run(
        "maintenance",
        "update",
        public_id,
        "Starting.",
        "--status",
        "in_progress",
        "--as",
        "ops@example.com",
    )
    assert started.exit_code == 0, started.output
    before = counts(session)
    refused = run(
        "maintenance",
        "update",
        public_id,
        "Again.",
        "--status",
        "scheduled",
        "--as",
        "ops@example.com",
    )
    assert refused.exit_code == 1
    assert "--status: a maintenance that is in progress cannot go back to scheduled" in (
        refused.stderr
    )
    assert (
        run("maintenance", "complete", public_id, "Done.", "--as", "ops@example.com").exit_code == 0
    )
    again = run("maintenance", "complete", public_id, "Done again.", "--as", "ops@example.com")
    assert again.exit_code == 1
    assert "this maintenance is completed; schedule a new one" in again.stderr
    assert counts(session)["Update"] == before["Update"] + 1


def test_an_incident_is_not_a_maintenance_window(env, session, clock, operator):
    opened = run(
        "incident",
        "open",
        "Errors.",
        "--name",
        "X",
        "--impact",
        "minor",
        "--as",
        "ops@example.com",
    )
    public_id = opened.stdout.split("\t")[0]
    result = run("maintenance", "complete", public_id, "Done.", "--as", "ops@example.com")
    assert result.exit_code == 1 and f"ID: no maintenance {public_id}" in result.stderr
