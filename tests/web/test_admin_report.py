import re
from datetime import timedelta

import pytest

from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.services import components, incidents
from statusboard.services.audit import Actor
from tests.conftest import START

MIN = timedelta(minutes=1)


@pytest.fixture
def history(session, clock, operator, publishing_settings):
    """On the API: an incident with three next-update promises kept and one broken, resolved
    after 70 min. On the web app: nothing."""
    actor = Actor(operator, "test")
    api = components.create_component(session, name="API", actor=actor)
    components.create_component(session, name="Web app", actor=actor)
    incident = incidents.open_incident(
        session,
        name="Errors on the API",
        impact=Impact.MAJOR,
        body="Looking into it.",
        actor=actor,
        next_update_at=START + 30 * MIN,
        component_changes={api: ComponentStatus.PARTIAL_OUTAGE},
        publishing_settings=publishing_settings,
    )
    for minutes, next_update in ((10, 40), (50, 80), (60, 90)):
        clock.freeze(START + minutes * MIN)
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body=f"Update at {minutes}.",
            actor=actor,
            next_update_at=START + next_update * MIN,
            publishing_settings=publishing_settings,
        )
    clock.freeze(START + 70 * MIN)
    incidents.resolve(
        session,
        incident=incident,
        body="Fixed.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(START + 2 * 60 * MIN)
    return incident


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_admin_sees_overall_figures_component_table_and_charts(admin_client, history):
    response = admin_client.get("/admin/report/")
    html = response.get_data(as_text=True)
    text = text_of(html)

    assert response.status_code == 200
    assert "Last 30 days" in text
    assert "Promises kept 75% 3 kept, 1 broken" in text
    assert "Time to resolve 1 h 10 min median; p90 1 h 10 min" in text
    assert re.search(r"<td>API</td>\s*<td>1</td>\s*<td>75%", html)
    assert re.search(r"<td>Web app</td>\s*<td>0</td>\s*<td>–</td>", html)
    # The newest week's bar: 3 kept then 1 broken, side by side on one scale.
    assert '<rect class="kept" x="0.0" y="0" width="75.0"' in html
    assert '<rect class="broken" x="75.0" y="0" width="25.0"' in html
    assert 'aria-label="API: median 1 h 10 min, p90 1 h 10 min"' in html
    # Five weeks; only the API had an incident resolved, so the web app gets no bar.
    assert html.count('<svg viewBox="0 0 100 10"') == 5 + 1
    assert "18–24 Nov" in text and "25–27 Oct" in text


def test_operator_switches_to_90_days_with_a_plain_link(operator_client, history):
    first = operator_client.get("/admin/report/").get_data(as_text=True)
    assert 'href="/admin/report/?days=90"' in first
    assert '<a href="/admin/report/">Report</a>' in first  # in the admin navigation

    response = operator_client.get("/admin/report/?days=90")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Last 90 days" in text_of(html)
    assert 'href="/admin/report/?days=90" aria-current="page"' in html
    assert html.count('<svg viewBox="0 0 100 10"') == 13 + 1


@pytest.mark.parametrize("days", ["7", "abc", "-30"])
def test_other_periods_are_refused_with_a_clear_message(operator_client, days):
    response = operator_client.get(f"/admin/report/?days={days}")
    assert response.status_code == 400
    assert "30 or 90 days" in response.get_data(as_text=True)


def test_report_needs_a_login(client):
    response = client.get("/admin/report/")
    assert response.status_code == 302 and "/login" in response.location


def test_public_page_has_no_accountability_line_by_default(client, history):
    assert "Updates on time" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("app_overrides", [{"PUBLIC_ACCOUNTABILITY": True}])
def test_public_page_shows_updates_on_time_when_the_owner_turns_it_on(client, history):
    html = client.get("/").get_data(as_text=True)
    assert "Updates on time: 75% over 90 days" in html


def test_each_figure_has_a_plain_explanation_and_two_of_three_is_67(
    admin_client, session, admin, clock, publishing_settings
):
    actor = Actor(admin, "test")
    incident = incidents.open_incident(
        session,
        name="Slow API",
        impact=Impact.MINOR,
        body="Slow.",
        actor=actor,
        next_update_at=START + 10 * MIN,
        publishing_settings=publishing_settings,
    )
    # Kept (posted at 5 min), broken (due at 15, posted at 20), kept (due at 30, posted at 25).
    for minute, body in ((5, "Found it."), (20, "Fixing."), (25, "Still fixing.")):
        clock.freeze(START + minute * MIN)
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body=body,
            actor=actor,
            next_update_at=START + (minute + 10) * MIN,
            publishing_settings=publishing_settings,
        )
    session.commit()
    clock.freeze(START + 30 * MIN)
    text = text_of(admin_client.get("/admin/report/").get_data(as_text=True))
    assert "Promises kept 67% 2 kept, 1 broken" in text
    assert "Of the times we gave customers that have come, the share we met." in text
    assert "First ETA off" not in text and "replaced in time" not in text
    for heading in (
        "How far off our first estimate was",
        "Time to the second update",
        "Longest wait for news",
    ):
        assert heading in text
