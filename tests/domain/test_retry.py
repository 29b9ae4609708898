from datetime import UTC, datetime, timedelta

from statusboard.domain.retry import LIMITS, Failure, next_attempt

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RETRYABLE = Failure(retryable=True)


def test_notices_back_off_with_jitter():
    low = next_attempt("notice", RETRYABLE, attempts=3, now=NOW, rand=lambda: 0.0)
    high = next_attempt("notice", RETRYABLE, attempts=3, now=NOW, rand=lambda: 0.999)
    assert low == NOW + timedelta(seconds=10) and high > NOW + timedelta(seconds=29)


def test_final_answers_give_up_at_once_and_every_purpose_gives_up_at_its_limit():
    assert next_attempt("notice", Failure(retryable=False), attempts=1, now=NOW) is None
    for purpose, limits in LIMITS.items():
        assert next_attempt(purpose, RETRYABLE, attempts=limits.attempts - 1, now=NOW)
        assert next_attempt(purpose, RETRYABLE, attempts=limits.attempts, now=NOW) is None


def test_an_announced_rate_limit_reset_is_waited_for():
    later = NOW + timedelta(hours=1)
    assert next_attempt("notice", Failure(True, retry_at=later), attempts=1, now=NOW) > later


def test_a_nag_is_retried_sooner_and_fewer_times_than_a_public_notice():
    nag = next_attempt("nag", RETRYABLE, attempts=5, now=NOW, rand=lambda: 0.5)
    notice = next_attempt("notice", RETRYABLE, attempts=5, now=NOW, rand=lambda: 0.5)
    assert nag is None or nag < notice
    assert LIMITS["nag"].attempts < LIMITS["notice"].attempts
    assert LIMITS["nag"].longest_delay < LIMITS["notice"].longest_delay
