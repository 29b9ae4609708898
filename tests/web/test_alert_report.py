"""The accountability report's intake figures: first alert → first public word (median, p90,
worst) and drafts dismissed, overall and per component."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

from statusboard.models import AlertFormat
from statusboard.services import alert_sources, alerts, components, incidents
from statusboard.services.audit import Actor
from tests.conftest import QUIET, START
from tests.web.test_api_alerts import ALERTMANAGER_FIRING

MIN = timedelta(minutes=1)


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def firing(fingerprint):
    payload = copy.deepcopy(ALERTMANAGER_FIRING)
    payload["alerts"][0]["fingerprint"] = fingerprint
    return payload


def test_the_report_shows_how_long_customers_waited_after_the_first_alert(
    admin_client, session, clock, admin
):
    actor = Actor(admin, "test")
    api = components.create_component(session, name="API", actor=actor)
    components.create_component(session, name="Web app", actor=actor)
    alert_sources.create_rule(
        session, key="service", value="api", component=api, impact=None, actor=actor
    )
    source, _ = alert_sources.create_source(
        session, name="prometheus", format=AlertFormat.ALERTMANAGER, actor=actor
    )
    # Three problems: acknowledged after 2 and 9 minutes, and one dismissed as noise.
    for number, (wait, publish) in enumerate([(2, True), (9, True), (4, False)]):
        clock.freeze(START + number * 60 * MIN)
        draft = alerts.receive(session, source=source, payload=firing(f"f{number}")).created[0]
        clock.advance(wait * MIN)
        if publish:
            incident = alerts.publish(session, draft=draft, actor=actor, publishing_settings=QUIET)
            incidents.resolve(
                session, incident=incident, body="Fixed.", actor=actor, publishing_settings=QUIET
            )
        else:
            alerts.dismiss(session, draft=draft, actor=actor, reason="flapping probe")
    session.commit()
    clock.freeze(START + 5 * 60 * MIN)
    page = text_of(admin_client.get("/admin/report/").get_data(as_text=True))
    assert (
        "First alert → first public word 6 min median; p90 9 min; worst 9 min "
        "2 of 3 alert-started drafts published" in page
    )
    assert "Drafts dismissed 1 alert-started drafts an operator called noise" in page
    assert (
        "From first alert to first public word, per component Component Alert-started drafts "
        "Median p90 Worst Dismissed API 3 6 min 9 min 9 min 1" in page
    )
    # No alert touched the web app: the table ends with the API.
    assert "Dismissed API 3 6 min 9 min 9 min 1 Times are in UTC" in page
