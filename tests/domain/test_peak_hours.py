"""Peak hours across zones and daylight-saving changes; suggestions that keep clear of them."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statusboard.domain.peak_hours import (
    PeakHours,
    clashes,
    minutes_in_peak,
    parse_blackouts,
    parse_peak_hours,
    suggest,
    warnings,
)

# Berlin leaves summer time on Sunday 25 Oct 2026, New York a week later, on 1 Nov.
PEAK = PeakHours(
    windows=parse_peak_hours(
        "Europe/Berlin mon-fri 08:00-18:00; America/New_York mon-fri 09:00-17:00"
    ),
    blackouts=parse_blackouts("2026-11-07"),
    blackout_zone="Europe/Berlin",
)
H = timedelta(hours=1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_new_york_peak_ends_an_hour_later_in_utc_once_its_summer_time_ends():
    # Monday 26 Oct: New York still on EDT, its peak ends 21:00 UTC.
    assert clashes(PEAK, utc(2026, 10, 26, 21, 30), utc(2026, 10, 26, 22, 30)) == []
    # Monday 2 Nov: EST, the same UTC hours are inside its peak (until 22:00 UTC).
    [clash] = clashes(PEAK, utc(2026, 11, 2, 21, 30), utc(2026, 11, 2, 22, 30))
    assert clash.reason == "peak hours Mon–Fri 09:00–17:00 America/New_York"
    assert (clash.start, clash.end) == (utc(2026, 11, 2, 14), utc(2026, 11, 2, 22))


def test_berlin_peak_starts_an_hour_later_in_utc_once_its_summer_time_ends():
    # Friday 23 Oct, CEST: 06:30 UTC is 08:30 in Berlin.
    [clash] = clashes(PEAK, utc(2026, 10, 23, 6, 30), utc(2026, 10, 23, 7))
    assert clash.reason == "peak hours Mon–Fri 08:00–18:00 Europe/Berlin"
    # Monday 26 Oct, CET: 06:30 UTC is 07:30 in Berlin, before its peak.
    assert clashes(PEAK, utc(2026, 10, 26, 6, 30), utc(2026, 10, 26, 7)) == []


def test_a_window_across_both_zones_peaks_counts_each_minute_once():
    # Tuesday 3 Nov 12:00-20:00 UTC: Berlin peak to 17:00, New York's from 14:00 to 22:00.
    start, end = utc(2026, 11, 3, 12), utc(2026, 11, 3, 20)
    assert [c.reason.split()[-1] for c in clashes(PEAK, start, end)] == [
        "Europe/Berlin",
        "America/New_York",
    ]
    assert minutes_in_peak(PEAK, start, end) == 8 * 60
    assert minutes_in_peak(PEAK, utc(2026, 11, 3, 22), utc(2026, 11, 4, 2)) == 0


def test_a_blackout_date_is_a_whole_day_in_the_page_zone():
    # Saturday 7 Nov in Berlin (CET) is 6 Nov 23:00 to 7 Nov 23:00 UTC.
    [clash] = clashes(PEAK, utc(2026, 11, 6, 23, 30), utc(2026, 11, 7, 0, 30))
    assert clash.reason == "blackout date 2026-11-07"
    assert clashes(PEAK, utc(2026, 11, 7, 23), utc(2026, 11, 8, 1)) == []


def test_warnings_name_each_overlap_and_short_notice():
    now = utc(2026, 11, 2, 12)
    said = warnings(PEAK, utc(2026, 11, 2, 21, 30), utc(2026, 11, 2, 22, 30), now=now)
    assert said == [
        "it overlaps peak hours Mon–Fri 09:00–17:00 America/New_York (02 Nov 21:30–22:00 UTC)",
        "it gives 9 h notice, less than the 48 h customers are promised",
    ]
    assert warnings(PEAK, utc(2026, 11, 8, 2), utc(2026, 11, 8, 3), now=now) == []


def test_suggestions_are_three_quiet_slots_clear_of_peaks_blackouts_and_planned_work():
    now = utc(2026, 10, 29, 10)  # Thursday, between the two changes
    planned = [(utc(2026, 10, 31, 10), utc(2026, 10, 31, 14))]
    slots = suggest(PEAK, length=2 * H, now=now, busy=planned)
    assert len(slots) == 3
    for start, end in slots:
        assert end - start == 2 * H
        assert start >= now + timedelta(hours=48) and end <= now + timedelta(days=14)
        assert clashes(PEAK, start, end) == []
        assert not any(a < end and start < b for a, b in planned)
        assert start.minute in (0, 30)
    # The quietest lie furthest from any peak: on weekends, not weekday nights.
    assert all(start.weekday() in (5, 6) for start, _ in slots)
    berlin = ZoneInfo("Europe/Berlin")  # the page's zone: one slot per day there
    assert len({start.astimezone(berlin).date() for start, _ in slots}) == 3


def test_suggestions_never_touch_a_peak_hour_for_any_length_or_moment():
    for hours in (1, 5, 30):
        for offset in range(0, 24 * 7, 13):
            now = utc(2026, 10, 20) + timedelta(hours=offset)
            for start, end in suggest(PEAK, length=hours * H, now=now):
                assert clashes(PEAK, start, end) == []


def test_without_peak_hours_the_earliest_slots_after_the_notice_are_offered():
    now = utc(2026, 11, 2, 12, 10)
    slots = suggest(PeakHours(), length=H, now=now, min_notice=timedelta(hours=2))
    assert slots[0] == (utc(2026, 11, 2, 14, 30), utc(2026, 11, 2, 15, 30))


@pytest.mark.parametrize(
    "value, message",
    [
        ("Europe/Berlin 08:00-18:00", "write ZONE DAYS HH:MM-HH:MM"),
        ("Mars/Olympus mon 08:00-18:00", "not an IANA time zone"),
        ("Europe/Berlin mon-fry 08:00-18:00", "name days as mon"),
        ("Europe/Berlin mon 18:00-08:00", "the end must come after the start"),
    ],
)
def test_bad_peak_hours_are_refused_with_a_reason(value, message):
    with pytest.raises(ValueError, match=message):
        parse_peak_hours(value)


def test_blackouts_parse_as_dates():
    assert parse_blackouts("2026-12-24, 2026-12-31") == {date(2026, 12, 24), date(2026, 12, 31)}
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_blackouts("24.12.2026")
