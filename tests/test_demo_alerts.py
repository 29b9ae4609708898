"""`statusboard demo` seeds alert-started incidents, and the report shows their figures."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select

from statusboard.cli import main
from statusboard.models import Draft, DraftState
from tests.conftest import login


def test_the_demo_report_shows_first_alert_to_first_public_word(
    app, database_url, monkeypatch, session, admin, client
):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    states = sorted(d.state.value for d in session.scalars(select(Draft)))
    assert states == ["dismissed", "open", "published", "published", "published"]
    waiting = session.scalar(select(Draft).where(Draft.state == DraftState.OPEN))
    login(client, admin)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Drafts from monitoring" in dashboard and waiting.name in dashboard
    page = " ".join(
        re.sub(r"<[^>]+>", " ", client.get("/admin/report/").get_data(as_text=True)).split()
    )
    # Acknowledged after 3 (api, 12 days ago), 11 (webhooks) and 2 minutes (email).
    assert "First alert → first public word 3 min median; p90 11 min; worst 11 min" in page
    assert "3 of 5 alert-started drafts published, 1 still waiting" in page
    assert "Drafts dismissed 1" in page


def test_alert_source_create_prints_only_a_token_that_opens_the_intake_route(
    app, database_url, monkeypatch, client
):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    result = CliRunner().invoke(main, ["alert-source", "create", "cron", "--format", "generic"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("sba_") and "\n" not in secret
    response = client.post(
        "/api/v1/alerts/cron",
        json={"title": "Backup failed"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 202
    again = CliRunner().invoke(main, ["alert-source", "create", "cron"])
    assert again.exit_code != 0 and "already a source named cron" in again.output
