"""Every public page offers the same ways to follow: the header's Subscribe and Feeds links,
feed discovery, a favicon; /feeds explains feeds and lists each one."""

import pytest

from statusboard.domain.statuses import Impact
from statusboard.services import components, incidents
from statusboard.services.audit import Actor


@pytest.fixture
def incident(session, operator, publishing_settings):
    found = incidents.open_incident(
        session,
        name="Slow API",
        impact=Impact.MINOR,
        body="Looking.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    return found


def test_every_public_page_has_the_header_links_feed_discovery_and_a_favicon(client, incident):
    for path in ("/", f"/incidents/{incident.public_id}", "/history", "/subscribe", "/feeds"):
        page = client.get(path).get_data(as_text=True)
        assert '<a href="/subscribe">Subscribe</a>' in page, path
        assert '<a href="/feeds">Feeds</a>' in page, path
        assert 'rel="alternate" type="application/atom+xml"' in page, path
        assert 'rel="icon" href="/static/favicon.svg"' in page, path
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_the_feeds_page_explains_feeds_and_lists_each_with_its_full_address(client, session):
    api = components.create_component(session, name="API", actor=Actor(None, "test"))
    session.commit()
    response = client.get("/feeds")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Feeds</h1>" in page and "feed reader" in page
    for path in ("/feed.atom", "/feed.rss", "/feed.json", "/history.atom", "/maintenance.ics"):
        assert f'value="https://status.example.com{path}"' in page, path
    assert f'href="/components/{api.public_id}.atom"' in page
    # The copy buttons are an enhancement: hidden until the script (a file: CSP) shows them.
    assert "data-copy hidden" in page and 'src="/static/copy.js"' in page
    assert "<script>" not in page
    assert client.get(f"/components/{api.public_id}.atom").status_code == 200
