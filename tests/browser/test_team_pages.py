"""Admin → Operators, Components and Audit log on a phone: at 390 px nothing scrolls
sideways, with long names and addresses and with the delete and deactivate confirmations
open."""

from __future__ import annotations

import pytest

from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.models import Role
from statusboard.services import components, incidents
from statusboard.services.audit import Actor
from tests.conftest import PASSWORD, QUIET, make_operator

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_team_pages_fit_a_phone_without_sideways_scrolling(live_url, browser_page, session):
    admin = make_operator(
        session,
        email="ada.lovelace-with-a-long-address@example-company.com",
        name="Ada Admin",
        role=Role.ADMIN,
    )
    make_operator(session, email="olive@example.com", name="Olive Ops")
    actor = Actor(admin, "web")
    regions = components.create_component(session, name="Regions", is_group=True, actor=actor)
    eu = components.create_component(session, name="EU (Frankfurt)", group=regions, actor=actor)
    components.create_component(
        session, name="Public REST API and outgoing webhooks", description="api", actor=actor
    )
    incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="Investigating.",
        actor=actor,
        publishing_settings=QUIET,
        component_changes={eu: ComponentStatus.PARTIAL_OUTAGE},
    )
    session.commit()
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/login")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_url}/admin/")

    page.goto(f"{live_url}/admin/operators")
    page.click("text=Deactivate…")
    assert page.locator("button:has-text('Deactivate Olive Ops')").is_visible()
    assert page.evaluate(OVERFLOW) == 0
    page.goto(f"{live_url}/admin/components")
    page.locator("summary:has-text('Delete…')").nth(1).click()
    assert page.locator("button:has-text('Delete EU (Frankfurt)')").is_visible()
    assert page.evaluate(OVERFLOW) == 0
    page.goto(f"{live_url}/admin/audit")
    assert page.locator("td", has_text="“API errors”").count() == 1
    assert page.evaluate(OVERFLOW) == 0
