"""Uptime history on public surfaces: component pages, "how we count", badges and the embed.

All of them are public surfaces (snapshot-cached per page version, ETag/304, exported). The
one exception is `/components/<id>/badge.svg?metric=uptime`: surfaces are paths, so that
query is answered by a thin view from the snapshot of the path it names
(`/components/<id>/uptime.svg`), with the same bytes and headers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from statusboard import clock
from statusboard.config import settings_of
from statusboard.domain import badges
from statusboard.domain.errors import NotFound as DomainNotFound
from statusboard.domain.promises import format_minutes
from statusboard.domain.statuses import ComponentStatus
from statusboard.domain.uptime import BACKFILL_LIMIT, DOWNTIME_WEIGHT, Day, GroupDay, percent_text
from statusboard.models import Component, Incident, IncidentKind
from statusboard.services import timeline, uptime
from statusboard.services.components import find_component
from statusboard.web.snapshots import snapshots
from statusboard.web.surfaces import Body, surface

blueprint = Blueprint("uptime", __name__)
HTML = "text/html; charset=utf-8"
SVG = "image/svg+xml"
CALENDAR_MONTHS = 12


def _zone() -> str:
    return settings_of().page.time_zone


def _component(session: Session, public_id: str) -> Component:
    try:
        return find_component(session, public_id)
    except DomainNotFound:
        raise NotFound("There is no component at this address.") from None


def _calendar_days(today: date) -> int:
    month = today.replace(day=1)
    for _ in range(CALENDAR_MONTHS - 1):
        month = (month - timedelta(days=1)).replace(day=1)
    return (today - month).days + 1


@surface(blueprint, "/components/<public_id>")
def component(session: Session, public_id: str) -> Body:
    found = _component(session, public_id)
    now = clock.now()
    today = now.astimezone(ZoneInfo(_zone())).date()
    history = uptime.uptime(session, zone=_zone(), days=_calendar_days(today), now=now, only=found)
    own = history.find(found.public_id)
    if own is None:
        raise NotFound("There is no component at this address.")
    members = [found, *found.children] if found.is_group else [found]
    incidents = uptime.component_incidents(session, members)
    page = render_template(
        "public/component.html",
        history=own,
        months=uptime.months(own),
        incidents=incidents,
        ninety=uptime.last_days_percent(own, uptime.PAGE_DAYS),
    )
    return page, HTML


@surface(blueprint, "/uptime")
def how_we_count(session: Session) -> Body:
    weights = {status: DOWNTIME_WEIGHT[status] for status in ComponentStatus}
    page = render_template(
        "public/uptime_rules.html",
        weights=weights,
        zone=_zone(),
        backfill_days=BACKFILL_LIMIT.days,
    )
    return page, HTML


@surface(blueprint, "/badge.svg")
def page_badge(session: Session) -> Body:
    indicator = timeline.page_indicator(session)
    return badges.status_badge("status", indicator), SVG


@surface(blueprint, "/components/<public_id>/status.svg")
def component_status_badge(session: Session, public_id: str) -> Body:
    found = _component(session, public_id)
    return badges.status_badge(found.name, found.effective_status), SVG


@surface(blueprint, "/components/<public_id>/uptime.svg")
def component_uptime_badge(session: Session, public_id: str) -> Body:
    found = _component(session, public_id)
    history = uptime.uptime(session, zone=_zone(), only=found).find(found.public_id)
    percent = history.percent if history is not None else None
    return badges.uptime_badge(f"{found.name} uptime", percent), SVG


@blueprint.route("/components/<public_id>/badge.svg")
def component_badge(public_id: str) -> ResponseReturnValue:
    """The status badge, or with ?metric=uptime the 90-day uptime badge: the same bytes and
    headers as the surface it names."""
    metric = request.args.get("metric", "status")
    if metric not in ("status", "uptime"):
        raise NotFound("metric is status or uptime")
    rendered, _stale = snapshots(current_app).current(f"/components/{public_id}/{metric}.svg")
    response = Response(rendered.body, content_type=rendered.content_type)
    for name, value in rendered.headers:
        response.headers[name] = value
    return response.make_conditional(request)


@surface(blueprint, "/embed")
def embed(session: Session) -> Body:
    view = timeline.page_view(session)
    return render_template("public/embed.html", view=view), HTML


@surface(blueprint, "/embed.js")
def embed_script(session: Session) -> Body:
    base = settings_of().page.base_url
    script = render_template("public/embed.js", embed_url=f"{base}/embed")
    return script, "text/javascript; charset=utf-8"


@blueprint.app_template_filter("uptime_percent")
def _percent_filter(value: float | None) -> str:
    return percent_text(value)


@blueprint.app_template_filter("local_day")
def _day_filter(value: date) -> Markup:
    return Markup(f"{value:%a} {value.day} {value:%b %Y}")


def _local_date(value: datetime) -> date:
    return value.astimezone(ZoneInfo(_zone())).date()


@blueprint.app_template_filter("by_month")
def by_month(incidents: list[Incident]) -> list[tuple[date, list[Incident]]]:
    """Incidents (newest first) grouped by the month they started in, in the page's zone."""
    months: list[tuple[date, list[Incident]]] = []
    for incident in incidents:
        first = _local_date(incident.started_at).replace(day=1)
        if not months or months[-1][0] != first:
            months.append((first, []))
        months[-1][1].append(incident)
    return months


@blueprint.app_template_filter("by_day")
def by_day(incidents: list[Incident], days: int = 14) -> list[tuple[date, list[Incident]]]:
    """The last `days` days of the page's zone, newest first, each with the incidents that
    started on it (those started earlier, still listed, on the window's first day)."""
    today = _local_date(clock.now())
    listed: dict[date, list[Incident]] = {today - timedelta(days=n): [] for n in range(days)}
    oldest = today - timedelta(days=days - 1)
    for incident in sorted(incidents, key=lambda i: i.started_at, reverse=True):
        day = max(_local_date(incident.started_at), oldest)
        if day in listed and incident not in listed[day]:
            listed[day].append(incident)
    return list(listed.items())


@blueprint.app_template_filter("incident_duration")
def duration(incident: Incident) -> str:
    if incident.resolved_at is None:
        return f"ongoing for {format_minutes(clock.now() - incident.started_at)}"
    return f"lasted {format_minutes(incident.resolved_at - incident.started_at)}"


# -- the bars ------------------------------------------------------------------------------------
# Built here rather than by a Jinja macro: a page of 50 components has 4,500 of them, and the
# macro took about 1 s to render them where this takes a few ms (benchmarks/history_scale.py).


@lru_cache(maxsize=1024)
def _day_name(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _downtime_text(day: Day | GroupDay) -> str:
    if not day.has_data:
        return "no data"
    if day.downtime >= 0.5:
        return f"{round(day.downtime)} min downtime"
    return "no downtime"


def _bar(history: uptime.History, day: Day | GroupDay, link: Callable[[str], str]) -> str:
    """A <details> per day: its summary (the coloured bar) is named by its title, which a
    browser also shows on hover; opening it (focus + Enter/Space, or a tap) shows the day's
    figures and incidents with links. A day with nothing to list shows its title (CSS)."""
    worst = day.worst.value if day.worst is not None else "nodata"
    title = f"{_day_name(day.day)}: {_downtime_text(day)}"
    head = f'<details name="u{history.component.id}"><summary class="u-{worst}" title="{title}">'
    events = history.events.get(day.day)
    if not events and day.downtime < 0.5:
        return f"{head}</summary></details>"
    items = "".join(
        f'<li><a href="{link(e.public_id)}">{escape(e.name)}</a>'
        f"{' (maintenance)' if e.kind is IncidentKind.MAINTENANCE else ''}</li>"
        for e in events or ()
    )
    figures = f"{_downtime_text(day).capitalize()} · {percent_text(day.uptime_percent)}"
    return (
        f'{head}</summary><div class="ut"><b>{_day_name(day.day)}</b>{figures}'
        f"{f'<ul>{items}</ul>' if items else ''}</div></details>"
    )


def _incident_link() -> Callable[[str], str]:
    prefix = url_for("public.incident", public_id="-")[:-1]
    return lambda public_id: prefix + public_id


@blueprint.app_template_global("uptime_bars")
def uptime_bars(history: uptime.History) -> Markup:
    link = _incident_link()
    return Markup("".join(_bar(history, day, link) for day in history.days))


@blueprint.app_template_global("uptime_bar")
def uptime_bar(history: uptime.History, day: Day | GroupDay) -> Markup:
    return Markup(_bar(history, day, _incident_link()))
