"""The acknowledgement promise of an alert-started draft: the nag ladder chases the on-call
operators at once, everyone after 5 minutes, the admins after 15, through the one outbox,
until someone publishes or dismisses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.statuses import Impact
from statusboard.models import AlertFormat, Draft, Operator, Role
from statusboard.services import alert_sources, alerts, components, promises
from statusboard.services.audit import Actor
from statusboard.services.nags import NagSetup
from tests.conftest import QUIET, START
from tests.fakes.publishing import deliver, nag_settings
from tests.web.test_api_alerts import ALERTMANAGER_FIRING

MIN = timedelta(minutes=1)


@pytest.fixture
def app_overrides(mailbox, room):
    return nag_settings(mailbox.port, room)


@pytest.fixture
def team(session):
    people = [
        Operator(email="oncall@example.com", name="Oscar Oncall", password_hash="-", on_call=True),
        Operator(
            email="offcall@example.com", name="Otto Offcall", password_hash="-", on_call=False
        ),
        Operator(
            email="admin@example.com",
            name="Ada Admin",
            password_hash="-",
            role=Role.ADMIN,
            on_call=False,
        ),
    ]
    session.add_all(people)
    session.commit()
    return people


@pytest.fixture
def draft(session, clock, team):
    system = Actor(None, "t")
    api = components.create_component(session, name="API", actor=system)
    alert_sources.create_rule(
        session, key="service", value="api", component=api, impact=None, actor=system
    )
    alert_sources.create_rule(
        session,
        key="severity",
        value="critical",
        component=None,
        impact=Impact.CRITICAL,
        actor=system,
    )
    source, _ = alert_sources.create_source(
        session, name="prometheus", format=AlertFormat.ALERTMANAGER, actor=system
    )
    intake = alerts.receive(session, source=source, payload=ALERTMANAGER_FIRING)
    session.commit()
    return intake.created[0]


def check(app):
    report = promises.check_promises(database(app), setup=NagSetup.from_settings(settings_of(app)))
    deliver(app)
    return report


def recipients(mailbox):
    return sorted(address for m in mailbox.messages for address in [m["To"]])


def test_a_new_draft_nags_on_call_at_once_then_everyone_then_the_admins(
    app, session, clock, draft, mailbox, room
):
    assert [level for _, level in check(app).drafts_nagged] == ["due"]
    assert recipients(mailbox) == ["oncall@example.com"]
    message = mailbox.messages[0]
    assert message["Subject"] == (
        "[Example Status] Monitoring alert: customers have heard nothing yet: Problems with API"
    )
    body = message.get_body(("plain",)).get_content()
    assert "5xx ratio above 5% on api-gateway" in body  # what monitoring said, for operators
    assert "We are investigating an outage of API." in body  # the suggested first word
    assert f"https://status.example.com/admin/drafts/{draft.public_id}" in body
    assert len(room.requests) == 1  # the operators' chat room too

    mailbox.clear()
    clock.advance(4 * MIN)
    assert check(app).drafts_nagged == []  # the same level is not sent twice
    clock.advance(1 * MIN)
    assert [level for _, level in check(app).drafts_nagged] == ["escalation_1"]
    assert recipients(mailbox) == ["offcall@example.com", "oncall@example.com"]

    mailbox.clear()
    clock.advance(10 * MIN)
    assert [level for _, level in check(app).drafts_nagged] == ["escalation_2"]
    assert recipients(mailbox) == [
        "admin@example.com",
        "boss@example.com",
        "offcall@example.com",
        "oncall@example.com",
    ]
    assert "(escalation 2)" in mailbox.messages[0]["Subject"]
    assert "Monitoring alert 15 min ago" in mailbox.messages[0]["Subject"]


def test_publishing_the_draft_stops_its_nags(app, session, clock, draft, mailbox, team):
    check(app)
    found = session.get(Draft, draft.id)
    alerts.publish(session, draft=found, actor=Actor(team[0], "test"), publishing_settings=QUIET)
    session.commit()
    mailbox.clear()
    clock.advance(30 * MIN)
    report = check(app)
    assert report.drafts_nagged == []
    # The published incident now has its own promise: its nag is about that, not the draft.
    assert all("Monitoring alert" not in m["Subject"] for m in mailbox.messages)


def test_dismissing_the_draft_stops_its_nags(app, session, clock, draft, mailbox, team):
    alerts.dismiss(session, draft=session.get(Draft, draft.id), actor=Actor(team[0], "test"))
    session.commit()
    assert check(app).drafts_nagged == []
    clock.advance(20 * MIN)
    assert check(app).drafts_nagged == []
    assert mailbox.messages == []


def test_two_workers_checking_at_once_send_the_draft_nag_once(app, session, clock, draft, mailbox):
    setup = NagSetup.from_settings(settings_of(app))
    first = promises.check_promises(database(app), setup=setup)
    second = promises.check_promises(database(app), setup=setup)
    deliver(app)
    assert len(first.drafts_nagged) + len(second.drafts_nagged) == 1
    assert len(mailbox.messages) == 1
    assert session.scalar(select(Draft)).state == "open"
    assert clock.now() == START


def test_the_nags_page_lists_reminders_about_drafts(app, session, clock, draft, operator_client):
    check(app)
    page = operator_client.get("/admin/nags/").get_data(as_text=True)
    assert "Problems with API" in page and "draft from monitoring" in page


def test_an_alert_ladder_whose_admins_come_before_everyone_fails_at_start(database_url):
    from statusboard.app import create_app
    from statusboard.config import ConfigError

    with pytest.raises(ConfigError, match="ALERT_NAG_ESCALATE_ADMINS_MINUTES must be more"):
        create_app(
            {
                "DATABASE_URL": database_url,
                "SECRET_KEY": "k",
                "ALERT_NAG_ESCALATE_ALL_MINUTES": 20,
                "ALERT_NAG_ESCALATE_ADMINS_MINUTES": 15,
            }
        )
