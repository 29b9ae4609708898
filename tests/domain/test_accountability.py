from datetime import UTC, datetime, timedelta

from statusboard.domain.accountability import (
    Tally,
    format_duration,
    median,
    percentile,
    promise_outcome,
    weeks,
)

MIN = timedelta(minutes=1)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_superseded_is_kept_and_an_open_promise_counts_only_once_past_due():
    assert promise_outcome("superseded", NOW, NOW) is True
    assert promise_outcome("kept", NOW, NOW) is True
    assert promise_outcome("broken", NOW, NOW) is False
    assert promise_outcome("open", NOW + MIN, NOW) is None
    assert promise_outcome("open", NOW - MIN, NOW) is False


def test_percent_kept_rounds_to_nearest_but_100_means_nothing_broken():
    assert Tally(2, 1).percent_kept == 67
    assert Tally(1, 2).percent_kept == 33
    assert Tally(1, 1).percent_kept == 50
    assert Tally(5, 3).percent_kept == 63  # 62.5 rounds half up
    assert Tally(199, 1).percent_kept == 99
    assert Tally(1, 199).percent_kept == 1
    assert Tally(0, 3).percent_kept == 0 and Tally(3, 0).percent_kept == 100
    assert Tally(3, 1).percent_kept == 75
    assert Tally().percent_kept is None


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert median([1 * MIN, 9 * MIN, 3 * MIN, 5 * MIN]) == 4 * MIN
    assert median([]) is None


def test_p90_is_the_nearest_rank():
    values = [n * MIN for n in range(1, 21)]
    assert percentile(values, 0.9) == 18 * MIN
    assert percentile([7 * MIN], 0.9) == 7 * MIN


def test_weeks_are_calendar_weeks_back_from_today_and_the_oldest_is_clipped():
    bounds = weeks(NOW - timedelta(days=30), NOW)
    assert len(bounds) == 5
    assert bounds[0] == (NOW - timedelta(days=30), datetime(2026, 10, 28, tzinfo=UTC))
    assert bounds[-1] == (datetime(2026, 11, 18, tzinfo=UTC), NOW)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))


def test_durations_read_as_minutes_hours_or_days():
    assert format_duration(timedelta(0)) == "0 min"
    assert format_duration(42 * MIN) == "42 min"
    assert format_duration(185 * MIN) == "3 h 05 min"
    assert format_duration(timedelta(days=2, hours=4, minutes=10)) == "2 d 4 h"
    assert format_duration(None) == "–"
