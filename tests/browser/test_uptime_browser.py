"""Uptime bars by keyboard, and the badge and embed on another site, in Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.services import components, incidents
from statusboard.services.audit import Actor
from tests.conftest import START, worker_timers

pytestmark = pytest.mark.browser


@pytest.fixture
def outage(session, clock, operator, publishing_settings):
    actor = Actor(operator, "test")
    clock.freeze(START - timedelta(days=5))
    api = components.create_component(session, name="API", actor=actor)
    session.commit()
    clock.freeze(START - timedelta(days=1))
    incident = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="Errors.",
        actor=actor,
        publishing_settings=publishing_settings,
        component_changes={api: ComponentStatus.MAJOR_OUTAGE},
    )
    clock.advance(timedelta(minutes=40))
    incidents.resolve(
        session,
        incident=incident,
        body="Fine.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(START)
    worker_timers(session)
    return api, incident


def test_a_bar_opens_by_keyboard_and_lists_the_days_incident(live_url, browser_page, outage):
    page = browser_page
    page.goto(live_url)
    detail = page.locator(".uptime-row .uptime-bars > details").nth(-2)  # yesterday
    assert not detail.locator(".ut").is_visible()
    summary = detail.locator("summary")
    assert summary.get_attribute("title") == "Mon 23 Nov 2026: 40 min downtime"
    summary.focus()
    page.keyboard.press("Enter")
    tip = detail.locator(".ut")
    assert tip.is_visible()
    assert "40 min downtime" in tip.inner_text()
    link = tip.locator("a", has_text="API errors")
    assert link.is_visible()
    page.keyboard.press("Tab")  # the next stop is the incident's link inside the open bar
    assert page.evaluate("document.activeElement.textContent") == "API errors"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert not tip.is_visible()


@pytest.fixture
def other_site(live_url) -> Iterator[str]:
    """A page on another origin that shows the badge and embeds the widget twice: by iframe
    and by the script snippet; and frames the status page itself, which must be refused."""
    html = f"""<!doctype html><html><body>
<img id="badge" src="{live_url}/badge.svg" alt="status">
<iframe id="embed" src="{live_url}/embed" title="status"></iframe>
<div id="snippet"><script src="{live_url}/embed.js"></script></div>
<iframe id="page" src="{live_url}/" title="page"></iframe>
</body></html>"""

    @Request.application
    def site(request: Request) -> Response:
        return Response(html, content_type="text/html")

    server = make_server("127.0.0.1", 0, site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_the_badge_and_the_embed_render_on_another_site(live_url, other_site, browser_page, outage):
    page = browser_page
    page.goto(other_site, wait_until="load")
    assert page.evaluate("document.getElementById('badge').naturalWidth") > 50
    frames = {frame.url: frame for frame in page.frames}
    embed = frames[f"{live_url}/embed"]
    embed.wait_for_selector("text=All Systems Operational")
    assert "API" in embed.inner_text("main")
    snippet = page.locator("#snippet iframe")
    assert snippet.get_attribute("src") == f"{live_url}/embed"
    # The page itself may not be framed: Chromium leaves that frame without its content.
    framed_page = frames.get(f"{live_url}/")
    assert framed_page is None or not framed_page.locator("main").count()
