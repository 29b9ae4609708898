"""The operator flow in a real browser (Debian's headless Chromium driven by Playwright),
read back on the public page as a customer would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_overrides():
    # Operators type times in the page's zone; the reader's browser is in Berlin too.
    return {"WTF_CSRF_ENABLED": True, "TIME_ZONE": "Europe/Berlin"}


def test_operator_declares_updates_and_resolves_and_customers_see_each_step(
    live_url, browser_page, admin
):
    page = browser_page
    page.goto(f"{live_url}/admin/")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_url}/admin/")

    page.click("text=Components")
    page.fill("#name", "Regions")
    page.check("#is_group")
    page.click("button:has-text('Add')")
    for name in ("EU", "US"):
        page.fill("#name", name)
        page.select_option("#group", label="Regions")
        page.click("button:has-text('Add')")
    page.goto(live_url)
    assert page.locator(".group ul .component-row").count() == 2

    berlin = ZoneInfo("Europe/Berlin")
    eta_local = (datetime.now(berlin) + timedelta(hours=2)).replace(second=0, microsecond=0)
    page.goto(f"{live_url}/admin/incidents/new")
    page.fill("#name", "EU outage")
    page.select_option("#impact", "critical")
    eu = page.locator("label:has-text('EU') + select").first
    eu.select_option("major_outage")
    page.fill("#body", "EU requests **fail**.")
    page.check("input[name=eta_mode][value=time]")
    page.fill("#eta", eta_local.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#next_in", "25")
    page.click("button:has-text('Publish incident')")
    page.wait_for_selector("text=is live on the status page")

    page.goto(live_url)
    banner = page.locator(".banner h1").inner_text()
    assert banner == "Major System Outage"
    assert page.locator(".incident strong", has_text="fail").count() == 1
    eta_utc = eta_local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00.000Z")
    assert page.locator(f"time[datetime='{eta_utc}']").count() == 1
    # The reader's zone is Berlin: the page shows the ETA on their clock, not in UTC.
    assert eta_local.strftime("%H:%M") in page.locator(f"time[datetime='{eta_utc}']").inner_text()

    page.click("text=EU outage")
    incident_url = page.url
    page.goto(f"{live_url}/admin/")
    page.click("a:has-text('Post update')")
    page.select_option("#status", "identified")
    page.fill("#body", "Cause found: a failed switch.")
    page.click("button:has-text('Post update')")
    page.wait_for_selector("text=Update posted.")
    page.goto(incident_url)
    assert "Cause found: a failed switch." in page.content()

    page.goto(f"{live_url}/admin/")
    page.click("a:has-text('Resolve')")
    page.fill("#body", "The switch is replaced; all EU requests succeed.")
    page.click("button:has-text('Resolve incident')")
    page.wait_for_selector("text=Incident resolved.")
    page.goto(live_url)
    assert page.locator(".banner h1").inner_text() == "All Systems Operational"
    assert "The switch is replaced" in page.locator(".recent").inner_text()
