"""The maintenance calendar (/maintenance.ics): upcoming and running windows as iCalendar
events, so teams see planned work in their own calendars. Deterministic: every date comes
from the data."""

from __future__ import annotations

from icalendar import Calendar, Event

from statusboard.domain import markup
from statusboard.domain.text import printable, printable_line
from statusboard.models import Incident
from statusboard.services.statuspage import PageInfo


def maintenance_calendar(windows: list[Incident], page: PageInfo) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//statusboard//maintenance//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{printable_line(page.name)} maintenance")
    calendar.add("method", "PUBLISH")
    host = page.base_url.split("://", 1)[-1].split("/", 1)[0]
    for window in windows:
        event = Event()
        event.add("uid", f"{window.public_id}@{host}")
        event.add("summary", printable_line(window.name))
        event.add("dtstart", window.scheduled_for)
        event.add("dtend", window.scheduled_until)
        event.add("dtstamp", window.updated_at)
        event.add("last-modified", window.updated_at)
        event.add("sequence", len(window.updates))
        event.add("url", page.incident_url(window))
        latest = window.updates[-1] if window.updates else None
        affected = ", ".join(printable_line(c.name) for c in window.components)
        description = printable(markup.plain_text(latest.html)) if latest else ""
        if affected:
            description = f"{description}\n\nAffects: {affected}".strip()
        event.add("description", description)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
