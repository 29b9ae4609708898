import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statusboard.config import settings_of
from statusboard.db import Database, database
from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import Impact, IncidentStatus
from statusboard.models import (
    AuditEvent,
    Incident,
    IncidentKind,
    Nag,
    Operator,
    Promise,
    PromiseKind,
    PromiseStatus,
    Role,
)
from statusboard.services import incidents, page, promises
from statusboard.services.audit import Actor
from statusboard.services.nags import NagSetup
from tests.conftest import QUIET, START
from tests.fakes.publishing import deliver, nag_settings
from tests.fakes.smtp import FakeSMTP, free_port

MIN = timedelta(minutes=1)


def person(email: str, name: str, role: Role = Role.OPERATOR, on_call: bool = True) -> Operator:
    # Nobody logs in here: skip the (deliberately slow) password hash.
    return Operator(email=email, name=name, password_hash="-", role=role, on_call=on_call)


@pytest.fixture
def team(session):
    """Owner and one more on call; one operator off call; an admin off call."""
    people = {
        "owner": person("owner@example.com", "Olive Owner"),
        "on_call": person("oncall@example.com", "Oscar Oncall"),
        "off_call": person("offcall@example.com", "Otto Offcall", on_call=False),
        "admin": person("admin@example.com", "Ada Admin", Role.ADMIN, on_call=False),
    }
    session.add_all(people.values())
    session.commit()
    return people


@pytest.fixture
def actor(team):
    return Actor(team["owner"], "test")


@pytest.fixture
def down_port():
    return free_port()


@pytest.fixture
def app_overrides(request, mailbox, room, down_port):
    if request.node.get_closest_marker("smtp_down"):  # nothing listens there (yet)
        return nag_settings(down_port)
    return nag_settings(mailbox.port, room)


@pytest.fixture
def setup(app):
    return NagSetup.from_settings(settings_of(app))


@pytest.fixture
def smtp_server(mailbox):
    return mailbox


@pytest.fixture
def chat_receiver(room):
    return room


def check(app, setup):
    """The worker's promise check, then its delivery rounds (the outbox sends the nags)."""
    report = promises.check_promises(database(app), setup=setup)
    deliver(app)
    return report


def open_major(session, actor, publishing_settings=QUIET, **kwargs):
    arguments = dict(
        name="Elevated API errors",
        impact=Impact.MAJOR,
        body="We are looking.",
        actor=actor,
        next_update_at=START + 30 * MIN,
    )
    arguments.update(kwargs)
    incident = incidents.open_incident(
        session, **arguments, publishing_settings=publishing_settings
    )
    session.commit()
    return incident


def received(smtp_server, start=0):
    """(subject, everyone it went to) per nag, in order: one email per person."""
    by_subject: dict[str, list[str]] = {}
    for message, envelope in zip(
        smtp_server.messages[start:], smtp_server.envelopes[start:], strict=True
    ):
        by_subject.setdefault(str(message["Subject"]), []).extend(envelope.recipients)
    return [(subject, sorted(people)) for subject, people in by_subject.items()]


# -- promises as data ---------------------------------------------------------------------


def test_update_records_its_next_update_and_eta_promises(session, clock, actor):
    incident = open_major(session, actor, eta=START + 2 * 60 * MIN)
    rows = promises.promise_history(session, incident)
    assert [(p.kind, p.due_at, p.status) for p in rows] == [
        (PromiseKind.NEXT_UPDATE, START + 30 * MIN, PromiseStatus.OPEN),
        (PromiseKind.ETA, START + 120 * MIN, PromiseStatus.OPEN),
    ]
    assert all(p.made_by is incident.updates[0] for p in rows)


def test_update_in_time_keeps_the_promise_and_a_same_eta_stands(
    session, clock, actor, publishing_settings
):
    incident = open_major(session, actor, eta=START + 120 * MIN)
    clock.advance(20 * MIN)
    update = incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Found it.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    first, eta, second = promises.promise_history(session, incident)
    assert (first.status, first.closed_at, first.closed_by) == (
        PromiseStatus.KEPT,
        START + 20 * MIN,
        update,
    )
    assert (eta.kind, eta.status, eta.closed_at) == (PromiseKind.ETA, PromiseStatus.OPEN, None)
    assert (second.kind, second.due_at) == (PromiseKind.NEXT_UPDATE, START + 50 * MIN)


def test_late_update_closes_the_promise_as_broken_at_its_due_time(
    session, clock, actor, publishing_settings
):
    incident = open_major(session, actor)
    clock.advance(37 * MIN)
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Sorry for the wait.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    first = promises.promise_history(session, incident)[0]
    assert (first.status, first.broken_at, first.closed_at) == (
        PromiseStatus.BROKEN,
        START + 30 * MIN,
        START + 37 * MIN,
    )


def test_revised_eta_supersedes_in_time_and_is_broken_when_late(
    session, clock, actor, publishing_settings
):
    incident = open_major(session, actor, eta=START + 20 * MIN)
    clock.advance(10 * MIN)
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Later.",
        actor=actor,
        eta=START + 40 * MIN,
        publishing_settings=publishing_settings,
    )
    clock.advance(35 * MIN)
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Unknown now.",
        actor=actor,
        eta=None,
        publishing_settings=publishing_settings,
    )
    etas = [p for p in promises.promise_history(session, incident) if p.kind is PromiseKind.ETA]
    assert [(p.due_at, p.status) for p in etas] == [
        (START + 20 * MIN, PromiseStatus.SUPERSEDED),
        (START + 40 * MIN, PromiseStatus.BROKEN),
    ]
    assert promises.active_promises(session, incident)[0].kind is PromiseKind.NEXT_UPDATE


def test_resolution_answers_every_promise(session, clock, actor, publishing_settings):
    incident = open_major(session, actor, eta=START + 60 * MIN)
    clock.advance(10 * MIN)
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    assert promises.active_promises(session, incident) == []
    assert {p.status for p in promises.promise_history(session, incident)} == {PromiseStatus.KEPT}


def test_check_marks_broken_promises_and_bumps_the_page_version(app, session, clock, actor, setup):
    open_major(session, actor)
    version = page.current_version(session)[0]
    clock.advance(30 * MIN)
    assert check(app, setup).broken == 0  # due, not yet past
    clock.advance(timedelta(seconds=1))
    assert check(app, setup).broken == 1
    session.rollback()  # end the read snapshot: the worker committed in its own session
    [promise] = session.scalars(select(Promise)).all()
    assert (promise.status, promise.broken_at) == (PromiseStatus.BROKEN, START + 30 * MIN)
    assert page.current_version(session)[0] > version
    assert check(app, setup).broken == 0


def test_maintenance_end_is_a_promise_moved_broken_and_kept(
    app, session, clock, actor, setup, smtp_server
):
    window = Incident(
        name="Database upgrade",
        kind=IncidentKind.MAINTENANCE,
        status="in_progress",
        impact=Impact.MINOR,
        scheduled_for=START,
        scheduled_until=START + 60 * MIN,
    )
    session.add(window)
    session.flush()
    [end] = promises.sync_promises(session, incident=window)
    session.commit()
    assert (end.kind, end.due_at) == (PromiseKind.MAINTENANCE_END, START + 60 * MIN)
    clock.advance(62 * MIN)
    check(app, setup)
    assert smtp_server.messages[-1]["Subject"] == (
        "[Example Status] Maintenance running 2 min past its end: post an update or complete it: "
        "Database upgrade"
    )
    window.scheduled_until = START + 90 * MIN
    promises.sync_promises(session, incident=window)
    window.status = "completed"
    promises.sync_promises(session, incident=window)
    session.commit()
    assert [(p.due_at, p.status) for p in promises.promise_history(session, window)] == [
        (START + 60 * MIN, PromiseStatus.BROKEN),
        (START + 90 * MIN, PromiseStatus.KEPT),
    ]


# -- the nag ladder -------------------------------------------------------------------------


def test_ladder_sends_heads_up_due_and_each_escalation_once_to_a_widening_audience(
    app, session, clock, actor, setup, smtp_server, chat_receiver
):
    open_major(session, actor)
    steps = [
        (24, "Next update due in 6 min"),
        (25, "Next update due in 5 min"),
        (30.02, "Update due now"),
        (40, "Update overdue by 10 min (escalation 1)"),
        (60, "Update overdue by 30 min (escalation 2)"),
        (90, "Update overdue by 1 h (escalation 3)"),
    ]
    for minutes, _ in steps:
        clock.freeze(START + minutes * MIN)
        check(app, setup)
        check(app, setup)  # a second run at the same moment sends nothing more
    owner, on_call = ["owner@example.com"], ["oncall@example.com", "owner@example.com"]
    everyone = ["offcall@example.com", "oncall@example.com", "owner@example.com"]
    boss = sorted(everyone + ["admin@example.com", "boss@example.com"])
    subject = "[Example Status] {}: Elevated API errors"
    assert received(smtp_server) == [
        (subject.format("Next update due in 5 min"), owner),
        (subject.format("Update due now"), on_call),
        (subject.format("Update overdue by 10 min (escalation 1)"), everyone),
        (subject.format("Update overdue by 30 min (escalation 2)"), boss),
        (subject.format("Update overdue by 1 h (escalation 3)"), boss),
    ]
    assert len(chat_receiver.bodies) == 5
    assert "Update overdue by 1 h (escalation 3)" in chat_receiver.bodies[-1]["text"]
    levels = session.scalars(select(Nag.level).order_by(Nag.id)).all()
    assert levels == ["heads_up", "due", "escalation_1", "escalation_2", "escalation_3"]


def test_an_update_stops_the_ladder_and_the_next_promise_starts_its_own(
    app, session, clock, actor, setup, smtp_server, publishing_settings
):
    incident = open_major(session, actor)
    clock.freeze(START + 31 * MIN)
    check(app, setup)
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Rolling back.",
        actor=actor,
        next_update_at=START + 61 * MIN,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(START + 45 * MIN)  # the old promise would be at escalation 1 by now
    check(app, setup)
    assert [s for s, _ in received(smtp_server)] == [
        "[Example Status] Update overdue by 1 min: Elevated API errors"
    ]
    clock.freeze(START + 62 * MIN)
    check(app, setup)
    assert received(smtp_server, 1)[0][0] == (
        "[Example Status] Update overdue by 1 min: Elevated API errors"
    )


def test_resolving_stops_the_ladder(
    app, session, clock, actor, setup, smtp_server, publishing_settings
):
    incident = open_major(session, actor, eta=START + 45 * MIN)
    clock.freeze(START + 31 * MIN)
    check(app, setup)
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    for minutes in (41, 46, 70, 200):
        clock.freeze(START + minutes * MIN)
        check(app, setup)
    assert len(received(smtp_server)) == 1


def test_passed_eta_asks_for_a_revised_eta_or_resolution(
    app, session, clock, actor, setup, smtp_server
):
    open_major(session, actor, eta=START + 20 * MIN, next_update_at=START + 60 * MIN)
    clock.freeze(START + 21 * MIN)
    check(app, setup)
    message = smtp_server.messages[0]
    assert len(smtp_server.messages) == 2  # the owner and the on-call operator
    assert message["Subject"] == (
        "[Example Status] ETA passed 1 min ago: give a revised ETA or resolve: Elevated API errors"
    )
    assert (
        "The page also says: The expected resolution time (12:20 UTC) has passed; "
        "a revised estimate is coming"
    ) in message.get_content()


def test_acknowledging_pauses_the_nags_for_a_bounded_time_and_is_audited(
    app, session, clock, actor, setup, smtp_server, team
):
    incident = open_major(session, actor)
    clock.freeze(START + 31 * MIN)
    check(app, setup)
    version = page.current_version(session)[0]
    on_call = Actor(team["on_call"], "web")
    [paused] = promises.acknowledge(session, incident=incident, actor=on_call, policy=setup.policy)
    session.commit()
    assert paused.paused_until == START + 46 * MIN  # the default 15 minutes
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "promise.acknowledge"))
    assert (event.actor_id, event.subject_id) == (team["on_call"].id, incident.public_id)
    assert page.current_version(session)[0] == version  # nothing public changed
    clock.freeze(START + 45 * MIN)
    check(app, setup)
    assert len(received(smtp_server)) == 1
    clock.freeze(START + 46 * MIN)
    check(app, setup)
    assert smtp_server.messages[-1]["Subject"].startswith(
        "[Example Status] Update overdue by 16 min (escalation 1)"
    )


def test_acknowledging_when_nothing_is_due_is_refused(session, clock, actor, setup):
    incident = open_major(session, actor)
    with pytest.raises(InvalidInput, match="nothing is due"):
        promises.acknowledge(session, incident=incident, actor=actor, policy=setup.policy)


def test_a_worker_that_was_down_sends_only_the_current_level(
    app, session, clock, actor, setup, smtp_server
):
    open_major(session, actor)
    clock.freeze(START + 65 * MIN)
    check(app, setup)
    assert [s for s, _ in received(smtp_server)] == [
        "[Example Status] Update overdue by 35 min (escalation 2): Elevated API errors"
    ]


def test_a_failing_channel_is_recorded_and_the_others_still_deliver(
    app, session, clock, actor, setup, smtp_server, room
):
    room.fail_next(404, {"error": "no_such_hook"})  # final: no retry helps
    open_major(session, actor)
    clock.freeze(START + 31 * MIN)
    check(app, setup)
    check(app, setup)
    assert len(received(smtp_server)) == 1 and len(room.deliveries) == 1
    nag = session.scalar(select(Nag))
    assert nag.sent_at == START + 31 * MIN
    assert nag.outcome == {"email": "sent", "chat": nag.outcome["chat"]}
    assert "chat webhook answered 404" in nag.error


# -- many workers --------------------------------------------------------------------------


def test_three_workers_checking_at_once_send_each_nag_exactly_once(
    app, session, clock, actor, setup, smtp_server, chat_receiver
):
    for number in range(4):
        open_major(session, actor, name=f"Incident {number}")
    workers = [Database(settings_of(app).database_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(worker: Database, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            promises.check_promises(worker, setup=setup)  # claims and queues
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    try:
        for minutes in (25, 30.5, 40, 60, 90):
            clock.freeze(START + minutes * MIN)
            barrier = threading.Barrier(len(workers))
            threads = [threading.Thread(target=run, args=(w, barrier)) for w in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        for worker in workers:
            worker.engine.dispose()
    assert errors == []
    deliver(app)
    assert len(received(smtp_server)) == 4 * 5  # each (incident, level) once
    assert len(chat_receiver.bodies) == 4 * 5
    per_person = [
        (str(m["Subject"]), tuple(e.recipients))
        for m, e in zip(smtp_server.messages, smtp_server.envelopes, strict=True)
    ]
    assert len(set(per_person)) == len(per_person)  # nobody got one twice
    assert session.scalar(select(func.count(Nag.id))) == 20


@pytest.mark.smtp_down
def test_a_nag_waits_out_an_smtp_outage_and_goes_out_once_smtp_is_back(
    app, session, clock, actor, down_port
):
    open_major(session, actor)
    clock.freeze(START + 30 * MIN + timedelta(seconds=1))
    setup = NagSetup.from_settings(settings_of(app))
    assert len(check(app, setup).nagged) == 1  # queued; the first attempts fail
    nag = session.scalar(select(Nag))
    assert nag.sent_at is None  # nobody has been reminded yet: the page must not say so
    with FakeSMTP(port=down_port) as smtp:
        clock.advance(timedelta(seconds=30))  # past the first retry
        deliver(app)
        assert check(app, setup).nagged == []  # the level was claimed once
        assert [m["Subject"] for m in smtp.messages] == [
            "[Example Status] Update due now: Elevated API errors"
        ] * 2  # the owner and the on-call operator
    session.commit()  # end the read transaction and forget what it loaded
    session.expire_all()
    nag = session.scalar(select(Nag))
    assert nag.sent_at == START + 30 * MIN + timedelta(seconds=31)
    assert nag.outcome == {"email": "sent"}


@pytest.mark.smtp_down
def test_an_undeliverable_nag_stops_after_the_nag_retry_limit(app, session, clock, actor):
    from statusboard.domain.retry import LIMITS
    from statusboard.models import Delivery

    open_major(session, actor)
    clock.freeze(START + 31 * MIN)
    setup = NagSetup.from_settings(settings_of(app))
    check(app, setup)
    for _ in range(10):
        clock.advance(timedelta(minutes=3))
        deliver(app)
    rows = session.scalars(select(Delivery).where(Delivery.nag_id.is_not(None))).all()
    assert {(r.state.value, r.attempts) for r in rows} == {("failed", LIMITS["nag"].attempts)}
    assert "unreachable" in rows[0].last_error
    assert session.scalar(select(Nag)).sent_at is None


def test_maintenance_start_gets_a_heads_up_only_and_is_kept_when_it_starts(
    app, session, clock, actor, setup, smtp_server, publishing_settings
):
    from statusboard.services import maintenance

    window = maintenance.schedule_maintenance(
        session,
        name="Database upgrade",
        body="Upgrading.",
        actor=actor,
        scheduled_for=START + 60 * MIN,
        scheduled_until=START + 120 * MIN,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.advance(56 * MIN)
    check(app, setup)
    assert received(smtp_server) == [
        ("[Example Status] Maintenance starts in 4 min: Database upgrade", ["owner@example.com"])
    ]
    clock.advance(5 * MIN)  # one minute past the start, before the worker started it
    check(app, setup)
    assert len(smtp_server.messages) == 1  # no "due" or escalation for a start
    maintenance.advance_windows(session, publishing_settings=publishing_settings)
    session.commit()
    start = [
        p
        for p in promises.promise_history(session, window)
        if p.kind is PromiseKind.MAINTENANCE_START
    ]
    assert [p.status for p in start] == [PromiseStatus.KEPT]
