from datetime import timedelta

import pytest

from statusboard import jobs
from statusboard.domain.statuses import Impact
from statusboard.services import incidents
from statusboard.services.audit import Actor
from tests.conftest import START
from tests.fakes.publishing import deliver, nag_settings


@pytest.fixture
def app_overrides(mailbox, room):
    return nag_settings(mailbox.port, room) | {"CHAT_FORMAT": "discord"}


def test_promise_check_is_in_the_job_table_at_least_every_five_seconds():
    [job] = [job for job in jobs.JOBS if job.id == "check-promises"]
    assert job.every <= timedelta(seconds=5)


def test_the_job_queues_nags_the_outbox_sends_by_email_and_to_the_room(
    app, session, clock, operator, mailbox, room, publishing_settings
):
    incidents.open_incident(
        session,
        name="Checkout failing",
        impact=Impact.CRITICAL,
        body="Looking.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(START + timedelta(minutes=15, seconds=1))  # critical: 15 min by default
    report = jobs.check_promises(app)
    assert report.broken == 1 and len(report.nagged) == 1
    assert mailbox.messages == []  # queued, not sent by the check itself
    deliver(app)
    [mail] = mailbox.messages
    assert mail["Subject"] == "[Example Status] Update due now: Checkout failing"
    assert "Update due now" in room.bodies[0]["content"]
