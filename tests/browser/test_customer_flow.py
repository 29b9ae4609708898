"""A customer on a phone (390 px) during an outage: the page, the incident, the history, the
feeds, subscribing by email and confirming — never a page wider than the screen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from statusboard import clock
from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.services import components, incidents
from statusboard.services.audit import Actor
from tests.conftest import worker_timers
from tests.fakes.publishing import deliver

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app_overrides(publishing_overrides):
    return {**publishing_overrides, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def outage(session, operator, publishing_settings):
    actor = Actor(operator, "test")
    regions = components.create_component(session, name="Regions", is_group=True, actor=actor)
    eu = components.create_component(session, name="EU (Frankfurt)", group=regions, actor=actor)
    components.create_component(session, name="US East (Virginia)", group=regions, actor=actor)
    components.create_component(session, name="API", actor=actor)
    session.commit()
    clock.freeze(datetime.now(UTC) - timedelta(days=2))
    try:
        old = incidents.open_incident(
            session,
            name="Dashboard login errors",
            impact=Impact.MINOR,
            body="Logins fail for some.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
        clock.advance(timedelta(minutes=30))
        incidents.resolve(
            session,
            incident=old,
            body="Fixed.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
        # A major incident promises its next update within 30 min: 40 min ago, it is overdue.
        clock.freeze(datetime.now(UTC) - timedelta(minutes=40))
        incident = incidents.open_incident(
            session,
            name="Elevated API error rates in the EU region, with a long name to wrap",
            impact=Impact.MAJOR,
            body="Some requests fail with `HTTP 503`: "
            + "https://status.example.com/a/very/long/address/without/any/spaces/to/break/at",
            actor=actor,
            component_changes={eu: ComponentStatus.PARTIAL_OUTAGE},
            publishing_settings=publishing_settings,
        )
        session.commit()
    finally:
        clock.unfreeze()
    worker_timers(session)
    return incident


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"{page.url} is {width} px wide"


def test_a_customer_on_a_phone_follows_the_outage_and_subscribes_without_sideways_scrolling(
    app, live_url, browser_page, session, mailbox, outage
):
    page = browser_page
    page.set_viewport_size(PHONE)

    page.goto(live_url)
    _fits(page)
    overdue = page.locator(".honesty").first.inner_text()
    assert re.fullmatch(r"Update overdue by (9|10|11) min\.", overdue), overdue
    assert "Europe/Berlin" in page.locator("footer").inner_text()  # the script showed local times

    page.click(f"a[href='/incidents/{outage.public_id}']")
    page.wait_for_selector("h1:has-text('Elevated API error rates')")
    _fits(page)

    page.click("text=← Example Status")
    page.click("text=Incident history")
    page.wait_for_selector("h1:has-text('Incident history')")
    assert page.locator("text=Dashboard login errors").count() == 1
    _fits(page)

    page.click("header.site >> text=Feeds")
    page.wait_for_selector("h1:has-text('Feeds')")
    _fits(page)
    assert page.locator("button[data-copy]:visible").count() >= 5  # the script showed them

    page.click("header.site >> text=Subscribe")
    page.wait_for_selector("h1:has-text('Get updates by email')")
    _fits(page)
    page.fill("#email", "reader@example.com")
    page.check("label:has-text('EU (Frankfurt)') input")
    page.click("button:has-text('Subscribe')")
    page.wait_for_selector("h1:has-text('Check your email')")
    assert "reader@example.com" in page.locator("main").inner_text()
    _fits(page)

    deliver(app)
    [confirmation] = [m for m in mailbox.messages if m["To"] == "reader@example.com"]
    link = re.search(
        r"https://status\.example\.com(/subscribe/confirm/\S+)", confirmation.get_content()
    )
    page.goto(live_url + link.group(1))
    page.wait_for_selector('h1:has-text("You\'re subscribed")')
    assert "EU (Frankfurt)" in page.locator("main").inner_text()
    _fits(page)


class TestAnOpenPage:
    @pytest.fixture
    def app_overrides(self, publishing_overrides):
        return {**publishing_overrides, "PAGE_REFRESH_SECONDS": 1}

    def test_announces_a_new_status_once_and_not_the_overdue_counter(
        self, live_url, browser_page, session, operator, publishing_settings, outage
    ):
        page = browser_page
        page.goto(live_url)
        assert page.locator("[aria-live], [role=status]").count() == 1  # the announcer only
        assert page.locator("#announcer").inner_text() == ""
        incidents.resolve(
            session,
            incident=outage,
            body="Fixed.",
            actor=Actor(operator, "test"),
            publishing_settings=publishing_settings,
        )
        session.commit()
        # Within one polling interval (1 s with jitter) and the two small fetches.
        page.wait_for_selector("#announcer:has-text('Status:')", state="attached", timeout=5000)
        assert page.locator("#announcer").inner_text() == "Status: All Systems Operational"
