"""The public sentences about promises: each variant, at a given moment."""

from datetime import UTC, datetime, timedelta

import pytest

from statusboard.domain.honesty import ETA_PASSED, PromiseState

DUE = datetime(2026, 11, 24, 1, 47, tzinfo=UTC)


@pytest.mark.parametrize(
    "late, reminded, expected",
    [
        (timedelta(seconds=1), False, "Update overdue by less than 1 min."),
        (
            timedelta(seconds=59),
            True,
            "Update overdue by less than 1 min. The team has been reminded.",
        ),
        (timedelta(minutes=8, seconds=30), False, "Update overdue by 8 min."),
        (timedelta(minutes=8), True, "Update overdue by 8 min. The team has been reminded."),
        (timedelta(hours=1, minutes=5), False, "Update overdue by 1 h 5 min."),
    ],
)
def test_the_overdue_line_counts_from_the_first_minute_and_says_reminded_only_when_true(
    late, reminded, expected
):
    state = PromiseState(DUE, None, DUE + late, reminded=reminded)
    assert state.overdue_line == expected
    assert "0 min" not in expected and "01:47" not in expected


def test_nothing_is_overdue_at_the_promised_minute_and_nobody_is_said_to_be_reminded():
    state = PromiseState(DUE, None, DUE, reminded=True)
    assert state.overdue_line is None
    assert state.reminded_text is None


def test_a_passed_eta_ends_with_a_full_stop_in_both_forms():
    state = PromiseState(None, DUE, DUE + timedelta(minutes=1))
    assert state.eta_passed_line("01:47 UTC") == (
        "The expected resolution time (01:47 UTC) has passed; a revised estimate is coming."
    )
    assert ETA_PASSED == "This time has passed; a revised estimate is coming."
    assert PromiseState(None, DUE, DUE).eta_passed_line("01:47 UTC") is None
