"""What the public page says about promises is true at every moment: "overdue" once a
promise passed, "the team has been reminded" only once a reminder reached someone, and "Last
updated" is the last real update, not the moment a promise broke."""

from datetime import timedelta

import pytest

from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.statuses import Impact
from statusboard.services import incidents, promises
from statusboard.services.audit import Actor
from statusboard.services.nags import NagSetup
from tests.conftest import START
from tests.fakes.publishing import deliver, nag_settings
from tests.fakes.smtp import FakeSMTP, free_port

MIN = timedelta(minutes=1)


@pytest.fixture
def down_port():
    return free_port()


@pytest.fixture
def app_overrides(down_port):
    return nag_settings(down_port)  # nags by email; nothing listens there until a test says


@pytest.fixture
def incident(session, operator, clock, publishing_settings):
    found = incidents.open_incident(
        session,
        name="Elevated API errors",
        impact=Impact.MAJOR,
        body="We are looking.",
        actor=Actor(operator, "test"),
        next_update_at=START + 30 * MIN,
        eta=START + 45 * MIN,
        publishing_settings=publishing_settings,
    )
    session.commit()
    return found


def _check(app):
    """The worker's promise check, then its delivery rounds."""
    promises.check_promises(database(app), setup=NagSetup.from_settings(settings_of(app)))
    deliver(app)


def test_reminded_appears_only_once_a_nag_reached_an_operator(
    app, client, session, clock, incident, down_port
):
    path = f"/incidents/{incident.public_id}"
    clock.freeze(START + 30 * MIN + timedelta(seconds=5))
    _check(app)  # the nag is queued; SMTP is down, so nobody got it
    page = client.get(path).get_data(as_text=True)
    assert "Update overdue" in page
    assert "reminded" not in page
    assert "reminded" not in client.get("/").get_data(as_text=True)

    with FakeSMTP(port=down_port) as smtp:
        clock.advance(timedelta(seconds=30))  # past the first retry
        deliver(app)
        assert smtp.messages  # the operators got it
    # The delivery bumped the page version: the cached page is rendered again and says so.
    for surface in (path, "/"):
        page = client.get(surface).get_data(as_text=True)
        assert "Update overdue<span" in page
        assert "The team has been reminded." in page


def test_a_passed_eta_says_so_once_with_a_full_stop(client, session, clock, incident):
    clock.freeze(START + 46 * MIN)
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "This time has passed; a revised estimate is coming.</strong>" in page
    assert page.count('datetime="2026-11-24T12:45:00.000Z"') == 1


def test_last_updated_is_the_last_update_not_the_moment_a_promise_broke(
    app, client, session, clock, incident
):
    clock.freeze(START + 40 * MIN)
    _check(app)  # marks the promise broken and bumps the page version
    page = client.get("/").get_data(as_text=True)
    assert "Update overdue" in page
    assert 'Last updated <time datetime="2026-11-24T12:00:00.000Z"' in page


def test_without_javascript_the_footer_says_times_are_utc(client, incident):
    page = client.get("/").get_data(as_text=True)
    assert "Times are in UTC." in page
    assert "your time zone" not in page


def test_adding_or_renaming_a_component_is_no_update_but_setting_its_status_is(
    client, session, clock, operator, incident
):
    from statusboard.domain.statuses import ComponentStatus
    from statusboard.services import components

    actor = Actor(operator, "test")
    clock.freeze(START + 20 * MIN)
    web = components.create_component(session, name="Web app", actor=actor)
    components.edit_component(
        session, component=web, name="Website", description="The shop", actor=actor
    )
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'Last updated <time datetime="2026-11-24T12:00:00.000Z"' in page
    clock.freeze(START + 30 * MIN)
    components.set_component_status(
        session, component=web, status=ComponentStatus.DEGRADED_PERFORMANCE, actor=actor
    )
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'Last updated <time datetime="2026-11-24T12:30:00.000Z"' in page
