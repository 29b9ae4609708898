"""Feeds: they parse cleanly in the right version, ids are stable, dates come from the data,
conditional GET answers 304, and the body tells the ETA, the promise and when it is overdue."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import feedparser
import jsonschema
import pytest

from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.services import components, incidents
from statusboard.services import page as page_state
from tests.conftest import START

ATOM_NS = "{http://www.w3.org/2005/Atom}"
RFC822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

FEEDS = {
    "/history.atom": ("application/atom+xml; charset=utf-8", "atom10"),
    "/history.rss": ("application/rss+xml; charset=utf-8", "rss20"),
    "/feed.atom": ("application/atom+xml; charset=utf-8", "atom10"),
    "/feed.rss": ("application/rss+xml; charset=utf-8", "rss20"),
}

# What JSON Feed 1.1 (https://jsonfeed.org/version/1.1) requires; feedparser 6.0 reads only XML.
JSON_FEED_1_1 = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string"},
        "home_page_url": {"type": "string", "format": "uri"},
        "feed_url": {"type": "string", "format": "uri"},
        "authors": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "date_published": {"type": "string", "pattern": RFC3339.pattern},
                    "date_modified": {"type": "string", "pattern": RFC3339.pattern},
                },
            },
        },
    },
}


@pytest.fixture
def page(session, clock, actor, publishing_settings):
    api = components.create_component(session, name="API", actor=actor)
    email = components.create_component(session, name="Email", actor=actor)
    old = incidents.open_incident(
        session,
        name="Email delays",
        impact=Impact.MINOR,
        body="Emails are slow.",
        actor=actor,
        component_changes={email: ComponentStatus.DEGRADED_PERFORMANCE},
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=20))
    incidents.resolve(
        session,
        incident=old,
        body="Emails flow again.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=20))  # 12:40
    current = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="Errors on the **API**.",
        actor=actor,
        eta=START + timedelta(hours=2),
        next_update_at=START + timedelta(minutes=70),
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=10))  # 12:50
    incidents.post_update(
        session,
        incident=current,
        status=IncidentStatus.IDENTIFIED,
        body="A bad deploy; rolling back.",
        actor=actor,
        next_update_at=START + timedelta(minutes=80),
        publishing_settings=publishing_settings,
    )
    session.commit()
    return {"api": api, "email": email, "old": old, "current": current}


def _feed_paths(page):
    current, api = page["current"].public_id, page["api"].public_id
    paths = dict(FEEDS)
    paths[f"/incidents/{current}.atom"] = FEEDS["/feed.atom"]
    paths[f"/incidents/{current}.rss"] = FEEDS["/feed.rss"]
    paths[f"/components/{api}.atom"] = FEEDS["/feed.atom"]
    paths[f"/components/{api}.rss"] = FEEDS["/feed.rss"]
    return paths


def _parse(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response, feedparser.parse(response.data)


def test_every_feed_parses_cleanly_with_ids_titles_links_and_dates(client, page):
    for path, (content_type, version) in _feed_paths(page).items():
        response, parsed = _parse(client, path)
        assert response.headers["Content-Type"] == content_type, path
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.version == version, path
        assert parsed.entries, path
        for entry in parsed.entries:
            assert entry.id and entry.title and entry.link, path
            assert entry.link.startswith("https://status.example.com/incidents/")


def test_json_feed_declares_version_1_1_with_string_ids(client, page):
    response = client.get("/feed.json")
    assert response.headers["Content-Type"] == "application/feed+json; charset=utf-8"
    document = json.loads(response.data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "https://status.example.com/feed.json"
    assert document["home_page_url"] == "https://status.example.com"
    assert len(document["items"]) == 4
    for item in document["items"]:
        assert isinstance(item["id"], str)
        assert item["title"] and item["url"] and item["content_html"]
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
    newest = document["items"][0]
    assert newest["_statusboard"] == {
        "incident_id": page["current"].public_id,
        "status": "identified",
        "eta": "2026-11-24T14:00:00.000Z",
        "next_update_by": "2026-11-24T13:20:00.000Z",
        "next_update_overdue": False,
        "eta_passed": False,
    }
    jsonschema.validate(document, JSON_FEED_1_1)


def test_rss_dates_are_rfc822_and_channel_links_self_then_page(client, page):
    for path in ("/history.rss", "/feed.rss"):
        root = ElementTree.fromstring(client.get(path).data)
        channel = root.find("channel")
        assert channel.findtext("link") == "https://status.example.com"
        [self_link] = channel.findall(f"{ATOM_NS}link")
        assert self_link.get("rel") == "self"
        assert self_link.get("href") == f"https://status.example.com{path}"
        assert RFC822.match(channel.findtext("lastBuildDate"))
        for item in channel.findall("item"):
            assert RFC822.match(item.findtext("pubDate")), item.findtext("pubDate")
            assert item.findtext("guid") and item.findtext("title") and item.findtext("link")
            assert item.findtext("description")


def test_atom_entries_have_html_content_and_rfc3339_dates(client, page):
    for path in ("/history.atom", "/feed.atom"):
        root = ElementTree.fromstring(client.get(path).data)
        assert RFC3339.match(root.findtext(f"{ATOM_NS}updated"))
        for entry in root.findall(f"{ATOM_NS}entry"):
            assert entry.find(f"{ATOM_NS}content").get("type") == "html"
            assert RFC3339.match(entry.findtext(f"{ATOM_NS}published"))
            assert RFC3339.match(entry.findtext(f"{ATOM_NS}updated"))
            link = entry.find(f"{ATOM_NS}link")
            assert link.get("rel", "alternate") == "alternate"  # Atom's default rel


def test_history_has_one_entry_per_incident_revised_in_place(
    client, session, page, clock, actor, publishing_settings
):
    _, before = _parse(client, "/history.atom")
    current_url = f"https://status.example.com/incidents/{page['current'].public_id}"
    assert [e.id for e in before.entries] == [
        current_url,
        f"https://status.example.com/incidents/{page['old'].public_id}",
    ]
    body = before.entries[0].content[0].value
    assert body.index("A bad deploy") < body.index("Errors on the <strong>API</strong>")
    clock.advance(timedelta(minutes=5))
    incidents.resolve(
        session,
        incident=page["current"],
        body="Rolled back; all good.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    _, after = _parse(client, "/history.atom")
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert after.entries[0].title == "API errors (Resolved)"
    assert after.entries[0].updated == "2026-11-24T12:55:00+00:00"
    assert "Rolled back; all good." in after.entries[0].content[0].value
    rss = feedparser.parse(client.get("/history.rss").data)
    assert rss.entries[0].id == current_url  # RSS guid is the incident's address


def test_update_feed_has_one_entry_per_update_with_stable_ids(
    client, session, page, clock, actor, publishing_settings
):
    first = client.get("/feed.atom").data
    assert client.get("/feed.atom").data == first  # rebuilt from the same data: same bytes
    before = feedparser.parse(first)
    assert len(before.entries) == 4
    newest = before.entries[0]
    assert newest.title == "API errors — Identified: A bad deploy; rolling back."
    assert newest.id.startswith(
        f"https://status.example.com/incidents/{page['current'].public_id}#update-"
    )
    clock.advance(timedelta(minutes=5))
    incidents.post_update(
        session,
        incident=page["current"],
        status=IncidentStatus.MONITORING,
        body="Watching the error rate.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    after = feedparser.parse(client.get("/feed.atom").data)
    assert [e.id for e in after.entries[1:]] == [e.id for e in before.entries]
    assert after.entries[0].title.startswith("API errors — Monitoring: Watching")


def test_update_body_carries_eta_promise_and_says_when_overdue(client, session, page, clock):
    entry = feedparser.parse(client.get("/feed.atom").data).entries[0]
    body = entry.content[0].value
    assert "Expected resolution: 24 Nov 2026, 14:00 UTC." in body
    assert "Next update by 24 Nov 2026, 13:20 UTC." in body
    assert "overdue" not in body
    assert entry.updated == "2026-11-24T12:50:00+00:00"
    clock.advance(timedelta(minutes=37))  # 13:27: the 13:20 promise has passed
    page_state.bump_version(session)  # as the promise check does when a promise passes
    session.commit()
    entry = feedparser.parse(client.get("/feed.atom").data).entries[0]
    body = entry.content[0].value
    assert (
        "<strong>Update overdue</strong>: the next update was promised by "
        "24 Nov 2026, 13:20 UTC." in body
    )
    assert entry.updated == "2026-11-24T13:20:00+00:00"  # revised when the promise passed
    history = feedparser.parse(client.get("/history.atom").data).entries[0]
    assert "Update overdue" in history.content[0].value


def test_unknown_eta_is_said_in_the_feed(client, session, clock, actor, publishing_settings):
    incidents.open_incident(
        session,
        name="Login failures",
        impact=Impact.CRITICAL,
        body="Investigating.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    body = feedparser.parse(client.get("/feed.rss").data).entries[0].description
    assert "Expected resolution: unknown." in body
    assert "Next update by 24 Nov 2026, 12:15 UTC." in body


def test_conditional_get_returns_304_until_the_data_changes(
    client, session, page, clock, actor, publishing_settings
):
    for path in ("/feed.atom", "/history.rss", "/feed.json"):
        response = client.get(path)
        assert response.headers["Last-Modified"] == "Tue, 24 Nov 2026 12:50:00 GMT"
        by_etag = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert by_etag.status_code == 304 and by_etag.data == b""
        by_date = client.get(path, headers={"If-Modified-Since": response.headers["Last-Modified"]})
        assert by_date.status_code == 304
    etag = client.get("/feed.atom").headers["ETag"]
    clock.advance(timedelta(minutes=1))
    incidents.post_update(
        session,
        incident=page["current"],
        status=IncidentStatus.IDENTIFIED,
        body="Still rolling back.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    changed = client.get("/feed.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["Last-Modified"] == "Tue, 24 Nov 2026 12:51:00 GMT"


def test_incident_and_component_feeds_hold_only_their_updates(client, page):
    incident = feedparser.parse(client.get(f"/incidents/{page['current'].public_id}.atom").data)
    assert [e.title.split(" — ")[0] for e in incident.entries] == ["API errors"] * 2
    email = feedparser.parse(client.get(f"/components/{page['email'].public_id}.rss").data)
    assert [e.title.split(" — ")[0] for e in email.entries] == ["Email delays"] * 2
    assert client.get("/incidents/nope.atom").status_code == 404
    assert client.get("/components/nope.atom").status_code == 404
    # the incident page itself is still served at the address without an extension
    assert client.get(f"/incidents/{page['current'].public_id}").status_code == 200


def test_public_pages_link_to_their_feeds(client, page):
    index = client.get("/").get_data(as_text=True)
    for href, kind in (
        ("/feed.atom", "atom"),
        ("/feed.rss", "rss"),
        ("/history.atom", "atom"),
        ("/history.rss", "rss"),
        ("/feed.json", "feed"),
    ):
        assert re.search(
            rf'<link rel="alternate" type="application/{kind}\+(xml|json)" '
            rf'title="[^"]+" href="{re.escape(href)}">',
            index,
        ), href
    incident_page = client.get(f"/incidents/{page['current'].public_id}").get_data(as_text=True)
    assert f'href="/incidents/{page["current"].public_id}.atom"' in incident_page
