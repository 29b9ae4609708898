from datetime import timedelta

import pytest
from flask import render_template, template_rendered
from flask_login import login_user
from sqlalchemy import select

from statusboard.app import create_app
from statusboard.config import ConfigError, settings_of
from statusboard.db import database
from statusboard.domain.nags import IMPACTS
from statusboard.domain.statuses import Impact
from statusboard.models import AuditEvent, Promise
from statusboard.services import incidents, promises, statuspage
from statusboard.services.audit import Actor
from statusboard.web.surfaces import render_surface
from tests.conftest import START, worker_timers

MIN = timedelta(minutes=1)


@pytest.fixture
def overdue(session, clock, operator, publishing_settings):
    """An incident whose next update (due 12:30) is 7 minutes late and whose ETA passed."""
    incident = incidents.open_incident(
        session,
        name="Elevated API errors",
        impact=Impact.MAJOR,
        body="We are looking.",
        actor=Actor(operator, "test"),
        next_update_at=START + 30 * MIN,
        eta=START + 20 * MIN,
        publishing_settings=publishing_settings,
    )
    session.commit()
    clock.freeze(START + 37 * MIN)
    worker_timers(session)
    return incident


def test_nags_page_lists_what_is_due_with_a_post_update_link(operator_client, overdue):
    html = operator_client.get("/admin/nags/").get_data(as_text=True)
    assert "Update overdue by 7 min" in html
    assert "ETA passed 17 min ago: give a revised ETA or resolve" in html
    assert f"https://status.example.com/admin/incidents/{overdue.public_id}/update" in html


def test_banner_partial_offers_post_update_and_on_it_for_each_due_promise(app, overdue, operator):
    with app.test_request_context("/admin/"):
        login_user(operator)
        app.preprocess_request()
        html = render_template("admin/_nag_banner.html")
    assert html.count('class="button primary"') == 2  # next update and ETA
    assert f"/admin/incidents/{overdue.public_id}/update" in html
    assert f'action="/admin/nags/{overdue.public_id}/acknowledge"' in html
    assert "On it" in html


def test_banner_is_empty_when_every_promise_is_on_track(
    app, session, clock, operator, publishing_settings
):
    incidents.open_incident(
        session,
        name="Slow",
        impact=Impact.MINOR,
        body="Slow.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    with app.test_request_context("/admin/"):
        login_user(operator)
        assert render_template("admin/_nag_banner.html").strip() == ""


def test_on_it_pauses_reminders_is_audited_and_changes_nothing_public(
    app, operator_client, session, overdue, operator
):
    customer = app.test_client()
    before = customer.get(f"/incidents/{overdue.public_id}").get_data(as_text=True)
    response = operator_client.post(
        f"/admin/nags/{overdue.public_id}/acknowledge", data={"next": "/admin/nags/"}
    )
    assert response.status_code == 302 and response.location.endswith("/admin/nags/")
    after = customer.get(f"/incidents/{overdue.public_id}").get_data(as_text=True)
    assert after == before
    session.rollback()
    paused = session.scalars(select(Promise.paused_until)).all()
    assert paused == [START + 52 * MIN, START + 52 * MIN]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "promise.acknowledge"))
    assert (event.actor_id, event.via) == (operator.id, "web")
    page = operator_client.get("/admin/nags/").get_data(as_text=True)
    assert "reminders paused until" in page


def test_acknowledging_with_nothing_due_is_refused_clearly(
    operator_client, session, clock, operator, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Slow",
        impact=Impact.MINOR,
        body="Slow.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    response = operator_client.post(f"/admin/nags/{incident.public_id}/acknowledge")
    assert response.status_code == 422
    assert "nothing to acknowledge" in response.get_data(as_text=True)


def test_acknowledging_needs_a_login(client, overdue):
    response = client.post(f"/admin/nags/{overdue.public_id}/acknowledge")
    assert response.status_code == 302 and "/login" in response.location


def test_public_pages_compute_no_banner(app, session, overdue):
    contexts = []

    def capture(_sender, template, context, **_extra):
        contexts.append(context)

    template_rendered.connect(capture, app)
    try:
        with app.app_context():  # as every reader and writer renders them
            render_surface(session, "/")
            render_surface(session, f"/incidents/{overdue.public_id}")
    finally:
        template_rendered.disconnect(capture, app)
    assert len(contexts) == 2
    assert all("nag_banner" not in context for context in contexts)


def test_public_page_says_so_in_the_promised_words(client, overdue):
    for path in ("/", f"/incidents/{overdue.public_id}"):
        html = client.get(path).get_data(as_text=True)
        # Rendered once per data version, so the page states the fact that does not age;
        # static/time.js adds "by 7 min" in the browser. No nag went out: nobody is said to
        # have been reminded (tests/web/test_public_honesty.py covers the reminded case).
        assert (
            'data-overdue-since="2026-11-24T12:30:00.000Z">Update overdue'
            '<span class="overdue-by"></span>.</strong>'
        ) in html
        assert "reminded" not in html
        assert (
            '<time datetime="2026-11-24T12:20:00.000Z" data-style="datetime">'
            "24 Nov 2026, 12:20 UTC</time>\n"
            '          <strong class="honesty">This time has passed; a revised estimate is coming.'
            "</strong>" in html
        )


def test_api_facts_agree_with_the_promise_records(app, session, overdue):
    info = statuspage.PageInfo(
        name="Status", base_url="https://s", time_zone="UTC", updated_at=None
    )
    facts = statuspage.incident_object(overdue, info, START + 37 * MIN)["statusboard"]
    assert facts["next_update_overdue"] is True
    assert facts["next_update_by"] == "2026-11-24T12:30:00.000Z"
    assert facts["eta_passed"] is True
    with database(app).session() as other:
        promises.mark_broken(other, now=START + 37 * MIN)
    session.rollback()
    assert {p.status.value for p in session.scalars(select(Promise))} == {"broken"}


class TestHonestyKeptInternal:
    @pytest.fixture
    def app_overrides(self):
        return {"PUBLIC_HONESTY": False}

    def test_public_page_keeps_overdue_and_eta_passed_internal(self, client, overdue):
        html = client.get(f"/incidents/{overdue.public_id}").get_data(as_text=True)
        assert "overdue" not in html and "has passed" not in html
        assert "Next update" in html  # the promise itself stays public

    def test_api_facts_are_null_when_honesty_is_internal(self, app, overdue):
        info = statuspage.PageInfo(
            name="Status",
            base_url="https://s",
            time_zone="UTC",
            updated_at=None,
            honesty=settings_of(app).page.public_honesty,
        )
        facts = statuspage.incident_object(overdue, info, START + 37 * MIN)["statusboard"]
        assert facts["next_update_overdue"] is None and facts["eta_passed"] is None
        assert facts["next_update_by"] == "2026-11-24T12:30:00.000Z"

    def test_operators_still_see_it(self, operator_client, overdue):
        html = operator_client.get("/admin/nags/").get_data(as_text=True)
        assert "Update overdue by 7 min" in html


def test_contradictory_nag_intervals_stop_the_app_at_start(database_url):
    with pytest.raises(ConfigError, match="after the all-operators"):
        create_app(
            {
                "DATABASE_URL": database_url,
                "SECRET_KEY": "k",
                "NAG_ESCALATE_ALL_MINUTES": dict.fromkeys(IMPACTS, 30),
            }
        )
