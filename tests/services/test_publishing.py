import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from statusboard.domain.retry import LIMITS
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import Delivery, DeliveryState, Subscriber, SubscriberKind
from statusboard.services import components, incidents, publishing, subscribers
from statusboard.services.publishing import ChannelChoice
from tests.conftest import START
from tests.fakes.publishing import deliver
from tests.fakes.social import MASTODON_422, MASTODON_429, X_TOO_MANY


@pytest.fixture
def app_overrides(publishing_overrides):
    return publishing_overrides


def _subscribe_email(session, address, components_=()):
    subscriber = subscribers.request_email(session, email=address, components=components_)
    subscriber.confirmed_at = START
    session.commit()
    return subscriber


def _subscribe_webhook(session, url, components_=()):
    subscriber = subscribers.request_webhook(
        session,
        url=url,
        contact_email="hooks@example.com",
        components=components_,
        allow=publishing_overrides_allow(),
        confirmed=True,
    )
    session.commit()
    return subscriber


def publishing_overrides_allow():
    from statusboard.channels.webhook import parse_allow_list

    return parse_allow_list("127.0.0.1")


def _open(session, actor, api, publishing_settings, **kwargs):
    incident = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="We are looking into errors.",
        actor=actor,
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        **kwargs,
        publishing_settings=publishing_settings,
    )
    session.commit()
    return incident


def _states(session):
    session.expire_all()
    return sorted((d.channel, d.state.value) for d in session.scalars(select(Delivery)))


def test_posting_an_update_queues_one_delivery_per_channel_and_subscriber_in_its_transaction(
    app, session, clock, actor, api, receiver, publishing_settings
):
    _subscribe_email(session, "a@example.com")
    _subscribe_email(session, "b@example.com")
    _subscribe_webhook(session, receiver.url + "/hook")
    incident = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MAJOR,
        body="Looking.",
        actor=actor,
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    # Visible before commit: the same transaction as the update; gone with it on rollback.
    queued = sorted(d.channel for d in session.scalars(select(Delivery)))
    session.rollback()
    assert queued == ["bluesky", "email", "email", "mastodon", "webhook", "webhook", "x"]
    assert session.scalars(select(Delivery)).all() == []
    assert incident not in session


def test_one_update_reaches_every_network_and_subscriber_once(
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
    _subscribe_email(session, "a@example.com")
    _subscribe_webhook(session, receiver.url + "/hook")
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    assert {state for _, state in _states(session)} == {"sent"}
    assert len(fake_x.tweets) == 1 and len(fake_mastodon.statuses) == 1
    assert len(fake_bluesky.posts) == 1
    [message] = mailbox.messages
    assert message["To"] == "a@example.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/subscribe/unsubscribe/" in message["List-Unsubscribe"]
    assert "/subscribe/manage/" in message.get_content()
    events = [r.json() for r in receiver.deliveries]
    incident_event = next(e for e in events if "incident" in e)
    component_event = next(e for e in events if "component_update" in e)
    assert (
        incident_event["incident"]["incident_updates"][0]["body"] == "We are looking into errors."
    )
    assert component_event["component_update"]["new_status"] == "partial_outage"
    assert set(incident_event["meta"]) == {"unsubscribe", "documentation", "generated_at"}


def test_updates_of_one_incident_form_a_thread_on_every_network(
    app,
    session,
    clock,
    actor,
    api,
    fake_x,
    fake_mastodon,
    fake_bluesky,
    mailbox,
    publishing_settings,
):
    incident = _open(session, actor, api, publishing_settings)
    deliver(app, session)
    clock.advance(timedelta(minutes=5))
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Found a bad deploy.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    clock.advance(timedelta(minutes=5))
    incidents.resolve(
        session,
        incident=incident,
        body="Rolled back; all good.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    tweets = fake_x.tweets
    assert [t["in_reply_to"] for t in tweets] == [None, tweets[0]["id"], tweets[1]["id"]]
    toots = fake_mastodon.statuses
    assert [t["in_reply_to_id"] for t in toots] == [None, toots[0]["id"], toots[1]["id"]]
    posts = sorted(fake_bluesky.records.values(), key=lambda r: r["value"]["createdAt"])
    first, second, third = posts
    assert "reply" not in first["value"] or first["value"]["reply"] is None
    assert second["value"]["reply"]["root"]["uri"] == first["uri"]
    assert second["value"]["reply"]["parent"]["uri"] == first["uri"]
    assert third["value"]["reply"]["root"]["uri"] == first["uri"]
    assert third["value"]["reply"]["parent"]["cid"] == second["cid"]


def test_later_updates_wait_for_earlier_ones_of_the_same_incident_and_channel(
    app, session, clock, actor, api, fake_mastodon, publishing_settings
):
    incident = _open(session, actor, api, publishing_settings)
    fake_mastodon.fail_next(503, {"error": "Service Unavailable"})
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Found it.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    assert fake_mastodon.statuses == []  # the first failed; the second must not overtake it
    first, second = session.scalars(
        select(Delivery).where(Delivery.channel == "mastodon").order_by(Delivery.id)
    ).all()
    assert first.state is DeliveryState.RETRYING and second.state is DeliveryState.WAITING
    clock.advance(timedelta(minutes=1))
    deliver(app, session)
    assert [s["content"] for s in fake_mastodon.statuses][0].startswith("API errors")
    assert "Found it." in fake_mastodon.statuses[1]["content"]
    assert fake_mastodon.statuses[1]["in_reply_to_id"] == fake_mastodon.statuses[0]["id"]


def test_rate_limit_waits_until_the_announced_reset(
    app, session, clock, actor, api, fake_x, publishing_settings
):
    reset = int((START + timedelta(minutes=15)).timestamp())
    fake_x.fail_next(429, X_TOO_MANY, {"x-rate-limit-reset": str(reset)})
    _open(
        session,
        actor,
        api,
        publishing_settings,
    )
    deliver(app, session)
    row = session.scalar(select(Delivery).where(Delivery.channel == "x"))
    assert row.state is DeliveryState.RETRYING
    assert row.next_attempt_at >= datetime.fromtimestamp(reset, UTC)
    clock.advance(timedelta(minutes=10))
    deliver(app, session)
    assert fake_x.tweets == []
    clock.advance(timedelta(minutes=6))
    deliver(app, session)
    assert row.state is DeliveryState.SENT and len(fake_x.tweets) == 1, row.last_error


def test_validation_error_fails_at_once_and_emails_the_admins(
    app, session, clock, actor, api, admin, fake_mastodon, mailbox, publishing_settings
):
    fake_mastodon.fail_next(422, MASTODON_422)
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    row = session.scalar(select(Delivery).where(Delivery.channel == "mastodon"))
    assert row.state is DeliveryState.FAILED and row.attempts == 1
    assert "character limit" in row.last_error
    [alert] = [m for m in mailbox.messages if m["To"] == "admin@example.com"]
    assert "mastodon" in alert["Subject"]


def test_timeouts_and_server_errors_retry_with_backoff_until_the_attempts_run_out(
    app, session, clock, actor, api, fake_mastodon, publishing_settings
):
    for _ in range(LIMITS["notice"].attempts):
        fake_mastodon.fail_next(500, {"error": "Internal Server Error"})
    _open(session, actor, api, publishing_settings)
    waits = []
    for _ in range(LIMITS["notice"].attempts):
        deliver(app, session)
        row = session.scalar(select(Delivery).where(Delivery.channel == "mastodon"))
        if row.state is DeliveryState.RETRYING:
            waits.append(row.next_attempt_at - clock.now())
            clock.freeze(row.next_attempt_at)
    assert row.state is DeliveryState.FAILED and row.attempts == LIMITS["notice"].attempts
    assert waits == sorted(waits) or all(w > timedelta(0) for w in waits)
    assert waits[-1] > waits[0] * 4


def test_mastodon_retry_after_an_ambiguous_attempt_does_not_post_twice(
    app, session, clock, actor, api, fake_mastodon, publishing_settings
):
    fake_mastodon.fail_next(200, {}, delay=2.5)  # longer than the 2 s timeout: outcome unknown
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    row = session.scalar(select(Delivery).where(Delivery.channel == "mastodon"))
    assert row.state is DeliveryState.RETRYING and row.ambiguous
    clock.advance(timedelta(minutes=1))
    deliver(app, session)
    keys = [r.headers["idempotency-key"] for r in fake_mastodon.requests]
    assert keys[0] == keys[1] == row.public_id
    session.refresh(row)
    assert row.state is DeliveryState.SENT and len(fake_mastodon.statuses) == 1


def test_x_duplicate_after_an_ambiguous_attempt_counts_as_delivered_and_alerts(
    app, session, clock, actor, api, admin, fake_x, mailbox, publishing_settings
):
    _open(session, actor, api, publishing_settings)
    row = session.scalar(select(Delivery).where(Delivery.channel == "x"))
    # The first attempt reached X but the worker died before recording it.
    text = app.extensions["statusboard.channels"]["x"].preview(_notice_for(app, session, row))[0]
    fake_x.tweets.append({"id": "1", "text": text, "in_reply_to": None})
    row.state, row.claimed_until, row.attempts = DeliveryState.SENDING, START, 1
    session.commit()
    clock.advance(timedelta(minutes=2))
    deliver(app, session)
    session.refresh(row)
    assert row.state is DeliveryState.UNCERTAIN and row.remote_id is None
    assert len(fake_x.tweets) == 1
    assert any("may exist" in m["Subject"] for m in mailbox.messages)


def _notice_for(app, session, row):
    from tests.fakes.publishing import context_of

    return publishing.notices_for(session, [row], context_of(app).notices)[row.id][0]


def test_bluesky_retry_finds_the_record_of_an_attempt_that_arrived(
    app, session, clock, actor, api, fake_bluesky, publishing_settings
):
    fake_bluesky.fail_next(200, {}, delay=2.5)  # stored? no: times out before the server acts
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    row = session.scalar(select(Delivery).where(Delivery.channel == "bluesky"))
    assert row.state is DeliveryState.RETRYING and row.ambiguous
    # Pretend that timed-out attempt did create the record under its deterministic key.
    rkey = fake_bluesky.requests[-1].json()["rkey"]
    fake_bluesky.records[rkey] = {
        "uri": f"at://{fake_bluesky.DID}/app.bsky.feed.post/{rkey}",
        "cid": "bafyreiexisting",
        "value": {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-11-24T12:00:00Z"},
    }
    clock.advance(timedelta(minutes=1))
    deliver(app, session)
    session.refresh(row)
    assert row.state is DeliveryState.SENT and len(fake_bluesky.records) == 1
    assert json.loads(row.remote_ref)["cid"] == "bafyreiexisting"


def test_bluesky_session_is_reused_instead_of_logging_in_again(
    app, session, clock, actor, api, fake_bluesky, publishing_settings
):
    incident = _open(session, actor, api, publishing_settings)
    deliver(app, session)
    app.extensions["statusboard.channels"]["bluesky"]._client = None  # as after a restart
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Found it.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    assert len(fake_bluesky.posts) == 2 and fake_bluesky.logins == 1


def test_resolution_reaches_everyone_who_heard_of_the_incident_even_with_notifications_off(
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
    _subscribe_email(session, "a@example.com")
    incident = _open(session, actor, api, publishing_settings)
    deliver(app, session)
    late = _subscribe_email(session, "late@example.com")
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Quiet update.",
        actor=actor,
        notify=False,
        publishing_settings=publishing_settings,
    )
    session.commit()
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        notify=False,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    resolution = incident.updates[-1]
    targets = {
        (d.channel, d.target)
        for d in session.scalars(select(Delivery).where(Delivery.update_id == resolution.id))
    }
    assert ("email", late.public_id) not in targets
    assert {c for c, _ in targets} == {"x", "mastodon", "bluesky", "email"}
    assert len(fake_mastodon.statuses) == 2 and "Fixed." in fake_mastodon.statuses[1]["content"]
    assert publishing.undelivered_resolutions(session) == []


def test_unticked_channel_and_custom_text_are_honoured(
    app, session, clock, actor, api, fake_x, fake_mastodon, fake_bluesky, publishing_settings
):
    _open(
        session,
        actor,
        api,
        publishing_settings,
        channels={
            "x": ChannelChoice(send=False),
            "mastodon": ChannelChoice(custom_text="Short note."),
        },
    )
    deliver(app, session)
    assert fake_x.tweets == []
    assert fake_mastodon.statuses[0]["content"].startswith("Short note.")


def test_failed_resolution_shows_as_a_problem_to_operators(
    app, session, clock, actor, api, fake_mastodon, publishing_settings
):
    incident = _open(session, actor, api, publishing_settings)
    deliver(app, session)
    fake_mastodon.fail_next(401, {"error": "The access token is invalid"})
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    [(problem, count)] = publishing.undelivered_resolutions(session)
    assert problem.id == incident.id and count == 1


def test_unsubscribed_targets_get_nothing_more(
    app, session, clock, actor, api, mailbox, publishing_settings
):
    subscriber = _subscribe_email(session, "a@example.com")
    incident = _open(session, actor, api, publishing_settings)
    subscribers.unsubscribe(session, subscriber=subscriber)
    session.commit()
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    assert mailbox.messages == []
    assert {
        d.state for d in session.scalars(select(Delivery).where(Delivery.channel == "email"))
    } == {DeliveryState.CANCELLED}


def test_component_filter_limits_what_a_subscriber_gets(
    app, session, clock, actor, api, mailbox, publishing_settings
):
    web = components.create_component(session, name="Web", actor=actor)
    session.commit()
    _subscribe_email(session, "web-only@example.com", [web])
    _subscribe_email(session, "all@example.com")
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    assert [m["To"] for m in mailbox.messages] == ["all@example.com"]


def test_a_dead_workers_claim_is_taken_over_after_its_lease(
    app, session, clock, actor, api, fake_mastodon, publishing_settings
):
    _open(session, actor, api, publishing_settings)
    row = session.scalar(select(Delivery).where(Delivery.channel == "mastodon"))
    row.state, row.claimed_by = DeliveryState.SENDING, "dead-worker"
    row.claimed_until, row.attempts = START + timedelta(seconds=60), 1
    session.commit()
    deliver(app, session)
    assert fake_mastodon.statuses == []  # still leased
    clock.advance(timedelta(seconds=61))
    deliver(app, session)
    session.refresh(row)
    assert row.state is DeliveryState.SENT and row.ambiguous and row.attempts == 2


def test_a_live_worker_keeps_its_claims_past_the_lease_by_renewing_them(
    app, session, clock, actor, api, fake_mastodon, publishing_settings
):
    """A slow batch outlasts one lease: while its worker renews, no other worker takes it
    over (and sends it again); another worker's claims are left to lapse."""
    from statusboard.services import outbox

    _open(session, actor, api, publishing_settings)
    mine, theirs = session.scalars(select(Delivery).order_by(Delivery.id).limit(2)).all()
    for row, worker in ((mine, "slow-worker"), (theirs, "dead-worker")):
        row.state, row.claimed_by = DeliveryState.SENDING, worker
        row.claimed_until, row.attempts = START + timedelta(seconds=60), 1
    session.commit()
    clock.advance(timedelta(seconds=40))
    assert outbox.renew_claims(session, worker="slow-worker", lease=timedelta(seconds=60)) == 1
    session.commit()
    clock.advance(timedelta(seconds=40))  # 80 s after the claims: past the first lease
    deliver(app, session)
    session.refresh(mine)
    session.refresh(theirs)
    assert mine.state is DeliveryState.SENDING and mine.claimed_by == "slow-worker"
    assert theirs.state is DeliveryState.SENT and theirs.ambiguous


def test_a_delivered_webhook_clears_its_subscribers_failure_count(
    app, session, clock, actor, api, receiver, publishing_settings
):
    hook = _subscribe_webhook(session, receiver.url + "/hook")
    for _ in range(2):
        receiver.fail_next(410, {"error": "gone"})
    incident = _open(session, actor, api, publishing_settings)  # incident and component events
    deliver(app, session)
    session.refresh(hook)
    assert hook.failures_in_a_row == 2
    clock.advance(timedelta(minutes=1))
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Step.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    session.refresh(hook)
    assert hook.failures_in_a_row == 0 and hook.disabled_at is None


def test_webhook_subscriber_is_disabled_after_repeated_failures_with_a_notice(
    app, session, clock, actor, api, receiver, mailbox, publishing_settings
):
    hook = _subscribe_webhook(session, receiver.url + "/hook")
    for _ in range(6):
        receiver.fail_next(410, {"error": "gone"})
    incident = _open(
        session, actor, api, publishing_settings
    )  # an incident event and a component event
    deliver(app, session)
    for status in (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING):
        clock.advance(timedelta(minutes=1))
        incidents.post_update(
            session,
            incident=incident,
            status=status,
            body="Step.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
        session.commit()
        deliver(app, session)
    assert hook.disabled_at is None and hook.failures_in_a_row == 4
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    session.refresh(hook)
    assert hook.disabled_at is not None and hook.failures_in_a_row >= 5
    [notice] = [m for m in mailbox.messages if m["To"] == "hooks@example.com"]
    assert "disabled" in notice["Subject"]
    assert (
        session.scalar(select(Subscriber).where(Subscriber.kind == SubscriberKind.WEBHOOK)).active
        is False
    )


def test_mastodon_rate_limit_is_retried(
    app, session, clock, actor, api, fake_mastodon, publishing_settings
):
    fake_mastodon.fail_next(429, MASTODON_429)
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    row = session.scalar(select(Delivery).where(Delivery.channel == "mastodon"))
    assert row.state is DeliveryState.RETRYING


def test_bluesky_rate_limit_waits_for_its_reset_header(
    app, session, clock, actor, api, fake_bluesky, publishing_settings
):
    from tests.fakes.social import BLUESKY_429

    reset = int((START + timedelta(minutes=5)).timestamp())
    fake_bluesky.fail_next(429, BLUESKY_429, {"ratelimit-reset": str(reset)})
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    row = session.scalar(select(Delivery).where(Delivery.channel == "bluesky"))
    assert row.state is DeliveryState.RETRYING and "RateLimitExceeded" in row.last_error
    assert row.next_attempt_at > datetime.fromtimestamp(reset, UTC)


def test_x_rejecting_the_credentials_fails_at_once(
    app, session, clock, actor, api, admin, fake_x, mailbox, publishing_settings
):
    from tests.fakes.social import X_UNAUTHORIZED

    fake_x.fail_next(401, X_UNAUTHORIZED)
    _open(session, actor, api, publishing_settings)
    deliver(app, session)
    row = session.scalar(select(Delivery).where(Delivery.channel == "x"))
    assert row.state is DeliveryState.FAILED and row.attempts == 1
    assert any(m["To"] == "admin@example.com" for m in mailbox.messages)


def test_concurrent_workers_never_send_the_same_delivery_twice(
    app, session, clock, actor, api, receiver, fake_mastodon, publishing_settings
):
    import threading

    for n in range(40):
        _subscribe_webhook(session, f"{receiver.url}/hook/{n}")
    _open(session, actor, api, publishing_settings)
    expected = session.scalar(select(func.count()).select_from(Delivery))
    workers = [
        threading.Thread(target=deliver, args=(app,), kwargs={"worker": f"w{n}"}) for n in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ids = [r.headers["x-statusboard-delivery"] for r in receiver.deliveries]
    assert len(ids) == len(set(ids)) == 80  # an incident and a component event each
    session.rollback()
    states = {d.state for d in session.scalars(select(Delivery))}
    assert states == {DeliveryState.SENT} and expected == 83
    assert len(fake_mastodon.statuses) == 1
