import pytest

from statusboard.channels.nag_email import EmailNagChannel, SmtpSettings
from statusboard.config import read_settings
from statusboard.domain.nags import NagChannelError, NagMessage
from tests import nag_fakes
from tests.nag_fakes import SmtpServer, free_port, password_authenticator

smtp_server = nag_fakes.smtp_server  # fixture

MESSAGE = NagMessage(
    subject="[statusboard] Update overdue by 7 min: Elevated errors",
    text="Update overdue by 7 min.\n\nPost an update: https://x/admin/...",
    recipients=("olive@example.com", "ada@example.com"),
    update_url="https://x/admin/incidents/abc/update",
)


def channel_for(port: int, **options) -> EmailNagChannel:
    return EmailNagChannel(
        SmtpSettings(
            host="127.0.0.1", port=port, starttls=False, sender="status@example.com", **options
        )
    )


def test_nag_email_reaches_every_recipient_with_subject_and_text(smtp_server):
    channel_for(smtp_server.port).send(MESSAGE)
    [received] = smtp_server.messages
    assert received.sender == "status@example.com"
    assert sorted(received.recipients) == ["ada@example.com", "olive@example.com"]
    assert received.subject == MESSAGE.subject
    assert "Post an update: https://x/admin/" in received.text
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert received.message["Message-ID"].endswith("@example.com>")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_nag_email_logs_in_when_a_username_is_set():
    with SmtpServer(
        authenticator=password_authenticator("nagger", "s3cret"),
        auth_require_tls=False,
        auth_required=True,
    ) as server:
        channel_for(server.port, username="nagger", password="s3cret").send(MESSAGE)
        with pytest.raises(NagChannelError) as refused:
            channel_for(server.port, username="nagger", password="wrong").send(MESSAGE)
        assert len(server.messages) == 1
    assert refused.value.retryable is False
    assert "login refused" in str(refused.value)


def test_unreachable_smtp_server_raises_a_retryable_error():
    with pytest.raises(NagChannelError) as error:
        channel_for(free_port()).send(MESSAGE)
    assert error.value.retryable is True
    assert "unreachable" in str(error.value)


def test_refused_recipient_is_reported_and_the_others_still_get_it(smtp_server):
    smtp_server.handler.refuse.add("ada@example.com")
    with pytest.raises(NagChannelError) as error:
        channel_for(smtp_server.port).send(MESSAGE)
    assert "ada@example.com" in str(error.value)
    assert smtp_server.messages[0].recipients == ["olive@example.com"]


def test_nag_email_is_off_without_an_smtp_host_and_reads_every_setting():
    assert SmtpSettings.from_settings({"STATUSBOARD_SMTP_HOST": None}) is None
    values = read_settings(
        {
            "STATUSBOARD_SMTP_HOST": "mail.example.com",
            "STATUSBOARD_SMTP_PORT": "2525",
            "STATUSBOARD_SMTP_USERNAME": "u",
            "STATUSBOARD_SMTP_PASSWORD": "p",
            "STATUSBOARD_SMTP_FROM": "ops@example.com",
            "STATUSBOARD_SMTP_STARTTLS": "false",
        }
    )
    settings = SmtpSettings.from_settings({f"STATUSBOARD_{k}": v for k, v in values.items()})
    assert settings == SmtpSettings(
        host="mail.example.com",
        port=2525,
        username="u",
        password="p",
        sender="ops@example.com",
        starttls=False,
    )
