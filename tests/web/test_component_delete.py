"""Admin → Components → Delete: the component leaves the page, its feed and subscription
choices; past incidents keep their messages; refused while an open incident or unfinished
maintenance names it, and for a group that still has components; a subscriber who followed
only this component is unsubscribed rather than widened to every component."""

from __future__ import annotations

from datetime import timedelta

from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.models import AuditEvent, Subscriber, SubscriberKind
from statusboard.services import components, incidents, maintenance
from statusboard.services.audit import Actor
from tests.conftest import QUIET, START

ACTOR = Actor(None, "test")


def _public_names(client):
    return [c["name"] for c in client.get("/api/v2/components.json").get_json()["components"]]


def _delete(client, component):
    return client.post(
        f"/admin/components/{component.public_id}/delete", follow_redirects=True
    ).get_data(as_text=True)


def _add(session, name, **extra):
    created = components.create_component(session, name=name, actor=ACTOR, **extra)
    session.commit()
    return created


def _incident(session, component, name="API errors"):
    opened = incidents.open_incident(
        session,
        name=name,
        impact=Impact.MAJOR,
        body="Some requests fail.",
        actor=ACTOR,
        publishing_settings=QUIET,
        component_changes={component: ComponentStatus.PARTIAL_OUTAGE},
    )
    session.commit()
    return opened


def test_a_component_no_open_incident_names_is_deleted_and_history_keeps_its_text(
    admin_client, client, session, clock
):
    api, web = _add(session, "API"), _add(session, "Web app")
    past = _incident(session, api)
    incidents.resolve(
        session, incident=past, body="Fixed the API.", actor=ACTOR, publishing_settings=QUIET
    )
    session.commit()
    assert client.get(f"/components/{api.public_id}.atom").status_code == 200

    page = _delete(admin_client, api)

    assert "Deleted “API”. Past incidents keep their messages." in page
    assert _public_names(client) == ["Web app"]
    incident_page = client.get(f"/incidents/{past.public_id}").get_data(as_text=True)
    assert "API errors" in incident_page and "Fixed the API." in incident_page
    assert client.get(f"/components/{api.public_id}.atom").status_code == 404
    assert client.get("/history").status_code == 200
    assert client.get("/feed.atom").status_code == 200
    session.rollback()
    deleted = session.query(AuditEvent).filter_by(action="component.delete").one()
    assert deleted.subject_id == api.public_id and deleted.detail["name"] == "API"
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "component.delete" in audit and "“API”" in audit
    assert web.name in _public_names(client)


def test_deleting_is_refused_while_an_open_incident_names_the_component(
    admin_client, client, session, clock
):
    api = _add(session, "API")
    _incident(session, api, name="Elevated errors")
    page = _delete(admin_client, api)
    assert "Could not delete API: API is part of “Elevated errors”, which is not over yet" in page
    assert _public_names(client) == ["API"]


def test_deleting_is_refused_while_an_unfinished_maintenance_names_the_component(
    admin_client, client, session, clock
):
    db = _add(session, "Database")
    maintenance.schedule_maintenance(
        session,
        name="DB upgrade",
        body="Writes pause.",
        scheduled_for=START + timedelta(hours=1),
        scheduled_until=START + timedelta(hours=2),
        components=[db],
        actor=ACTOR,
        publishing_settings=QUIET,
    )
    session.commit()
    assert "which is not over yet" in _delete(admin_client, db)
    assert _public_names(client) == ["Database"]


def test_a_group_with_components_is_not_deleted(admin_client, client, session):
    regions = _add(session, "Regions", is_group=True)
    _add(session, "EU", group=regions)
    assert "still has components; move or delete them first" in _delete(admin_client, regions)
    assert _public_names(client) == ["Regions", "EU"]


def test_a_subscriber_who_followed_only_the_deleted_component_is_unsubscribed(
    admin_client, session, clock
):
    api, web = _add(session, "API"), _add(session, "Web app")
    only_api = Subscriber(
        kind=SubscriberKind.EMAIL, address="a@example.net", confirmed_at=START, components=[api]
    )
    both = Subscriber(
        kind=SubscriberKind.EMAIL,
        address="b@example.net",
        confirmed_at=START,
        components=[api, web],
    )
    everything = Subscriber(kind=SubscriberKind.EMAIL, address="c@example.net", confirmed_at=START)
    session.add_all([only_api, both, everything])
    session.commit()

    page = _delete(admin_client, api)

    assert "1 subscriber(s) who followed only API were unsubscribed." in page
    session.rollback()
    session.expire_all()
    assert only_api.active is False
    assert both.active is True and [c.name for c in both.components] == ["Web app"]
    assert everything.active is True and everything.components == []


def test_operators_cannot_delete_components(operator_client, client, session):
    api = _add(session, "API")
    assert operator_client.post(f"/admin/components/{api.public_id}/delete").status_code == 403
    assert _public_names(client) == ["API"]
