"""Mastodon through Mastodon.py. The server dedupes an Idempotency-Key for an hour, so a
retry of an attempt that may have arrived cannot post twice; rate limits throw, never sleep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
)

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
from statusboard.domain.text_fitting import MASTODON_DEFAULT_LIMIT, mastodon_length


class MastodonChannel:
    name: ClassVar[str] = "mastodon"
    label: ClassVar[str] = "Mastodon"
    editable: ClassVar[bool] = True  # PUT /api/v1/statuses/:id

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        max_characters: int = MASTODON_DEFAULT_LIMIT,
        include_link: bool = True,
        timeout: float = 10,
    ) -> None:
        self.limit = max_characters
        self.include_link = include_link
        self.client = Mastodon(
            access_token=access_token,
            api_base_url=base_url,
            ratelimit_method="throw",
            request_timeout=timeout,
            version_check_mode="none",
        )

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        return fit_notice(
            notice,
            limit=self.limit,
            length=mastodon_length,
            include_link=self.include_link,
        )

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt:
        notice = public_notice(self.name, message, editable=True)
        text, _, _ = self.preview(notice)
        try:
            if notice.edits:  # a correction: the same post, new words (repeating it is harmless)
                status = self.client.status_update(notice.edits, status=text)
            else:
                status = self.client.status_post(
                    text,
                    in_reply_to_id=thread.parent if thread else None,
                    idempotency_key=notice.delivery_id,
                    visibility="public",
                )
        except MastodonRatelimitError as exc:
            reset = self.client.ratelimit_reset
            retry_at = datetime.fromtimestamp(reset, UTC) if reset else None
            raise http_status_error("Mastodon", 429, str(exc), retry_at=retry_at) from exc
        except MastodonNetworkError as exc:
            raise ChannelError(
                f"Mastodon unreachable: {exc}", retryable=True, ambiguous=True
            ) from exc
        except MastodonAPIError as exc:
            code = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            detail = exc.args[3] if len(exc.args) > 3 else str(exc)
            raise http_status_error("Mastodon", code, str(detail)) from exc
        return Receipt(remote_id=str(status["id"]), url=status.get("url") or status.get("uri"))
