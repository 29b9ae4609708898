"""The operators' chat room: nags as Slack- or Discord-shaped JSON, errors classified."""

import pytest

from statusboard.channels.base import ChannelError, Letter, Notice
from statusboard.channels.chat import DISCORD_LIMIT, ChatChannel
from statusboard.config import ConfigError, read_settings
from tests.fakes.smtp import free_port
from tests.fakes.social import WebhookReceiver

LETTER = Letter(
    delivery_id="d1",
    to="account",
    subject="Update due now: Elevated errors",
    text="Update due now.\nPost an update: https://x/admin/incidents/a/update",
    urgent=True,
)


@pytest.fixture
def room():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def test_slack_format_posts_text(room):
    ChatChannel(room.url + "/hooks/nags").publish(LETTER, None)
    [posted] = room.deliveries
    assert posted.json() == {"text": f"*{LETTER.subject}*\n{LETTER.text}"}


def test_discord_format_posts_content_without_pings_and_within_its_limit(room):
    long = Letter(delivery_id="d2", to="account", subject="s", text="x" * 5000)
    ChatChannel(room.url, "discord").publish(long, None)
    body = room.deliveries[0].json()
    assert set(body) == {"content", "allowed_mentions"}
    assert len(body["content"]) == DISCORD_LIMIT
    assert body["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize("status, retryable", [(500, True), (429, True), (404, False)])
def test_a_non_2xx_answer_raises_saying_whether_retry_helps(room, status, retryable):
    room.fail_next(status, {"error": "no"})
    with pytest.raises(ChannelError) as error:
        ChatChannel(room.url).publish(LETTER, None)
    assert error.value.retryable is retryable
    assert str(status) in str(error.value)


def test_unreachable_webhook_raises_a_retryable_error():
    with pytest.raises(ChannelError) as error:
        ChatChannel(f"http://127.0.0.1:{free_port()}/hook").publish(LETTER, None)
    assert error.value.retryable is True


def test_the_room_refuses_public_notices_for_good(room):
    notice = Notice("d", "i", "n", "u", "investigating", "t", "", "https://x", None)  # type: ignore[arg-type]
    with pytest.raises(ChannelError) as error:
        ChatChannel(room.url).publish(notice, None)
    assert error.value.retryable is False
    assert room.deliveries == []


def test_chat_settings_refuse_unknown_formats():
    with pytest.raises(ConfigError, match="STATUSBOARD_CHAT_FORMAT: must be slack or discord"):
        read_settings({"STATUSBOARD_CHAT_FORMAT": "teams"})
