"""Feeds (Atom, RSS, JSON Feed 1.1) built from the timeline's incidents and updates.

Entries are computed once as neutral values and rendered in each format, so the formats can
never disagree. Every date comes from the data (never "now"), so the same data always gives
the same bytes. Promise text is worded without a running count ("overdue: promised by 13:20")
so it changes only when a promise actually passes, and the entry's `updated` moves then.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator
from markupsafe import escape

from statusboard.clock import iso
from statusboard.domain.honesty import PromiseState
from statusboard.domain.markup import plain_text
from statusboard.domain.text import printable, printable_line
from statusboard.models import Incident, Update
from statusboard.services.statuspage import NEVER, PageInfo

TITLE_SUMMARY_LENGTH = 100
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    html: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class Feed:
    """One feed: `url` is its own address without extension, `home` the page it follows."""

    url: str
    title: str
    description: str
    home: str
    author: str
    entries: list[Entry] = field(default_factory=list)
    fallback_updated: datetime | None = None

    @property
    def updated(self) -> datetime:
        return max((e.updated for e in self.entries), default=self.fallback_updated or NEVER)


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


class _Writer:
    """Shared wording for entries, in the page's time zone."""

    def __init__(self, page: PageInfo, now: datetime) -> None:
        self.page = page
        self.now = now
        self.zone = ZoneInfo(page.time_zone)

    def time(self, value: datetime) -> str:
        return value.astimezone(self.zone).strftime("%-d %b %Y, %H:%M %Z")

    def promise(self, incident: Incident) -> PromiseState:
        return PromiseState(incident.next_update_at, incident.eta_at, self.now)

    def revised_at(self, incident: Incident, since: datetime) -> datetime:
        """When what an entry says last changed: its data, or a promise passing."""
        moments = [since]
        if incident.is_open:
            state = self.promise(incident)
            if state.update_overdue and incident.next_update_at is not None:
                moments.append(incident.next_update_at)
            if state.eta_passed and incident.eta_at is not None:
                moments.append(incident.eta_at)
        return max(moments)

    def promise_html(self, incident: Incident) -> str:
        """ETA and next-update promise in force, saying plainly when one has passed."""
        if not incident.is_open:
            return ""
        state = self.promise(incident)
        lines = []
        if incident.eta_at is None:
            lines.append("Expected resolution: unknown.")
        elif state.eta_passed:
            lines.append(
                f"<strong>Expected resolution {self.time(incident.eta_at)} has "
                "passed</strong>; a revised estimate is due."
            )
        else:
            lines.append(f"Expected resolution: {self.time(incident.eta_at)}.")
        if incident.next_update_at is not None:
            when = self.time(incident.next_update_at)
            if state.update_overdue:
                lines.append(
                    f"<strong>Update overdue</strong>: the next update was promised by {when}."
                )
            else:
                lines.append(f"Next update by {when}.")
        return "".join(f"<p>{line}</p>" for line in lines)

    def update_html(self, update: Update) -> str:
        head = (
            f"<p><strong>{escape(status_label(update.status))}</strong> · "
            f"{self.time(update.display_at)}</p>"
        )
        changes = "".join(
            f"<li>{escape(c.component.name)}: {escape(status_label(c.old_status))} → "
            f"{escape(status_label(c.new_status))}</li>"
            for c in update.component_changes
        )
        said = ""
        if update.status not in {"resolved", "postmortem", "completed"}:
            eta = self.time(update.eta_at) if update.eta_at else "unknown"
            said = f"<p>Expected resolution: {eta}."
            if update.next_update_at is not None:
                said += f" Next update by {self.time(update.next_update_at)}."
            said += "</p>"
        signed = f"<p>— {escape(update.signed_by)}</p>" if update.signed_by else ""
        return head + update.html + (f"<ul>{changes}</ul>" if changes else "") + said + signed


def incident_entry(incident: Incident, page: PageInfo, now: datetime) -> Entry:
    """Statuspage's history semantics: one entry per incident, revised in place, the whole
    history in the body, newest update first."""
    writer = _Writer(page, now)
    history = "".join(f"<div>{writer.update_html(u)}</div>" for u in reversed(incident.updates))
    url = page.incident_url(incident)
    latest = incident.latest_update
    title = f"{incident.name} ({status_label(incident.status)})"
    return Entry(
        id=url,
        title=title,
        link=url,
        published=incident.created_at,
        updated=writer.revised_at(incident, incident.updated_at),
        html=writer.promise_html(incident) + history,
        facts=_facts(incident, latest, writer),
    )


def update_entry(update: Update, page: PageInfo, now: datetime) -> Entry:
    """One entry per update, with an id of its own so readers notify on every update."""
    writer = _Writer(page, now)
    incident = update.incident
    url = page.incident_url(incident)
    summary = " ".join(plain_text(update.html).split())
    if len(summary) > TITLE_SUMMARY_LENGTH:
        summary = summary[: TITLE_SUMMARY_LENGTH - 1].rstrip() + "…"
    is_latest = incident.latest_update is update
    html = writer.update_html(update)
    updated = update.created_at
    if is_latest:  # the promises in force are this update's: say so when one has passed
        state = writer.promise(incident)
        if incident.is_open and (state.update_overdue or state.eta_passed):
            html += writer.promise_html(incident)
        updated = writer.revised_at(incident, update.created_at)
    return Entry(
        id=f"{url}#update-{update.public_id}",
        title=f"{incident.name} — {status_label(update.status)}: {summary}",
        link=url,
        published=update.created_at,
        updated=updated,
        html=html,
        facts=_facts(incident, update, writer, current=is_latest),
    )


def _facts(
    incident: Incident, update: Update | None, writer: _Writer, current: bool = True
) -> dict[str, Any]:
    """The same facts as machine data, for JSON Feed readers."""
    state = writer.promise(incident)
    return {
        "incident_id": incident.public_id,
        "status": update.status if update else incident.status,
        "eta": iso(update.eta_at) if update and update.eta_at else None,
        "next_update_by": iso(update.next_update_at) if update and update.next_update_at else None,
        "next_update_overdue": current and incident.is_open and state.update_overdue,
        "eta_passed": current and incident.is_open and state.eta_passed,
    }


def history_feed(feed: Feed, incidents: Sequence[Incident], page: PageInfo, now: datetime) -> Feed:
    feed.entries.extend(incident_entry(i, page, now) for i in incidents if i.updates)
    return feed


def updates_feed(feed: Feed, updates: Sequence[Update], page: PageInfo, now: datetime) -> Feed:
    feed.entries.extend(update_entry(u, page, now) for u in updates)
    return feed


def _generator(feed: Feed, extension: str) -> FeedGenerator:
    """Every text is passed through `printable` (lxml refuses control characters, and one
    stored in an old row must not take the feed down). RSS readers take <title> and
    <description> as HTML whatever the spec says, so names are escaped once more there and
    reach the reader as text; Atom says type="text" and needs no such thing."""

    def line(value: str) -> str:
        value = printable_line(value)
        return str(escape(value)) if extension == "rss" else value

    generator = FeedGenerator()
    generator.id(f"{feed.url}.atom")
    generator.title(line(feed.title))
    generator.description(line(feed.description))
    generator.author({"name": printable_line(feed.author)})
    generator.language("en")
    # The RSS <link> is whichever link comes last: self first, the page last.
    generator.link(href=f"{feed.url}.{extension}", rel="self")
    generator.link(href=feed.home, rel="alternate")
    generator.updated(feed.updated)
    generator.lastBuildDate(feed.updated)
    generator.pubDate(feed.updated)
    for entry in feed.entries:
        item = generator.add_entry(order="append")
        item.id(entry.id)
        item.guid(entry.id, permalink=entry.id == entry.link)
        item.title(line(entry.title))
        item.link(href=entry.link, rel="alternate")
        item.published(entry.published)
        item.updated(entry.updated)
        item.pubDate(entry.published)
        html = printable(entry.html)
        item.description(html)
        item.content(html, type="html")  # after description(), which drops the type
    return generator


def render_atom(feed: Feed) -> str:
    return _generator(feed, "atom").atom_str(pretty=True).decode("utf-8")


def render_rss(feed: Feed) -> str:
    return _generator(feed, "rss").rss_str(pretty=True).decode("utf-8")


def render_json(feed: Feed) -> str:
    document = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home,
        "feed_url": f"{feed.url}.json",
        "description": feed.description,
        "language": "en",
        "authors": [{"name": feed.author}],
        "items": [
            {
                "id": entry.id,
                "url": entry.link,
                "title": entry.title,
                "content_html": entry.html,
                "date_published": iso(entry.published),
                "date_modified": iso(entry.updated),
                "_statusboard": entry.facts,
            }
            for entry in feed.entries
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)
