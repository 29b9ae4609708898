from datetime import UTC, datetime, timedelta

import pytest

from statusboard.config import load_settings
from statusboard.domain.nags import (
    DUE,
    HEADS_UP,
    Audience,
    Ladder,
    NagFacts,
    NagPolicy,
    audience,
    compose,
    escalation,
    headline,
)

DUE_AT = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
LADDER = Ladder(
    heads_up=timedelta(minutes=5),
    escalate_all=timedelta(minutes=10),
    escalate_admins=timedelta(minutes=30),
    repeat=timedelta(minutes=30),
    repeat_max=timedelta(minutes=120),
)


def level(minutes_from_due: float, promised_minutes: float = 30) -> str | None:
    return LADDER.level_at(
        due_at=DUE_AT,
        made_at=DUE_AT - timedelta(minutes=promised_minutes),
        now=DUE_AT + timedelta(minutes=minutes_from_due),
    )


@pytest.mark.parametrize(
    "minutes, expected",
    [
        (-6, None),
        (-5, HEADS_UP),
        (-0.1, HEADS_UP),
        (0, DUE),
        (9.9, DUE),
        (10, escalation(1)),
        (29.9, escalation(1)),
        (30, escalation(2)),
        # then repeats: gaps of 30, 60, 120 (doubling), then capped at 120
        (59.9, escalation(2)),
        (60, escalation(3)),
        (120, escalation(4)),
        (240, escalation(5)),
        (360, escalation(6)),
        (480, escalation(7)),
    ],
)
def test_ladder_climbs_from_heads_up_to_repeating_escalations(minutes, expected):
    assert level(minutes) == expected


def test_heads_up_is_skipped_when_the_promise_is_shorter_than_its_lead():
    assert level(-3, promised_minutes=4) is None
    assert level(0, promised_minutes=4) == DUE
    assert level(-3, promised_minutes=5) is None  # exactly the lead: nothing "before" it
    assert level(-3, promised_minutes=5.1) == HEADS_UP


def test_each_level_widens_the_audience():
    assert [
        audience(lv) for lv in (HEADS_UP, DUE, escalation(1), escalation(2), escalation(7))
    ] == [Audience.OWNER, Audience.ON_CALL, Audience.ALL, Audience.ADMINS, Audience.ADMINS]


def test_admins_escalation_must_come_after_the_all_operators_one():
    with pytest.raises(ValueError, match="after the all-operators"):
        Ladder(
            heads_up=timedelta(minutes=5),
            escalate_all=timedelta(minutes=30),
            escalate_admins=timedelta(minutes=30),
            repeat=timedelta(minutes=30),
            repeat_max=timedelta(minutes=60),
        )


def test_policy_reads_intervals_per_impact_from_settings():
    settings = load_settings(
        {
            "STATUSBOARD_NAG_HEADS_UP_MINUTES": "critical=2,major=5,minor=10,none=15",
            "STATUSBOARD_NAG_ESCALATE_ALL_MINUTES": "5",
            "STATUSBOARD_NAG_ACKNOWLEDGE_MINUTES": "20",
        }
    )
    policy = NagPolicy.from_settings(settings.nags)
    assert policy.ladder("critical").heads_up == timedelta(minutes=2)
    assert policy.ladder("none").heads_up == timedelta(minutes=15)
    assert policy.ladder("major").escalate_all == timedelta(minutes=5)
    assert policy.ladder("major").escalate_admins == timedelta(minutes=30)
    # A postmortem, promised days ahead, gets its heads-up the day before whatever the impact.
    assert policy.ladder("critical", "postmortem").heads_up == timedelta(days=1)
    assert policy.longest_heads_up == timedelta(days=1)
    assert policy.acknowledge_for == timedelta(minutes=20)


def test_contradictory_intervals_name_the_impact():
    settings = load_settings(
        {"STATUSBOARD_NAG_ESCALATE_ALL_MINUTES": "critical=40,major=10,minor=10,none=10"}
    )
    with pytest.raises(ValueError, match="critical impact"):
        NagPolicy.from_settings(settings.nags)


def facts(**changes) -> NagFacts:
    values = dict(
        level=escalation(1),
        promise_kind="next_update",
        incident_name="Elevated API errors",
        incident_kind="incident",
        impact="major",
        status="identified",
        due_at=DUE_AT,
        made_at=DUE_AT - timedelta(minutes=30),
        now=DUE_AT + timedelta(minutes=12),
        public_text="We found a bad deploy.\nRolling back.",
        public_posted_at=DUE_AT - timedelta(minutes=30),
        public_line="Update overdue by 12 min — the team has been reminded",
        update_url="https://status.example.com/admin/incidents/abc/update",
        incident_url="https://status.example.com/incidents/abc",
        recipient_names=("Olive Ops", "Ada Admin"),
    )
    values.update(changes)
    return NagFacts(**values)


def test_nag_says_which_incident_what_was_promised_how_late_and_what_customers_see():
    message = compose(facts(), ("olive@example.com",))
    assert message.subject == ("Update overdue by 12 min (escalation 1): Elevated API errors")
    assert message.recipients == ("olive@example.com",)
    text = message.text
    assert "Incident: Elevated API errors (major impact, identified)" in text
    assert "Customers were promised the next update by 14:30 UTC (promised at 14:00 UTC)." in text
    assert "What customers see now (latest update, posted 14:00 UTC):" in text
    assert "  We found a bad deploy.\n  Rolling back." in text
    assert "The page also says: Update overdue by 12 min — the team has been reminded" in text
    assert "Post an update: https://status.example.com/admin/incidents/abc/update" in text
    assert "Sent to: Olive Ops, Ada Admin" in text


def test_passed_eta_asks_for_a_revised_eta_or_resolution():
    message = compose(facts(promise_kind="eta", level=DUE, now=DUE_AT + timedelta(minutes=3)), ())
    assert message.subject == (
        "ETA passed 3 min ago: give a revised ETA or resolve: Elevated API errors"
    )
    assert "Customers were told to expect a resolution by 14:30 UTC" in message.text


def test_maintenance_overrun_asks_for_an_update_or_completion():
    text = headline("maintenance_end", DUE_AT, DUE_AT + timedelta(minutes=8))
    assert text == "Maintenance running 8 min past its end: post an update or complete it"


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (-300, "Next update due in 5 min"),
        (-1, "Next update due in 1 min"),
        (0, "Update due now"),
        (59, "Update due now"),
        (7 * 60 + 5, "Update overdue by 7 min"),
    ],
)
def test_headline_counts_down_then_up(seconds, expected):
    assert headline("next_update", DUE_AT, DUE_AT + timedelta(seconds=seconds)) == expected
