from datetime import timedelta

import pytest

from statusboard import jobs
from statusboard.domain.statuses import Impact
from statusboard.services import incidents
from statusboard.services.audit import Actor
from tests import nag_fakes
from tests.conftest import START

smtp_server = nag_fakes.smtp_server  # fixture
chat_receiver = nag_fakes.chat_receiver  # fixture


@pytest.fixture
def app_overrides(smtp_server, chat_receiver):
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_STARTTLS": False,
        "CHAT_WEBHOOK_URL": chat_receiver.url,
        "CHAT_FORMAT": "discord",
        "ESCALATION_EMAIL": "boss@example.com",
    }


def test_promise_check_is_in_the_job_table_at_least_every_five_seconds():
    [job] = [job for job in jobs.JOBS if job.id == "check-promises"]
    assert job.every <= timedelta(seconds=5)


def test_the_job_builds_its_channels_from_settings_and_nags(
    app, session, clock, operator, smtp_server, chat_receiver
):
    incidents.open_incident(
        session,
        name="Checkout failing",
        impact=Impact.CRITICAL,
        body="Looking.",
        actor=Actor(operator, "test"),
    )
    session.commit()
    clock.freeze(START + timedelta(minutes=15, seconds=1))  # critical: 15 min by default
    report = jobs.check_promises(app)
    assert report.broken == 1 and len(report.nagged) == 1 and report.failed == []
    [mail] = smtp_server.messages
    assert mail.subject == "[statusboard] Update due now: Checkout failing"
    assert "Update due now" in chat_receiver.bodies[0]["content"]
