"""One write path: resolve means the same from every surface, overlapping incidents keep
what the other still claims, and maintenance is published like an incident — to every
enabled channel and matching subscriber, threaded, with one reminder before it starts."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statusboard.domain.errors import Conflict
from statusboard.domain.statuses import ComponentStatus, Impact, MaintenanceStatus
from statusboard.models import Delivery, Subscriber, SubscriberKind
from statusboard.models.delivery import Purpose
from statusboard.services import components, incidents, maintenance, tokens
from statusboard.services.audit import Actor
from tests.conftest import START
from tests.fakes.publishing import deliver

API_HOOK = "/hook/ops"


@pytest.fixture
def app_overrides(publishing_overrides):
    return publishing_overrides


@pytest.fixture
def parts(session, actor):
    made = {
        name: components.create_component(session, name=name, actor=actor)
        for name in ("API", "Web", "Search")
    }
    session.commit()
    return made


def _open(session, actor, publishing_settings, name, changes):
    incident = incidents.open_incident(
        session,
        name=name,
        impact=Impact.MAJOR,
        body=f"{name}: investigating.",
        actor=actor,
        component_changes=changes,
        publishing_settings=publishing_settings,
    )
    session.commit()
    return incident


def _api_token(session, operator):
    _, secret = tokens.create_token(session, operator=operator, name="bot", actor=Actor(None, "t"))
    session.commit()
    return secret


def resolve_by_form(client, session, operator, incident, parts):
    client.post("/login", data={"email": operator.email, "password": "correct horse battery"})
    response = client.post(
        f"/admin/incidents/{incident.public_id}/resolve", data={"body": "Fixed.", "notify": "y"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def resolve_by_update_form(client, session, operator, incident, parts):
    client.post("/login", data={"email": operator.email, "password": "correct horse battery"})
    fields = {f"component_{c.public_id}": "" for c in parts.values()}
    response = client.post(
        f"/admin/incidents/{incident.public_id}/update",
        data={"status": "resolved", "body": "Fixed.", "notify": "y", **fields},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def resolve_by_api(client, session, operator, incident, parts):
    token = _api_token(session, operator)
    response = client.post(
        f"/api/v1/incidents/{incident.public_id}/resolve",
        json={"body": "Fixed."},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def resolve_by_api_update(client, session, operator, incident, parts):
    token = _api_token(session, operator)
    response = client.post(
        f"/api/v1/incidents/{incident.public_id}/updates",
        json={"status": "resolved", "body": "Fixed."},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def resolve_by_service(client, session, operator, incident, parts):
    from statusboard.config import settings_of

    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=Actor(operator, "cli"),
        publishing_settings=settings_of(client.application).publishing,
    )
    session.commit()


def resolve_by_cli(client, session, operator, incident, parts):
    from click.testing import CliRunner

    from statusboard.cli import main
    from statusboard.db import database

    environment = {
        "STATUSBOARD_DATABASE_URL": database(client.application).url,
        "STATUSBOARD_SECRET_KEY": "cli-test",
    }
    result = CliRunner().invoke(
        main,
        ["incident", "resolve", incident.public_id, "Fixed.", "--as", operator.email],
        env=environment,
    )
    assert result.exit_code == 0, result.output


SURFACES = [
    resolve_by_form,
    resolve_by_update_form,
    resolve_by_api,
    resolve_by_api_update,
    resolve_by_service,
    resolve_by_cli,
]


@pytest.mark.parametrize("resolve", SURFACES, ids=lambda f: f.__name__)
def test_resolving_one_of_two_overlapping_incidents_leaves_what_the_other_claims(
    client, session, clock, operator, actor, parts, publishing_settings, resolve
):
    api, web, search = parts["API"], parts["Web"], parts["Search"]
    first = _open(
        session,
        actor,
        publishing_settings,
        "Errors",
        {api: ComponentStatus.MAJOR_OUTAGE, web: ComponentStatus.DEGRADED_PERFORMANCE},
    )
    _open(session, actor, publishing_settings, "Slow search", {api: ComponentStatus.PARTIAL_OUTAGE})
    assert api.status is ComponentStatus.MAJOR_OUTAGE  # the worst claim
    resolve(client, session, operator, first, parts)
    session.commit()
    session.expire_all()
    statuses = {c.name: c.status for c in session.scalars(select(type(api)))}
    assert statuses == {
        "API": ComponentStatus.PARTIAL_OUTAGE,  # the open incident still claims it
        "Web": ComponentStatus.OPERATIONAL,
        "Search": ComponentStatus.OPERATIONAL,
    }
    assert search.status is ComponentStatus.OPERATIONAL


def test_explicit_statuses_given_with_a_resolve_win(
    session, clock, actor, parts, publishing_settings
):
    api = parts["API"]
    incident = _open(
        session, actor, publishing_settings, "Errors", {api: ComponentStatus.MAJOR_OUTAGE}
    )
    incidents.resolve(
        session,
        incident=incident,
        body="Mostly fixed; still slow.",
        actor=actor,
        component_changes={api: ComponentStatus.DEGRADED_PERFORMANCE},
        publishing_settings=publishing_settings,
    )
    session.commit()
    assert api.status is ComponentStatus.DEGRADED_PERFORMANCE


def test_a_second_resolve_is_refused_and_queues_nothing(
    client, session, clock, operator, actor, parts, publishing_settings
):
    incident = _open(
        session, actor, publishing_settings, "Errors", {parts["API"]: ComponentStatus.MAJOR_OUTAGE}
    )
    resolve_by_api(client, session, operator, incident, parts)
    session.commit()
    before = session.scalar(select(func.count(Delivery.id)))
    token = _api_token(session, operator)
    again = client.post(
        f"/api/v1/incidents/{incident.public_id}/resolve",
        json={"body": "Fixed again."},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.status_code == 409 and "already resolved" in again.get_json()["error"]["message"]
    session.commit()
    session.expire_all()
    assert session.scalar(select(func.count(Delivery.id))) == before
    assert [u.status for u in incident.updates] == ["investigating", "resolved"]
    with pytest.raises(Conflict):
        incidents.resolve(
            session,
            incident=incident,
            body="x",
            actor=actor,
            publishing_settings=publishing_settings,
        )


# -- maintenance is published like an incident --------------------------------------------


def _subscribe(session, kind, address, parts=()):
    subscriber = Subscriber(
        kind=kind,
        address=address,
        secret="s3cret",
        confirmed_at=START,
        components=list(parts),
    )
    session.add(subscriber)
    session.commit()
    return subscriber


def _window(session, actor, publishing_settings, parts, *, notify=True, start=120):
    window = maintenance.schedule_maintenance(
        session,
        name="Database upgrade",
        body="We upgrade the database.",
        actor=actor,
        scheduled_for=START + timedelta(minutes=start),
        scheduled_until=START + timedelta(minutes=start + 60),
        components=parts,
        notify=notify,
        publishing_settings=publishing_settings,
    )
    session.commit()
    return window


def _targets(session, window, purpose=Purpose.NOTICE):
    return sorted(
        (d.channel, d.target, d.update.status)
        for d in session.scalars(
            select(Delivery).where(Delivery.incident_id == window.id, Delivery.purpose == purpose)
        )
    )


def test_every_step_of_a_window_reaches_every_channel_and_matching_subscriber_threaded(
    app,
    session,
    clock,
    actor,
    parts,
    publishing_settings,
    receiver,
    fake_x,
    fake_mastodon,
    fake_bluesky,
    mailbox,
):
    db = parts["API"]
    everyone = _subscribe(session, SubscriberKind.EMAIL, "all@example.com")
    follower = _subscribe(session, SubscriberKind.EMAIL, "api@example.com", [db])
    _subscribe(session, SubscriberKind.EMAIL, "web@example.com", [parts["Web"]])
    hook = _subscribe(session, SubscriberKind.WEBHOOK, receiver.url + API_HOOK)
    window = _window(session, actor, publishing_settings, [db])
    clock.advance(timedelta(minutes=120))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)  # starts
    session.commit()
    maintenance.update_maintenance(
        session,
        window=window,
        status=MaintenanceStatus.VERIFYING,
        body="Checking replication.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    maintenance.complete_maintenance(
        session,
        window=window,
        body="All done.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    expected_targets = {
        ("x", "account"),
        ("mastodon", "account"),
        ("bluesky", "account"),
        ("email", everyone.public_id),
        ("email", follower.public_id),
        ("webhook", hook.public_id),
    }
    for status in ("scheduled", "in_progress", "verifying", "completed"):
        got = {(c, t) for c, t, s in _targets(session, window) if s == status and "/" not in t}
        assert got == expected_targets, status
    deliver(app, session)
    # Each network got four posts, each a reply to the one before: the window's own thread.
    assert len(fake_mastodon.statuses) == 4
    ids = [s["id"] for s in fake_mastodon.statuses]
    assert [s["in_reply_to_id"] for s in fake_mastodon.statuses] == [None, *ids[:3]]
    assert [t["in_reply_to"] for t in fake_x.tweets][1:] == [t["id"] for t in fake_x.tweets][:3]
    assert fake_x.tweets[0]["in_reply_to"] is None
    assert "Scheduled for 24 Nov 14:00 – 15:00 UTC" in fake_mastodon.statuses[0]["content"]
    # Webhook subscribers get Statuspage-shaped maintenance payloads.
    posted = [d.json() for d in receiver.deliveries if d.path == API_HOOK]
    incident_events = [p["incident"] for p in posted if "incident" in p]
    assert [p["status"] for p in incident_events] == [
        "scheduled",
        "in_progress",
        "verifying",
        "completed",
    ]
    assert incident_events[0]["scheduled_for"].startswith("2026-11-24T14:00")
    to = sorted(str(m["To"]) for m in mailbox.messages)
    assert to == ["all@example.com"] * 4 + ["api@example.com"] * 4


def test_unticking_notify_queues_nothing_for_the_window_or_its_automatic_steps(
    session, clock, actor, parts, publishing_settings
):
    _subscribe(session, SubscriberKind.EMAIL, "all@example.com")
    window = _window(session, actor, publishing_settings, [parts["API"]], notify=False)
    for minutes in (60, 120, 180):
        clock.freeze(START + timedelta(minutes=minutes))
        maintenance.advance_windows(session, publishing_settings=publishing_settings)
        session.commit()
    assert window.status == "completed"
    assert session.scalar(select(func.count(Delivery.id))) == 0


def test_subscribers_are_reminded_once_an_hour_before_the_window_starts(
    app, session, clock, actor, parts, publishing_settings, mailbox, fake_mastodon
):
    _subscribe(session, SubscriberKind.EMAIL, "all@example.com")
    _window(session, actor, publishing_settings, [parts["API"]], start=180)
    deliver(app, session)
    for minutes in (30, 119, 120, 121, 150, 170):
        clock.freeze(START + timedelta(minutes=minutes))
        maintenance.advance_windows(session, publishing_settings=publishing_settings)
        session.commit()
        deliver(app, session)
        reminders = [m for m in mailbox.messages if "Reminder" in str(m["Subject"])]
        assert len(reminders) == (1 if minutes >= 120 else 0), minutes
    [reminder] = reminders
    assert reminder["Subject"] == "[Example Status] Reminder: Database upgrade — Scheduled"
    assert "Starts in 1 hour." in reminder.get_content()
    assert len(fake_mastodon.statuses) == 2  # the notice, then the reminder in its thread
    assert fake_mastodon.statuses[1]["in_reply_to_id"] == fake_mastodon.statuses[0]["id"]


def test_a_window_scheduled_inside_the_reminder_lead_gets_no_separate_reminder(
    session, clock, actor, parts, publishing_settings
):
    _subscribe(session, SubscriberKind.EMAIL, "all@example.com")
    window = _window(session, actor, publishing_settings, [parts["API"]], start=30)
    clock.advance(timedelta(minutes=5))
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    session.commit()
    assert _targets(session, window, Purpose.REMINDER) == []
    assert window.reminded_at is not None
