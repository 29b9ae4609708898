"""Maintenance planned outside peak time: quiet slots to suggest, and how the team did (the
share of maintenance minutes inside peak hours, the median notice given). Rules are in
domain/peak_hours.py; these are the queries around them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import PlanningSettings
from statusboard.domain import peak_hours
from statusboard.domain.accountability import median
from statusboard.domain.errors import InvalidInput
from statusboard.models import Incident, IncidentKind, PeakHoursSetting
from statusboard.services import audit, maintenance
from statusboard.services.audit import Actor


def _lines(text: str) -> str:
    """One entry a line in the admin form, ";" in the setting: either is accepted."""
    return ";".join(line for line in text.replace("\r", "").split("\n") if line.strip())


def effective(session: Session, configured: PlanningSettings) -> PlanningSettings:
    """The settings with what admins set in the UI, which replaces the environment's."""
    row = session.get(PeakHoursSetting, 1)
    if row is None:
        return configured
    return replace(
        configured,
        peak_hours=peak_hours.PeakHours(
            windows=peak_hours.parse_peak_hours(_lines(row.peak_hours)),
            blackouts=peak_hours.parse_blackouts(_lines(row.blackout_dates).replace(";", ",")),
            blackout_zone=configured.peak_hours.blackout_zone,
        ),
    )


def save_peak_hours(
    session: Session, *, peak_hours_text: str, blackout_dates: str, actor: Actor
) -> None:
    """Check and store the admins' peak hours and blackout dates (audited)."""
    try:
        peak_hours.parse_peak_hours(_lines(peak_hours_text))
    except ValueError as exc:
        raise InvalidInput(str(exc), field="peak_hours") from None
    try:
        peak_hours.parse_blackouts(_lines(blackout_dates).replace(";", ","))
    except ValueError as exc:
        raise InvalidInput(str(exc), field="blackout_dates") from None
    row = session.get(PeakHoursSetting, 1) or PeakHoursSetting(id=1)
    row.peak_hours = peak_hours_text.strip()
    row.blackout_dates = blackout_dates.strip()
    row.updated_at = clock.now()
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="planning.peak_hours",
        subject_type="page",
        subject_id="peak_hours",
        peak_hours=row.peak_hours,
        blackout_dates=row.blackout_dates,
    )


def suggest(
    session: Session, planning: PlanningSettings, *, length: timedelta, now: datetime
) -> list[peak_hours.Interval]:
    """Three quiet slots of `length` in the next 14 days, clear of peak hours, blackouts and
    the windows already planned, after the minimum notice."""
    planned = [
        (w.scheduled_for, w.scheduled_until)
        for w in [*maintenance.active(session), *maintenance.upcoming(session)]
        if w.scheduled_for is not None and w.scheduled_until is not None
    ]
    return peak_hours.suggest(
        planning.peak_hours, length=length, now=now, min_notice=planning.min_notice, busy=planned
    )


@dataclass(frozen=True)
class PlanningFigures:
    windows: int
    minutes: int
    minutes_in_peak: int
    median_notice: timedelta | None

    @property
    def percent_in_peak(self) -> int | None:
        return self.minutes_in_peak * 100 // self.minutes if self.minutes else None


def figures(
    session: Session, planning: PlanningSettings, *, since: datetime, now: datetime
) -> PlanningFigures:
    """Windows planned to start in [since, now): their minutes, how many fell in peak hours
    or blackouts (as the settings say now), and the notice each gave (start − scheduling)."""
    windows = session.scalars(
        select(Incident).where(
            Incident.kind == IncidentKind.MAINTENANCE,
            Incident.scheduled_for >= since,
            Incident.scheduled_for < now,
        )
    ).all()
    minutes = in_peak = 0
    notices = []
    for window in windows:
        assert window.scheduled_for is not None and window.scheduled_until is not None
        minutes += int((window.scheduled_until - window.scheduled_for).total_seconds() // 60)
        in_peak += peak_hours.minutes_in_peak(
            planning.peak_hours, window.scheduled_for, window.scheduled_until
        )
        notices.append(window.scheduled_for - window.created_at)
    return PlanningFigures(len(windows), minutes, in_peak, median(notices))
