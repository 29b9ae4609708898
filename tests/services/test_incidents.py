from datetime import timedelta

import pytest

from statusboard.domain.errors import InvalidInput, InvalidTransition, PromiseInThePast
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import AuditEvent, Incident
from statusboard.services import components, incidents
from tests.conftest import START


@pytest.fixture
def api(session, actor):
    return components.create_component(session, name="API", actor=actor)


def test_open_incident_records_first_update_with_default_promise_by_impact(
    session, clock, actor, api, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Elevated errors",
        impact=Impact.CRITICAL,
        body="We are looking.",
        actor=actor,
        component_changes={api: ComponentStatus.MAJOR_OUTAGE},
        publishing_settings=publishing_settings,
    )
    session.commit()
    assert incident.status == IncidentStatus.INVESTIGATING
    assert incident.next_update_at == START + timedelta(minutes=15)
    assert incident.eta_at is None
    assert api.status is ComponentStatus.MAJOR_OUTAGE
    [update] = incident.updates
    assert update.next_update_at == START + timedelta(minutes=15)
    assert [(c.old_status, c.new_status) for c in update.component_changes] == [
        (ComponentStatus.OPERATIONAL, ComponentStatus.MAJOR_OUTAGE)
    ]
    assert incident.components == [api]
    assert incident.owner.email == "ops@example.com"


def test_update_keeps_eta_and_moves_promise(session, clock, actor, publishing_settings):
    eta = START + timedelta(hours=2)
    incident = incidents.open_incident(
        session,
        name="Slow",
        impact=Impact.MINOR,
        body="Slow.",
        actor=actor,
        eta=eta,
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=10))
    promise = START + timedelta(minutes=40)
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Found it.",
        actor=actor,
        next_update_at=promise,
        publishing_settings=publishing_settings,
    )
    assert incident.eta_at == eta
    assert incident.next_update_at == promise
    assert [u.status for u in incident.updates] == ["investigating", "identified"]


def test_resolve_restores_components_and_clears_promises(
    session, clock, actor, api, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Down",
        impact=Impact.MAJOR,
        body="Down.",
        actor=actor,
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolved_at == START
    assert incident.next_update_at is None and incident.eta_at is None
    assert api.status is ComponentStatus.OPERATIONAL


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"body": "  "}, InvalidInput),
        ({"name": ""}, InvalidInput),
        ({"eta": START - timedelta(minutes=1)}, PromiseInThePast),
        ({"next_update_at": START}, PromiseInThePast),
        ({"status": IncidentStatus.RESOLVED}, InvalidInput),
    ],
)
def test_bad_input_is_refused_and_saves_nothing(
    session, clock, actor, kwargs, error, publishing_settings
):
    arguments = {"name": "Outage", "impact": Impact.MAJOR, "body": "Down.", "actor": actor}
    arguments.update(kwargs)
    with pytest.raises(error):
        incidents.open_incident(session, **arguments, publishing_settings=publishing_settings)
    session.rollback()
    assert session.query(Incident).count() == 0
    assert session.query(AuditEvent).filter_by(action="incident.open").count() == 0


def test_passed_eta_must_be_revised_before_another_update(
    session, clock, actor, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Slow",
        impact=Impact.MINOR,
        body="Slow.",
        actor=actor,
        eta=START + timedelta(minutes=30),
        publishing_settings=publishing_settings,
    )
    clock.advance(timedelta(minutes=31))
    with pytest.raises(PromiseInThePast):
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body="Still on it.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
    update = incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Still on it.",
        actor=actor,
        eta=None,
        publishing_settings=publishing_settings,
    )
    assert update.eta_at is None


def test_resolved_incident_cannot_reopen(session, clock, actor, publishing_settings):
    incident = incidents.open_incident(
        session,
        name="Slow",
        impact=Impact.MINOR,
        body="Slow.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    incidents.resolve(
        session,
        incident=incident,
        body="Done.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    with pytest.raises(InvalidTransition):
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.INVESTIGATING,
            body="Back.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
