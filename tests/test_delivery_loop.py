"""The worker's delivery loop, run as the worker runs it (a thread with a stop event), over
a fan-out of several batches."""

import threading
import time

import pytest
from sqlalchemy import func, select

from statusboard import jobs
from statusboard.channels.webhook import parse_allow_list
from statusboard.domain.statuses import Impact, IncidentStatus
from statusboard.models import Delivery, DeliveryState
from statusboard.services import incidents, subscribers
from statusboard.services.audit import Actor
from tests.conftest import START


@pytest.fixture
def app_overrides(publishing_overrides):
    # Two senders: a claim takes 32 rows, so a fan-out of 200 takes several rounds.
    return publishing_overrides | {"DELIVERY_CONCURRENCY": 2}


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _unsent(app):
    from statusboard.db import database

    with database(app).session() as session:
        return session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state != DeliveryState.SENT)
        )


def test_the_loop_sends_every_delivery_once_in_order_per_target_and_records_it(
    app, session, clock, operator, receiver, mailbox, publishing_settings
):
    actor = Actor(operator, "test")
    for n in range(80):
        subscribers.request_webhook(
            session,
            url=f"{receiver.url}/hook/{n}",
            contact_email="hooks@example.com",
            components=(),
            allow=parse_allow_list("127.0.0.1"),
            confirmed=True,
        )
    for n in range(20):
        subscriber = subscribers.request_email(
            session, email=f"reader{n}@example.com", components=()
        )
        subscriber.confirmed_at = START
    session.commit()
    incident = incidents.open_incident(
        session,
        name="Checkout failing",
        impact=Impact.MAJOR,
        body="We are investigating.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="We found the cause.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    queued = session.scalar(select(func.count()).select_from(Delivery))
    stop = threading.Event()
    loop = threading.Thread(target=jobs.delivery_loop, args=(app, stop), kwargs={"idle": 0.01})
    loop.start()
    try:
        assert _wait_for(lambda: _unsent(app) == 0), "deliveries left unsent"
    finally:
        stop.set()
        loop.join(timeout=20)
    assert not loop.is_alive()
    ids = [r.headers["x-statusboard-delivery"] for r in receiver.deliveries]
    assert len(ids) == len(set(ids)) == 160  # two updates to 80 webhooks, once each
    mail_ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(mail_ids) == len(set(mail_ids)) == 40
    assert queued == 206  # and one post per update on X, Mastodon and Bluesky; all sent
    # Per target, the second update never overtakes the first.
    for n in range(80):
        bodies = [r.body for r in receiver.deliveries if r.path == f"/hook/{n}"]
        assert [b"identified" in body for body in bodies] == [False, True]
    for n in range(20):
        subjects = [m["Subject"] for m in mailbox.messages if m["To"] == f"reader{n}@example.com"]
        assert len(subjects) == 2 and "Identified" in subjects[1]
