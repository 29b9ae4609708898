from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.domain.errors import InvalidInput, InvalidTransition, PromiseInThePast
from statusboard.domain.statuses import ComponentStatus, Impact, MaintenanceStatus
from statusboard.models import Incident
from statusboard.services import components, incidents, maintenance
from tests.conftest import QUIET, START


@pytest.fixture
def database_component(session, actor):
    db = components.create_component(session, name="Database", actor=actor)
    components.set_component_status(
        session, component=db, status=ComponentStatus.DEGRADED_PERFORMANCE, actor=actor
    )
    return db


def schedule(session, actor, parts=(), start=30, end=90, publishing_settings=QUIET):
    return maintenance.schedule_maintenance(
        session,
        name="Database upgrade",
        body="We upgrade the database.",
        actor=actor,
        scheduled_for=START + timedelta(minutes=start),
        scheduled_until=START + timedelta(minutes=end),
        components=list(parts),
        publishing_settings=publishing_settings,
    )


def test_window_starts_and_completes_on_time_leaving_what_an_open_incident_still_claims(
    session, clock, actor, database_component, publishing_settings
):
    cache = components.create_component(session, name="Cache", actor=actor)
    incidents.open_incident(
        session,
        name="Slow queries",
        impact=Impact.MINOR,
        body="Queries are slow.",
        actor=actor,
        component_changes={database_component: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    window = schedule(session, actor, [database_component, cache])
    session.commit()
    assert maintenance.advance_windows(session, publishing_settings=publishing_settings) == []
    clock.advance(timedelta(minutes=30))
    [started] = maintenance.advance_windows(session, publishing_settings=publishing_settings)
    assert window.status == MaintenanceStatus.IN_PROGRESS
    assert cache.status is ComponentStatus.UNDER_MAINTENANCE
    assert database_component.status is ComponentStatus.PARTIAL_OUTAGE  # the worst claim
    assert started.author is None
    clock.advance(timedelta(minutes=60))
    [completed] = maintenance.advance_windows(session, publishing_settings=publishing_settings)
    assert window.status == MaintenanceStatus.COMPLETED
    assert window.resolved_at == START + timedelta(minutes=90)
    assert cache.status is ComponentStatus.OPERATIONAL
    assert database_component.status is ComponentStatus.PARTIAL_OUTAGE  # still the incident's
    assert maintenance.advance_windows(session, publishing_settings=publishing_settings) == []


def test_window_an_operator_took_in_hand_is_not_completed_behind_their_back(
    session, clock, actor, publishing_settings
):
    window = schedule(session, actor)
    clock.advance(timedelta(minutes=30))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    clock.advance(timedelta(minutes=10))
    maintenance.update_maintenance(
        session,
        window=window,
        status=MaintenanceStatus.IN_PROGRESS,
        body="Halfway through.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=60))
    assert maintenance.advance_windows(session, publishing_settings=publishing_settings) == []
    assert window.status == MaintenanceStatus.IN_PROGRESS


def test_late_window_can_be_extended_and_completed_by_an_operator(
    session, clock, actor, publishing_settings
):
    window = schedule(session, actor)
    clock.advance(timedelta(minutes=30))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    new_end = START + timedelta(minutes=150)
    maintenance.update_maintenance(
        session,
        window=window,
        status=MaintenanceStatus.VERIFYING,
        body="Verifying; needs an hour more.",
        actor=actor,
        scheduled_until=new_end,
        publishing_settings=publishing_settings,
    )
    assert window.scheduled_until == new_end
    maintenance.update_maintenance(
        session,
        window=window,
        status=MaintenanceStatus.COMPLETED,
        body="Done.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    with pytest.raises(InvalidTransition):
        maintenance.update_maintenance(
            session,
            window=window,
            status=MaintenanceStatus.IN_PROGRESS,
            body="x",
            actor=actor,
            publishing_settings=publishing_settings,
        )


@pytest.mark.parametrize(
    "start, end, error",
    [(-5, 30, PromiseInThePast), (30, 20, InvalidInput), (30, 60 * 24 * 15, InvalidInput)],
)
def test_bad_windows_are_refused_and_save_nothing(session, clock, actor, start, end, error):
    with pytest.raises(error):
        schedule(session, actor, start=start, end=end)
    session.rollback()
    assert session.scalar(select(Incident)) is None


def test_page_api_and_calendar_show_the_window(
    client, session, clock, actor, database_component, publishing_settings
):
    window = schedule(session, actor, [database_component])
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Scheduled maintenance" in page and "Database upgrade" in page
    upcoming = client.get("/api/v2/scheduled-maintenances/upcoming.json").get_json()
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == [window.public_id]
    assert upcoming["scheduled_maintenances"][0]["scheduled_for"] == "2026-11-24T12:30:00.000Z"
    ics = client.get("/maintenance.ics")
    assert ics.content_type.startswith("text/calendar")
    body = ics.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "DTSTART:20261124T123000Z" in body
    assert f"UID:{window.public_id}@status.example.com" in body
    clock.advance(timedelta(minutes=31))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    session.commit()
    active = client.get("/api/v2/scheduled-maintenances/active.json").get_json()
    assert [m["status"] for m in active["scheduled_maintenances"]] == ["in_progress"]
    assert client.get("/api/v2/status.json").get_json()["status"]["indicator"] == "maintenance"


def test_operator_schedules_a_window_from_the_admin_form(
    operator_client, session, clock, database_component
):
    session.commit()
    response = operator_client.post(
        "/admin/maintenance/",
        data={
            "name": "Network work",
            "scheduled_for": "2026-11-24T14:00",
            "scheduled_until": "2026-11-24T15:00",
            "body": "Short blips possible.",
            "components": [database_component.public_id],
            "time_zone": "Europe/Berlin",
            "confirm_peak": "1",  # an hour's notice is less than the 48 h minimum
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    window = session.scalar(select(Incident))
    assert window.scheduled_for == START + timedelta(hours=1)  # 14:00 Berlin = 13:00 UTC
    bad = operator_client.post(
        "/admin/maintenance/",
        data={
            "name": "x",
            "scheduled_for": "2026-11-24T10:00",
            "scheduled_until": "2026-11-24T11:00",
            "body": "x",
            "time_zone": "UTC",
        },
    )
    assert bad.status_code == 400 and "must start in the future" in bad.get_data(as_text=True)


def test_window_end_is_a_promise_kept_on_time_or_broken_when_it_overruns(
    session, clock, actor, publishing_settings
):
    from statusboard.models import Promise

    on_time = schedule(session, actor)
    late = maintenance.schedule_maintenance(
        session,
        name="Network work",
        body="Switch swap.",
        actor=actor,
        scheduled_for=START + timedelta(minutes=30),
        scheduled_until=START + timedelta(hours=1),
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=30))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    maintenance.update_maintenance(
        session,
        window=late,
        status=MaintenanceStatus.IN_PROGRESS,
        body="Taking longer.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=60))
    maintenance.advance_windows(
        session, publishing_settings=publishing_settings
    )  # completes the first; the second is in hand
    clock.advance(timedelta(minutes=15))
    maintenance.update_maintenance(
        session,
        window=late,
        status=MaintenanceStatus.COMPLETED,
        body="Done, late.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    ends = {
        p.incident_id: p.status.value
        for p in session.scalars(select(Promise))
        if p.kind.value == "maintenance_end"
    }
    assert ends == {on_time.id: "kept", late.id: "broken"}
