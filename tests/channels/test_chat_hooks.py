"""Subscribers' chat rooms: which URLs are accepted, what each platform receives, and how
their answers are read — against a local server that answers as Slack, Discord and Teams do."""

from datetime import UTC, datetime, timedelta

import pytest

from statusboard.channels.base import ChannelError, Letter, Notice
from statusboard.channels.chat_formats import discord_notice, slack_notice, teams_notice
from statusboard.channels.chat_hooks import (
    ChatHookChannel,
    InvalidChatHook,
    check_hook,
    platform_of,
)
from statusboard.channels.webhook import parse_allow_list
from tests.fakes.chat_hooks import (
    DISCORD_HOOK,
    SLACK_HOOK,
    TEAMS_HOOK,
    FakeChatHooks,
    discord_problem,
    slack_problem,
)

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def notice(**changes):
    values = dict(
        delivery_id="d1",
        incident_id="inc1",
        incident_name="Checkout errors",
        update_id="u1",
        status="identified",
        text="A bad deploy; rolling back.",
        html="<p>A bad deploy; rolling back.</p>",
        url="https://status.example.com/incidents/inc1",
        created_at=AT,
        impact="major",
        components=("API", "Web app"),
        eta_at=AT + timedelta(hours=2),
        eta_revisions=1,
        next_update_at=AT + timedelta(minutes=30),
        time_zone="Europe/Paris",
        manage_url="https://status.example.com/subscribe/manage/tok",
    )
    values.update(changes)
    return Notice(**values)


@pytest.fixture
def hooks():
    fake = FakeChatHooks()
    yield fake
    fake.close()


def channel(platform, hooks):
    return ChatHookChannel(
        platform,
        page_name="Example Status",
        base_url=hooks.url,
        allow_private=parse_allow_list("127.0.0.1"),
        timeout=2,
    )


@pytest.mark.parametrize(
    "url, platform",
    [
        (SLACK_HOOK, "slack"),
        (DISCORD_HOOK, "discord"),
        (DISCORD_HOOK.replace("discord.com", "discordapp.com"), "discord"),
        (TEAMS_HOOK, "teams"),
        (
            "https://default0123.45.environment.api.powerplatform.com:443/powerautomate/automations"
            "/direct/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke"
            "?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=xyz",
            "teams",
        ),
    ],
)
def test_each_platform_is_recognised_by_its_url(url, platform):
    assert platform_of(url) == platform


@pytest.mark.parametrize(
    "url, says",
    [
        (SLACK_HOOK.replace("https", "http"), "https://"),
        ("https://hooks.slack.com/workflows/T1/A1/123/abc", "hooks.slack.com/services"),
        ("https://discord.com/api/webhooks/123/", "discord.com/api/webhooks"),
        (
            "https://evil.example.com/api/webhooks/112233445566778899/abcdefghijklmnopqrstuvwxyz",
            "paste",
        ),
        (TEAMS_HOOK.split("&sig=")[0], "sig="),
        ("https://user:pw@hooks.slack.com/services/T1/B1/abc", "no login"),
        ("https://hooks.slack.com:8443/services/T1/B1/abc", "no port"),
    ],
)
def test_a_url_of_the_wrong_shape_is_refused_saying_what_is_expected(url, says):
    with pytest.raises(InvalidChatHook) as error:
        platform_of(url)
    assert says in str(error.value)


def test_a_hook_resolving_to_a_private_address_is_refused_as_for_webhooks(hooks):
    # The test server stands on 127.0.0.1: without the allow list it is a private target.
    with pytest.raises(InvalidChatHook) as error:
        check_hook(SLACK_HOOK, base_url=hooks.url)
    assert "not on the public internet" in str(error.value)
    assert (
        check_hook(SLACK_HOOK, base_url=hooks.url, allow=parse_allow_list("127.0.0.1")) == "slack"
    )


def test_slack_gets_block_kit_with_colour_facts_update_and_link(hooks):
    receipt = channel("slack", hooks).publish(notice(address=SLACK_HOOK), None)
    [seen] = hooks.received("slack")
    body = seen.json()
    assert receipt.remote_id == "d1"
    assert body["text"] == "Checkout errors — Identified: https://status.example.com/incidents/inc1"
    [attachment] = body["attachments"]
    assert attachment["color"] == "#e8710a"
    header, facts, update, link, context = attachment["blocks"]
    assert header["text"]["text"] == "Checkout errors — Identified"
    assert [f["text"] for f in facts["fields"]] == [
        "*Status*\nIdentified",
        "*Impact*\nMajor",
        "*Affected*\nAPI, Web app",
        "*Expected resolution*\n24 Nov 15:00 CET (revised once)",
        "*Next update by*\n24 Nov 13:30 CET",
    ]
    assert update["text"]["text"] == "A bad deploy; rolling back."
    assert (
        link["text"]["text"] == "<https://status.example.com/incidents/inc1|View on Example Status>"
    )
    assert "subscribe/manage/tok" in context["elements"][0]["text"]


def test_discord_gets_an_embed_without_pings_and_its_message_id_is_kept(hooks):
    receipt = channel("discord", hooks).publish(
        notice(address=DISCORD_HOOK, text="@everyone down"), None
    )
    [seen] = hooks.received("discord")
    assert seen.query == {"wait": ["true"]}
    body = seen.json()
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["color"] == 0xE8710A
    assert embed["url"] == "https://status.example.com/incidents/inc1"
    assert embed["description"] == "@everyone down"
    assert {f["name"]: f["value"] for f in embed["fields"]}["Expected resolution"] == (
        "24 Nov 15:00 CET (revised once)"
    )
    assert receipt.remote_id and receipt.remote_id.isdigit()


def test_teams_gets_an_adaptive_card_with_a_factset_and_a_button(hooks):
    channel("teams", hooks).publish(
        notice(address=TEAMS_HOOK, resolves=True, status="resolved"), None
    )
    [seen] = hooks.received("teams")
    assert seen.query["sig"] == ["abcDEF123"]
    [attachment] = seen.json()["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title, facts, update, footer = card["body"]
    assert title["color"] == "good"
    # Once resolved, no ETA or next-update promise is repeated.
    assert [f["title"] for f in facts["facts"]] == ["Status", "Impact", "Affected"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "View on Example Status", "url": notice().url}
    ]


def test_huge_input_stays_within_block_kit_and_embed_limits_and_is_accepted(hooks):
    huge = notice(
        incident_name="N" * 1000,
        text="word " * 20000,
        components=tuple(f"Component {i} " + "x" * 80 for i in range(300)),
    )
    assert slack_problem(slack_notice(huge, "P" * 500)) is None
    assert discord_problem(discord_notice(huge, "P" * 500)) is None
    for platform, hook in (("slack", SLACK_HOOK), ("discord", DISCORD_HOOK), ("teams", TEAMS_HOOK)):
        channel(platform, hooks).publish(notice(**{**huge.__dict__, "address": hook}), None)
    embed = hooks.received("discord")[0].json()["embeds"][0]
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert 5000 < total <= 6000
    assert len(teams_notice(huge, "P").__repr__()) < 28000


def test_the_fakes_refuse_what_the_platforms_refuse():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
    assert slack_problem({"blocks": blocks}) == "invalid_blocks"
    assert slack_problem({"blocks": [{"type": "section", "text": {"text": "x" * 3001}}]}) == (
        "invalid_blocks"
    )
    assert slack_problem({}) == "no_text"
    assert (
        discord_problem(
            {
                "embeds": [
                    {
                        "description": "x" * 4000,
                        "title": "t" * 256,
                        "fields": [{"name": "n", "value": "v" * 1024}] * 2,
                    }
                ]
            }
        )["code"]
        == 50035
    )


@pytest.mark.parametrize(
    "platform, hook, how, status",
    [
        ("slack", SLACK_HOOK, "channel_not_found", 404),
        ("slack", SLACK_HOOK, "invalid_token", 403),
        ("discord", DISCORD_HOOK, "", 404),
        ("teams", TEAMS_HOOK, "", 404),
    ],
)
def test_a_hook_the_platform_deleted_is_a_final_error_marked_gone(
    hooks, platform, hook, how, status
):
    hooks.forget(hook, how)
    with pytest.raises(ChannelError) as error:
        channel(platform, hooks).publish(notice(address=hook), None)
    assert error.value.retryable is False
    assert error.value.details == {"gone": True}
    assert error.value.status == status
    if platform == "discord":
        assert "Unknown Webhook" in str(error.value) and "10015" in str(error.value)
    if platform == "slack":
        assert how in str(error.value)


def test_slack_rate_limits_and_outages_retry(hooks):
    hooks.fail_next(429, b"rate_limited", {"Content-Type": "text/plain", "Retry-After": "30"})
    hooks.fail_next(500, b"rollup_error", {"Content-Type": "text/plain"})
    for _ in range(2):
        with pytest.raises(ChannelError) as error:
            channel("slack", hooks).publish(notice(address=SLACK_HOOK), None)
        assert error.value.retryable is True and not error.value.details


def test_a_letter_goes_to_the_hook_it_names_in_each_platform_shape(hooks):
    for platform, hook in (("slack", SLACK_HOOK), ("discord", DISCORD_HOOK), ("teams", TEAMS_HOOK)):
        letter = Letter(
            delivery_id="l1", to=hook, subject="You will receive updates here", text="Hi"
        )
        channel(platform, hooks).publish(letter, None)
    slack, discord, teams = (hooks.received(p)[0].json() for p in ("slack", "discord", "teams"))
    assert slack["text"] == "*You will receive updates here*\nHi"
    assert discord["content"] == "**You will receive updates here**\nHi"
    assert teams["attachments"][0]["content"]["body"][0]["text"] == "You will receive updates here"


def test_a_hook_of_another_platform_is_never_posted_to(hooks):
    with pytest.raises(ChannelError) as error:
        channel("slack", hooks).publish(notice(address=DISCORD_HOOK), None)
    assert error.value.retryable is False
    assert hooks.requests == []
