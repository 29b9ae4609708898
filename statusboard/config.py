"""Settings: defaults, then STATUSBOARD_* environment variables, then overrides (tests).

Every setting is validated when the app is created, so a typo fails at start-up with a message
naming the variable, never later in the middle of an outage.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from statusboard.domain.peak_hours import PeakHours, PeakWindow, parse_blackouts, parse_peak_hours

PREFIX = "STATUSBOARD_"
INSTANCE_DIR = Path(os.environ.get("STATUSBOARD_INSTANCE_DIR", "instance")).absolute()


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _text(value: str) -> str:
    return value.strip()


def _int(value: str) -> int:
    return int(value)


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive whole number")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


def _url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value.strip().rstrip("/")


def normalize_database_url(value: str) -> str:
    value = value.strip()
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://") :]
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    if not (value.startswith("sqlite") or value.startswith("postgresql+psycopg://")):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone name such as Europe/Berlin") from exc
    return value.strip()


def _minutes_by_impact(value: str) -> dict[str, int]:
    """ "critical=15,major=30,minor=60,none=120" -> dict; every impact must be given."""
    result: dict[str, int] = {}
    for part in value.split(","):
        key, _, minutes = part.partition("=")
        result[key.strip()] = _positive_int(minutes)
    missing = {"critical", "major", "minor", "none"} - result.keys()
    if missing:
        raise ValueError(f"missing impacts: {', '.join(sorted(missing))}")
    return result


def _minutes_each_impact(value: str) -> dict[str, int]:
    """ "10" (every impact) or "critical=5,major=10,minor=15,none=30"."""
    if "=" not in value:
        minutes = _positive_int(value)
        return dict.fromkeys(("critical", "major", "minor", "none"), minutes)
    return _minutes_by_impact(value)


def _days_by_impact(value: str) -> dict[str, int]:
    """ "critical=5,major=5,minor=0,none=0" -> dict (0: none by default); every impact given."""
    result: dict[str, int] = {}
    for part in value.split(","):
        key, _, days = part.partition("=")
        result[key.strip()] = _non_negative_int(days)
    missing = {"critical", "major", "minor", "none"} - result.keys()
    if missing:
        raise ValueError(f"missing impacts: {', '.join(sorted(missing))}")
    return result


def _peak_hours(value: str) -> tuple[PeakWindow, ...]:
    return parse_peak_hours(value)


def _blackouts(value: str) -> frozenset[date]:
    return parse_blackouts(value)


def _chat_format(value: str) -> str:
    value = value.strip().lower()
    if value not in {"slack", "discord"}:
        raise ValueError("must be slack or discord")
    return value


def _bucket_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("must be s3://bucket or s3://bucket/prefix")
    return value.strip().rstrip("/")


def _header_lines(value: str) -> dict[str, str]:
    """ "Authorization: Bearer x" lines (newline- or "|"-separated) -> dict."""
    headers: dict[str, str] = {}
    for line in value.replace("|", "\n").splitlines():
        if not line.strip():
            continue
        name, colon, content = line.partition(":")
        if not colon or not name.strip() or any(c.isspace() for c in name.strip()):
            raise ValueError('must be "Name: value" lines, separated by newlines or |')
        headers[name.strip()] = content.strip()
    return headers


def _http_method(value: str) -> str:
    method = value.strip().upper()
    if method not in {"POST", "PURGE", "DELETE", "GET", "PUT"}:
        raise ValueError("must be POST, PURGE, DELETE, GET or PUT")
    return method


def _address(value: str) -> str:
    value = value.strip()
    if "@" not in value or any(c.isspace() for c in value):
        raise ValueError("must be an email address")
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    secret: bool = False


SETTINGS: list[Setting] = [
    Setting(
        "DATABASE_URL",
        f"sqlite:///{INSTANCE_DIR / 'statusboard.db'}",
        normalize_database_url,
        "SQLAlchemy URL: sqlite:///path or postgresql://user@host/db (psycopg 3)",
    ),
    Setting(
        "SECRET_KEY",
        None,
        _text,
        "signs sessions, CSRF tokens and links; generated into instance/ when unset",
        secret=True,
    ),
    Setting(
        "BASE_URL",
        None,
        _url,
        "public address of the status page, used in links, feeds and posts; "
        "defaults to http://HOST:PORT",
    ),
    Setting("PAGE_NAME", "Status", _text, "name shown on the page, feeds and API"),
    Setting(
        "TIME_ZONE",
        "UTC",
        _time_zone,
        "page time zone (IANA) for the API's page.time_zone and server-rendered times",
    ),
    Setting("HOST", "127.0.0.1", _text, "address `statusboard run` listens on"),
    Setting("PORT", 8000, _positive_int, "port `statusboard run` listens on"),
    Setting(
        "WEB_WORKERS",
        None,
        _positive_int,
        "gunicorn worker processes; defaults to 2 x cores (at most 8)",
    ),
    Setting("WEB_THREADS", 8, _positive_int, "threads per gunicorn worker"),
    Setting("WEB_TIMEOUT", 30, _positive_int, "seconds before a stuck request's worker restarts"),
    Setting("WEB_KEEPALIVE", 5, _positive_int, "seconds an idle keep-alive connection stays open"),
    Setting("ACCESS_LOG", True, _bool, "write one access-log line per request to stdout"),
    Setting(
        "SECURE_COOKIES",
        None,
        _bool,
        "mark session cookies Secure; defaults to true when BASE_URL is https",
    ),
    Setting(
        "NEXT_UPDATE_MINUTES",
        {"critical": 15, "major": 30, "minor": 60, "none": 120},
        _minutes_by_impact,
        "default next-update promise per impact, e.g. critical=15,...",
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "10 per minute",
        _text,
        "failed logins allowed per client address, counted in the database by every web "
        "process alike; a correct password is always let in",
    ),
    Setting(
        "RATE_LIMIT_STORAGE",
        "memory://",
        _text,
        "Flask-Limiter storage URI of the subscription limit; use redis://host:6379 with "
        "several web processes",
    ),
    Setting(
        "MAX_REQUEST_BYTES",
        256 * 1024,
        _positive_int,
        "largest request body accepted (bytes); a larger one is refused with 413 unread",
    ),
    Setting(
        "SNAPSHOT_DIR",
        str(INSTANCE_DIR / "snapshots"),
        _text,
        "where web processes keep the last good copy of every public surface, served "
        "when the database is unreachable",
    ),
    Setting(
        "PAGE_REFRESH_SECONDS",
        45,
        _positive_int,
        "how often an open public page checks for new data and refreshes itself in place "
        "(with up to 20% jitter; paused in background tabs)",
    ),
    Setting(
        "EXPORT_DIR",
        None,
        _text,
        "when set, the worker keeps a static copy of the public site here for nginx or a CDN",
    ),
    Setting(
        "EXPORT_URL",
        None,
        _bucket_url,
        "s3://bucket/prefix: the worker publishes the same static copy to this bucket (S3, "
        "R2, GCS interoperability, MinIO) for a CDN to serve",
    ),
    Setting(
        "EXPORT_S3_ENDPOINT_URL",
        None,
        _url,
        "the bucket's S3 API address when it is not AWS, e.g. "
        "https://ACCOUNT.r2.cloudflarestorage.com or https://storage.googleapis.com",
    ),
    Setting(
        "EXPORT_S3_REGION",
        None,
        _text,
        "the bucket's region (auto for R2); AWS_REGION / AWS_DEFAULT_REGION when unset",
    ),
    Setting(
        "EXPORT_S3_ACCESS_KEY_ID",
        None,
        _text,
        "access key of the bucket; unset: boto3's usual chain (AWS_ACCESS_KEY_ID, "
        "AWS_PROFILE, an instance role)",
        secret=True,
    ),
    Setting(
        "EXPORT_S3_SECRET_ACCESS_KEY",
        None,
        _text,
        "secret of that access key (AWS_SECRET_ACCESS_KEY when unset)",
        secret=True,
    ),
    Setting(
        "EXPORT_FULL_MINUTES",
        10,
        _positive_int,
        "how often the export starts re-checking every surface (deep history too), 25 a "
        "second between changes; what a change touches is exported at once",
    ),
    Setting(
        "PURGE_URL",
        None,
        _text,
        "CDN purge hook, called after each export with the changed paths; {path}, {url} or "
        "{url_quoted} in it: one request per path (see the README for Cloudflare, Fastly, "
        "Bunny)",
    ),
    Setting("PURGE_METHOD", "POST", _http_method, "HTTP method of the purge request"),
    Setting(
        "PURGE_HEADERS",
        {},
        _header_lines,
        'headers of the purge request, "Name: value" separated by newlines or |, e.g. '
        '"Authorization: Bearer TOKEN|Content-Type: application/json"',
        secret=True,
    ),
    Setting(
        "PURGE_BODY",
        None,
        _text,
        "body of the purge request; {paths} and {urls} become JSON arrays, {path} and {url} "
        'one of them; default {"paths": {paths}, "urls": {urls}} (none for one per path)',
    ),
    Setting(
        "PURGE_BATCH", 30, _positive_int, "most paths one purge request carries (Cloudflare: 30)"
    ),
    Setting(
        "PURGE_BASE_URL",
        None,
        _url,
        "address the CDN serves the site at, for {url} and {urls}; defaults to BASE_URL",
    ),
    Setting("ADMIN_EMAIL", None, _text, "first admin's email for `make run` on a fresh database"),
    Setting("ADMIN_PASSWORD", None, _text, "first admin's password for `make run`", secret=True),
    Setting(
        "PUBLIC_HONESTY",
        True,
        _bool,
        "say publicly when a promised update or ETA has passed; off keeps it internal",
    ),
    Setting(
        "PUBLIC_ACCOUNTABILITY",
        False,
        _bool,
        'show "Updates on time: N% over 90 days" (next-update promises kept) on the '
        "public status page",
    ),
    Setting(
        "NAG_HEADS_UP_MINUTES",
        dict.fromkeys(("critical", "major", "minor", "none"), 5),
        _minutes_each_impact,
        "heads-up to the owner this long before a promise falls due (skipped for shorter "
        "promises); one number or per impact, e.g. critical=5,major=5,minor=10,none=10",
    ),
    Setting(
        "NAG_ESCALATE_ALL_MINUTES",
        dict.fromkeys(("critical", "major", "minor", "none"), 10),
        _minutes_each_impact,
        "minutes after a broken promise to nag every operator; one number or per impact",
    ),
    Setting(
        "NAG_ESCALATE_ADMINS_MINUTES",
        dict.fromkeys(("critical", "major", "minor", "none"), 30),
        _minutes_each_impact,
        "minutes after a broken promise to add the admins and the escalation address",
    ),
    Setting(
        "NAG_REPEAT_MINUTES",
        dict.fromkeys(("critical", "major", "minor", "none"), 30),
        _minutes_each_impact,
        "then repeat to everyone after this long, doubling each time; per impact",
    ),
    Setting(
        "NAG_REPEAT_MAX_MINUTES", 240, _positive_int, "longest gap between repeated escalations"
    ),
    Setting(
        "NAG_ACKNOWLEDGE_MINUTES",
        15,
        _positive_int,
        'how long an operator\'s "on it" pauses the nags of an incident',
    ),
    Setting(
        "ALERT_NAG_ESCALATE_ALL_MINUTES",
        5,
        _positive_int,
        "an alert-started draft nags the on-call operators at once, every operator after this",
    ),
    Setting(
        "ALERT_NAG_ESCALATE_ADMINS_MINUTES",
        15,
        _positive_int,
        "and the admins and the escalation address after this, until it is published or dismissed",
    ),
    Setting(
        "ESCALATION_EMAIL",
        None,
        _address,
        "address that gets the last escalation level with the admins (e.g. a manager list)",
    ),
    Setting(
        "SMTP_HOST",
        None,
        _text,
        "SMTP server for operator nags and subscriber email; email is off when unset",
    ),
    Setting("SMTP_PORT", 587, _positive_int, "SMTP port"),
    Setting("SMTP_USERNAME", None, _text, "SMTP login, when the server needs one"),
    Setting("SMTP_PASSWORD", None, _text, "SMTP password", secret=True),
    Setting(
        "SMTP_FROM",
        "statusboard@localhost",
        _address,
        "From address of every email statusboard sends",
    ),
    Setting("SMTP_STARTTLS", True, _bool, "upgrade the SMTP connection with STARTTLS"),
    Setting(
        "CHAT_WEBHOOK_URL",
        None,
        _url,
        "incoming-webhook URL of the operators' chat room; chat nags are off when unset",
    ),
    Setting(
        "CHAT_FORMAT",
        "slack",
        _chat_format,
        'chat webhook payload: slack ({"text"}, also Mattermost, Rocket.Chat) or discord',
    ),
    # Publishing: every channel is optional and on only when all its variables are set.
    Setting(
        "X_API_KEY", None, _text, "X (Twitter) consumer key, OAuth 1.0a user context", secret=True
    ),
    Setting("X_API_SECRET", None, _text, "X consumer secret", secret=True),
    Setting("X_ACCESS_TOKEN", None, _text, "X access token of the posting account", secret=True),
    Setting("X_ACCESS_TOKEN_SECRET", None, _text, "X access token secret", secret=True),
    Setting(
        "X_API_URL",
        "https://api.twitter.com",
        _url,
        "X API host (change only to point at a test server)",
    ),
    Setting(
        "X_INCLUDE_LINK",
        False,
        _bool,
        "add the incident link to every X post (X charges far more for posts with links); "
        "a post cut to fit carries it anyway",
    ),
    Setting("MASTODON_BASE_URL", None, _url, "Mastodon instance, e.g. https://mastodon.social"),
    Setting(
        "MASTODON_ACCESS_TOKEN",
        None,
        _text,
        "Mastodon access token with write:statuses",
        secret=True,
    ),
    Setting(
        "MASTODON_MAX_CHARACTERS",
        500,
        _positive_int,
        "the instance's post length limit (500 on most instances)",
    ),
    Setting("MASTODON_INCLUDE_LINK", True, _bool, "add the incident link to Mastodon posts"),
    Setting("BLUESKY_HANDLE", None, _text, "Bluesky handle, e.g. status.example.com"),
    Setting("BLUESKY_APP_PASSWORD", None, _text, "Bluesky app password", secret=True),
    Setting("BLUESKY_BASE_URL", "https://bsky.social", _url, "Bluesky PDS address"),
    Setting("BLUESKY_INCLUDE_LINK", True, _bool, "add the incident link to Bluesky posts"),
    Setting("EMAIL_INCLUDE_LINK", True, _bool, "add the incident link to subscriber email"),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE",
        "",
        _text,
        "comma-separated addresses or networks (127.0.0.1, 10.0.0.0/8) webhooks may target "
        "although private, loopback or link-local",
    ),
    Setting(
        "CHAT_HOOKS_BASE_URL",
        None,
        _url,
        "send Slack, Discord and Teams subscribers' messages to this address instead of the "
        "platform's host (path and query kept; change only to point at a test server)",
    ),
    Setting(
        "WEBHOOK_MAX_FAILURES",
        5,
        _positive_int,
        "failed deliveries in a row after which a webhook or chat subscriber is disabled",
    ),
    Setting(
        "DELIVERY_TIMEOUT_SECONDS", 10, _positive_int, "network timeout of one delivery attempt"
    ),
    Setting(
        "DELIVERY_LEASE_SECONDS",
        60,
        _positive_int,
        "how long a claim on a delivery lasts unless its worker renews it (a running worker "
        "does, every third of it); then another worker may retry it",
    ),
    Setting("DELIVERY_CONCURRENCY", 16, _positive_int, "deliveries one worker sends at once"),
    Setting(
        "SUBSCRIBE_RATE_LIMIT",
        "5 per minute",
        _text,
        "subscription requests allowed per client address",
    ),
    Setting(
        "MAINTENANCE_REMINDER_MINUTES",
        60,
        _non_negative_int,
        "remind subscribers this long before a maintenance window starts (0: no reminder)",
    ),
    Setting(
        "POSTMORTEM_WORKING_DAYS",
        {"critical": 5, "major": 5, "minor": 0, "none": 0},
        _days_by_impact,
        "resolving offers a postmortem this many working days (Mon-Fri, page zone) later, per "
        "impact; 0 offers none by default",
    ),
    Setting(
        "SIGN_UPDATES",
        True,
        _bool,
        "sign public updates with the author's name unless they opt out in their profile",
    ),
    Setting(
        "PEAK_HOURS",
        (),
        _peak_hours,
        "weekly peak hours to keep maintenance out of, in one or more zones: "
        "'Europe/Berlin mon-fri 08:00-18:00; America/New_York mon-fri 09:00-17:00'",
    ),
    Setting(
        "BLACKOUT_DATES",
        frozenset(),
        _blackouts,
        "days (page zone) with no maintenance, e.g. 2026-12-24,2026-12-31",
    ),
    Setting(
        "MAINTENANCE_MIN_NOTICE_HOURS",
        48,
        _non_negative_int,
        "hours of notice a maintenance window should give; less asks for confirmation",
    ),
]


def read_settings(
    environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Resolve every setting by name (without the prefix); raise ConfigError naming each bad
    variable."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for setting in SETTINGS:
        raw = environ.get(PREFIX + setting.name)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            errors.append(f"{PREFIX}{setting.name}: {exc}")
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    known = {setting.name for setting in SETTINGS}
    values.update({k: v for k, v in (overrides or {}).items() if k in known})
    if not values["BASE_URL"]:
        values["BASE_URL"] = f"http://{values['HOST']}:{values['PORT']}"
    if values["SECURE_COOKIES"] is None:
        values["SECURE_COOKIES"] = values["BASE_URL"].startswith("https://")
    return values


# --- the typed tree: each service receives the part it needs --------------------------------

IMPACT_NAMES = ("critical", "major", "minor", "none")
# Subscribers' chat rooms: on whenever a subscriber gives an incoming webhook.
CHAT_PLATFORMS = ("slack", "discord", "teams")


@dataclass(frozen=True)
class PageSettings:
    name: str
    base_url: str
    time_zone: str
    public_honesty: bool
    public_accountability: bool


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    workers: int | None
    threads: int
    timeout: int
    keepalive: int
    access_log: bool
    secure_cookies: bool
    login_rate_limit: str
    max_request_bytes: int
    rate_limit_storage: str
    subscribe_rate_limit: str
    snapshot_dir: str
    page_refresh_seconds: int


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool


@dataclass(frozen=True)
class XSettings:
    api_key: str
    api_secret: str
    access_token: str
    access_token_secret: str
    api_url: str
    include_link: bool


@dataclass(frozen=True)
class MastodonSettings:
    base_url: str
    access_token: str
    max_characters: int
    include_link: bool


@dataclass(frozen=True)
class BlueskySettings:
    handle: str
    app_password: str
    base_url: str
    include_link: bool


@dataclass(frozen=True)
class BucketSettings:
    """Where the export is published in object storage (S3 API). Credentials left None
    fall back to boto3's usual chain (AWS_* variables, profiles, instance roles)."""

    bucket: str
    prefix: str  # "" or "status/" (always ends with "/")
    endpoint_url: str | None
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None


@dataclass(frozen=True)
class ExportSettings:
    directory: str | None
    bucket: BucketSettings | None
    full_every: timedelta

    @property
    def enabled(self) -> bool:
        return bool(self.directory or self.bucket)


@dataclass(frozen=True)
class PurgeSettings:
    """The CDN purge hook (a channel of the outbox: failures retry like any delivery)."""

    url: str
    method: str
    headers: Mapping[str, str]
    body: str | None
    batch: int
    base_url: str


@dataclass(frozen=True)
class ChatSettings:
    """The operators' chat room (nags go there)."""

    url: str
    format: str


@dataclass(frozen=True)
class ChannelSettings:
    """Each network is on when all its variables are set (None: off)."""

    x: XSettings | None
    mastodon: MastodonSettings | None
    bluesky: BlueskySettings | None
    smtp: SmtpSettings | None
    chat: ChatSettings | None
    purge: PurgeSettings | None
    email_include_link: bool
    webhook_allow_private: str
    timeout: int
    chat_hooks_base_url: str | None = None
    # Per channel, the variables it still needs (empty: it is on).
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def enabled(self) -> frozenset[str]:
        """Names of the channels that can send (webhooks need nothing configured)."""
        names = {"webhook", *CHAT_PLATFORMS}
        names |= {n for n in ("x", "mastodon", "bluesky", "chat", "purge") if getattr(self, n)}
        if self.smtp is not None:
            names.add("email")
        return frozenset(names)


@dataclass(frozen=True)
class DeliverySettings:
    lease: timedelta
    concurrency: int
    webhook_max_failures: int


@dataclass(frozen=True)
class NagSettings:
    heads_up: Mapping[str, int]  # minutes per impact
    escalate_all: Mapping[str, int]
    escalate_admins: Mapping[str, int]
    repeat: Mapping[str, int]
    repeat_max: int
    acknowledge: int
    escalation_email: str | None
    # An alert-started draft: nagged at once, then everyone after this, then the admins.
    draft_escalate_all: int = 5
    draft_escalate_admins: int = 15


@dataclass(frozen=True)
class PublishingSettings:
    """What the write path needs: which channels a message is queued for, the default
    next-update promise per impact, and when subscribers hear of a maintenance again."""

    channels: frozenset[str]
    next_update_minutes: Mapping[str, int] = field(
        default_factory=lambda: {"critical": 15, "major": 30, "minor": 60, "none": 120}
    )
    maintenance_reminder: timedelta = timedelta(hours=1)
    # Working days to the default postmortem date, per impact (0: none offered).
    postmortem_days: Mapping[str, int] = field(
        default_factory=lambda: {"critical": 5, "major": 5, "minor": 0, "none": 0}
    )
    # Updates carry the author's name unless the author opted out.
    sign_updates: bool = True


@dataclass(frozen=True)
class PlanningSettings:
    """When maintenance should not happen (domain/peak_hours.py) and the notice it needs."""

    peak_hours: PeakHours
    min_notice: timedelta


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str | None
    admin_email: str | None
    admin_password: str | None
    page: PageSettings
    web: WebSettings
    channels: ChannelSettings
    delivery: DeliverySettings
    nags: NagSettings
    publishing: PublishingSettings
    planning: PlanningSettings
    export: ExportSettings


def _all_set(values: Mapping[str, Any], *names: str) -> bool:
    return all(values.get(name) for name in names)


def _channels(v: Mapping[str, Any]) -> ChannelSettings:
    def on(name: str) -> bool:
        return _all_set(v, *CHANNEL_NEEDS[name])

    x = (
        XSettings(
            v["X_API_KEY"],
            v["X_API_SECRET"],
            v["X_ACCESS_TOKEN"],
            v["X_ACCESS_TOKEN_SECRET"],
            v["X_API_URL"],
            v["X_INCLUDE_LINK"],
        )
        if on("x")
        else None
    )
    mastodon = (
        MastodonSettings(
            v["MASTODON_BASE_URL"],
            v["MASTODON_ACCESS_TOKEN"],
            v["MASTODON_MAX_CHARACTERS"],
            v["MASTODON_INCLUDE_LINK"],
        )
        if on("mastodon")
        else None
    )
    bluesky = (
        BlueskySettings(
            v["BLUESKY_HANDLE"],
            v["BLUESKY_APP_PASSWORD"],
            v["BLUESKY_BASE_URL"],
            v["BLUESKY_INCLUDE_LINK"],
        )
        if on("bluesky")
        else None
    )
    smtp = (
        SmtpSettings(
            host=v["SMTP_HOST"],
            port=v["SMTP_PORT"],
            sender=v["SMTP_FROM"],
            username=v["SMTP_USERNAME"],
            password=v["SMTP_PASSWORD"],
            starttls=v["SMTP_STARTTLS"],
        )
        if on("email")
        else None
    )
    chat = ChatSettings(v["CHAT_WEBHOOK_URL"], v["CHAT_FORMAT"]) if on("chat") else None
    purge = (
        PurgeSettings(
            url=v["PURGE_URL"],
            method=v["PURGE_METHOD"],
            headers=v["PURGE_HEADERS"],
            body=v["PURGE_BODY"],
            batch=v["PURGE_BATCH"],
            base_url=v["PURGE_BASE_URL"] or v["BASE_URL"],
        )
        if on("purge")
        else None
    )
    return ChannelSettings(
        x=x,
        mastodon=mastodon,
        bluesky=bluesky,
        smtp=smtp,
        chat=chat,
        purge=purge,
        email_include_link=v["EMAIL_INCLUDE_LINK"],
        webhook_allow_private=v["WEBHOOK_ALLOW_PRIVATE"],
        timeout=v["DELIVERY_TIMEOUT_SECONDS"],
        chat_hooks_base_url=v["CHAT_HOOKS_BASE_URL"],
        missing={
            name: tuple(PREFIX + n for n in needs if not v.get(n))
            for name, needs in CHANNEL_NEEDS.items()
        },
    )


# The variables each channel needs before it is on.
CHANNEL_NEEDS: dict[str, tuple[str, ...]] = {
    "x": ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"),
    "mastodon": ("MASTODON_BASE_URL", "MASTODON_ACCESS_TOKEN"),
    "bluesky": ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"),
    "email": ("SMTP_HOST", "SMTP_FROM"),
    "webhook": (),
    "chat": ("CHAT_WEBHOOK_URL",),
    "purge": ("PURGE_URL",),
}


def _export(v: Mapping[str, Any]) -> ExportSettings:
    bucket = None
    if v["EXPORT_URL"]:
        parts = urlsplit(v["EXPORT_URL"])
        prefix = parts.path.strip("/")
        bucket = BucketSettings(
            bucket=parts.netloc,
            prefix=f"{prefix}/" if prefix else "",
            endpoint_url=v["EXPORT_S3_ENDPOINT_URL"],
            region=v["EXPORT_S3_REGION"],
            access_key_id=v["EXPORT_S3_ACCESS_KEY_ID"],
            secret_access_key=v["EXPORT_S3_SECRET_ACCESS_KEY"],
        )
    return ExportSettings(
        directory=v["EXPORT_DIR"],
        bucket=bucket,
        full_every=timedelta(minutes=v["EXPORT_FULL_MINUTES"]),
    )


def build_settings(v: Mapping[str, Any]) -> Settings:
    """The typed tree from resolved values (read_settings)."""
    channels = _channels(v)
    return Settings(
        database_url=v["DATABASE_URL"],
        secret_key=v["SECRET_KEY"],
        admin_email=v["ADMIN_EMAIL"],
        admin_password=v["ADMIN_PASSWORD"],
        page=PageSettings(
            name=v["PAGE_NAME"],
            base_url=v["BASE_URL"],
            time_zone=v["TIME_ZONE"],
            public_honesty=v["PUBLIC_HONESTY"],
            public_accountability=v["PUBLIC_ACCOUNTABILITY"],
        ),
        web=WebSettings(
            host=v["HOST"],
            port=v["PORT"],
            workers=v["WEB_WORKERS"],
            threads=v["WEB_THREADS"],
            timeout=v["WEB_TIMEOUT"],
            keepalive=v["WEB_KEEPALIVE"],
            access_log=v["ACCESS_LOG"],
            secure_cookies=v["SECURE_COOKIES"],
            login_rate_limit=v["LOGIN_RATE_LIMIT"],
            max_request_bytes=v["MAX_REQUEST_BYTES"],
            rate_limit_storage=v["RATE_LIMIT_STORAGE"],
            subscribe_rate_limit=v["SUBSCRIBE_RATE_LIMIT"],
            snapshot_dir=v["SNAPSHOT_DIR"],
            page_refresh_seconds=v["PAGE_REFRESH_SECONDS"],
        ),
        export=_export(v),
        channels=channels,
        delivery=DeliverySettings(
            lease=timedelta(seconds=v["DELIVERY_LEASE_SECONDS"]),
            concurrency=v["DELIVERY_CONCURRENCY"],
            webhook_max_failures=v["WEBHOOK_MAX_FAILURES"],
        ),
        nags=NagSettings(
            heads_up=v["NAG_HEADS_UP_MINUTES"],
            escalate_all=v["NAG_ESCALATE_ALL_MINUTES"],
            escalate_admins=v["NAG_ESCALATE_ADMINS_MINUTES"],
            repeat=v["NAG_REPEAT_MINUTES"],
            repeat_max=v["NAG_REPEAT_MAX_MINUTES"],
            acknowledge=v["NAG_ACKNOWLEDGE_MINUTES"],
            escalation_email=v["ESCALATION_EMAIL"],
            draft_escalate_all=v["ALERT_NAG_ESCALATE_ALL_MINUTES"],
            draft_escalate_admins=v["ALERT_NAG_ESCALATE_ADMINS_MINUTES"],
        ),
        publishing=PublishingSettings(
            channels=channels.enabled - {"chat", "purge"},
            next_update_minutes=v["NEXT_UPDATE_MINUTES"],
            maintenance_reminder=timedelta(minutes=v["MAINTENANCE_REMINDER_MINUTES"]),
            postmortem_days=v["POSTMORTEM_WORKING_DAYS"],
            sign_updates=v["SIGN_UPDATES"],
        ),
        planning=PlanningSettings(
            peak_hours=PeakHours(
                windows=tuple(v["PEAK_HOURS"]),
                blackouts=frozenset(v["BLACKOUT_DATES"]),
                blackout_zone=v["TIME_ZONE"],
            ),
            min_notice=timedelta(hours=v["MAINTENANCE_MIN_NOTICE_HOURS"]),
        ),
    )


def load_settings(
    environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
) -> Settings:
    """defaults -> STATUSBOARD_* environment -> overrides (tests), checked once; the frozen
    tree every part of the app reads its settings from."""
    return build_settings(read_settings(environ, overrides))


def _secret_key() -> str:
    """A random key kept in instance/ so sessions survive restarts of a one-host install."""
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    import secrets

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


EXTENSION = "statusboard.settings"


def load_config(app: Flask, overrides: Mapping[str, Any] | None = None) -> Settings:
    values = read_settings(os.environ, overrides)
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = _secret_key()
    settings = build_settings(values)
    # Checked now, not at the first nag: a bad ladder fails start-up naming the variables.
    from statusboard.domain.nags import NagPolicy

    try:
        NagPolicy.from_settings(settings.nags)
    except ValueError as exc:
        raise ConfigError(f"invalid configuration:\n  {exc}") from exc
    if settings.nags.draft_escalate_admins <= settings.nags.draft_escalate_all:
        raise ConfigError(
            "invalid configuration:\n  STATUSBOARD_ALERT_NAG_ESCALATE_ADMINS_MINUTES must be "
            "more than STATUSBOARD_ALERT_NAG_ESCALATE_ALL_MINUTES"
        )
    app.extensions[EXTENSION] = settings
    app.config.update(
        SECRET_KEY=values["SECRET_KEY"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=values["SECURE_COOKIES"],
        REMEMBER_COOKIE_SECURE=values["SECURE_COOKIES"],
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=values["RATE_LIMIT_STORAGE"],
        RATELIMIT_HEADERS_ENABLED=True,
    )
    # Plain Flask keys (TESTING, WTF_CSRF_ENABLED ...) pass straight through.
    app.config.update({k: v for k, v in (overrides or {}).items() if k not in values})
    return settings


def settings_of(app: Flask | None = None) -> Settings:
    """The app's settings tree (at the edge: views, commands, jobs)."""
    from flask import current_app

    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]
