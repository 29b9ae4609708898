"""Scheduling maintenance outside peak time, as an operator meets it on the form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.domain.peak_hours import parse_blackouts, parse_peak_hours
from statusboard.models import AuditEvent, Incident
from statusboard.services import components
from statusboard.services.audit import Actor

# START (conftest) is Tuesday 24 Nov 2026 12:00 UTC.


@pytest.fixture
def app_overrides():
    # Overrides skip the environment's parsing: give the parsed values.
    return {
        "PEAK_HOURS": parse_peak_hours(
            "Europe/Berlin mon-fri 08:00-18:00; America/New_York mon-fri 09:00-17:00"
        ),
        "BLACKOUT_DATES": parse_blackouts("2026-11-28"),
    }


@pytest.fixture
def database_component(session):
    created = components.create_component(session, name="Database", actor=Actor(None, "t"))
    session.commit()
    return created


def _schedule(client, start, end, **extra):
    return client.post(
        "/admin/maintenance/",
        data={
            "name": "Database upgrade",
            "scheduled_for": start,
            "scheduled_until": end,
            "body": "Writes pause for a few minutes.",
            "time_zone": "UTC",
            **extra,
        },
    )


def test_a_window_in_new_york_peak_hours_needs_confirming_and_is_audited(
    operator_client, session, clock, database_component
):
    # Monday 30 Nov 20:00-21:00 UTC is 15:00-16:00 in New York (EST).
    refused = _schedule(operator_client, "2026-11-30T20:00", "2026-11-30T21:00")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "overlaps peak hours Mon–Fri 09:00–17:00 America/New_York" in html
    assert 'name="confirm_peak"' in html
    session.rollback()
    assert session.scalar(select(Incident)) is None
    done = _schedule(operator_client, "2026-11-30T20:00", "2026-11-30T21:00", confirm_peak="1")
    assert done.status_code == 302
    session.rollback()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "maintenance.schedule"))
    assert event.detail["confirmed_despite"] == [
        "it overlaps peak hours Mon–Fri 09:00–17:00 America/New_York (30 Nov 20:00–21:00 UTC)"
    ]


def test_a_quiet_window_with_enough_notice_is_scheduled_without_a_question(
    operator_client, session, clock
):
    done = _schedule(operator_client, "2026-11-27T02:00", "2026-11-27T03:00")
    assert done.status_code == 302
    session.rollback()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "maintenance.schedule"))
    assert "confirmed_despite" not in event.detail


def test_short_notice_and_a_blackout_date_are_named(operator_client, clock):
    html = _schedule(operator_client, "2026-11-24T22:00", "2026-11-24T23:00").get_data(as_text=True)
    assert "it gives 10 h notice, less than the 48 h customers are promised" in html
    html = _schedule(operator_client, "2026-11-28T02:00", "2026-11-28T03:00").get_data(as_text=True)
    assert "overlaps blackout date 2026-11-28" in html


def test_suggest_a_time_offers_three_quiet_slots_of_the_window_length_and_fills_one_in(
    operator_client, clock
):
    page = operator_client.post(
        "/admin/maintenance/",
        data={
            "scheduled_for": "2026-11-30 20:00",
            "scheduled_until": "2026-11-30 22:00",
            "time_zone": "UTC",
            "suggest": "1",
        },
    )
    assert page.status_code == 200
    slots = re.findall(r'name="slot" value="([^"]+)"', page.get_data(as_text=True))
    assert len(slots) == 3
    for slot in slots:
        start, end = slot.split("/")
        assert end > start and not start.startswith("2026-11-28")  # the blackout
    filled = operator_client.post(
        "/admin/maintenance/", data={"slot": slots[0], "time_zone": "UTC"}
    ).get_data(as_text=True)
    assert f'value="{slots[0].split("/")[0].replace("T", " ")}"' in filled


def test_the_report_shows_the_share_of_maintenance_minutes_in_peak_hours_and_median_notice(
    operator_client, session, clock
):
    _schedule(operator_client, "2026-11-30T20:00", "2026-11-30T22:00", confirm_peak="1")
    _schedule(operator_client, "2026-11-27T02:00", "2026-11-27T04:00")
    clock.advance(timedelta(days=8))
    html = operator_client.get("/admin/report/?days=30").get_data(as_text=True)
    # 20:00-22:00 UTC is inside New York's peak (to 22:00 EST): 120 of 240 minutes.
    assert "120 of 240 min in 2 windows" in html and "50%" in html
    assert "median notice: 4 d 11 h" in html  # of 6 d 8 h and 2 d 14 h


def test_an_admin_sets_peak_hours_in_the_ui_and_scheduling_follows_them(
    admin_client, session, clock
):
    page = admin_client.get("/admin/peak-hours/").get_data(as_text=True)
    assert "America/New_York mon-fri 09:00-17:00" in page  # from the settings
    bad = admin_client.post(
        "/admin/peak-hours/", data={"peak_hours": "Europe/Berlin 08:00", "blackout_dates": ""}
    )
    assert bad.status_code == 400 and "write ZONE DAYS HH:MM-HH:MM" in bad.get_data(as_text=True)
    saved = admin_client.post(
        "/admin/peak-hours/",
        data={"peak_hours": "Asia/Tokyo sat,sun 00:00-24:00", "blackout_dates": "2026-12-24"},
    )
    assert saved.status_code == 302
    session.rollback()
    assert session.scalar(
        select(AuditEvent).where(AuditEvent.action == "planning.peak_hours")
    ).detail == {"peak_hours": "Asia/Tokyo sat,sun 00:00-24:00", "blackout_dates": "2026-12-24"}
    # New York's hours no longer count; Saturday in Tokyo does.
    assert _schedule(admin_client, "2026-11-30T20:00", "2026-11-30T21:00").status_code == 302
    refused = _schedule(admin_client, "2026-11-28T02:00", "2026-11-28T03:00")
    assert "overlaps peak hours Sat, Sun 00:00–24:00 Asia/Tokyo" in refused.get_data(as_text=True)


def test_an_operator_cannot_change_peak_hours(operator_client):
    assert operator_client.get("/admin/peak-hours/").status_code == 403
