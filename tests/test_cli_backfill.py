"""`statusboard incident open --started-at` and `resolve --resolved-at` correct the uptime
history like the forms and the API; a time out of bounds is refused and saves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statusboard.models import Incident
from statusboard.services import components
from statusboard.services.audit import Actor
from tests.conftest import START
from tests.test_cli_incidents import counts, run


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    monkeypatch.setenv("STATUSBOARD_BASE_URL", "https://status.example.com")


def test_open_and_resolve_with_past_times(env, client, session, clock, operator):
    clock.freeze(START - timedelta(days=10))
    components.create_component(session, name="API", actor=Actor(None, "test"))
    session.commit()
    clock.freeze(START)
    opened = run(
        "incident",
        "open",
        "Missed it.",
        "--name",
        "Missed outage",
        "--impact",
        "major",
        "--component",
        "API=major_outage",
        "--started-at",
        "2026-11-20T10:00:00Z",
        "--as",
        operator.email,
    )
    assert opened.exit_code == 0, opened.output
    incident_id = opened.output.split("\t")[0]
    resolved = run(
        "incident",
        "resolve",
        incident_id,
        "Ended.",
        "--resolved-at",
        "2026-11-20T11:00:00+00:00",
        "--as",
        operator.email,
    )
    assert resolved.exit_code == 0, resolved.output
    daily = client.get("/api/v2/uptime.json").get_json()["statusboard"]["components"][0]
    by_date = {d["date"]: d["downtime_minutes"] for d in daily["uptime"]["daily"]}
    assert by_date["2026-11-20"] == 60 and by_date["2026-11-24"] == 0


def test_a_start_too_far_back_is_refused_with_its_option(env, session, clock, operator):
    before = counts(session)
    result = run(
        "incident",
        "open",
        "Old.",
        "--name",
        "Old",
        "--impact",
        "minor",
        "--started-at",
        "2026-09-01T00:00:00Z",
        "--as",
        operator.email,
    )
    assert result.exit_code == 1
    assert "--started-at: a past time can be at most 30 days back" in result.output
    assert counts(session) == before
    assert session.query(Incident).count() == 0
