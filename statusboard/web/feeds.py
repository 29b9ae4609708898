"""Feeds: incident history (Statuspage semantics), every update, one incident, one component.

Atom, RSS and JSON Feed 1.1 are three renderings of the same entries, read through the same
timeline queries as the page. Responses carry ETag and Last-Modified and answer 304.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, render_template
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from statusboard import clock
from statusboard.config import settings_of
from statusboard.models import Component, Incident
from statusboard.services import feeds, statuspage, timeline
from statusboard.services.components import find_component, ordered_components
from statusboard.services.feeds import Feed
from statusboard.services.page import current_version
from statusboard.services.statuspage import PageInfo
from statusboard.web.surfaces import Body, surface

View = TypeVar("View", bound=Callable[..., Any])

blueprint = Blueprint("feeds", __name__)

RENDER = {
    "atom": (feeds.render_atom, feeds.ATOM),
    "rss": (feeds.render_rss, feeds.RSS),
    "json": (feeds.render_json, feeds.JSON_FEED),
}


def feed_routes(
    path: str, name: str, formats: tuple[str, ...] = ("atom", "rss", "json")
) -> Callable[[View], View]:
    """One plain rule and endpoint per format ("/feed.atom" -> feeds.updates_atom), so each
    feed is a path of its own for caches and the static export."""

    def register(view: View) -> View:
        for fmt in formats:
            surface(blueprint, f"{path}.{fmt}", f"{name}_{fmt}", defaults={"fmt": fmt})(view)
        return view

    return register


@surface(blueprint, "/feeds", "index")
def index(session: Session) -> Body:
    """A page for people: what a feed is, every feed with a copy button, the calendar."""
    page = render_template("public/feeds.html", components=ordered_components(session))
    return page, "text/html; charset=utf-8"


def _page(session: Session) -> PageInfo:
    return statuspage.page_info(settings_of().page, current_version(session)[1])


def _respond(feed: Feed, fmt: str) -> Body:
    render, content_type = RENDER[fmt]
    return render(feed), content_type


def _feed(page: PageInfo, path: str, title: str, description: str, home: str) -> Feed:
    return Feed(
        url=f"{page.base_url}{path}",
        title=f"{title} · {page.name}",
        description=description,
        home=home,
        author=page.name,
        fallback_updated=page.updated_at,
    )


@feed_routes("/history", "history", ("atom", "rss"))
def history(session: Session, fmt: str) -> Body:
    page = _page(session)
    feed = _feed(
        page,
        "/history",
        "Incident history",
        "Every incident and maintenance, revised as updates arrive.",
        page.base_url,
    )
    incidents = timeline.feed_incidents(session)
    return _respond(feeds.history_feed(feed, incidents, page, clock.now()), fmt)


@feed_routes("/feed", "updates")
def updates(session: Session, fmt: str) -> Body:
    page = _page(session)
    feed = _feed(
        page,
        "/feed",
        "Status updates",
        "Every public update, with its ETA and the next update promised.",
        page.base_url,
    )
    found = timeline.feed_updates(session)
    return _respond(feeds.updates_feed(feed, found, page, clock.now()), fmt)


@feed_routes("/incidents/<public_id>", "incident")
def incident(session: Session, public_id: str, fmt: str) -> Body:
    found: Incident | None = timeline.incident_with_timeline(session, public_id)
    if found is None:
        raise NotFound("There is no incident at this address.")
    page = _page(session)
    feed = _feed(
        page,
        f"/incidents/{found.public_id}",
        found.name,
        f"Updates on {found.name}.",
        page.incident_url(found),
    )
    found_updates = timeline.feed_updates(session, incident=found)
    return _respond(feeds.updates_feed(feed, found_updates, page, clock.now()), fmt)


@feed_routes("/components/<public_id>", "component")
def component(session: Session, public_id: str, fmt: str) -> Body:
    found: Component = find_component(session, public_id)
    page = _page(session)
    feed = _feed(
        page,
        f"/components/{found.public_id}",
        found.name,
        f"Updates on incidents affecting {found.name}.",
        page.base_url,
    )
    found_updates = timeline.feed_updates(session, component=found)
    return _respond(feeds.updates_feed(feed, found_updates, page, clock.now()), fmt)
