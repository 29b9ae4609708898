"""The page version moves on at midnight in the page's time zone, once."""

from __future__ import annotations

from datetime import UTC, datetime

from statusboard.services import page


def test_the_first_check_of_a_new_local_day_bumps_the_version_once(session, clock):
    clock.freeze(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))  # 23:30 in Berlin
    page.bump_version(session)
    session.commit()
    version = page.current_version(session)[0]
    assert not page.start_the_day(session, zone="Europe/Berlin", now=clock.now())
    clock.freeze(datetime(2026, 11, 24, 23, 5, tzinfo=UTC))  # 00:05 in Berlin, still 24 in UTC
    assert page.start_the_day(session, zone="Europe/Berlin", now=clock.now())
    session.commit()
    assert not page.start_the_day(session, zone="Europe/Berlin", now=clock.now())
    assert page.current_version(session)[0] == version + 1


def test_a_page_that_changed_today_is_left_alone(session, clock):
    page.bump_version(session)
    session.commit()
    assert not page.start_the_day(session, zone="UTC", now=clock.now())
