"""Named humans: updates carry their author's name by default (a page setting); each
operator may opt out, or opt in where the page does not sign."""

from __future__ import annotations

import re

import pytest

from statusboard.domain.statuses import Impact
from statusboard.services import incidents
from statusboard.services.audit import Actor


def _declare(session, operator, publishing_settings):
    incident = incidents.open_incident(
        session,
        name="API errors",
        impact=Impact.MINOR,
        body="Looking into it.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    return incident


def _profile(client, signing):
    response = client.post("/admin/profile", data={"name": "Olive Ops", "signing": signing})
    assert response.status_code == 302


def test_updates_are_signed_with_the_authors_name_by_default(
    operator_client, client, session, operator, publishing_settings, clock
):
    incident = _declare(session, operator, publishing_settings)
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert '<p class="signed">— Olive Ops</p>' in page
    profile = operator_client.get("/admin/profile").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="page"', profile)
    assert "this page signs updates with the author" in profile


def test_an_operator_who_opts_out_is_not_named(
    operator_client, client, session, operator, publishing_settings, clock
):
    _profile(operator_client, "no")
    session.refresh(operator)
    incident = _declare(session, operator, publishing_settings)
    page = client.get(f"/incidents/{incident.public_id}").get_data(as_text=True)
    assert "— Olive Ops" not in page


class TestAPageThatDoesNotSign:
    @pytest.fixture
    def app_overrides(self):
        return {"SIGN_UPDATES": False}

    def test_updates_are_unsigned_unless_the_operator_opts_in(
        self, operator_client, client, session, operator, publishing_settings, clock
    ):
        first = _declare(session, operator, publishing_settings)
        assert "— Olive Ops" not in client.get(f"/incidents/{first.public_id}").get_data(
            as_text=True
        )
        _profile(operator_client, "yes")
        session.refresh(operator)
        second = _declare(session, operator, publishing_settings)
        assert "— Olive Ops" in client.get(f"/incidents/{second.public_id}").get_data(as_text=True)
