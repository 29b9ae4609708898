"""Statuses, impacts, their order and the page rollup (Statuspage-compatible values)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from statusboard.domain.errors import InvalidTransition


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        return self in OPEN_INCIDENT_STATUSES


OPEN_INCIDENT_STATUSES = frozenset(
    {IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING}
)


class MaintenanceStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


ACTIVE_MAINTENANCE_STATUSES = frozenset(
    {MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING}
)


def check_maintenance_transition(current: MaintenanceStatus, new: MaintenanceStatus) -> None:
    """Windows only move forward: scheduled -> in progress -> verifying -> completed."""
    order = list(MaintenanceStatus)
    if current is MaintenanceStatus.COMPLETED:
        raise InvalidTransition("this maintenance is completed; schedule a new one", field="status")
    if order.index(new) < order.index(current):
        raise InvalidTransition(
            f"a maintenance that is {current.label.lower()} cannot go back to {new.label.lower()}",
            field="status",
        )


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Indicator(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"


INDICATOR_DESCRIPTIONS = {
    Indicator.NONE: "All Systems Operational",
    Indicator.MINOR: "Minor Service Outage",
    Indicator.MAJOR: "Partial System Outage",
    Indicator.CRITICAL: "Major System Outage",
    Indicator.MAINTENANCE: "Service Under Maintenance",
}

_SEVERITY = {
    Indicator.NONE: 0,
    Indicator.MAINTENANCE: 1,
    Indicator.MINOR: 2,
    Indicator.MAJOR: 3,
    Indicator.CRITICAL: 4,
}

_COMPONENT_INDICATOR = {
    ComponentStatus.OPERATIONAL: Indicator.NONE,
    ComponentStatus.UNDER_MAINTENANCE: Indicator.MAINTENANCE,
    ComponentStatus.DEGRADED_PERFORMANCE: Indicator.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Indicator.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Indicator.CRITICAL,
}

_IMPACT_INDICATOR = {
    Impact.NONE: Indicator.NONE,
    Impact.MINOR: Indicator.MINOR,
    Impact.MAJOR: Indicator.MAJOR,
    Impact.CRITICAL: Indicator.CRITICAL,
}

_COMPONENT_SEVERITY = {status: _SEVERITY[ind] for status, ind in _COMPONENT_INDICATOR.items()}


def worst_component_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    """A group's status: the worst of its children (operational when it has none)."""
    return max(statuses, key=_COMPONENT_SEVERITY.__getitem__, default=ComponentStatus.OPERATIONAL)


def rollup(
    component_statuses: Iterable[ComponentStatus],
    open_impacts: Iterable[Impact],
    maintenance_active: bool = False,
) -> Indicator:
    """The page indicator: the worst of unresolved incident impact and component status."""
    candidates = [Indicator.MAINTENANCE] if maintenance_active else []
    candidates += [_COMPONENT_INDICATOR[s] for s in component_statuses]
    candidates += [_IMPACT_INDICATOR[i] for i in open_impacts]
    return max(candidates, key=_SEVERITY.__getitem__, default=Indicator.NONE)


# Statuses after which an incident or maintenance promises nothing more.
FINISHED_STATUSES = frozenset({"resolved", "postmortem", "completed"})


def is_finished_status(status: str) -> bool:
    """Resolved, postmortem (incidents) or completed (maintenance): the loop closes."""
    return str(status) in FINISHED_STATUSES


def check_incident_transition(current: IncidentStatus, new: IncidentStatus) -> None:
    """Incidents move freely among the open statuses; resolved only goes on to postmortem."""
    if current is IncidentStatus.POSTMORTEM:
        raise InvalidTransition(
            "a postmortem is final; open a new incident instead", field="status"
        )
    if current is IncidentStatus.RESOLVED and new not in {
        IncidentStatus.RESOLVED,
        IncidentStatus.POSTMORTEM,
    }:
        raise InvalidTransition(
            "this incident is resolved; open a new incident if the problem is back", field="status"
        )
    if new is IncidentStatus.POSTMORTEM and current is not IncidentStatus.RESOLVED:
        raise InvalidTransition(
            "resolve the incident before posting its postmortem", field="status"
        )
