"""Uptime history read from what the write path recorded: incidents, maintenance, manual
changes and backfilled incidents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.models import AuditEvent
from statusboard.services import components, incidents, uptime
from tests.conftest import START


def test_an_incident_shows_as_downtime_on_its_day_and_lists_itself(
    session, clock, actor, publishing_settings
):
    clock.freeze(START - timedelta(days=10))
    api = components.create_component(session, name="API", actor=actor)
    session.commit()
    clock.freeze(START - timedelta(days=2))
    incident = incidents.open_incident(
        session,
        name="API down",
        impact=Impact.MAJOR,
        body="Down.",
        actor=actor,
        publishing_settings=publishing_settings,
        component_changes={api: ComponentStatus.MAJOR_OUTAGE},
    )
    clock.advance(timedelta(minutes=90))
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(START)
    history = uptime.uptime(session, zone="UTC").find(api.public_id)
    assert history is not None
    by_day = {d.day: d for d in history.days}
    outage_day = by_day[date(2026, 11, 22)]
    assert outage_day.worst is ComponentStatus.MAJOR_OUTAGE
    assert outage_day.downtime == 90
    assert [e.name for e in history.events[date(2026, 11, 22)]] == ["API down"]
    assert not by_day[date(2026, 11, 13)].has_data  # before the component existed
    # 10 days of data at 12:00 on both ends: 14,400 minutes, 90 of them down.
    assert history.percent == pytest.approx(100 * (1 - 90 / 14400))


def test_a_status_set_by_hand_counts_from_when_it_was_set(session, clock, actor):
    clock.freeze(START - timedelta(days=1))
    web = components.create_component(session, name="Web", actor=actor)
    clock.freeze(START - timedelta(hours=1))
    components.set_component_status(
        session, component=web, status=ComponentStatus.PARTIAL_OUTAGE, actor=actor
    )
    session.commit()
    clock.freeze(START)
    history = uptime.uptime(session, zone="UTC").find(web.public_id)
    today = history.days[-1]
    assert today.minutes == {ComponentStatus.OPERATIONAL: 660, ComponentStatus.PARTIAL_OUTAGE: 60}


def test_a_backfilled_declaration_and_resolution_correct_the_history(
    session, clock, actor, publishing_settings
):
    clock.freeze(START - timedelta(days=20))
    api = components.create_component(session, name="API", actor=actor)
    session.commit()
    clock.freeze(START)
    began = START - timedelta(days=3, hours=2)  # 2026-11-21 10:00 UTC
    incident = incidents.open_incident(
        session,
        name="Missed outage",
        impact=Impact.MAJOR,
        body="We missed this.",
        actor=actor,
        publishing_settings=publishing_settings,
        started_at=began,
        component_changes={api: ComponentStatus.MAJOR_OUTAGE},
    )
    incidents.resolve(
        session,
        incident=incident,
        body="It had ended.",
        actor=actor,
        publishing_settings=publishing_settings,
        resolved_at=began + timedelta(minutes=45),
    )
    session.commit()
    assert incident.started_at == began
    assert incident.resolved_at == began + timedelta(minutes=45)
    history = uptime.uptime(session, zone="UTC").find(api.public_id)
    by_day = {d.day: d for d in history.days}
    assert by_day[date(2026, 11, 21)].downtime == 45
    assert by_day[date(2026, 11, 24)].downtime == 0  # nothing counted at the time of typing
    audited = session.query(AuditEvent).filter_by(action="incident.resolve").one()
    assert audited.detail["effective_at"] == (began + timedelta(minutes=45)).isoformat()


@pytest.mark.parametrize(
    ("started", "message"),
    [
        (START - timedelta(days=31), "at most 30 days back"),
        (START + timedelta(minutes=5), "cannot be in the future"),
    ],
)
def test_a_backfill_out_of_bounds_is_refused(
    session, clock, actor, publishing_settings, started, message
):
    with pytest.raises(InvalidInput, match=message):
        incidents.open_incident(
            session,
            name="Old",
            impact=Impact.MINOR,
            body="Old.",
            actor=actor,
            publishing_settings=publishing_settings,
            started_at=started,
        )


def test_a_resolution_before_the_last_update_is_refused(session, clock, actor, publishing_settings):
    incident = incidents.open_incident(
        session,
        name="Slow",
        impact=Impact.MINOR,
        body="Slow.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    with pytest.raises(InvalidInput, match="earlier than the incident"):
        incidents.resolve(
            session,
            incident=incident,
            body="Done.",
            actor=actor,
            publishing_settings=publishing_settings,
            resolved_at=START - timedelta(minutes=1),
        )


def test_a_group_averages_its_children_in_the_page_zone(session, clock, actor, publishing_settings):
    clock.freeze(datetime(2026, 11, 1, tzinfo=UTC))
    regions = components.create_component(session, name="Regions", actor=actor, is_group=True)
    eu = components.create_component(session, name="EU", actor=actor, group=regions)
    components.create_component(session, name="US", actor=actor, group=regions)
    session.commit()
    # 23:00-01:00 Berlin time on the 20th/21st (UTC+1): 22:00-00:00 UTC, one local day.
    clock.freeze(datetime(2026, 11, 20, 22, tzinfo=UTC))
    incident = incidents.open_incident(
        session,
        name="EU down",
        impact=Impact.MAJOR,
        body="Down.",
        actor=actor,
        publishing_settings=publishing_settings,
        component_changes={eu: ComponentStatus.MAJOR_OUTAGE},
    )
    clock.advance(timedelta(hours=2))
    incidents.resolve(
        session, incident=incident, body="Up.", actor=actor, publishing_settings=publishing_settings
    )
    session.commit()
    clock.freeze(START)
    found = uptime.uptime(session, zone="Europe/Berlin", days=30)
    group = found.find(regions.public_id)
    berlin = {d.day: d for d in found.find(eu.public_id).days}
    assert berlin[date(2026, 11, 20)].downtime == 60
    assert berlin[date(2026, 11, 21)].downtime == 60
    group_day = {d.day: d for d in group.days}[date(2026, 11, 20)]
    assert group_day.uptime_percent == pytest.approx((100 * (1 - 60 / 1440) + 100) / 2)
    assert group_day.worst is ComponentStatus.MAJOR_OUTAGE
    assert [e.name for e in group.events[date(2026, 11, 21)]] == ["EU down"]
