"""`statusboard import statuspage`: a page saved from Statuspage's /api/v2 (and its subscriber
export) comes back on our own public API as it was, sends nothing, and a second run changes
nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from statusboard.cli import main
from statusboard.models import (
    AuditEvent,
    Component,
    Delivery,
    ImportedRecord,
    Incident,
    Subscriber,
    Update,
)
from tests.fakes.http import FakeServer, Seen

SAVED = Path(__file__).parent / "fixtures" / "statuspage"


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    monkeypatch.setenv("STATUSBOARD_BASE_URL", "https://status.example.com")
    monkeypatch.setenv("STATUSBOARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("STATUSBOARD_SMTP_FROM", "status@example.com")
    return database_url


def run(*args):
    return CliRunner().invoke(main, list(args))


def counts(session):
    session.rollback()
    models = (Component, Incident, Update, Subscriber, Delivery, ImportedRecord)
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in models}


def saved(name):
    return json.loads((SAVED / name).read_text())


def test_a_saved_page_comes_back_on_our_api_as_it_was_and_a_second_run_changes_nothing(
    env, client, session, clock
):
    result = run("import", "statuspage", str(SAVED))
    assert result.exit_code == 0, result.output
    assert "components: 5\n" in result.output
    assert "incidents: 3\n" in result.output and "maintenance windows: 2\n" in result.output
    assert "updates: 13\n" in result.output and "warning" not in result.output

    ours = client.get("/api/v2/components.json").get_json()["components"]
    theirs = saved("summary.json")["components"]
    assert [(c["name"], c["status"], c["group"]) for c in ours] == [
        (c["name"], c["status"], c["group"]) for c in theirs
    ]
    regions = next(c for c in ours if c["name"] == "Regions")
    assert [c["name"] for c in ours if c["group_id"] == regions["id"]] == [
        "EU – Frankfurt",
        "US – Oregon",
    ]

    ours = {i["name"]: i for i in client.get("/api/v2/incidents.json").get_json()["incidents"]}
    for incident in saved("incidents.json")["incidents"]:
        mine = ours[incident["name"]]
        assert (mine["status"], mine["impact"]) == (incident["status"], incident["impact"])
        assert mine["created_at"] == _ms(incident["created_at"]) or mine["created_at"] == _ms(
            incident["incident_updates"][-1]["created_at"]
        )
        assert [(u["status"], u["created_at"]) for u in mine["incident_updates"]] == [
            (u["status"], _ms(u["created_at"])) for u in incident["incident_updates"]
        ]
    frankfurt = ours["Elevated error rates in Frankfurt"]["incident_updates"]
    # The bell character pasted into Statuspage is dropped; the words are kept.
    assert frankfurt[2]["body"] == "A faulty load balancer node is being replaced."
    assert frankfurt[3]["affected_components"][0]["new_status"] == "degraded_performance"
    unresolved = client.get("/api/v2/incidents/unresolved.json").get_json()["incidents"]
    assert [i["name"] for i in unresolved] == ["API timeouts"]

    windows = client.get("/api/v2/scheduled-maintenances.json").get_json()
    mine = {m["name"]: m for m in windows["scheduled_maintenances"]}
    assert mine["Database upgrade"]["status"] == "completed"
    assert mine["Network maintenance in Oregon"]["status"] == "scheduled"
    assert mine["Network maintenance in Oregon"]["scheduled_for"] == "2026-11-29T06:00:00.000Z"

    # Nothing was queued to send.
    before = counts(session)
    assert before["Delivery"] == 0
    again = run("import", "statuspage", str(SAVED))
    assert again.exit_code == 0, again.output
    assert "components: 0\n" in again.output and "updates: 0\n" in again.output
    assert counts(session) == before


def _ms(value: str) -> str:
    from datetime import UTC, datetime

    parsed = datetime.fromisoformat(value).astimezone(UTC)
    return parsed.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_dry_run_prints_what_would_be_created_and_changes_nothing(env, session, clock):
    before = counts(session)
    result = run(
        "import",
        "statuspage",
        str(SAVED),
        "--dry-run",
        "--subscribers",
        str(SAVED / "subscribers.csv"),
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Would create from statuspage:y2j98763l56x:\n")
    assert "incidents: 3\n" in result.output
    assert "subscribers: 2 (0 already here; 2 opt-in emails would be queued)" in result.output
    assert counts(session) == before


def test_subscribers_from_the_export_get_the_opt_in_email_unless_an_admin_attests(
    env, session, clock
):
    result = run(
        "import", "statuspage", str(SAVED), "--subscribers", str(SAVED / "subscribers.csv")
    )
    assert result.exit_code == 0, result.output
    people = {s.address: s for s in session.scalars(select(Subscriber))}
    # Email rows only: Statuspage's SMS and webhook rows cannot be carried over.
    assert sorted(people) == ["ana@customer.example", "bob@customer.example"]
    assert sorted(c.name for c in people["ana@customer.example"].components) == [
        "API",
        "EU – Frankfurt",
    ]
    assert not any(s.active for s in people.values())
    letters = session.scalars(select(Delivery)).all()
    assert sorted(d.target for d in letters) == sorted(people)
    assert all(d.subject == "Confirm your subscription" for d in letters)

    # The same file, now attested: those already here are left alone.
    result = run(
        "import",
        "statuspage",
        str(SAVED),
        "--subscribers",
        str(SAVED / "subscribers.csv"),
        "--attest",
        "Subscribed on status.acme.example",
    )
    assert "subscribers: 0 (2 already here" in result.output
    assert counts(session)["Delivery"] == 2


def test_attested_subscribers_are_subscribed_at_once_and_the_attestation_is_audited(
    env, session, clock
):
    result = run(
        "import",
        "statuspage",
        str(SAVED),
        "--subscribers",
        str(SAVED / "subscribers.csv"),
        "--attest",
        "Subscribed on status.acme.example",
    )
    assert result.exit_code == 0, result.output
    assert all(s.active for s in session.scalars(select(Subscriber)))
    assert counts(session)["Delivery"] == 0
    [event] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "subscribers.imported_with_attestation")
    ).all()
    assert event.detail == {"attestation": "Subscribed on status.acme.example", "created": 2}


class SavedPage(FakeServer):
    """The page's address, serving the saved documents under /api/v2."""

    def handle(self, seen: Seen):
        path = SAVED / seen.path.removeprefix("/api/v2/")
        if seen.path.startswith("/api/v2/") and path.suffix == ".json" and path.exists():
            return 200, json.loads(path.read_text()), {}
        return 404, {"error": "not found"}, {}


def test_the_page_can_be_read_from_its_address(env, client, session, clock):
    page = SavedPage()
    try:
        result = run("import", "statuspage", page.url)
    finally:
        page.close()
    assert result.exit_code == 0, result.output
    assert "incidents: 3\n" in result.output
    assert {r.path for r in page.requests} >= {"/api/v2/summary.json", "/api/v2/incidents.json"}


def test_a_folder_without_a_summary_is_refused(env, tmp_path):
    result = run("import", "statuspage", str(tmp_path))
    assert result.exit_code == 1
    assert "no summary.json" in result.output
