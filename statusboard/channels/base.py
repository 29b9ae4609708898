"""The one narrow protocol every channel speaks, and the values it exchanges.

A channel turns a message into one post, email or request and returns a Receipt, or raises a
ChannelError saying whether a retry can help. A message is a Notice (an update, told to the
public or a subscriber) or a Letter (written to people: a nag, a confirmation, an alert).
Channels never retry, sleep or log-and-swallow: the retry policy is domain/retry.py, applied by
the outbox (services/publishing.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from statusboard.domain.text import printable, printable_line
from statusboard.domain.text_fitting import fit


@dataclass(frozen=True)
class Notice:
    """Everything a channel may say about one update of one incident."""

    delivery_id: str  # stable per (update, channel, target): idempotency keys, Message-IDs
    incident_id: str
    incident_name: str
    update_id: str
    status: str
    text: str  # plain text of the sanitized update
    html: str  # the sanitized update HTML
    url: str  # the incident page
    created_at: datetime
    resolves: bool = False
    custom_text: str | None = None  # the operator's own words for this channel
    # Email and webhook targets.
    address: str | None = None
    secret: str | None = None
    manage_url: str | None = None
    unsubscribe_url: str | None = None
    payload: dict[str, Any] | None = None  # the webhook body
    ambiguous: bool = False  # an earlier attempt may have reached the network
    # The promises and facts in force as of this update, for the channels with room to say
    # them (email): impact ("maintenance" for a window), affected components, the ETA (None:
    # unknown) and how often it was revised, the next update by, in the page's time zone.
    impact: str | None = None
    components: tuple[str, ...] = ()
    eta_at: datetime | None = None
    eta_revisions: int = 0
    next_update_at: datetime | None = None
    time_zone: str = "UTC"
    # A correction: the id of the post to edit into the new words (only channels whose
    # network allows editing, `editable`, are ever given one).
    edits: str | None = None

    def __post_init__(self) -> None:
        # Whatever is stored, no channel gets a control character: email headers, XML-based
        # APIs and social networks refuse or mangle them (domain/text.py).
        object.__setattr__(self, "incident_name", printable_line(self.incident_name))
        object.__setattr__(self, "text", printable(self.text))
        object.__setattr__(self, "html", printable(self.html))
        if self.custom_text is not None:
            object.__setattr__(self, "custom_text", printable(self.custom_text))


@dataclass(frozen=True)
class Letter:
    """A message written to people (operators, admins, a new subscriber), ready to send."""

    delivery_id: str  # stable per delivery: Message-IDs
    to: str  # an email address, or "account" for the operators' chat room
    subject: str
    text: str
    urgent: bool = False  # a nag: marked high priority, no auto-replies wanted
    ambiguous: bool = False


Message = Notice | Letter


@dataclass(frozen=True)
class ThreadRef:
    """Where a follow-up goes: the first post of the incident and the latest one."""

    root: str
    parent: str


@dataclass(frozen=True)
class Receipt:
    remote_id: str | None = None
    url: str | None = None
    ref: str | None = None  # what a reply needs (defaults to remote_id)
    uncertain: bool = False  # the network already had it but gave no id (X duplicate)


@dataclass
class ChannelError(Exception):
    """A failed attempt. `retryable` says whether trying again can help; `retry_at` honours the
    network's rate-limit reset; `ambiguous` means the request may have been received."""

    message: str
    retryable: bool
    retry_at: datetime | None = None
    ambiguous: bool = False
    status: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class Channel(Protocol):
    name: ClassVar[str]
    label: ClassVar[str]
    editable: ClassVar[bool]  # the network lets a post's words be corrected afterwards

    def publish(self, message: Message, thread: ThreadRef | None) -> Receipt: ...

    def preview(self, notice: Notice) -> tuple[str, int, int]:
        """The text this channel would post, its counted length and the limit."""
        ...


def public_notice(channel: str, message: Message, *, editable: bool = False) -> Notice:
    """For channels that only tell the public: a letter has no place there, nor a correction
    where the network cannot edit a post."""
    if not isinstance(message, Notice):
        raise ChannelError(f"{channel} does not carry letters", retryable=False)
    if message.edits and not editable:
        raise ChannelError(f"{channel} does not allow editing a post", retryable=False)
    return message


def http_status_error(
    channel: str, status: int, detail: str, *, retry_at: datetime | None = None
) -> ChannelError:
    """The shared classification: 429 and 5xx retry, everything else is final."""
    retryable = status == 429 or status >= 500 or status == 408
    return ChannelError(
        f"{channel} answered {status}: {detail}"[:1000],
        retryable=retryable,
        retry_at=retry_at,
        status=status,
    )


def message_of(notice: Notice) -> str:
    """The words of a post: the operator's own for this channel, or name, status and body."""
    if notice.custom_text:
        return notice.custom_text.strip()
    status = notice.status.replace("_", " ").capitalize()
    return f"{notice.incident_name} — {status}\n{notice.text}".strip()


def fit_notice(
    notice: Notice, *, limit: int, length: Callable[[str], int], include_link: bool
) -> tuple[str, int, int]:
    """The post text, its counted length and the limit: what the form previews and what the
    channel posts (both call the channel's `preview`, which calls this). Our own text is cut
    where a sentence ends and then always carries the incident link, even on a network whose
    link is off; the operator's custom text is never cut (the form refuses it when too long)."""
    link = notice.url if include_link else None
    if notice.custom_text:
        text = notice.custom_text.strip() + (f"\n\n{link}" if link else "")
        return text, length(text), limit
    fitted = fit(
        message_of(notice), limit=limit, length=length, link=link, link_when_cut=notice.url
    )
    return fitted.text, fitted.length, fitted.limit


def when(value: datetime, zone_name: str) -> str:
    """ "24 Nov 15:00 CET" in the reader's time zone, with the date: mail and chat are read
    later."""
    local = value.astimezone(ZoneInfo(zone_name))
    return f"{local.day} {local:%b %H:%M %Z}"


def revised(count: int) -> str:
    """ " (revised twice)" after an ETA, or nothing when it never changed."""
    if count == 0:
        return ""
    return " (revised " + {1: "once", 2: "twice"}.get(count, f"{count} times") + ")"
