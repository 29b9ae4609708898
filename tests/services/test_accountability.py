from datetime import timedelta

import pytest

from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.services import accountability, components, incidents, maintenance, promises
from tests.conftest import QUIET, START

MIN = timedelta(minutes=1)


def at(minutes: float):
    return START + minutes * MIN


@pytest.fixture
def api(session, actor):
    return components.create_component(session, name="API", actor=actor)


@pytest.fixture
def web(session, actor):
    return components.create_component(session, name="Web app", actor=actor)


class Story:
    """Drives one incident through the real services, moving the frozen clock to each step."""

    def __init__(
        self,
        session,
        clock,
        actor,
        component,
        *,
        start=0,
        next_update=30,
        eta=None,
        name="Errors on the API",
        publishing_settings=QUIET,
    ):
        self.publishing_settings = publishing_settings
        self.session, self.clock, self.actor = session, clock, actor
        self.start = start
        self.go(0)
        self.incident = incidents.open_incident(
            session,
            name=name,
            impact=Impact.MAJOR,
            body="We are looking into errors.",
            actor=actor,
            next_update_at=at(start + next_update),
            eta=at(start + eta) if eta is not None else None,
            component_changes={component: ComponentStatus.PARTIAL_OUTAGE},
            publishing_settings=publishing_settings,
        )
        session.commit()

    def go(self, minutes):
        self.clock.freeze(at(self.start + minutes))

    def update(self, minutes, *, next_update, **eta):
        self.go(minutes)
        if "eta" in eta:
            eta["eta"] = at(self.start + eta["eta"])
        incidents.post_update(
            self.session,
            incident=self.incident,
            status=IncidentStatus.IDENTIFIED,
            body=f"Still on it ({minutes}).",
            actor=self.actor,
            next_update_at=at(self.start + next_update),
            **eta,
            publishing_settings=self.publishing_settings,
        )
        self.session.commit()
        return self

    def resolve(self, minutes):
        self.go(minutes)
        incidents.resolve(
            self.session,
            incident=self.incident,
            body="Fixed.",
            actor=self.actor,
            publishing_settings=self.publishing_settings,
        )
        self.session.commit()
        return self


def test_three_kept_and_one_broken_promise_make_75_percent_kept(session, clock, actor, api):
    story = Story(session, clock, actor, api, next_update=30)
    story.update(10, next_update=40)  # kept the +30 promise
    story.update(50, next_update=80)  # broke the +40 promise
    story.update(60, next_update=90)  # kept
    story.resolve(70)  # kept
    clock.freeze(at(120))

    overall = accountability.report(session, days=30).overall

    assert (overall.promises.kept, overall.promises.broken) == (3, 1)
    assert overall.promises.percent_kept == 75
    assert overall.by_kind["next_update"].percent_kept == 75
    assert overall.incidents == overall.resolved == 1
    assert overall.mttr_median == overall.mttr_p90 == 70 * MIN


def test_superseded_eta_counts_as_kept_and_open_promises_count_only_once_past_due(
    session, clock, actor, api
):
    story = Story(session, clock, actor, api, next_update=15, eta=60)
    story.update(20, next_update=50, eta=90)  # next update 5 min late; ETA revised in time
    clock.freeze(at(30))

    before_due = accountability.report(session, days=30).overall.promises
    assert (before_due.kept, before_due.broken) == (1, 1)

    clock.freeze(at(55))  # the +50 update promise passed unanswered; nobody marked it yet
    unmarked = accountability.report(session, days=30).overall.promises
    promises.mark_broken(session, now=at(55))
    session.commit()
    marked = accountability.report(session, days=30).overall.promises

    assert (unmarked.kept, unmarked.broken) == (marked.kept, marked.broken) == (1, 2)
    assert marked.percent_kept == 33


def test_eta_accuracy_compares_resolution_with_the_first_and_the_last_eta(
    session, clock, actor, api
):
    revised = Story(session, clock, actor, api, eta=60)
    revised.update(30, next_update=60, eta=90)
    revised.resolve(100)  # 40 min after the first ETA, 10 after the last
    early = Story(session, clock, actor, api, start=200, eta=60, name="Slow pages")
    early.resolve(50)  # 10 min before its only ETA
    unknown = Story(session, clock, actor, api, start=400, name="No ETA given")
    unknown.resolve(20)
    clock.freeze(at(500))

    overall = accountability.report(session, days=30).overall

    assert overall.first_eta.count == 2
    assert overall.first_eta.median_off == 25 * MIN
    assert overall.first_eta.percent_by_eta == 50
    assert overall.last_eta.median_off == 10 * MIN
    assert overall.last_eta.percent_by_eta == 50


def test_time_to_resolve_gives_median_and_p90(session, clock, actor, api):
    for n in range(1, 11):
        Story(session, clock, actor, api, start=200 * n, name=f"Outage {n}").resolve(10 * n)
    clock.freeze(at(3000))

    overall = accountability.report(session, days=30).overall

    assert overall.resolved == 10
    assert overall.mttr_median == 55 * MIN
    assert overall.mttr_p90 == 90 * MIN


def test_follow_up_time_and_longest_silence_measure_the_gaps_between_updates(
    session, clock, actor, api
):
    story = Story(session, clock, actor, api, next_update=15)
    story.update(12, next_update=42)
    story.update(50, next_update=80)  # 38 min of silence, 8 past the promise
    story.resolve(55)
    clock.freeze(at(60))

    overall = accountability.report(session, days=30).overall

    assert overall.first_update_median == timedelta(0)
    assert overall.follow_up_median == 12 * MIN
    assert overall.longest_silence == 38 * MIN
    assert overall.longest_overrun == 8 * MIN


def test_figures_are_kept_per_component_and_window(session, clock, actor, api, web):
    late = Story(
        session, clock, actor, api, start=-40 * 24 * 60, next_update=10, name="Old API outage"
    )
    late.resolve(30)  # 40 days ago, its one promise broken
    Story(session, clock, actor, web, next_update=30, name="Web slow").resolve(20)
    clock.freeze(at(60))

    recent = accountability.report(session, days=30)
    quarter = accountability.report(session, days=90)

    def by_name(report):
        return {c.component.name: c.figures for c in report.components}

    assert by_name(recent)["API"].incidents == 0
    assert by_name(recent)["API"].promises.total == 0
    assert by_name(recent)["Web app"].promises.percent_kept == 100
    assert by_name(quarter)["API"].promises.broken == 1
    assert by_name(quarter)["API"].mttr_median == 30 * MIN
    assert (quarter.overall.promises.kept, quarter.overall.promises.broken) == (1, 1)
    assert len(recent.weeks) == 5 and len(quarter.weeks) == 13
    assert sum(w.promises.total for w in quarter.weeks) == 2
    assert quarter.weeks[-1].promises.kept == 1
    assert quarter.weeks[7].promises.broken == 1  # 40 days back: the eighth of 13 weeks


def test_maintenance_counts_only_through_its_promised_end(
    session, clock, actor, api, publishing_settings
):
    window = maintenance.schedule_maintenance(
        session,
        name="Database upgrade",
        body="We upgrade the database.",
        actor=actor,
        scheduled_for=at(10),
        scheduled_until=at(70),
        components=[api],
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(at(10))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    clock.freeze(at(70))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    session.commit()
    clock.freeze(at(80))

    overall = accountability.report(session, days=30).overall

    assert window.resolved_at is not None
    assert overall.by_kind == {"maintenance_end": overall.promises}
    assert (overall.promises.kept, overall.promises.broken) == (1, 0)
    assert overall.incidents == 0 and overall.mttr_median is None


def test_updates_on_time_counts_next_update_promises_over_90_days(session, clock, actor, api):
    story = Story(session, clock, actor, api, next_update=15, eta=30)
    story.update(10, next_update=25)  # kept
    story.update(40, next_update=60, eta=90)  # next update broken, ETA broken
    story.resolve(50)  # kept
    old = Story(session, clock, actor, api, start=-100 * 24 * 60, next_update=5, name="Long ago")
    old.resolve(60)  # broken, but outside 90 days
    clock.freeze(at(100))

    on_time = accountability.updates_on_time(session)

    assert (on_time.kept, on_time.broken) == (2, 1)
    assert on_time.percent_kept == 67  # 2 of 3, rounded to the nearest


@pytest.mark.parametrize("days", [0, -5, 400])
def test_a_report_outside_one_to_366_days_is_refused(session, clock, days):
    with pytest.raises(InvalidInput, match="1 to 366 days"):
        accountability.report(session, days=days)
