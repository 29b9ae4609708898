"""Sessions end when they should: at logout (also for a copy of the cookie), when the
password, the role or the account's activation changes. Changing one's own password needs
the current one, and weak passwords are refused everywhere."""

from __future__ import annotations

import pytest

from statusboard.domain.errors import InvalidInput
from statusboard.models import Role
from statusboard.services import operators
from statusboard.services.audit import Actor
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "violet kettle saxophone"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_cookie_copied_before_logout_no_longer_opens_the_admin(app, operator_client):
    copied = _cookie(operator_client)
    assert _with_cookie(app, copied).get("/admin/").status_code == 200
    operator_client.post("/logout")
    assert _with_cookie(app, copied).get("/admin/").status_code == 302
    assert operator_client.get("/admin/").status_code == 302


def test_changing_the_password_needs_the_current_one(operator_client, session, operator):
    refused = operator_client.post(
        "/admin/profile",
        data={"name": operator.name, "password": NEW_PASSWORD, "current_password": "wrong"},
    )
    assert refused.status_code == 400
    assert "not your current password" in refused.get_data(as_text=True)
    missing = operator_client.post(
        "/admin/profile", data={"name": operator.name, "password": NEW_PASSWORD}
    )
    assert missing.status_code == 400
    session.refresh(operator)
    assert operators.authenticate(session, email=operator.email, password=PASSWORD)


def test_a_password_change_ends_every_other_session_and_keeps_this_one(
    app, operator_client, session, operator
):
    elsewhere = app.test_client()
    login(elsewhere, operator)
    changed = operator_client.post(
        "/admin/profile",
        data={"name": operator.name, "password": NEW_PASSWORD, "current_password": PASSWORD},
    )
    assert changed.status_code == 302
    assert operator_client.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "change",
    [
        lambda s, o: operators.set_role(s, operator=o, role=Role.ADMIN, actor=Actor(None, "t")),
        lambda s, o: operators.set_active(s, operator=o, active=False, actor=Actor(None, "t")),
        lambda s, o: operators.set_password(
            s, operator=o, password=NEW_PASSWORD, actor=Actor(None, "t")
        ),
    ],
    ids=["role change", "deactivation", "password set by an admin or the CLI"],
)
def test_role_activation_and_password_changes_end_sessions_at_once(
    operator_client, session, operator, change
):
    assert operator_client.get("/admin/").status_code == 200
    change(session, operator)
    session.commit()
    assert operator_client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "weak", ["aaaaaaaaaa", "password12", "1234567890", "qwertyuiop", "ops@example.com1"]
)
def test_weak_passwords_are_refused(session, weak):
    with pytest.raises(InvalidInput) as refused:
        operators.add_operator(
            session,
            email="ops@example.com",
            name="Olive",
            password=weak,
            actor=Actor(None, "t"),
        )
    assert refused.value.field == "password"
    assert "stronger password" in refused.value.message


def test_a_weak_new_password_is_refused_on_the_profile_form(operator_client, operator):
    response = operator_client.post(
        "/admin/profile",
        data={"name": operator.name, "password": "password12", "current_password": PASSWORD},
    )
    assert response.status_code == 400
    assert "stronger password" in response.get_data(as_text=True)
