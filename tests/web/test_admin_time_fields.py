"""The form's time fields never guess: a typed ETA with "unknown" chosen, a by-time that has
passed, and a very long wait are each a clear error (or an explicit choice)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.models import Incident
from tests.conftest import START
from tests.web.test_admin import declare


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.fixture
def app_overrides():
    return {"TIME_ZONE": "Europe/Berlin"}


def test_an_eta_typed_while_unknown_is_chosen_is_refused_not_dropped(
    operator_client, session, clock
):
    response = declare(operator_client, eta_mode="unknown", eta="2026-11-24 15:00", time_zone="")
    assert response.status_code == 400
    assert "you typed the ETA 2026-11-24 15:00 but chose “Unknown for now”" in response.get_data(
        as_text=True
    )
    assert session.scalar(select(Incident)) is None


def test_eta_is_typed_24_hour_in_the_pages_zone(operator_client, session, clock):
    form = operator_client.get("/admin/incidents/new").get_data(as_text=True)
    assert 'type="datetime-local"' not in form
    assert "24-hour time in Europe/Berlin" in form and "now 2026-11-24 13:00 CET" in form
    response = declare(operator_client, eta_mode="time", eta="2026-11-24 15:00", time_zone="")
    assert response.status_code == 302
    assert session.scalar(select(Incident)).eta_at == START + timedelta(hours=2)  # 15:00 CET


def test_an_eta_in_another_format_is_refused_with_the_format(operator_client, session, clock):
    response = declare(operator_client, eta_mode="time", eta="24/11/2026 3pm", time_zone="")
    assert response.status_code == 400
    assert "write the time as YYYY-MM-DD HH:MM, 24-hour" in response.get_data(as_text=True)


def test_a_next_update_time_that_has_passed_is_an_error_not_tomorrow(
    operator_client, session, clock
):
    # 12:00 UTC is 13:00 in Berlin: "by 12:55" has passed.
    response = declare(operator_client, next_mode="by", next_by="12:55", time_zone="")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "12:55 has already passed — it is 13:00 now (Europe/Berlin)" in page
    assert session.scalar(select(Incident)) is None
    assert (
        declare(operator_client, next_mode="by", next_by="13:40", time_zone="").status_code == 302
    )
    session.rollback()  # a fresh look
    assert session.scalar(select(Incident)).next_update_at == START + timedelta(minutes=40)


def test_a_next_update_after_midnight_is_still_accepted(operator_client, session, clock):
    clock.advance(timedelta(hours=10, minutes=50))  # 23:50 in Berlin
    assert (
        declare(operator_client, next_mode="by", next_by="00:10", time_zone="").status_code == 302
    )


@pytest.mark.parametrize("fields", [{"next_in": "600"}, {"next_mode": "by", "next_by": "23:00"}])
def test_a_wait_over_four_hours_needs_an_explicit_confirmation(
    operator_client, session, clock, fields
):
    response = declare(operator_client, **fields, time_zone="")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "that promises the next update in 10 h" in page
    assert 'name="confirm_long"' in page
    assert session.scalar(select(Incident)) is None
    confirmed = declare(operator_client, **fields, confirm_long="y", time_zone="")
    assert confirmed.status_code == 302
    session.rollback()
    assert session.scalar(select(Incident)).next_update_at == START + timedelta(hours=10)


def test_the_minutes_field_shows_the_real_default_for_the_impact(operator_client, session, clock):
    form = operator_client.get("/admin/incidents/new").get_data(as_text=True)
    assert 'placeholder="30"' in form
    assert "Empty: 30 minutes, the default for major impact" in text_of(form)
    declare(operator_client, impact="critical")
    incident = session.scalar(select(Incident))
    update = operator_client.get(f"/admin/incidents/{incident.public_id}/update")
    assert b'placeholder="15"' in update.data
    assert "Empty: 15 minutes, the default for critical impact" in text_of(
        update.get_data(as_text=True)
    )
