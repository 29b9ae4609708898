"""An operator's night on a phone (390 px wide): every admin page of the walk fits the screen
(no sideways scrolling), and the social preview shows the real incident. With
STATUSBOARD_SHOTS=DIR set, each page is also photographed at 390 and 1280 px, light and dark."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("STATUSBOARD_SHOTS")


@pytest.fixture
def app_overrides(publishing_overrides):
    return {**publishing_overrides, "WTF_CSRF_ENABLED": True, "TIME_ZONE": "Europe/Berlin"}


def fits(page, name: str) -> None:
    """No horizontal scroll at this width; optionally a screenshot of each width and scheme."""
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{name}: {width} px wide in a {viewport} px viewport"
    if SHOTS:
        folder = Path(SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(folder / f"{name}-390-{scheme}-top.png"))
            for size in (PHONE, {"width": 1280, "height": 900}):
                page.set_viewport_size(size)
                page.screenshot(
                    path=str(folder / f"{name}-{size['width']}-{scheme}.png"), full_page=True
                )
        page.emulate_media(color_scheme="light")
        page.set_viewport_size(PHONE)


def test_operator_walk_fits_a_phone_and_previews_the_real_post(live_url, browser_page, admin):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/login")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_url}/admin/")
    menu = page.locator("nav.admin-nav").bounding_box()
    assert menu is not None and menu["height"] < 60  # one row, not four
    fits(page, "dashboard-empty")

    page.goto(f"{live_url}/admin/components")
    page.fill("#name", "Payments API")
    page.click("button:has-text('Add')")

    page.goto(f"{live_url}/admin/incidents/new")
    page.fill("#name", "Payments failing in the EU region")
    assert page.get_attribute("#next_in", "placeholder") == "30"  # major, the default impact
    page.select_option("#impact", "critical")
    assert page.get_attribute("#next_in", "placeholder") == "15"
    assert "Empty: 15 minutes, the default for critical impact" in page.inner_text("#next-default")
    page.fill("#body", "Card payments fail for about one in five customers. " * 8)
    page.wait_for_selector("pre.social-preview[data-channel=x]:has-text('Payments failing')")
    fits(page, "declare")
    page.click("button:has-text('Publish incident')")
    page.wait_for_selector("text=is live on the status page")
    incident_url = page.url
    fits(page, "incident")

    page.click("a:has-text('Post update')")
    page.fill("#body", "We found the cause: a database failover. " * 6)
    x_preview = page.locator("pre.social-preview[data-channel=x]")
    x_preview.filter(has_text="Identified").or_(
        x_preview.filter(has_text="Investigating")
    ).wait_for()
    assert "Incident name" not in x_preview.inner_text()
    assert "xxxxxxxxxxxx" not in page.locator("pre.social-preview").all_inner_texts()[1]
    fits(page, "update")
    page.click("button:has-text('Post update')")
    page.wait_for_selector("text=Update posted.")

    page.goto(incident_url.rstrip("/") + "/resolve")
    page.fill("#body", "Payments work again.")
    page.wait_for_selector("pre.social-preview[data-channel=mastodon]:has-text('Resolved')")
    fits(page, "resolve")

    page.goto(f"{live_url}/admin/")
    fits(page, "dashboard")

    page.goto(f"{live_url}/admin/maintenance/")
    page.fill("#name", "Database upgrade")
    page.fill("#scheduled_for", "2030-01-10 22:00")
    page.fill("#scheduled_until", "2030-01-10 23:30")
    page.fill("#body", "Writes pause for a few minutes.")
    fits(page, "maintenance")
    page.click("button:has-text('Schedule maintenance')")
    page.wait_for_selector("text=is scheduled")
    fits(page, "maintenance-window")

    page.goto(f"{live_url}/admin/publishing/")
    fits(page, "publishing")
    page.click("a:has-text('Send test post…') >> nth=0")
    page.wait_for_selector("text=It is a real")
    fits(page, "publishing-test")

    page.goto(incident_url)
    page.click("a:has-text('delivery details') >> nth=0")
    page.wait_for_selector("h1:has-text('Deliveries')")
    fits(page, "deliveries")

    page.goto(incident_url)
    page.click("a:has-text('Correct a typo') >> nth=0")
    fits(page, "correct")

    for name, path in (
        ("report", "/admin/report/"),
        ("profile", "/admin/profile"),
        ("tokens", "/admin/tokens/"),
        ("nags", "/admin/nags/"),
    ):
        page.goto(f"{live_url}{path}")
        fits(page, name)
