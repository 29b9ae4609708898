"""Webhook subscribers: Statuspage-compatible JSON, signed with HMAC-SHA256 over
"<timestamp>.<body>" (the timestamp stops replays), a delivery id for receiver-side dedupe,
no redirects followed, and no private, loopback or link-local targets unless allow-listed."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import urlsplit

import requests

from statusboard.channels.base import (
    ChannelError,
    Message,
    Notice,
    Receipt,
    ThreadRef,
    http_status_error,
    public_notice,
)

SIGNATURE_HEADER = "X-Statusboard-Signature"
DELIVERY_HEADER = "X-Statusboard-Delivery"
TIMESTAMP_HEADER = "X-Statusboard-Timestamp"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class UnsafeTarget(ValueError):
    """The URL is malformed or points somewhere a webhook must not go."""


def parse_allow_list(value: str) -> list[Network]:
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    ]


# Prefixes that carry an IPv4 address inside an IPv6 one: NAT64 (well-known and local-use),
# IPv4-compatible (deprecated, still routed by some stacks). IPv4-mapped and 6to4 have their
# own accessors in ipaddress.
_NAT64 = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48")]
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# IETF protocol assignments: ipaddress calls most of 192.0.0.0/24 global, but nothing in it is
# a place a webhook should go.
_IETF_PROTOCOL = ipaddress.ip_network("192.0.0.0/24")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _NAT64) or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Reachable on the public internet, also once any IPv4 address inside it is unwrapped."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _IPV4_COMPATIBLE:
            return False  # ::a.b.c.d is never a real IPv6 host
        inner = _embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
        return True
    return address not in _IETF_PROTOCOL


def check_target(url: str, allow: Iterable[Network] = ()) -> None:
    """Refuse non-http(s) URLs and hosts resolving to non-public addresses (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("a webhook URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise UnsafeTarget("a webhook URL must not carry credentials")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"cannot resolve {parts.hostname}") from exc
    allowed = list(allow)
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if is_public(address):
            continue
        if any(address in network for network in allowed):
            continue
        raise UnsafeTarget(
            f"{parts.hostname} resolves to {address}, an address that is not on the public "
            "internet (private, loopback, link-local or reserved)"
        )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected, header)


class WebhookChannel:
    name: ClassVar[str] = "webhook"
    label: ClassVar[str] = "Webhook subscribers"
    editable: ClassVar[bool] = False

    def __init__(self, *, allow_private: Iterable[Network] = (), timeout: float = 10) -> None:
        self.allow_private = list(allow_private)
        self.timeout = timeout
        self._local = threading.local()

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        body = json.dumps(notice.payload or {})
        return body, len(body), 0

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        notice = public_notice(self.name, message)
        if not notice.address or not notice.secret or notice.payload is None:
            raise ChannelError("webhook delivery without URL, secret or payload", retryable=False)
        try:
            check_target(notice.address, self.allow_private)
        except UnsafeTarget as exc:
            raise ChannelError(f"refused: {exc}", retryable=False) from exc
        body = json.dumps(notice.payload, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "statusboard-webhook",
            DELIVERY_HEADER: notice.delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(notice.secret, timestamp, body),
        }
        try:
            response = self._session().post(
                notice.address,
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ChannelError(
                f"webhook unreachable: {exc}",
                retryable=True,
                ambiguous=not isinstance(exc, requests.ConnectionError),
            ) from exc
        if 200 <= response.status_code < 300:
            return Receipt(remote_id=notice.delivery_id)
        if 300 <= response.status_code < 400:
            raise ChannelError(
                f"webhook answered {response.status_code} (redirects are not followed)",
                retryable=False,
                status=response.status_code,
            )
        raise http_status_error("webhook", response.status_code, response.text[:200])

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            self._local.session = session
        return session
