"""Bluesky through atproto: 300 graphemes, links as facets, replies with root and parent refs.

Logins are rate limited, so the session is kept in a store and reused (refreshed by the
client as it expires). Each delivery posts under a deterministic record key, so a retry after
an attempt that may have arrived first looks the record up instead of posting it twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from threading import Lock
from typing import Any, ClassVar

import httpx
from atproto import Client, SessionEvent, client_utils, models
from atproto_client import exceptions as at
from atproto_client.request import Request

from statusboard.channels.base import (
    ChannelError,
    Message,
    Notice,
    Receipt,
    ThreadRef,
    fit_notice,
    http_status_error,
    public_notice,
)
from statusboard.domain.text_fitting import BLUESKY_LIMIT, bluesky_length

COLLECTION = "app.bsky.feed.post"
_URL = re.compile(r"https?://\S+")
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(notice: Notice) -> str:
    """A valid TID fixed by the delivery: the update's time plus a clock id from its id."""
    micros = int(notice.created_at.timestamp() * 1_000_000) & ((1 << 53) - 1)
    clock_id = int.from_bytes(hashlib.sha256(notice.delivery_id.encode()).digest()[:2]) % 1024
    value = (micros << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


class SessionStore:
    """Where the login lives between runs: two callables, so the registry can use the database."""

    def __init__(self, load: Callable[[], str | None], save: Callable[[str], None]) -> None:
        self.load = load
        self.save = save


def memory_store() -> SessionStore:
    box: dict[str, str] = {}
    return SessionStore(lambda: box.get("session"), lambda value: box.update(session=value))


class BlueskyChannel:
    name: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    editable: ClassVar[bool] = False  # Bluesky offers no edit through its API

    def __init__(
        self,
        *,
        handle: str,
        app_password: str,
        base_url: str,
        include_link: bool = True,
        timeout: float = 10,
        sessions: SessionStore | None = None,
    ) -> None:
        self.handle = handle
        self.app_password = app_password
        self.base_url = base_url
        self.include_link = include_link
        self.timeout = timeout
        self.sessions = sessions or memory_store()
        self._client: Client | None = None
        self._lock = Lock()

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        return fit_notice(
            notice,
            limit=BLUESKY_LIMIT,
            length=bluesky_length,
            include_link=self.include_link,
        )

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        notice = public_notice(self.name, message)
        text, _, _ = self.preview(notice)
        rkey = record_key(notice)
        try:
            client = self._logged_in()
            did = client._session.did  # type: ignore[union-attr]
            if notice.ambiguous:
                existing = self._existing(client, did, rkey)
                if existing is not None:
                    return existing
            record = models.AppBskyFeedPost.Record(
                created_at=client.get_current_time_iso(),
                text=text,
                facets=_facets(text) or None,
                langs=["en"],
                reply=_reply(thread),
            )
            created = client.app.bsky.feed.post.create(did, record, rkey=rkey)
        except at.AtProtocolError as exc:
            if _error_name(exc) in ("ExpiredToken", "InvalidToken", "AuthenticationRequired"):
                self._client = None  # log in again on the next attempt
            raise _classify(exc) from exc
        except httpx.HTTPError as exc:
            raise ChannelError(
                f"Bluesky connection failed: {exc!r}", retryable=True, ambiguous=True
            ) from exc
        return _receipt(created.uri, created.cid, self.handle)

    def _existing(self, client: Client, did: str, rkey: str) -> Receipt | None:
        try:
            found = client.app.bsky.feed.post.get(did, rkey)
        except at.BadRequestError as exc:
            if _error_name(exc) == "RecordNotFound":
                return None
            raise
        return _receipt(found.uri, found.cid, self.handle)

    def _logged_in(self) -> Client:
        with self._lock:
            if self._client is not None:
                return self._client
            client = Client(base_url=self.base_url, request=Request(timeout=self.timeout))
            client.on_session_change(self._on_session_change)
            saved = self.sessions.load()
            if saved:
                try:
                    client.login(session_string=saved, fetch_bsky_profile=False)
                    client.com.atproto.server.get_session()
                    self._client = client
                    return client
                except (at.UnauthorizedError, at.BadRequestError, at.LoginRequiredError):
                    client = Client(base_url=self.base_url, request=Request(timeout=self.timeout))
                    client.on_session_change(self._on_session_change)
            client.login(self.handle, self.app_password, fetch_bsky_profile=False)
            self._client = client
            return client

    def _on_session_change(self, event: SessionEvent, session: Any) -> None:
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self.sessions.save(session.export())


def _facets(text: str) -> list[models.AppBskyRichtextFacet.Main]:
    builder = client_utils.TextBuilder()
    position = 0
    for match in _URL.finditer(text):
        builder.text(text[position : match.start()])
        builder.link(match.group(), match.group())
        position = match.end()
    builder.text(text[position:])
    return builder.build_facets()


def _reply(thread: ThreadRef | None) -> models.AppBskyFeedPost.ReplyRef | None:
    if thread is None:
        return None
    root, parent = json.loads(thread.root), json.loads(thread.parent)
    return models.AppBskyFeedPost.ReplyRef(
        root=models.ComAtprotoRepoStrongRef.Main(uri=root["uri"], cid=root["cid"]),
        parent=models.ComAtprotoRepoStrongRef.Main(uri=parent["uri"], cid=parent["cid"]),
    )


def _receipt(uri: str, cid: str, handle: str) -> Receipt:
    rkey = uri.rsplit("/", 1)[-1]
    return Receipt(
        remote_id=uri,
        url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        ref=json.dumps({"uri": uri, "cid": cid}),
    )


def _error_name(exc: at.AtProtocolError) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return str(getattr(content, "error", "") or "")


def _classify(exc: at.AtProtocolError) -> ChannelError:
    if isinstance(exc, at.InvokeTimeoutError):
        return ChannelError(f"Bluesky timed out: {exc}", retryable=True, ambiguous=True)
    response = getattr(exc, "response", None)
    if response is None:
        return ChannelError(f"Bluesky unreachable: {exc!r}", retryable=True, ambiguous=True)
    content = response.content
    detail = f"{getattr(content, 'error', '')} {getattr(content, 'message', '')}".strip()
    retry_at = None
    reset = response.headers.get("ratelimit-reset")
    if reset and reset.isdigit():
        retry_at = datetime.fromtimestamp(int(reset), UTC)
    if _error_name(exc) == "ExpiredToken":
        return ChannelError(f"Bluesky session expired: {detail}", retryable=True)
    return http_status_error(
        "Bluesky", response.status_code, detail or str(content), retry_at=retry_at
    )
