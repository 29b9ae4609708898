"""Statuspage-compatible objects (../shared/reference/statuspage-v2.md): the one place that
knows the contract's keys, used by /api/v2 and by webhook payloads alike.

Every key is always present (null, never omitted); timestamps carry milliseconds and Z.
statusboard's own facts go under the single namespaced key "statusboard".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from statusboard.clock import iso
from statusboard.config import PageSettings
from statusboard.domain.honesty import PromiseState
from statusboard.domain.statuses import INDICATOR_DESCRIPTIONS, Indicator
from statusboard.models import Component, ComponentChange, Incident, IncidentKind, Update
from statusboard.services.uptime import History, Uptime

NAMESPACE = "statusboard"
# page.updated_at before anything was ever published (the key must never be null).
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PageInfo:
    """What the objects need to know about the page (from settings)."""

    name: str
    base_url: str
    time_zone: str
    updated_at: datetime | None
    # STATUSBOARD_PUBLIC_HONESTY: off keeps "overdue" and "ETA passed" internal.
    honesty: bool = True

    @property
    def id(self) -> str:
        # Stable for a deployment: derived from its public address.
        return hashlib.sha256(self.base_url.encode()).hexdigest()[:12]

    def incident_url(self, incident: Incident) -> str:
        return f"{self.base_url}/incidents/{incident.public_id}"


def page_info(page: PageSettings, updated_at: datetime | None) -> PageInfo:
    """The page as the app's settings describe it (config is Flask's app.config)."""
    return PageInfo(
        name=page.name,
        base_url=page.base_url,
        time_zone=page.time_zone,
        honesty=page.public_honesty,
        updated_at=updated_at,
    )


def _ts(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def page_object(page: PageInfo) -> dict[str, Any]:
    return {
        "id": page.id,
        "name": page.name,
        "url": page.base_url,
        "time_zone": page.time_zone,
        "updated_at": _ts(page.updated_at or NEVER),
    }


def status_object(indicator: Indicator) -> dict[str, Any]:
    return {"indicator": indicator.value, "description": INDICATOR_DESCRIPTIONS[indicator]}


def component_object(
    component: Component, page: PageInfo, position: int | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": component.public_id,
        "name": component.name,
        "status": component.effective_status.value,
        "created_at": _ts(component.created_at),
        "updated_at": _ts(component.updated_at),
        "position": position if position is not None else component.position,
        "description": component.description,
        "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "group_id": component.group.public_id if component.group is not None else None,
        "page_id": page.id,
        "group": component.is_group,
        "only_show_if_degraded": component.only_show_if_degraded,
    }
    if component.is_group:
        data["components"] = [child.public_id for child in component.children]
    return data


def update_object(
    update: Update, incident: Incident, tweet_id: str | None = None
) -> dict[str, Any]:
    changes = update.component_changes
    return {
        "id": update.public_id,
        "status": update.status,
        "body": update.body,
        "incident_id": incident.public_id,
        "created_at": _ts(update.created_at),
        "updated_at": _ts(update.edited_at or update.created_at),  # a corrected typo
        "display_at": _ts(update.display_at),
        "affected_components": [
            {
                "code": c.component.public_id,
                "name": c.component.name,
                "old_status": c.old_status.value,
                "new_status": c.new_status.value,
            }
            for c in changes
        ]
        if changes
        else None,
        "deliver_notifications": update.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": tweet_id,
    }


def promise_facts(incident: Incident, now: datetime, honesty: bool = True) -> dict[str, Any]:
    """statusboard's own facts about an incident's promises, under the namespaced key.

    Derived from the promises in force and the clock, exactly as the promise records are
    marked broken (strictly after the due time). With honesty off the passed/overdue facts
    are null: the page owner keeps them internal.
    """
    state = PromiseState(incident.next_update_at, incident.eta_at, now)
    overdue = state.update_overdue_by
    return {
        "eta": _ts(incident.eta_at),
        "eta_unknown": incident.is_open and incident.eta_at is None,
        "eta_passed": (incident.is_open and state.eta_passed) if honesty else None,
        "next_update_by": _ts(incident.next_update_at),
        "next_update_overdue": (overdue is not None) if honesty else None,
    }


def incident_object(
    incident: Incident, page: PageInfo, now: datetime, as_of: Update | None = None
) -> dict[str, Any]:
    """The incident (or scheduled maintenance) object, updates newest first. `as_of`: as it
    stood when that update was posted (a webhook tells of one update, even if sent later)."""
    maintenance = incident.kind is IncidentKind.MAINTENANCE
    updates = [u for u in incident.updates if as_of is None or u.id <= as_of.id]
    until = as_of.created_at if as_of is not None else None

    def seen(value: datetime | None) -> datetime | None:
        return value if value is None or until is None or value <= until else None

    data: dict[str, Any] = {
        "id": incident.public_id,
        "name": incident.name,
        "status": as_of.status if as_of is not None else incident.status,
        "impact": "maintenance" if maintenance else incident.impact.value,
        "created_at": _ts(incident.created_at),
        "updated_at": _ts(until or incident.updated_at),
        "started_at": _ts(incident.started_at),
        "monitoring_at": _ts(seen(incident.monitoring_at)),
        "resolved_at": _ts(seen(incident.resolved_at)),
        "shortlink": page.incident_url(incident),
        "page_id": page.id,
        "incident_updates": [update_object(u, incident) for u in reversed(updates)],
        "components": [component_object(c, page) for c in incident.components if not c.is_group],
    }
    if maintenance:
        data["scheduled_for"] = _ts(incident.scheduled_for)
        data["scheduled_until"] = _ts(incident.scheduled_until)
    data[NAMESPACE] = promise_facts(incident, now, page.honesty)
    return data


def component_list(
    components: Sequence[Component], page: PageInfo, history: Uptime | None = None
) -> list[dict[str, Any]]:
    """The flat list in page order; positions counted 1.. within each parent, so gaps left
    by deleted rows never show. With `history`, each carries its uptime under the namespace."""
    counters: dict[int | None, int] = {}
    result = []
    for component in components:
        counters[component.group_id] = counters.get(component.group_id, 0) + 1
        data = component_object(component, page, counters[component.group_id])
        found = history.find(component.public_id) if history is not None else None
        if found is not None:
            data[NAMESPACE] = {"uptime": uptime_facts(found)}
        result.append(data)
    return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def uptime_facts(history: History) -> dict[str, Any]:
    """A component's uptime over the window: the % and, per local day, downtime minutes, %
    and worst status (null: no data that day)."""
    return {
        "days": len(history.days),
        "percent": _rounded(history.percent),
        "daily": [
            {
                "date": day.day.isoformat(),
                "downtime_minutes": round(day.downtime, 2),
                "percent": _rounded(day.uptime_percent),
                "worst_status": day.worst.value if day.worst is not None else None,
            }
            for day in history.days
        ],
    }


def uptime_document(history: Uptime) -> dict[str, Any]:
    return {
        "time_zone": history.zone.key,
        "from": history.days[0].isoformat(),
        "to": history.days[-1].isoformat(),
        "components": [
            {
                "id": found.component.public_id,
                "name": found.component.name,
                "group": found.component.is_group,
                "group_id": found.component.group.public_id
                if found.component.group is not None
                else None,
                "uptime": uptime_facts(found),
            }
            for row in history.rows
            for found in (row, *row.children)
        ],
    }


def incident_list(
    incidents: Sequence[Incident], page: PageInfo, now: datetime
) -> list[dict[str, Any]]:
    return [incident_object(incident, page, now) for incident in incidents]


def webhook_envelope(
    page: PageInfo, indicator: Indicator, *, unsubscribe_url: str | None, generated_at: datetime
) -> dict[str, Any]:
    """The part of every webhook body that is not the event itself."""
    return {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": f"{page.base_url}/subscribe",
            "generated_at": _ts(generated_at),
        },
        "page": {
            "id": page.id,
            "status_indicator": indicator.value,
            "status_description": INDICATOR_DESCRIPTIONS[indicator],
        },
    }


def component_update_object(change: ComponentChange) -> dict[str, Any]:
    return {
        "id": f"{change.update.public_id}-{change.component.public_id}",
        "component_id": change.component.public_id,
        "old_status": change.old_status.value,
        "new_status": change.new_status.value,
        "created_at": _ts(change.update.created_at),
    }
