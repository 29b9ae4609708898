"""Local fakes of the parts of X API v2, Mastodon and Bluesky XRPC that statusboard uses,
answering with the networks' own error bodies."""

from __future__ import annotations

import base64
import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.http import FakeServer, Seen

X_DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
X_UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
X_TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
MASTODON_422 = {"error": "Validation failed: Text character limit of 500 exceeded"}
MASTODON_401 = {"error": "The access token is invalid"}
MASTODON_429 = {"error": "Too many requests"}
BLUESKY_429 = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
BLUESKY_401 = {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}


class FakeX(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.tweets: list[dict[str, Any]] = []
        self.ids = itertools.count(1790000000000000001)

    def scriptable(self, seen: Seen) -> bool:
        return seen.path == "/2/tweets"

    def handle(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if seen.method == "POST" and seen.path == "/2/tweets":
            if "oauth_signature" not in seen.headers.get("authorization", ""):
                return 401, X_UNAUTHORIZED, {}
            body = seen.json()
            if any(t["text"] == body["text"] for t in self.tweets):
                return 403, X_DUPLICATE, {}
            tweet = {
                "id": str(next(self.ids)),
                "text": body["text"],
                "in_reply_to": (body.get("reply") or {}).get("in_reply_to_tweet_id"),
            }
            self.tweets.append(tweet)
            return (
                201,
                {
                    "data": {
                        "id": tweet["id"],
                        "text": tweet["text"],
                        "edit_history_tweet_ids": [tweet["id"]],
                    }
                },
                {},
            )
        return 404, {"title": "Not Found Error", "status": 404}, {}


class FakeMastodon(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(113000000000000001)

    def scriptable(self, seen: Seen) -> bool:
        return seen.path == "/api/v1/statuses"

    def handle(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if seen.method == "POST" and seen.path == "/api/v1/statuses":
            if seen.headers.get("authorization") != "Bearer mastodon-token":
                return 401, MASTODON_401, {}
            if "json" in seen.headers.get("content-type", ""):
                form = seen.json()
            else:
                form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
            key = seen.headers.get("idempotency-key")
            if key and key in self.by_key:
                return 200, self.by_key[key], {}
            sid = str(next(self.ids))
            status = {
                "id": sid,
                "uri": f"{self.url}/users/status/statuses/{sid}",
                "url": f"{self.url}/@status/{sid}",
                "content": form.get("status"),
                "in_reply_to_id": form.get("in_reply_to_id"),
                "visibility": form.get("visibility", "public"),
                "created_at": "2026-11-24T12:00:00.000Z",
                "account": {"id": "1"},
                "media_attachments": [],
                "mentions": [],
                "tags": [],
                "emojis": [],
            }
            self.statuses.append(status)
            if key:
                self.by_key[key] = status
            return 200, status, {}
        if seen.method == "PUT" and seen.path.startswith("/api/v1/statuses/"):
            # Editing a status (Mastodon 3.5+): same id, new text, kept in its edit history.
            if seen.headers.get("authorization") != "Bearer mastodon-token":
                return 401, MASTODON_401, {}
            sid = seen.path.rsplit("/", 1)[-1]
            found = next((s for s in self.statuses if s["id"] == sid), None)
            if found is None:
                return 404, {"error": "Record not found"}, {}
            if "json" in seen.headers.get("content-type", ""):
                form = seen.json()
            else:
                form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
            found.setdefault("history", []).append(found["content"])
            found["content"] = form.get("status")
            found["edited_at"] = "2026-11-24T12:05:00.000Z"
            return 200, found, {}
        return 404, {"error": "Record not found"}, {}


def _jwt(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2ln"


class FakeBluesky(FakeServer):
    DID = "did:plc:statusfake000000000000"

    def __init__(self, handle: str = "status.example.com", password: str = "app-pass") -> None:
        super().__init__()
        self.account, self.password = handle, password
        self.records: dict[str, dict[str, Any]] = {}  # rkey -> record
        self.logins = 0
        self.cids = itertools.count(1)

    def scriptable(self, seen: Seen) -> bool:
        return seen.path.endswith("createRecord")

    def _tokens(self) -> dict[str, Any]:
        now = int(time.time())
        return {
            "accessJwt": _jwt(
                {"sub": self.DID, "exp": now + 7200, "iat": now, "scope": "com.atproto.appPass"}
            ),
            "refreshJwt": _jwt(
                {"sub": self.DID, "exp": now + 86400, "iat": now, "scope": "com.atproto.refresh"}
            ),
            "handle": self.account,
            "did": self.DID,
        }

    def handle(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        name = seen.path.removeprefix("/xrpc/")
        if name == "com.atproto.server.createSession":
            body = seen.json()
            if body.get("identifier") != self.account or body.get("password") != self.password:
                return 401, BLUESKY_401, {}
            self.logins += 1
            return 200, self._tokens(), {}
        if not seen.headers.get("authorization", "").startswith("Bearer "):
            return (
                401,
                {"error": "AuthenticationRequired", "message": "Authentication Required"},
                {},
            )
        if name == "com.atproto.server.getSession":
            return 200, {"handle": self.account, "did": self.DID}, {}
        if name == "com.atproto.server.refreshSession":
            return 200, self._tokens(), {}
        if name == "com.atproto.repo.createRecord":
            body = seen.json()
            rkey = body["rkey"]
            if rkey in self.records:
                return 400, {"error": "InvalidRequest", "message": "Record already exists"}, {}
            uri = f"at://{self.DID}/app.bsky.feed.post/{rkey}"
            cid = f"bafyreifake{next(self.cids):040d}"
            self.records[rkey] = {"uri": uri, "cid": cid, "value": body["record"]}
            return 200, {"uri": uri, "cid": cid}, {}
        if name == "com.atproto.repo.getRecord":
            rkey = seen.query["rkey"][0]
            if rkey not in self.records:
                return (
                    400,
                    {
                        "error": "RecordNotFound",
                        "message": f"Could not locate record: at://{self.DID}/"
                        f"app.bsky.feed.post/{rkey}",
                    },
                    {},
                )
            return 200, self.records[rkey], {}
        return 501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, {}

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [r["value"] for r in self.records.values()]


class WebhookReceiver(FakeServer):
    def __init__(self) -> None:
        super().__init__()

    def scriptable(self, seen: Seen) -> bool:
        return seen.method == "POST"

    def handle(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        return 200, {"ok": True}, {}

    @property
    def deliveries(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def bodies(self) -> list[Any]:
        """The JSON of every POST, in order."""
        return [r.json() for r in self.deliveries]
