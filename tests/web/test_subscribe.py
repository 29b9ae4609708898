import re
from datetime import timedelta

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from statusboard.models import Delivery, DeliveryState, Subscriber, SubscriberKind
from statusboard.models.delivery import Purpose
from statusboard.models.subscriber import subscriber_incident
from statusboard.services import components, subscribers
from statusboard.services.audit import Actor
from tests.fakes.publishing import deliver, network_settings
from tests.fakes.smtp import FakeSMTP, free_port


@pytest.fixture
def app_overrides(publishing_overrides):
    return publishing_overrides


def _link(message, kind):
    return re.search(
        rf"https://status\.example\.com(/subscribe/{kind}/\S+)", message.get_content()
    ).group(1)


def test_email_double_opt_in_then_manage_and_one_click_unsubscribe(
    app, client, session, mailbox, clock
):
    api = components.create_component(session, name="API", actor=Actor(None, "test"))
    session.commit()
    response = client.post(
        "/subscribe", data={"email": "Reader@Example.com", "components": [api.public_id]}
    )
    assert response.status_code == 200
    sent = response.get_data(as_text=True)
    assert "<h1>Check your email</h1>" in sent
    assert "<strong>reader@example.com</strong>" in sent
    assert "spam" in sent and "48 hours" in sent
    subscriber = session.scalar(select(Subscriber))
    assert subscriber.address == "reader@example.com" and not subscriber.active
    assert mailbox.messages == []  # queued in the request, sent by the worker
    deliver(app, session)
    [confirmation] = mailbox.messages
    assert "incident and maintenance updates that affect: API." in confirmation.get_content()
    response = client.get(_link(confirmation, "confirm"))
    assert response.status_code == 200
    confirmed = response.get_data(as_text=True)
    assert "<h1>You're subscribed</h1>" in confirmed
    assert "affect: API." in confirmed
    session.rollback()  # end the read snapshot; reload
    assert subscriber.active and [c.name for c in subscriber.components] == ["API"]
    manage_path = re.search(r'href="(/subscribe/manage/[^"]+)"', confirmed).group(1)
    manage = client.get(manage_path)
    assert b"reader@example.com" in manage.data
    token = manage_path.rsplit("/", 1)[1]
    assert client.get(f"/subscribe/unsubscribe/{token}").status_code == 200
    session.rollback()  # end the read snapshot; reload
    assert subscriber.active  # a GET (a link scanner) changes nothing
    one_click = client.post(
        f"/subscribe/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 204
    session.rollback()  # end the read snapshot; reload
    assert subscriber.unsubscribed_at is not None


def test_the_answer_is_the_same_whether_or_not_the_address_exists(app, client, session, mailbox):
    first = client.post("/subscribe", data={"email": "reader@example.com"})
    subscriber = session.scalar(select(Subscriber))
    subscriber.confirmed_at = subscriber.created_at
    session.commit()
    again = client.post("/subscribe", data={"email": "reader@example.com"})
    assert first.status_code == again.status_code == 200
    assert first.data == again.data
    deliver(app)
    assert len(mailbox.messages) == 1  # the confirmed address gets no second email


def test_a_bad_address_is_refused_and_nothing_is_stored(client, session, mailbox):
    response = client.post("/subscribe", data={"email": "not-an-address"})
    assert response.status_code == 422 and b"name@example.com" in response.data
    assert session.scalars(select(Subscriber)).all() == [] and mailbox.messages == []


def test_confirmation_links_expire(client, session, clock, app, monkeypatch):
    # itsdangerous reads the wall clock; make it read ours.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(clock.now().timestamp()))
    subscriber = subscribers.request_email(session, email="late@example.com")
    session.commit()
    token = subscribers.confirm_token(app.config["SECRET_KEY"], subscriber)
    clock.advance(timedelta(hours=47))
    assert client.get(f"/subscribe/confirm/{token}").status_code == 200
    clock.advance(timedelta(hours=2))
    response = client.get(f"/subscribe/confirm/{token}")
    assert response.status_code == 422 and b"expired" in response.data


def test_a_forged_link_is_refused(client):
    assert client.get("/subscribe/manage/forged.token").status_code == 404
    assert client.post("/subscribe/unsubscribe/forged.token").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[::127.0.0.1]/",
        "http://192.0.0.8/",
        "http://[::ffff:169.254.169.254]/",
    ],
)
def test_webhook_subscription_refuses_addresses_hiding_a_private_one(client, session, url):
    refused = client.post("/subscribe/webhook", data={"url": url, "contact_email": "a@b.org"})
    assert refused.status_code == 422
    assert b"not on the public internet" in refused.data
    assert session.scalar(select(Subscriber.id)) is None


def test_webhook_subscription_refuses_private_targets_and_confirms_by_email(
    app, client, session, mailbox, receiver
):
    refused = client.post(
        "/subscribe/webhook",
        data={"url": "http://10.0.0.1/hook", "contact_email": "ops@example.org"},
    )
    assert refused.status_code == 422 and b"private" in refused.data
    ok = client.post(
        "/subscribe/webhook",
        data={"url": receiver.url + "/hook", "contact_email": "ops@example.org"},
    )
    assert ok.status_code == 200
    hook = session.scalar(select(Subscriber).where(Subscriber.kind == SubscriberKind.WEBHOOK))
    assert hook.address == receiver.url + "/hook" and not hook.active
    deliver(app, session)
    [confirmation] = mailbox.messages
    assert confirmation["To"] == "ops@example.org"


class TestRateLimit:
    @pytest.fixture
    def app_overrides(self, publishing_overrides):
        return {
            **publishing_overrides,
            "RATELIMIT_ENABLED": True,
            "SUBSCRIBE_RATE_LIMIT": "2 per minute",
        }

    def test_subscribing_is_rate_limited(self, client, mailbox):
        codes = [
            client.post("/subscribe", data={"email": f"r{n}@example.com"}).status_code
            for n in range(3)
        ]
        assert codes == [200, 200, 429]


class TestWhileSmtpIsDown:
    @pytest.fixture
    def down_port(self):
        return free_port()

    @pytest.fixture
    def app_overrides(self, fake_x, fake_mastodon, fake_bluesky, mailbox, down_port):
        settings = network_settings(fake_x, fake_mastodon, fake_bluesky, mailbox)
        return settings | {"SMTP_PORT": down_port}  # nothing listens there

    def test_subscribing_answers_as_usual_and_the_confirmation_arrives_once_smtp_is_back(
        self, app, client, session, clock, down_port
    ):
        response = client.post("/subscribe", data={"email": "reader@example.com"})
        assert response.status_code == 200 and b"confirmation link" in response.data
        deliver(app, session)  # SMTP refuses connections: the attempt fails
        [queued] = session.scalars(select(Delivery)).all()
        assert queued.purpose is Purpose.CONFIRMATION
        assert queued.state is DeliveryState.RETRYING and "unreachable" in queued.last_error
        with FakeSMTP(port=down_port) as smtp:
            clock.advance(timedelta(minutes=1))
            deliver(app, session)
            [confirmation] = smtp.messages
        assert confirmation["To"] == "reader@example.com"
        assert "/subscribe/confirm/" in confirmation.get_content()
        assert session.scalars(select(Delivery)).one().state is DeliveryState.SENT


def test_the_webhook_form_reports_every_field_at_fault_at_once_and_keeps_what_was_typed(
    client, session
):
    refused = client.post(
        "/subscribe/webhook", data={"url": "http://10.0.0.1/hook", "contact_email": "nope"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="url-error"' in page and 'id="contact_email-error"' in page
    assert "private" in page and "Enter an email address like name@example.com." in page
    assert 'value="http://10.0.0.1/hook"' in page and 'value="nope"' in page
    assert session.scalar(select(Subscriber.id)) is None


def test_the_form_groups_components_and_leaves_signature_details_to_the_webhook_docs(
    client, session
):
    actor = Actor(None, "test")
    regions = components.create_component(session, name="Regions", is_group=True, actor=actor)
    components.create_component(session, name="EU", group=regions, actor=actor)
    components.create_component(session, name="Website", actor=actor)
    session.commit()
    page = client.get("/subscribe").get_data(as_text=True)
    group = page[page.index('class="group-name">Regions') :]
    assert group.index("EU") < group.index("</ul>")  # EU is listed inside its group
    assert 'value="' + regions.public_id + '"' not in page  # a group is no choice of its own
    assert "HMAC(" not in page and "X-Statusboard-Signature" not in page
    docs = client.get("/subscribe/webhooks").get_data(as_text=True)
    assert "X-Statusboard-Signature" in docs and "HMAC-SHA256" in docs


def test_subscribing_to_one_incident_brings_its_updates_and_no_others(
    app, client, session, mailbox, operator, publishing_settings
):
    from statusboard.domain.statuses import Impact, IncidentStatus
    from statusboard.services import incidents

    actor = Actor(operator, "test")
    followed, other = (
        incidents.open_incident(
            session,
            name=name,
            impact=Impact.MINOR,
            body="Looking.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
        for name in ("Slow checkout", "Login errors")
    )
    session.commit()
    incident_page = client.get(f"/incidents/{followed.public_id}").get_data(as_text=True)
    assert f'href="/subscribe?incident={followed.public_id}">by email</a>' in incident_page
    form = client.get(f"/subscribe?incident={followed.public_id}").get_data(as_text=True)
    assert "Follow “Slow checkout”" in form
    client.post("/subscribe", data={"email": "fan@example.com", "incident": followed.public_id})
    deliver(app, session)
    [confirmation] = [m for m in mailbox.messages if m["To"] == "fan@example.com"]
    assert 'every update on "Slow checkout" until it is over' in confirmation.get_content()
    assert client.get(_link(confirmation, "confirm")).status_code == 200
    mailbox.clear()
    for incident in (followed, other):
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
    got = [m["Subject"] for m in mailbox.messages if m["To"] == "fan@example.com"]
    assert got == ["[Example Status] Slow checkout — Identified"]


def test_choosing_components_ends_following_a_single_incident(
    client, session, operator, publishing_settings
):
    from statusboard.domain.statuses import Impact
    from statusboard.services import incidents

    incident = incidents.open_incident(
        session,
        name="Slow checkout",
        impact=Impact.MINOR,
        body="Looking.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    subscriber = subscribers.request_email(session, email="fan@example.com", incident=incident)
    subscriber.confirmed_at = subscriber.created_at
    session.commit()
    token = subscribers.manage_token("test-secret-key", subscriber)
    page = client.get(f"/subscribe/manage/{token}").get_data(as_text=True)
    assert "You follow only “Slow checkout”." in page
    assert client.post(f"/subscribe/manage/{token}", data={}).status_code == 302
    session.rollback()
    assert session.execute(select(subscriber_incident)).all() == []
    page = client.get(f"/subscribe/manage/{token}").get_data(as_text=True)
    assert "You follow only" not in page
    assert "Your choice of components is saved." in page
