"""Uptime on the public surfaces: bars on the page, component pages, badges and the embed."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from statusboard.domain.statuses import ComponentStatus, Impact
from statusboard.export import export
from statusboard.services import components, incidents
from tests.conftest import START, worker_timers


@pytest.fixture
def outage(session, clock, actor, publishing_settings):
    """API, created 10 days ago; a 2-hour major outage two days ago."""
    clock.freeze(START - timedelta(days=10))
    api = components.create_component(
        session, name="API", actor=actor, description="The public REST API"
    )
    session.commit()
    clock.freeze(START - timedelta(days=2))
    incident = incidents.open_incident(
        session,
        name="API <down>",
        impact=Impact.CRITICAL,
        body="Down.",
        actor=actor,
        publishing_settings=publishing_settings,
        component_changes={api: ComponentStatus.MAJOR_OUTAGE},
    )
    clock.advance(timedelta(hours=2))
    incidents.resolve(
        session, incident=incident, body="Up.", actor=actor, publishing_settings=publishing_settings
    )
    session.commit()
    clock.freeze(START)
    worker_timers(session)
    return api, incident


def bars(page: str) -> list[str]:
    """Every day bar on a page: a <details> per day, named after its component."""
    return re.findall(r'<details name="u\d+">(.*?)</details>', page)


def test_the_page_shows_90_daily_bars_with_the_day_of_the_incident_and_its_link(
    client, session, outage
):
    api, incident = outage
    page = client.get("/").get_data(as_text=True)
    days = bars(page)
    assert len(days) == 90
    assert "The public REST API" in page
    assert days[-1].startswith(
        '<summary class="u-operational" title="Tue 24 Nov 2026: no downtime"'
    )
    assert days[-3].startswith(
        '<summary class="u-major_outage" title="Sun 22 Nov 2026: 120 min downtime"'
    )
    assert f'href="/incidents/{incident.public_id}">API &lt;down&gt;</a>' in days[-3]
    assert days[0].startswith('<summary class="u-nodata"')  # before API existed
    assert "99.17% uptime" in page  # 1 - 120 / (10 days x 1440 min)
    assert 'href="/uptime">How we count</a>' in page


def test_a_group_shows_its_average_with_its_children_collapsed(client, session, clock, actor):
    clock.freeze(START - timedelta(days=1))
    regions = components.create_component(session, name="Regions", actor=actor, is_group=True)
    components.create_component(session, name="EU", actor=actor, group=regions)
    components.create_component(session, name="US", actor=actor, group=regions)
    session.commit()
    clock.freeze(START)
    page = client.get("/").get_data(as_text=True)
    assert '<details class="uptime-children">' in page
    assert "2 components in Regions" in page
    assert len(bars(page)) == 3 * 90


def test_the_component_page_has_a_12_month_calendar_incidents_and_feeds(client, outage):
    api, incident = outage
    response = client.get(f"/components/{api.public_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    months = re.findall(r"<h3>(\w+ \d{4})</h3>", page)
    assert months[0] == "December 2025" and months[-1] == "November 2026" and len(months) == 12
    assert f'href="/incidents/{incident.public_id}">API &lt;down&gt;</a>' in page
    assert f'href="/components/{api.public_id}.atom"' in page
    assert "99.17% uptime over the last 90 days" in page
    assert client.get("/components/nosuchthing").status_code == 404


def test_badges_are_svg_with_the_status_or_the_uptime_and_answer_304(client, session, outage):
    api, _ = outage
    overall = client.get("/badge.svg")
    assert overall.status_code == 200
    assert overall.headers["Content-Type"] == "image/svg+xml"
    assert "<title>status: operational</title>" in overall.get_data(as_text=True)
    assert (
        client.get("/badge.svg", headers={"If-None-Match": overall.headers["ETag"]}).status_code
        == 304
    )
    status = client.get(f"/components/{api.public_id}/badge.svg")
    assert "<title>API: operational</title>" in status.get_data(as_text=True)
    uptime = client.get(f"/components/{api.public_id}/badge.svg?metric=uptime")
    assert uptime.headers["Content-Type"] == "image/svg+xml"
    assert "<title>API uptime: 99.17%</title>" in uptime.get_data(as_text=True)
    assert uptime.get_data() == client.get(f"/components/{api.public_id}/uptime.svg").get_data()
    again = client.get(
        f"/components/{api.public_id}/badge.svg?metric=uptime",
        headers={"If-None-Match": uptime.headers["ETag"]},
    )
    assert again.status_code == 304
    assert uptime.headers["Cache-Control"].startswith("public")
    assert client.get(f"/components/{api.public_id}/badge.svg?metric=speed").status_code == 404


def test_only_the_embed_may_be_framed_by_other_sites(client, outage):
    embed = client.get("/embed")
    assert embed.status_code == 200
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    assert "API" in embed.get_data(as_text=True)
    assert "frame-ancestors 'none'" in client.get("/").headers["Content-Security-Policy"]
    script = client.get("/embed.js")
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert '"https://status.example.com/embed"' in script.get_data(as_text=True)


def test_how_we_count_states_the_rules(client):
    page = client.get("/uptime").get_data(as_text=True)
    assert "<td>Partial outage</td><td>30 %</td>" in page
    assert "<td>Major outage</td><td>100 %</td>" in page
    assert "<td>Under maintenance</td><td>0 %</td>" in page


def test_the_export_writes_component_pages_and_badges(app, client, outage, tmp_path):
    api, _ = outage
    export(app, tmp_path)
    assert (tmp_path / f"components/{api.public_id}.html").exists()
    assert (tmp_path / f"components/{api.public_id}/uptime.svg").read_bytes() == client.get(
        f"/components/{api.public_id}/uptime.svg"
    ).get_data()
    assert (tmp_path / "badge.svg").exists() and (tmp_path / "embed.html").exists()
    assert (tmp_path / "embed.js").exists() and (tmp_path / "uptime.html").exists()


def test_components_json_carries_uptime_under_the_namespace_only(client, outage):
    api, _ = outage
    document = client.get("/api/v2/components.json").get_json()
    [component] = document["components"]
    assert component["id"] == api.public_id and component["status"] == "operational"
    facts = component["statusboard"]["uptime"]
    assert facts["days"] == 90 and facts["percent"] == pytest.approx(99.1667, abs=1e-4)
    assert facts["daily"][-3] == {
        "date": "2026-11-22",
        "downtime_minutes": 120,
        "percent": pytest.approx(91.6667, abs=1e-4),
        "worst_status": "major_outage",
    }
    assert facts["daily"][0]["worst_status"] is None and facts["daily"][0]["percent"] is None
    summary = client.get("/api/v2/summary.json").get_json()
    assert "statusboard" not in summary["components"][0]


def test_uptime_json_lists_every_component_per_day(client, outage):
    api, _ = outage
    response = client.get("/api/v2/uptime.json")
    document = response.get_json()
    assert set(document) == {"page", "statusboard"}
    body = document["statusboard"]
    assert body["time_zone"] == "UTC" and body["to"] == "2026-11-24"
    assert [c["id"] for c in body["components"]] == [api.public_id]
    assert len(body["components"][0]["uptime"]["daily"]) == 90
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_page_lists_each_of_the_last_14_days_with_no_incidents_reported(client, outage):
    _, incident = outage
    page = client.get("/").get_data(as_text=True)
    recent = page[page.index('id="recent-heading"') :]
    days = re.findall(r"<h3>(\w{3} \d+ \w{3} 2026)</h3>", recent)
    assert len(days) == 14
    assert days[0] == "Tue 24 Nov 2026" and days[-1] == "Wed 11 Nov 2026"
    assert recent.count("No incidents reported.") == 13
    sunday = recent[recent.index("Sun 22 Nov 2026") : recent.index("Sat 21 Nov 2026")]
    assert f'href="/incidents/{incident.public_id}">API &lt;down&gt;</a>' in sunday
    assert "Critical impact" in sunday and "lasted 2 h" in sunday


def test_history_groups_incidents_by_month_with_impact_duration_and_components(
    client, session, clock, outage, actor, publishing_settings
):
    api, _ = outage
    clock.freeze(START - timedelta(days=30))
    older = incidents.open_incident(
        session,
        name="Slow logins",
        impact=Impact.MINOR,
        body="Slow.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(START)
    worker_timers(session)
    page = client.get("/history").get_data(as_text=True)
    assert re.findall(r"<h2>(\w+ 2026)</h2>", page) == ["November 2026", "October 2026"]
    assert 'class="history-item impact-critical"' in page
    assert 'class="history-item impact-minor"' in page
    assert "lasted 2 h" in page and "ongoing for 30 d" in page
    assert f'Affected: <a href="/components/{api.public_id}">API</a>' in page
    assert older.public_id in page


def test_a_badge_is_well_formed_svg_whatever_the_component_is_called(client, session, clock, actor):
    hostile = components.create_component(session, name='Say "hi" & <b>bye</b>', actor=actor)
    session.commit()
    body = client.get(f"/components/{hostile.public_id}/badge.svg").get_data(as_text=True)
    svg = ElementTree.fromstring(body)
    assert svg.get("aria-label") == 'Say "hi" & <b>bye</b>: operational'
