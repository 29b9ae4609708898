"""What a subscriber reads: the raw bytes the SMTP server received, parsed as a mail client
does (BytesParser with the default policy), for a whole incident from first word to resolved."""

from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest

from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.services import components, incidents, subscribers
from tests.conftest import START
from tests.fakes.publishing import deliver

READER = "reader@example.com"


@pytest.fixture
def app_overrides(publishing_overrides):
    return {**publishing_overrides, "TIME_ZONE": "Europe/Paris"}


def _subscribe(session, address, chosen=()):
    subscriber = subscribers.request_email(session, email=address, components=chosen)
    subscriber.confirmed_at = START
    session.commit()
    return subscriber


def _received(mailbox, address=READER):
    """Each message to `address`, as a mail client parses the bytes on the wire."""
    parser = BytesParser(policy=policy.default)
    return [
        parser.parsebytes(raw.replace(b"\r\n", b"\n"))
        for raw, envelope in zip(mailbox.raw, mailbox.envelopes, strict=True)
        if envelope.recipients == [address]
    ]


def test_every_notice_tells_status_impact_components_eta_and_the_next_update(
    app, session, clock, mailbox, actor, publishing_settings
):
    api = components.create_component(session, name="API", actor=actor)
    web = components.create_component(session, name="Web app", actor=actor)
    session.commit()
    _subscribe(session, READER)
    incident = incidents.open_incident(
        session,
        name="Checkout errors",
        impact=Impact.MAJOR,
        body="Payments fail for some customers.",
        actor=actor,
        eta=START + timedelta(hours=2),
        next_update_at=START + timedelta(minutes=30),
        component_changes={
            api: ComponentStatus.PARTIAL_OUTAGE,
            web: ComponentStatus.DEGRADED_PERFORMANCE,
        },
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    [first] = _received(mailbox)
    text = first.get_content()
    assert first["Subject"] == "[Example Status] Checkout errors — Investigating"
    assert "Status: Investigating · Impact: Major\n" in text
    assert "Affected: API, Web app\n" in text
    # 14:00 UTC is 15:00 in Paris (the page's zone), with the date: mail is read later.
    assert "Expected resolution: 24 Nov 15:00 CET.\n" in text
    assert "Next update by 24 Nov 13:30 CET." in text

    mailbox.clear()
    clock.advance(timedelta(minutes=20))
    for eta in (START + timedelta(hours=3), None):
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body=f"Revised: {eta}.",
            actor=actor,
            eta=eta,
            next_update_at=clock.now() + timedelta(minutes=15),
            publishing_settings=publishing_settings,
        )
        session.commit()
        deliver(app, session)
    second, third = (m.get_content() for m in _received(mailbox))
    assert "Expected resolution: 24 Nov 16:00 CET (revised once).\n" in second
    assert "Expected resolution: unknown for now (revised twice).\n" in third
    assert "Next update by 24 Nov 13:35 CET." in third

    mailbox.clear()
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    [resolved] = _received(mailbox)
    text = resolved.get_content()
    assert "Status: Resolved · Impact: Major\n" in text
    assert "Expected resolution" not in text and "Next update" not in text


def test_the_unsubscribe_headers_are_plain_one_click_urls_to_a_mail_client(
    app, session, mailbox, actor, publishing_settings
):
    # A long, non-ASCII subject beside the long unsubscribe URL: the case that used to fold
    # the URL into an RFC 2047 encoded word.
    _subscribe(session, READER)
    incidents.open_incident(
        session,
        name="Paiements refusés pour une partie des clients européens " * 2,
        impact=Impact.CRITICAL,
        body="Nous cherchons.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    [raw] = [
        r for r, e in zip(mailbox.raw, mailbox.envelopes, strict=True) if e.recipients == [READER]
    ]
    [message] = _received(mailbox)
    header = message["List-Unsubscribe"]
    assert header.startswith("<https://status.example.com/subscribe/unsubscribe/")
    assert header.endswith(">") and " " not in header and "=?" not in header
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire: one line each, neither folded nor encoded (RFC 8058 checks the raw header).
    lines = raw.split(b"\r\n")
    [line] = [x for x in lines if x.startswith(b"List-Unsubscribe:")]
    assert line == b"List-Unsubscribe: " + header.encode()
    following = lines[lines.index(line) + 1]
    assert not following.startswith((b" ", b"\t"))
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert "Paiements refusés" in message["Subject"]
    # The URL it names unsubscribes with one POST and no cookie, as RFC 8058 requires.
    path = header[1:-1].removeprefix("https://status.example.com")
    response = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204


def test_the_confirmation_email_lists_the_chosen_components(app, client, session, mailbox, actor):
    api = components.create_component(session, name="API", actor=actor)
    components.create_component(session, name="Web app", actor=actor)
    eu = components.create_component(session, name="EU region", actor=actor)
    session.commit()
    client.post("/subscribe", data={"email": READER, "components": [api.public_id, eu.public_id]})
    deliver(app, session)
    [confirmation] = _received(mailbox)
    text = confirmation.get_content()
    assert "updates that affect: API, EU region." in text
    assert "Web app" not in text
