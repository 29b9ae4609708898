import time
from datetime import UTC, datetime

import pytest

from statusboard.channels.base import ChannelError, Notice
from statusboard.channels.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    UnsafeTarget,
    WebhookChannel,
    check_target,
    parse_allow_list,
    sign,
    verify,
)

LOCAL = parse_allow_list("127.0.0.1")


def _notice(url, **kwargs):
    return Notice(
        delivery_id="d1",
        incident_id="i",
        incident_name="API errors",
        update_id="u",
        status="investigating",
        text="Looking.",
        html="<p>Looking.</p>",
        url="https://status.example.com/incidents/i",
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
        address=url,
        secret="s3cret",
        payload={"incident": {"id": "i"}},
        **kwargs,
    )


def test_receiver_can_verify_the_signature_and_the_delivery_id(receiver):
    WebhookChannel(allow_private=LOCAL, timeout=2).publish(_notice(receiver.url + "/h"), None)
    [request] = receiver.deliveries
    assert request.headers[DELIVERY_HEADER.lower()] == "d1"
    assert verify("s3cret", request.headers[SIGNATURE_HEADER.lower()], request.body)
    assert not verify("other", request.headers[SIGNATURE_HEADER.lower()], request.body)
    assert not verify("s3cret", request.headers[SIGNATURE_HEADER.lower()], request.body + b" ")


def test_an_old_signature_is_refused_as_a_replay():
    body = b'{"a":1}'
    header = sign("s3cret", int(time.time()) - 3600, body)
    assert not verify("s3cret", header, body)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
        # IPv4 hidden inside IPv6, and the IETF block ipaddress calls global.
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata service
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
        "http://[::127.0.0.1]/",  # IPv4-compatible
        "http://[::8.8.8.8]/",  # IPv4-compatible, even of a public address
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[::ffff:10.0.0.1]/",
        "http://192.0.0.8/",
        "http://192.0.0.9/",
        "http://192.0.0.170/",
        "http://[fe80::1%25eth0]/",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(url):
    with pytest.raises(UnsafeTarget):
        check_target(url)


@pytest.mark.parametrize(
    "url", ["http://8.8.8.8/", "http://[2606:4700::1111]/", "http://[64:ff9b::808:808]/"]
)
def test_public_addresses_also_behind_nat64_are_accepted(url):
    check_target(url)


def test_the_allow_list_lets_a_private_address_through():
    check_target("http://127.0.0.1:9/hook", LOCAL)
    with pytest.raises(UnsafeTarget):
        check_target("http://10.0.0.1/hook", LOCAL)


def test_sending_to_a_refused_target_fails_without_a_request():
    with pytest.raises(ChannelError) as caught:
        WebhookChannel().publish(_notice("http://127.0.0.1:9/hook"), None)
    assert not caught.value.retryable and "refused" in str(caught.value)


def test_redirects_are_not_followed(receiver):
    receiver.fail_next(302, {}, {"Location": "http://169.254.169.254/"})
    with pytest.raises(ChannelError) as caught:
        WebhookChannel(allow_private=LOCAL).publish(_notice(receiver.url + "/h"), None)
    assert not caught.value.retryable and len(receiver.requests) == 1


def test_server_errors_retry_and_client_errors_do_not(receiver):
    channel = WebhookChannel(allow_private=LOCAL)
    receiver.fail_next(503, {})
    with pytest.raises(ChannelError) as caught:
        channel.publish(_notice(receiver.url + "/h"), None)
    assert caught.value.retryable
    receiver.fail_next(404, {})
    with pytest.raises(ChannelError) as caught:
        channel.publish(_notice(receiver.url + "/h"), None)
    assert not caught.value.retryable
