"""A customer's own Slack, Discord or Teams channel as a subscriber: the test message that
subscribes it (queued, never sent from the request), the incident updates it then gets, in its
own time zone, and what happens when the platform says the hook is gone."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import Delivery, DeliveryState, Subscriber, SubscriberKind
from statusboard.services import incidents
from tests.conftest import START, login
from tests.fakes.chat_hooks import DISCORD_HOOK, SLACK_HOOK, TEAMS_HOOK
from tests.fakes.publishing import deliver

HOOKS = {"slack": SLACK_HOOK, "discord": DISCORD_HOOK, "teams": TEAMS_HOOK}


@pytest.fixture
def app_overrides(publishing_overrides, chat_hooks):
    return {
        **publishing_overrides,
        "CHAT_HOOKS_BASE_URL": chat_hooks.url,
        "TIME_ZONE": "Europe/Paris",
        "WEBHOOK_MAX_FAILURES": 3,
    }


def _subscribe(client, url, **form):
    return client.post("/subscribe/chat", data={"chat_url": url, **form})


def _open(session, actor, api, publishing_settings):
    incident = incidents.open_incident(
        session,
        name="Checkout errors",
        impact=Impact.MAJOR,
        body="Payments fail for some customers.",
        actor=actor,
        eta=START + timedelta(hours=2),
        next_update_at=START + timedelta(minutes=30),
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    session.commit()
    return incident


@pytest.mark.parametrize("platform", ["slack", "discord", "teams"])
def test_subscribing_queues_a_test_message_and_the_room_is_active_once_it_is_accepted(
    app, client, session, clock, chat_hooks, api, platform
):
    response = _subscribe(client, HOOKS[platform], components=[api.public_id])
    assert response.status_code == 200
    assert "A test message is on its way" in response.get_data(as_text=True)
    # Nothing left the request: the worker sends it.
    assert chat_hooks.requests == []
    [subscriber] = session.scalars(select(Subscriber)).all()
    assert subscriber.kind is SubscriberKind(platform) and not subscriber.active

    deliver(app, session)
    [seen] = chat_hooks.received(platform)
    assert "You will receive Example Status updates here" in seen.body.decode()
    assert "Incidents and maintenance of API" in seen.body.decode()
    session.refresh(subscriber)
    assert subscriber.active and subscriber.confirmed_at == START


def test_a_refused_test_message_leaves_the_room_unsubscribed(app, client, session, chat_hooks):
    chat_hooks.forget(SLACK_HOOK, "channel_not_found")
    _subscribe(client, SLACK_HOOK)
    deliver(app, session)
    subscriber = session.scalars(select(Subscriber)).one()
    assert not subscriber.active
    [delivery] = session.scalars(select(Delivery)).all()
    assert delivery.state is DeliveryState.FAILED
    assert "channel_not_found" in (delivery.last_error or "")


@pytest.mark.parametrize(
    "url, says",
    [
        ("https://hooks.slack.com/services/T1", "hooks.slack.com/services"),
        ("http://discord.com/api/webhooks/1/2", "https://"),
        ("https://example.com/hook", "incoming-webhook URL of a Slack app"),
    ],
)
def test_a_wrong_url_is_refused_on_the_form_and_nothing_is_queued(client, session, url, says):
    response = _subscribe(client, url)
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert session.scalars(select(Subscriber)).all() == []
    assert session.scalars(select(Delivery)).all() == []


def test_an_update_with_an_eta_reaches_each_room_in_its_own_time_zone(
    app, client, session, clock, chat_hooks, actor, api, publishing_settings
):
    _subscribe(client, SLACK_HOOK, time_zone="America/New_York")
    _subscribe(client, DISCORD_HOOK)  # the page's zone
    _subscribe(client, TEAMS_HOOK, time_zone="Asia/Tokyo")
    deliver(app, session)
    chat_hooks.requests.clear()

    incident = _open(session, actor, api, publishing_settings)
    clock.advance(timedelta(minutes=20))
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="A bad deploy; rolling back.",
        actor=actor,
        eta=START + timedelta(hours=3),
        next_update_at=START + timedelta(minutes=50),
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)

    slack = chat_hooks.received("slack")[-1].json()
    fields = [f["text"] for f in slack["attachments"][0]["blocks"][1]["fields"]]
    # 15:00 UTC is 10:00 in New York.
    assert "*Expected resolution*\n24 Nov 10:00 EST (revised once)" in fields
    assert "*Next update by*\n24 Nov 07:50 EST" in fields
    embed = chat_hooks.received("discord")[-1].json()["embeds"][0]
    facts = {f["name"]: f["value"] for f in embed["fields"]}
    assert facts["Expected resolution"] == "24 Nov 16:00 CET (revised once)"
    assert facts["Affected"] == "API"
    assert embed["description"] == "A bad deploy; rolling back."
    card = chat_hooks.received("teams")[-1].json()["attachments"][0]["content"]
    tokyo = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert tokyo["Expected resolution"] == "25 Nov 00:00 JST (revised once)"
    # Discord gave message ids; they are recorded.
    discord = session.scalars(select(Delivery).where(Delivery.channel == "discord")).all()
    assert all(d.remote_id and d.remote_id.isdigit() for d in discord if d.update_id)


def test_a_gone_hook_is_disabled_after_repeated_failures_and_the_admins_are_told(
    app, client, session, clock, chat_hooks, mailbox, admin, actor, api, publishing_settings
):
    _subscribe(client, DISCORD_HOOK, chat_contact_email="team@example.com")
    deliver(app, session)
    subscriber = session.scalars(select(Subscriber)).one()
    assert subscriber.active
    chat_hooks.forget(DISCORD_HOOK)

    incident = _open(session, actor, api, publishing_settings)
    deliver(app, session)
    for minutes in (10, 20):
        clock.advance(timedelta(minutes=10))
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body=f"Still on it ({minutes}).",
            actor=actor,
            next_update_at=clock.now() + timedelta(minutes=30),
            publishing_settings=publishing_settings,
        )
        session.commit()
        deliver(app, session)
        session.refresh(subscriber)
        assert subscriber.active is (minutes == 10)
    assert subscriber.disabled_at == START + timedelta(minutes=20)
    # Each refusal was final (no retries): three deliveries, three requests.
    assert len(chat_hooks.received("discord")) == 1 + 3
    to = {tuple(e.recipients): m for e, m in zip(mailbox.envelopes, mailbox.messages, strict=True)}
    notice = to[("admin@example.com",)]
    assert notice["Subject"] == "[Example Status] A Discord webhook subscriber was disabled"
    assert "Unknown Webhook" in notice.get_content()
    assert "no longer exists" in notice.get_content()
    assert ("team@example.com",) in to
    # A disabled room hears nothing more, not even the resolution.
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    assert len(chat_hooks.received("discord")) == 4
    # And the admins see it on Admin → Subscribers.
    session.commit()
    login(client, admin)
    listed = " ".join(client.get("/admin/subscribers/").get_data(as_text=True).split())
    assert "1 webhook or chat subscriber was disabled in the last 7 days" in listed


def test_the_manage_link_in_the_room_shows_only_the_start_of_the_hook(
    app, client, session, chat_hooks
):
    _subscribe(client, SLACK_HOOK)
    deliver(app, session)
    text = chat_hooks.received("slack")[0].json()["text"]
    manage = text.split("Manage or leave: ")[1].strip()
    page = client.get(manage.removeprefix("https://status.example.com")).get_data(as_text=True)
    assert "Slack channel" in page and "active" in page
    assert SLACK_HOOK[:44] in page and SLACK_HOOK not in page


def test_an_unknown_time_zone_is_refused_on_the_form(client, session):
    response = _subscribe(client, SLACK_HOOK, time_zone="Mars/Olympus")
    assert response.status_code == 422
    assert "Choose a time zone from the list, like Europe/Berlin." in response.get_data(
        as_text=True
    )
    assert session.scalars(select(Subscriber)).all() == []


def test_a_maintenance_window_is_told_in_the_rooms_own_time_zone(
    app, client, session, clock, chat_hooks, actor, api, publishing_settings
):
    from statusboard.services import maintenance

    _subscribe(client, SLACK_HOOK, time_zone="America/New_York")
    _subscribe(client, DISCORD_HOOK)  # the page's zone, Paris
    deliver(app, session)
    maintenance.schedule_maintenance(
        session,
        name="Database upgrade",
        body="Writes pause for up to an hour.",
        scheduled_for=START + timedelta(days=1, hours=10),
        scheduled_until=START + timedelta(days=1, hours=11),
        components=[api],
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    slack = chat_hooks.received("slack")[-1].json()["attachments"][0]["blocks"][2]
    assert slack["text"]["text"].startswith("Scheduled for 25 Nov 17:00 – 18:00 EST.")
    embed = chat_hooks.received("discord")[-1].json()["embeds"][0]
    assert embed["description"].startswith("Scheduled for 25 Nov 23:00 – 26 Nov 00:00 CET.")
