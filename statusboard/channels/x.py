"""X (Twitter) through tweepy's v2 Client, OAuth 1.0a user context.

tweepy hard-codes https://api.twitter.com and sets no timeout, so a requests adapter mounted on
the client's session adds the timeout and points requests at the configured host. X has no
idempotency key: after an attempt that may have arrived, its 403 "duplicate content" means the
post exists, with an id we do not know.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
import tweepy
from requests.adapters import HTTPAdapter

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
from statusboard.domain.text_fitting import X_LIMIT, x_length

TWEEPY_HOST = "https://api.twitter.com"
DUPLICATE = "duplicate content"


class _HostAndTimeout(HTTPAdapter):
    def __init__(self, host: str, timeout: float) -> None:
        super().__init__(pool_maxsize=4)
        self.host = host.rstrip("/")
        self.timeout = timeout

    def send(  # type: ignore[override]  # tweepy passes keywords only
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if request.url and request.url.startswith(TWEEPY_HOST) and self.host != TWEEPY_HOST:
            request.url = self.host + request.url[len(TWEEPY_HOST) :]
        kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class XChannel:
    name: ClassVar[str] = "x"
    label: ClassVar[str] = "X"
    editable: ClassVar[bool] = False  # X offers no edit through its API

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        access_token: str,
        access_token_secret: str,
        api_url: str = TWEEPY_HOST,
        include_link: bool = False,
        timeout: float = 10,
    ) -> None:
        self.include_link = include_link
        self.client = tweepy.Client(
            consumer_key=api_key,
            consumer_secret=api_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            wait_on_rate_limit=False,
        )
        self.client.session.mount("https://", _HostAndTimeout(api_url, timeout))
        self.client.session.mount("http://", _HostAndTimeout(api_url, timeout))

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        return fit_notice(notice, limit=X_LIMIT, length=x_length, include_link=self.include_link)

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        notice = public_notice(self.name, message)
        text, _, _ = self.preview(notice)
        try:
            response = self.client.create_tweet(
                text=text, in_reply_to_tweet_id=thread.parent if thread else None, user_auth=True
            )
        except tweepy.TooManyRequests as exc:
            reset = exc.response.headers.get("x-rate-limit-reset")
            retry_at = datetime.fromtimestamp(int(reset), UTC) if reset else None
            raise http_status_error("X", 429, _detail(exc), retry_at=retry_at) from exc
        except tweepy.Forbidden as exc:
            if DUPLICATE in _detail(exc).lower() and notice.ambiguous:
                return Receipt(uncertain=True)
            raise http_status_error("X", 403, _detail(exc)) from exc
        except tweepy.HTTPException as exc:
            raise http_status_error("X", exc.response.status_code, _detail(exc)) from exc
        except requests.RequestException as exc:
            raise ChannelError(
                f"X unreachable: {exc}",
                retryable=True,
                ambiguous=not isinstance(exc, requests.ConnectionError),
            ) from exc
        tweet_id = str(response.data["id"])
        return Receipt(remote_id=tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")


def _detail(exc: tweepy.HTTPException) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return exc.response.text[:500]
    return str(body.get("detail") or body.get("title") or body)[:500]
