from dataclasses import replace
from datetime import UTC, datetime

import pytest

from statusboard.channels.base import ChannelError, Letter, Notice, ThreadRef
from statusboard.channels.email import EmailChannel
from tests.fakes.smtp import FakeSMTP, password_authenticator


def _channel(smtp, **options):
    return EmailChannel(
        host="127.0.0.1",
        port=smtp.port,
        sender="status@example.com",
        starttls=False,
        page_name="Example Status",
        timeout=2,
        **options,
    )


def _notice(address="reader@example.com", delivery_id="d1"):
    return Notice(
        delivery_id=delivery_id,
        incident_id="i",
        incident_name="API errors",
        update_id="u",
        status="investigating",
        text="Looking.",
        html="<p>Looking.</p>",
        url="https://status.example.com/incidents/i",
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
        address=address,
        manage_url="https://status.example.com/subscribe/manage/t",
        unsubscribe_url="https://status.example.com/subscribe/unsubscribe/t",
    )


def test_message_has_a_stable_id_thread_headers_and_one_click_unsubscribe(mailbox):
    channel = _channel(mailbox)
    receipt = channel.publish(
        _notice(), ThreadRef(root="<a@example.com>", parent="<b@example.com>")
    )
    channel.close()
    [message] = mailbox.messages
    assert message["Message-ID"] == receipt.remote_id == "<d1@example.com>"
    assert message["In-Reply-To"] == "<b@example.com>"
    assert message["References"] == "<a@example.com> <b@example.com>"
    assert message["List-Unsubscribe"] == "<https://status.example.com/subscribe/unsubscribe/t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "[Example Status] API errors — Investigating"
    assert "subscribe/manage/t" in message.get_content()


def test_a_long_unsubscribe_link_stays_a_url_mail_clients_can_follow(mailbox):
    link = "https://status.example.com/subscribe/unsubscribe/" + "t" * 120
    notice = replace(_notice(), unsubscribe_url=link, incident_name="Paiements refusés")
    channel = _channel(mailbox)
    channel.publish(replace(notice, text="Ligne très longue. " * 20), None)
    channel.close()
    [message] = mailbox.messages
    assert dict(message.raw_items())["List-Unsubscribe"].strip() == f"<{link}>"
    assert message["Subject"] == "[Example Status] Paiements refusés — Investigating"
    assert ("Ligne très longue. " * 20).strip() in message.get_content()


def test_one_connection_carries_many_messages(mailbox):
    channel = _channel(mailbox)
    for n in range(5):
        channel.publish(_notice(delivery_id=f"d{n}"), None)
    channel.close()
    assert len(mailbox.messages) == 5
    assert len(mailbox.handler.peers) == 5 and len(set(mailbox.handler.peers)) == 1


def test_a_refused_mailbox_fails_for_good(mailbox):
    mailbox.handler.refuse.add("gone@example.com")
    with pytest.raises(ChannelError) as caught:
        _channel(mailbox).publish(_notice(address="gone@example.com"), None)
    assert not caught.value.retryable


def test_an_unreachable_server_is_retried():
    channel = EmailChannel(
        host="127.0.0.1", port=9, sender="s@example.com", starttls=False, timeout=1
    )
    with pytest.raises(ChannelError) as caught:
        channel.publish(_notice(), None)
    assert caught.value.retryable


def test_a_letter_is_an_urgent_plain_message_to_one_person(mailbox):
    channel = _channel(mailbox)
    letter = Letter(
        delivery_id="n1",
        to="olive@example.com",
        subject="Update overdue by 7 min: Elevated errors",
        text="Update overdue by 7 min.\n\nPost an update: https://x/admin/...",
        urgent=True,
    )
    receipt = channel.publish(letter, None)
    channel.close()
    [message] = mailbox.messages
    [envelope] = mailbox.envelopes
    assert envelope.sender == "status@example.com"
    assert envelope.recipients == ["olive@example.com"]
    assert message["Subject"] == "[Example Status] Update overdue by 7 min: Elevated errors"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == receipt.remote_id == "<n1@example.com>"
    assert "Post an update: https://x/admin/" in message.get_content()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_it_logs_in_when_a_username_is_set_and_a_refused_login_is_final():
    with FakeSMTP(
        authenticator=password_authenticator("nagger", "s3cret"),
        auth_require_tls=False,
        auth_required=True,
    ) as server:
        letter = Letter(delivery_id="n2", to="ops@example.com", subject="s", text="t")
        good = _channel(server, username="nagger", password="s3cret")
        good.publish(letter, None)
        good.close()
        with pytest.raises(ChannelError) as refused:
            _channel(server, username="nagger", password="wrong").publish(letter, None)
        assert len(server.messages) == 1
    assert refused.value.retryable is False
    assert refused.value.status == 535


def test_a_long_unsubscribe_address_stays_one_plain_header(mailbox):
    long_url = "https://status.example.com/subscribe/unsubscribe/" + "t" * 120
    channel = _channel(mailbox)
    channel.publish(replace(_notice(), unsubscribe_url=long_url), None)
    channel.close()
    raw = mailbox.raw[0].decode()
    # As a mail client reads it: one unfolded, unencoded <https://…> (RFC 8058).
    [line] = [x for x in raw.splitlines() if x.startswith("List-Unsubscribe:")]
    assert line == f"List-Unsubscribe: <{long_url}>"
