from datetime import timedelta

from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.services import components, incidents
from tests.conftest import START


def test_operator_markdown_is_rendered_and_script_never_reaches_the_page(
    client, session, clock, actor, publishing_settings
):
    body = (
        "**Bold** <script>alert('x')</script> <img src=x onerror=alert(1)> "
        '[click](javascript:alert(1)) <a href="https://ok.example" onclick="x()">ok</a>'
    )
    incident = incidents.open_incident(
        session,
        name="XSS check",
        impact=Impact.MINOR,
        body=body,
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    for path in ("/", f"/incidents/{incident.public_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<strong>Bold</strong>" in page
        assert "<script>alert" not in page
        assert "onerror" not in page and "onclick" not in page
        assert "javascript:" not in page
        assert 'href="https://ok.example"' in page


def test_open_incident_shows_promise_eta_and_overdue_line(
    client, session, clock, actor, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Slow API",
        impact=Impact.MAJOR,
        body="Looking.",
        actor=actor,
        eta=START + timedelta(hours=1),
        next_update_at=START + timedelta(minutes=10),
        publishing_settings=publishing_settings,
    )
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Partial System Outage" in page
    assert 'datetime="2026-11-24T12:10:00.000Z"' in page
    assert "overdue" not in page
    clock.advance(timedelta(minutes=17))
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    # The promised time is shown once, beside "by"; static/time.js adds the running count.
    assert 'Update overdue<span class="overdue-by"></span>.</strong>' in page
    assert 'data-overdue-since="2026-11-24T12:10:00.000Z"' in page
    assert page.count('datetime="2026-11-24T12:10:00.000Z"') == 1
    # No nag was delivered (none is configured): nobody is said to have been reminded.
    assert "reminded" not in page
    # Nothing here is a live region re-announced on every rewrite of the count.
    assert 'role="status"' not in page


def test_eta_revisions_are_listed_on_the_incident_page(
    client, session, clock, actor, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Slow",
        impact=Impact.MINOR,
        body="a",
        actor=actor,
        eta=START + timedelta(hours=1),
        publishing_settings=publishing_settings,
    )
    for hours in (2, 3):
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body=f"b{hours}",
            actor=actor,
            eta=START + timedelta(hours=hours),
            publishing_settings=publishing_settings,
        )
    session.commit()
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    # One wording for the count, and a labelled list of the estimates in order.
    assert page.count("revised twice") == 1
    assert "Revised 2 times" not in page and "(said" not in page
    history = page[page.index('id="eta-history"') :]
    assert history.index("T13:00:00") < history.index("T14:00:00") < history.index("T15:00:00")
    assert "first estimate at" in history and "(current)" in history


def test_components_are_grouped_and_group_takes_worst_status(client, session, actor):
    group = components.create_component(session, name="Regions", is_group=True, actor=actor)
    eu = components.create_component(session, name="EU", group=group, actor=actor)
    components.create_component(session, name="US", group=group, actor=actor)
    components.set_component_status(
        session, component=eu, status=ComponentStatus.MAJOR_OUTAGE, actor=actor
    )
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Major System Outage" in page
    regions = page[page.index("Regions") :]
    assert regions.index("Major outage") < regions.index("EU")


def test_history_is_paginated(client, session, clock, actor, publishing_settings):
    for number in range(25):
        incidents.open_incident(
            session,
            name=f"Incident {number}",
            impact=Impact.MINOR,
            body="x",
            actor=actor,
            publishing_settings=publishing_settings,
        )
        clock.advance(timedelta(minutes=1))
    session.commit()
    first = client.get("/history").get_data(as_text=True)
    assert "Incident 24" in first and "Incident 4" not in first
    assert "Page 1" in first and 'rel="next"' in first
    second = client.get("/history/2").get_data(as_text=True)
    assert "Incident 4" in second and "Incident 24" not in second
    assert 'rel="next"' not in second
    assert client.get("/history/3").status_code == 404


def test_unknown_incident_is_404(client):
    assert client.get("/incidents/nope").status_code == 404


def test_public_page_times_are_utc_time_elements(
    client, session, clock, actor, publishing_settings
):
    incidents.open_incident(
        session,
        name="A",
        impact=Impact.MINOR,
        body="x",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert (
        '<time datetime="2026-11-24T12:00:00.000Z" data-style="datetime">'
        "24 Nov 2026, 12:00 UTC</time>" in page
    )
