import pytest

from statusboard.channels.chat import DISCORD_LIMIT, ChatNagChannel
from statusboard.config import ConfigError, read_settings
from statusboard.domain.nags import NagChannelError, NagMessage
from tests import nag_fakes
from tests.nag_fakes import ChatReceiver, free_port

chat_receiver = nag_fakes.chat_receiver  # fixture

MESSAGE = NagMessage(
    subject="[statusboard] Update due now: Elevated errors",
    text="Update due now.\nPost an update: https://x/admin/incidents/a/update",
    recipients=("olive@example.com",),
    update_url="https://x/a",
)


def test_slack_format_posts_text(chat_receiver):
    ChatNagChannel(chat_receiver.url).send(MESSAGE)
    [body] = chat_receiver.bodies
    assert body == {"text": f"*{MESSAGE.subject}*\n{MESSAGE.text}"}


def test_discord_format_posts_content_without_pings_and_within_its_limit(chat_receiver):
    long = NagMessage(subject="s", text="x" * 5000, recipients=(), update_url="u")
    ChatNagChannel(chat_receiver.url, "discord").send(long)
    [body] = chat_receiver.bodies
    assert set(body) == {"content", "allowed_mentions"}
    assert len(body["content"]) == DISCORD_LIMIT
    assert body["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize(
    "status, retryable", [(500, True), (429, True), (404, False), (302, False)]
)
def test_a_non_2xx_answer_raises_saying_whether_retry_helps(status, retryable):
    with ChatReceiver(status=status) as receiver, pytest.raises(NagChannelError) as error:
        ChatNagChannel(receiver.url).send(MESSAGE)
    assert error.value.retryable is retryable
    assert str(status) in str(error.value)


def test_unreachable_webhook_raises_a_retryable_error():
    with pytest.raises(NagChannelError) as error:
        ChatNagChannel(f"http://127.0.0.1:{free_port()}/hook").send(MESSAGE)
    assert error.value.retryable is True


def test_chat_settings_pick_the_format_and_refuse_unknown_ones():
    assert ChatNagChannel.from_settings({"STATUSBOARD_CHAT_WEBHOOK_URL": None}) is None
    channel = ChatNagChannel.from_settings(
        {"STATUSBOARD_CHAT_WEBHOOK_URL": "https://c/h", "STATUSBOARD_CHAT_FORMAT": "discord"}
    )
    assert channel.format == "discord"
    with pytest.raises(ConfigError, match="STATUSBOARD_CHAT_FORMAT: must be slack or discord"):
        read_settings({"STATUSBOARD_CHAT_FORMAT": "teams"})
