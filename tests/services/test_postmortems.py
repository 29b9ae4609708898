"""Postmortems as promises: promised on resolving, shown, nagged, kept when published, and
sent to everyone who heard of the incident."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from statusboard.channels.webhook import parse_allow_list
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.errors import Conflict, InvalidInput, InvalidTransition
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import Promise, PromiseKind, PromiseStatus
from statusboard.services import incidents, postmortems, promises, subscribers
from statusboard.services.nags import NagSetup
from tests.conftest import START
from tests.fakes.publishing import deliver, network_settings

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)
# START is Tuesday 24 Nov 2026, 12:00 UTC; the page's zone is UTC.
DUE_DAY = date(2026, 12, 1)
DUE_AT = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)


@pytest.fixture
def app_overrides(fake_x, fake_mastodon, fake_bluesky, mailbox, room):
    settings = network_settings(fake_x, fake_mastodon, fake_bluesky, mailbox)
    settings["CHAT_WEBHOOK_URL"] = room.url + "/hooks/nags"
    settings["ESCALATION_EMAIL"] = "boss@example.com"
    return settings


def _email(session, address):
    subscriber = subscribers.request_email(session, email=address, components=())
    subscriber.confirmed_at = START
    session.commit()
    return subscriber


def _webhook(session, url):
    subscriber = subscribers.request_webhook(
        session,
        url=url,
        contact_email="hooks@example.com",
        components=(),
        allow=parse_allow_list("127.0.0.1"),
        confirmed=True,
    )
    session.commit()
    return subscriber


def _opened(session, actor, api, publishing_settings):
    incident = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="We are looking into errors.",
        actor=actor,
        eta=START + 60 * MIN,
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    session.commit()
    return incident


def _resolve(session, incident, actor, publishing_settings, postmortem_by=DUE_DAY):
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
        postmortem_by=postmortem_by,
    )
    session.commit()


def _publish(session, incident, actor, publishing_settings, body="We changed the deploy checks."):
    update = postmortems.publish(
        session,
        incident=incident,
        body=body,
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    return update


def _postmortem_promise(session, incident):
    session.expire_all()
    return session.scalar(
        select(Promise).where(
            Promise.incident_id == incident.id, Promise.kind == PromiseKind.POSTMORTEM
        )
    )


def test_resolving_with_a_date_promises_a_postmortem_the_page_shows(
    app, client, session, clock, actor, api, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    clock.advance(30 * MIN)
    _resolve(session, incident, actor, publishing_settings)
    promise = _postmortem_promise(session, incident)
    assert promise.status is PromiseStatus.OPEN and promise.due_at == DUE_AT
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "A postmortem will follow by" in page and ">1 Dec 2026</span>" in page
    assert "A postmortem will follow by 1 Dec 2026." in client.get("/").get_data(as_text=True)
    assert "It is overdue" not in page
    clock.freeze(DUE_AT + MIN)
    promises.mark_broken(session, now=DUE_AT + MIN)
    session.commit()
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "It is overdue" in page


def test_resolving_without_a_date_promises_no_postmortem(
    client, session, clock, actor, api, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    _resolve(session, incident, actor, publishing_settings, postmortem_by=None)
    assert _postmortem_promise(session, incident) is None
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "postmortem" not in page.lower()


def test_a_postmortem_date_in_the_past_is_refused_naming_the_field(
    session, clock, actor, api, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    with pytest.raises(InvalidInput) as refused:
        _resolve(session, incident, actor, publishing_settings, postmortem_by=date(2026, 11, 23))
    assert refused.value.field == "postmortem_by"


def test_the_postmortem_promise_is_nagged_before_and_after_it_falls_due_until_published(
    app, session, clock, actor, api, mailbox, room, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    _resolve(session, incident, actor, publishing_settings)
    deliver(app, session)
    mailbox.clear()
    setup = NagSetup.from_settings(settings_of(app))

    def check_at(moment):
        clock.freeze(moment)
        promises.check_promises(database(app), setup=setup)
        deliver(app)

    for moment in (DUE_AT - 2 * DAY, DUE_AT - DAY + MIN, DUE_AT + MIN, DUE_AT + DAY + MIN):
        check_at(moment)
        check_at(moment)  # a second run at the same moment sends nothing more
    subjects = [str(m["Subject"]) for m in mailbox.messages]
    assert subjects == [
        "[Example Status] Postmortem due in 23 h 59 min: API errors",
        "[Example Status] Postmortem overdue by 1 min: publish it: API errors",
        "[Example Status] Postmortem overdue by 1 d: publish it (escalation 1): API errors",
    ]
    assert f"/admin/incidents/{incident.public_id}/postmortem" in mailbox.messages[0].get_content()
    assert "postmortem by 01 Dec 23:59 UTC" in mailbox.messages[0].get_content()
    _publish(session, incident, actor, publishing_settings)
    sent = len(mailbox.messages)
    check_at(DUE_AT + 4 * DAY)
    assert len(mailbox.messages) == sent  # published: the ladder has stopped
    promise = _postmortem_promise(session, incident)
    # Published a day late: answered then, and counted as broken.
    assert promise.status is PromiseStatus.BROKEN and promise.closed_at == DUE_AT + DAY + MIN


def test_publishing_in_time_keeps_the_promise_and_shows_on_the_permalink_and_api(
    app, client, session, clock, actor, api, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    _resolve(session, incident, actor, publishing_settings)
    resolved_at = incident.resolved_at
    clock.advance(2 * DAY)
    _publish(session, incident, actor, publishing_settings, body="### Cause\n\nA bad deploy.")
    promise = _postmortem_promise(session, incident)
    assert promise.status is PromiseStatus.KEPT
    assert incident.status == "postmortem" and incident.resolved_at == resolved_at
    assert api.status is ComponentStatus.OPERATIONAL
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "<h3>Cause</h3>" in page and "A postmortem will follow" not in page
    [listed] = client.get("/api/v2/incidents.json").get_json()["incidents"]
    assert listed["status"] == "postmortem"
    assert listed["incident_updates"][0]["status"] == "postmortem"
    assert listed["resolved_at"] is not None
    front = client.get("/").get_data(as_text=True)
    assert "Read the postmortem" in front and "<h3>Cause</h3>" not in front
    feed = client.get("/history.atom").get_data(as_text=True)
    assert "A bad deploy." in feed


def test_a_postmortem_is_published_once_and_only_after_resolving(
    session, clock, actor, api, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    with pytest.raises(InvalidTransition):
        _publish(session, incident, actor, publishing_settings)
    session.rollback()
    _resolve(session, incident, actor, publishing_settings)
    _publish(session, incident, actor, publishing_settings)
    with pytest.raises(Conflict):
        _publish(session, incident, actor, publishing_settings)


def test_the_unedited_draft_is_refused_naming_its_first_blank(
    session, clock, actor, api, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    _resolve(session, incident, actor, publishing_settings)
    draft = postmortems.draft_for(session, incident, time_zone="UTC")
    with pytest.raises(InvalidInput) as refused:
        _publish(session, incident, actor, publishing_settings, body=draft)
    assert refused.value.field == "body"
    assert "[[what customers saw, and for how long]]" in refused.value.message


def test_the_draft_starts_from_updates_eta_revisions_and_promises_with_times(
    session, clock, actor, api, publishing_settings
):
    incident = _opened(session, actor, api, publishing_settings)
    clock.advance(40 * MIN)  # the next update was due after 30 min: that promise is broken
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="A bad deploy.",
        actor=actor,
        eta=START + 90 * MIN,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.advance(10 * MIN)
    _resolve(session, incident, actor, publishing_settings)
    draft = postmortems.draft_for(session, incident, time_zone="UTC")
    assert "- 24 Nov 12:00 — Investigating: We are looking into errors." in draft
    assert "- 24 Nov 12:30 — Promise broken: next update by 12:30 UTC, answered 10 min late." in (
        draft
    )
    assert "- 24 Nov 12:40 — Identified: A bad deploy." in draft
    assert "- 24 Nov 12:40 — ETA revised to 13:30 UTC." in draft
    assert "- 24 Nov 12:50 — Resolved: Fixed." in draft
    assert "- 24 Nov 12:50 — Promise kept: next update by" in draft


def test_the_postmortem_reaches_every_target_that_heard_of_the_incident_but_not_who_left(
    app,
    session,
    clock,
    actor,
    api,
    receiver,
    fake_x,
    fake_mastodon,
    fake_bluesky,
    mailbox,
    publishing_settings,
):
    stays = _email(session, "stays@example.com")
    leaves = _email(session, "leaves@example.com")
    _webhook(session, receiver.url + "/hook")
    incident = _opened(session, actor, api, publishing_settings)
    deliver(app, session)
    _resolve(session, incident, actor, publishing_settings)
    deliver(app, session)
    subscribers.unsubscribe(session, subscriber=leaves)
    session.commit()
    mailbox.clear()
    hooks_before = len(receiver.deliveries)
    clock.advance(DAY)
    _publish(session, incident, actor, publishing_settings, body="What we changed: checks.")
    deliver(app, session)
    # Each social thread gets it as a reply to the resolution.
    tweets, toots = fake_x.tweets, fake_mastodon.statuses
    assert len(tweets) == 3 and tweets[2]["in_reply_to"] == tweets[1]["id"]
    assert len(toots) == 3 and toots[2]["in_reply_to_id"] == toots[1]["id"]
    assert "What we changed" in toots[2]["content"]
    posts = sorted(fake_bluesky.records.values(), key=lambda r: r["value"]["createdAt"])
    assert len(posts) == 3 and posts[2]["value"]["reply"]["parent"]["cid"] == posts[1]["cid"]
    # Email: the subscriber who stayed, not the one who left.
    assert [m["To"] for m in mailbox.messages] == [stays.address]
    assert "What we changed: checks." in mailbox.messages[0].get_content()
    # The webhook: one incident event with the postmortem, no stray component event.
    events = [r.json() for r in receiver.deliveries[hooks_before:]]
    assert len(events) == 1
    assert events[0]["incident"]["status"] == "postmortem"
    assert events[0]["incident"]["incident_updates"][0]["body"] == "What we changed: checks."


def test_the_accountability_report_counts_postmortems_kept_and_broken(
    app, admin_client, session, clock, actor, api, publishing_settings
):
    kept = _opened(session, actor, api, publishing_settings)
    _resolve(session, kept, actor, publishing_settings)
    late = _opened(session, actor, api, publishing_settings)
    _resolve(session, late, actor, publishing_settings)
    clock.advance(DAY)
    _publish(session, kept, actor, publishing_settings)
    clock.freeze(DUE_AT + DAY)  # the other one is a day overdue, still unpublished
    page = admin_client.get("/admin/report/?days=30").get_data(as_text=True)
    assert "Postmortems published by the promised date: 50% (1 of 2)" in page
