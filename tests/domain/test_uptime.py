"""Uptime days from status spans: the documented minutes and percentages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statusboard.domain.statuses import ComponentStatus as S
from statusboard.domain.uptime import (
    Span,
    daily,
    group_days,
    group_percent,
    spans_from_changes,
    window_days,
    window_percent,
)

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def days_of(spans: list[Span], first: date, count: int, zone: ZoneInfo = UTC_ZONE, **kw):  # type: ignore[no-untyped-def]
    days = [first + timedelta(days=n) for n in range(count)]
    now = kw.pop("now", datetime(2027, 1, 1, tzinfo=UTC))
    created_at = kw.pop("created_at", LONG_AGO)
    return daily(spans, days=days, zone=zone, created_at=created_at, now=now)


def test_a_quiet_day_is_1440_operational_minutes_and_100_percent() -> None:
    (day,) = days_of([], date(2026, 11, 20), 1)
    assert day.minutes == {S.OPERATIONAL: 1440}
    assert day.worst is S.OPERATIONAL
    assert day.downtime == 0
    assert day.uptime_percent == 100


def test_overlapping_incidents_count_the_worst_status_once() -> None:
    # Partial outage 10:00-12:00, major outage 11:00-11:30 on the same component.
    spans = [
        Span(at(20, 10), at(20, 12), S.PARTIAL_OUTAGE),
        Span(at(20, 11), at(20, 11, 30), S.MAJOR_OUTAGE),
    ]
    (day,) = days_of(spans, date(2026, 11, 20), 1)
    assert day.minutes == {S.OPERATIONAL: 1320, S.PARTIAL_OUTAGE: 90, S.MAJOR_OUTAGE: 30}
    assert day.worst is S.MAJOR_OUTAGE
    assert day.downtime == pytest.approx(30 + 0.3 * 90)  # 57 minutes
    assert day.uptime_percent == pytest.approx(100 * (1 - 57 / 1440))


def test_a_change_crossing_midnight_in_the_page_zone_splits_between_local_days() -> None:
    # 22:00-02:00 New York time (UTC-5 in November) is 03:00-07:00 UTC on the next UTC day.
    spans = [Span(at(21, 3), at(21, 7), S.MAJOR_OUTAGE)]
    first, second = days_of(spans, date(2026, 11, 20), 2, NEW_YORK)
    assert first.minutes[S.MAJOR_OUTAGE] == 120
    assert second.minutes[S.MAJOR_OUTAGE] == 120
    assert first.downtime == second.downtime == 120
    # In UTC the same outage falls on one day.
    (utc_day,) = days_of(spans, date(2026, 11, 21), 1)
    assert utc_day.downtime == 240


def test_dst_days_have_23_and_25_hours() -> None:
    spring = days_of([], date(2026, 3, 29), 1, BERLIN)[0]
    autumn = days_of([], date(2026, 10, 25), 1, BERLIN)[0]
    assert spring.counted == 23 * 60
    assert autumn.counted == 25 * 60
    # One hour of major outage on the 25-hour day: 1 - 60/1500.
    outage = [
        Span(
            datetime(2026, 10, 25, 9, tzinfo=UTC),
            datetime(2026, 10, 25, 10, tzinfo=UTC),
            S.MAJOR_OUTAGE,
        )
    ]
    (day,) = days_of(outage, date(2026, 10, 25), 1, BERLIN)
    assert day.uptime_percent == pytest.approx(96.0)


def test_maintenance_is_its_own_colour_and_no_downtime() -> None:
    spans = [Span(at(20, 1), at(20, 3), S.UNDER_MAINTENANCE)]
    (day,) = days_of(spans, date(2026, 11, 20), 1)
    assert day.worst is S.UNDER_MAINTENANCE
    assert day.minutes[S.UNDER_MAINTENANCE] == 120
    assert day.downtime == 0
    assert day.uptime_percent == 100


def test_degraded_performance_counts_no_downtime_and_partial_outage_30_percent() -> None:
    spans = [
        Span(at(20, 0), at(20, 10), S.DEGRADED_PERFORMANCE),
        Span(at(20, 10), at(20, 20), S.PARTIAL_OUTAGE),
    ]
    (day,) = days_of(spans, date(2026, 11, 20), 1)
    assert day.worst is S.PARTIAL_OUTAGE
    assert day.downtime == pytest.approx(600 * 0.3)
    assert day.uptime_percent == pytest.approx(100 * (1 - 180 / 1440))


def test_a_component_created_mid_window_has_no_data_before_and_counts_from_creation() -> None:
    created = at(21, 12)
    spans = [Span(at(21, 18), at(21, 21), S.MAJOR_OUTAGE)]
    before, created_day, after = days_of(spans, date(2026, 11, 20), 3, created_at=created)
    assert not before.has_data
    assert before.worst is None and before.uptime_percent is None
    assert created_day.counted == 720  # from noon
    assert created_day.uptime_percent == pytest.approx(100 * (1 - 180 / 720))
    assert after.uptime_percent == 100
    assert window_percent([before, created_day, after]) == pytest.approx(100 * (1 - 180 / 2160))


def test_today_counts_only_up_to_now() -> None:
    now = at(20, 6)
    spans = [Span(at(20, 5), None, S.MAJOR_OUTAGE)]  # still open
    (day,) = days_of(spans, date(2026, 11, 20), 1, now=now)
    assert day.counted == 360
    assert day.downtime == 60


def test_a_group_is_the_average_of_its_children() -> None:
    first = date(2026, 11, 20)
    api = days_of([Span(at(20, 0), at(20, 12), S.MAJOR_OUTAGE)], first, 2)  # 50 %, then 100 %
    web = days_of([], first, 2)  # 100 %, 100 %
    new = days_of([], first, 2, created_at=at(21, 0))  # no data, then 100 %
    grouped = group_days([api, web, new])
    assert grouped[0].uptime_percent == pytest.approx(75.0)  # (50 + 100) / 2: no-data left out
    assert grouped[0].worst is S.MAJOR_OUTAGE
    assert grouped[1].uptime_percent == 100
    # Window: api 75 %, web 100 %, new 100 % -> 91.67 %.
    assert group_percent([api, web, new]) == pytest.approx((75 + 100 + 100) / 3)


def test_a_backfilled_incident_corrects_the_days_it_covers() -> None:
    recorded = [
        (at(20, 9), S.OPERATIONAL, S.MAJOR_OUTAGE),
        (at(20, 10), S.MAJOR_OUTAGE, S.OPERATIONAL),
    ]
    # Declared later with a start time two days back and a resolution time in the past:
    # its changes take the times given, in any order of recording.
    backfilled = [
        (at(18, 23), S.OPERATIONAL, S.PARTIAL_OUTAGE),
        (at(19, 1), S.PARTIAL_OUTAGE, S.OPERATIONAL),
    ]
    days = days_of(spans_from_changes(recorded + backfilled), date(2026, 11, 18), 3)
    assert [d.downtime for d in days] == pytest.approx([60 * 0.3, 60 * 0.3, 60])
    assert [d.worst for d in days] == [S.PARTIAL_OUTAGE, S.PARTIAL_OUTAGE, S.MAJOR_OUTAGE]


def test_changes_become_spans_each_holding_until_the_next() -> None:
    spans = spans_from_changes(
        [(at(20, 12), S.MAJOR_OUTAGE, S.OPERATIONAL), (at(20, 10), S.OPERATIONAL, S.MAJOR_OUTAGE)]
    )
    assert [(s.start, s.end, s.status) for s in spans[1:]] == [
        (at(20, 10), at(20, 12), S.MAJOR_OUTAGE),
        (at(20, 12), None, S.OPERATIONAL),
    ]
    assert spans[0].status is S.OPERATIONAL and spans[0].end == at(20, 10)


def test_the_window_ends_today_in_the_page_zone() -> None:
    now = datetime(2026, 11, 21, 2, tzinfo=UTC)  # still the 20th in New York
    assert window_days(now, NEW_YORK, 3) == [
        date(2026, 11, 18),
        date(2026, 11, 19),
        date(2026, 11, 20),
    ]
