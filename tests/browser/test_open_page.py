"""An open status page stays true: it follows the data without a reload."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from statusboard import clock
from statusboard.domain.statuses import Impact
from statusboard.services import incidents, tokens
from statusboard.services.audit import Actor
from tests.conftest import worker_timers

pytestmark = pytest.mark.browser
REFRESH_SECONDS = 1


@pytest.fixture
def app_overrides():
    return {"PAGE_REFRESH_SECONDS": REFRESH_SECONDS}


def test_an_open_page_shows_a_posted_update_and_drops_the_overdue_line_without_reload(
    live_url, browser_page, session, operator, publishing_settings
):
    clock.freeze(datetime.now(UTC) - timedelta(minutes=40))  # a major incident promises 30
    try:
        incident = incidents.open_incident(
            session,
            name="Checkout errors",
            impact=Impact.MAJOR,
            body="Looking into it.",
            actor=Actor(operator, "test"),
            publishing_settings=publishing_settings,
        )
        _, token = tokens.create_token(
            session, operator=operator, name="pager", actor=Actor(None, "test")
        )
        session.commit()
    finally:
        clock.unfreeze()
    worker_timers(session)
    page = browser_page
    page.goto(live_url)
    assert page.locator("[data-overdue-since]").count() == 1
    page.evaluate("window.stillTheSamePage = true")

    request = urllib.request.Request(
        f"{live_url}/api/v1/incidents/{incident.public_id}/updates",
        method="POST",
        data=json.dumps({"status": "identified", "body": "Found it: a bad deploy."}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).read()
    posted = time.monotonic()
    # Within one polling interval (1 s, up to 20% jitter) and the two small fetches.
    page.wait_for_selector("text=Found it: a bad deploy.", timeout=REFRESH_SECONDS * 1200 + 800)
    assert time.monotonic() - posted < REFRESH_SECONDS * 1.2 + 0.8
    assert page.locator("[data-overdue-since]").count() == 0
    assert "Identified" in page.locator(".incident").first.inner_text()
    assert page.evaluate("window.stillTheSamePage") is True  # refreshed in place, no reload
