"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, has_request_context, request
from markupsafe import Markup, escape

from statusboard.clock import iso
from statusboard.config import settings_of
from statusboard.domain.honesty import ETA_PASSED
from statusboard.domain.promises import format_minutes
from statusboard.domain.statuses import (
    OPEN_INCIDENT_STATUSES,
    ComponentStatus,
    Impact,
    IncidentStatus,
)
from statusboard.models import Incident


def time_tag(value: datetime | None, style: str = "datetime") -> Markup:
    """<time> in UTC; static/time.js rewrites it into the reader's zone (still right without).
    On operators' pages: the page's zone, 24-hour, fixed (see operator_time_tag)."""
    if value is None:
        return Markup("")
    if has_request_context() and (request.blueprint or "").startswith("admin"):
        return operator_time_tag(value, style)
    value = value.astimezone(UTC)
    if style == "time":
        text = value.strftime("%H:%M UTC")
    elif style == "date":
        text = value.strftime("%-d %b %Y")
    else:
        text = value.strftime("%-d %b %Y, %H:%M UTC")
    return Markup(f'<time datetime="{iso(value)}" data-style="{escape(style)}">{text}</time>')


def operator_time_tag(value: datetime, style: str = "datetime") -> Markup:
    """Operators read and type times in one zone, the page's, in one 24-hour format
    ("24 Nov 2026 13:00 CET"), whatever the browser's locale: the banner, the "On it" pause
    and the forms agree. `data-fixed` tells static/time.js to leave it alone."""
    local = value.astimezone(ZoneInfo(settings_of().page.time_zone))
    if style == "time":
        text = local.strftime("%H:%M %Z")
    elif style == "date":
        text = local.strftime("%-d %b %Y")
    else:
        text = local.strftime("%-d %b %Y %H:%M %Z")
    return Markup(
        f'<time datetime="{iso(value.astimezone(UTC))}" data-style="{escape(style)}" '
        f"data-fixed>{text}</time>"
    )


def page_zone_time(value: datetime) -> str:
    zone = ZoneInfo(settings_of().page.time_zone)
    return value.astimezone(zone).strftime("%H:%M %Z")


def page_zone_date(value: datetime) -> str:
    """ "12 Dec": a date promised in the page's zone (a postmortem's), the same for everyone."""
    local = value.astimezone(ZoneInfo(settings_of().page.time_zone))
    return f"{local.day} {local:%b %Y}"


def eta_revisions(incident: Incident) -> int:
    """How often the ETA changed after the first update said it."""
    etas = [u.eta_at for u in incident.updates if u.status in OPEN_INCIDENT_STATUSES]
    return sum(1 for before, after in zip(etas, etas[1:], strict=False) if before != after)


def revised(count: int) -> str:
    """ "revised once", "revised twice", "revised 3 times": one wording everywhere."""
    if count == 1:
        return "revised once"
    if count == 2:
        return "revised twice"
    return f"revised {count} times"


def register_templating(app: Flask) -> None:
    app.jinja_env.filters.update(
        time_tag=time_tag,
        iso=iso,
        page_zone_time=page_zone_time,
        page_zone_date=page_zone_date,
        minutes=format_minutes,
        revised=revised,
    )
    app.jinja_env.globals.update(
        ComponentStatus=ComponentStatus,
        Impact=Impact,
        IncidentStatus=IncidentStatus,
        eta_revisions=eta_revisions,
        ETA_PASSED=ETA_PASSED,
    )
    # A global, not a context variable, so imported macros (promise_lines) see it too.
    app.jinja_env.globals["public_honesty"] = settings_of(app).page.public_honesty
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _page() -> dict[str, object]:
        return {
            "page_name": settings_of(app).page.name,
            "base_url": settings_of(app).page.base_url,
            "refresh_seconds": settings_of(app).web.page_refresh_seconds,
        }
