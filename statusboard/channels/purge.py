"""The CDN purge hook: after the static export changed files, tell the CDN in front of the
bucket (or of the app) to drop its copies of those paths. One configurable request shape
covers the usual CDNs (README, "Beyond one host"):

- a URL with {path}, {url} or {url_quoted} in it makes one request per path (Fastly's
  `POST https://api.fastly.com/purge/status.example.com{path}`, Bunny's
  `POST https://api.bunny.net/purge?url={url_quoted}`);
- otherwise one request per batch of paths, whose body names them all: {paths} and {urls}
  become JSON arrays (Cloudflare's `{"files": {urls}}`, 30 at a time).

A delivery of the outbox carries the paths (purpose "purge"), so a failed purge is retried
by the one retry policy and shows in the admin, like any delivery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import quote

import requests

from statusboard.channels.base import (
    ChannelError,
    Letter,
    Message,
    Notice,
    Receipt,
    ThreadRef,
    http_status_error,
)
from statusboard.config import PurgeSettings

DEFAULT_BODY = '{"paths": {paths}, "urls": {urls}}'
PER_PATH = ("{path}", "{url}", "{url_quoted}")


def _fill(template: str, values: dict[str, str]) -> str:
    """Plain replacement, not str.format: JSON bodies are full of braces."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


class PurgeChannel:
    name: ClassVar[str] = "purge"
    label: ClassVar[str] = "CDN purge"
    editable: ClassVar[bool] = False

    def __init__(
        self,
        settings: PurgeSettings,
        *,
        timeout: float = 10,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.http = session or requests.Session()

    def requests_for(self, paths: list[str]) -> Iterator[tuple[str, str, str | None]]:
        """(method, url, body) of each request that purges `paths`."""
        s = self.settings
        base = s.base_url.rstrip("/")
        if any(token in s.url for token in PER_PATH):
            for path in paths:
                values = {"path": path, "url": base + path, "url_quoted": quote(base + path, "")}
                yield s.method, _fill(s.url, values), _fill(s.body, values) if s.body else None
            return
        for start in range(0, len(paths), s.batch):
            batch = paths[start : start + s.batch]
            values = {
                "paths": json.dumps(batch),
                "urls": json.dumps([base + path for path in batch]),
            }
            yield s.method, s.url, _fill(s.body or DEFAULT_BODY, values)

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        return "", 0, 0

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        # A test from the admin purges the front page.
        paths = json.loads(message.text) if isinstance(message, Letter) else ["/"]
        headers = dict(self.settings.headers)
        for method, url, body in self.requests_for(paths):
            if body is not None:
                headers.setdefault("Content-Type", "application/json")
            try:
                response = self.http.request(
                    method,
                    url,
                    data=body.encode() if body is not None else None,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                # Purging twice does no harm: every failure is worth another try.
                raise ChannelError(f"purge hook unreachable: {exc}", retryable=True) from exc
            if not 200 <= response.status_code < 300:
                raise http_status_error("purge hook", response.status_code, response.text[:200])
        return Receipt(remote_id=f"{len(paths)} paths")
