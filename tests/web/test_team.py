"""Team management as admins use it, in Admin → Operators and through /api/v1/operators: a role
change or deactivation ends the operator's sessions at once (a cookie captured before no
longer opens /admin/) and a deactivated operator's tokens stop working; who is on call is
set here; nobody demotes or deactivates themselves, and every change is in the audit log,
which names people rather than row ids."""

from __future__ import annotations

import json

import pytest

from statusboard.models import AuditEvent, Operator, Role
from statusboard.services import tokens
from statusboard.services.audit import Actor
from tests.conftest import PASSWORD, login, make_operator


@pytest.fixture
def other_admin(session):
    return make_operator(session, email="bea@example.com", name="Bea Boss", role=Role.ADMIN)


def _cookie_client(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def _reload(session, operator):
    session.rollback()
    session.expire_all()
    return session.get(Operator, operator.id)


def _page(client) -> str:
    return client.get("/admin/operators").get_data(as_text=True)


def _actions(session):
    session.rollback()
    return [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]


# -- the admin UI --------------------------------------------------------------------------------


def test_demoting_an_admin_in_the_ui_ends_their_session_at_once(
    app, admin_client, session, other_admin
):
    theirs = app.test_client()
    login(theirs, other_admin)
    captured = _cookie_client(app, theirs)
    assert captured.get("/admin/operators").status_code == 200

    done = admin_client.post(
        f"/admin/operators/{other_admin.email}/role",
        data={"role": "operator"},
        follow_redirects=True,
    )

    assert "Bea Boss is now an operator; they must log in again." in done.get_data(as_text=True)
    assert captured.get("/admin/").status_code == 302
    assert theirs.get("/admin/").status_code == 302
    login(theirs, other_admin)
    assert theirs.get("/admin/operators").status_code == 403
    assert _reload(session, other_admin).role is Role.OPERATOR


def test_deactivating_an_operator_logs_them_out_and_stops_their_tokens(
    app, admin_client, session, operator
):
    _, secret = tokens.create_token(session, operator=operator, name="bot", actor=Actor(None, "t"))
    session.commit()
    theirs = app.test_client()
    login(theirs, operator)
    captured = _cookie_client(app, theirs)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert theirs.get("/api/v1/components", headers=bearer).status_code == 200

    done = admin_client.post(
        f"/admin/operators/{operator.email}/active", data={"active": "0"}, follow_redirects=True
    )

    text = done.get_data(as_text=True)
    assert "Olive Ops is deactivated: logged out everywhere" in text
    assert "Deactivated" in text and "Reactivate" in text
    assert captured.get("/admin/").status_code == 302
    assert theirs.get("/api/v1/components", headers=bearer).status_code == 401
    refused = theirs.post("/login", data={"email": operator.email, "password": PASSWORD})
    assert refused.status_code == 400

    admin_client.post(f"/admin/operators/{operator.email}/active", data={"active": "1"})
    login(theirs, operator)
    assert theirs.get("/admin/").status_code == 200
    assert _actions(session)[-2:] == ["operator.activate", "operator.login"]


def test_an_admin_cannot_demote_or_deactivate_themselves_in_the_ui(admin_client, session, admin):
    page = _page(admin_client)
    assert "You cannot demote or deactivate yourself; another admin can." in page
    for path, data in (("role", {"role": "operator"}), ("active", {"active": "0"})):
        refused = admin_client.post(
            f"/admin/operators/{admin.email}/{path}", data=data, follow_redirects=True
        )
        assert "yourself; ask another admin" in refused.get_data(as_text=True)
    me = _reload(session, admin)
    assert (me.role, me.active) == (Role.ADMIN, True)
    assert admin_client.get("/admin/operators").status_code == 200  # still logged in


def test_on_call_is_set_per_operator_and_audited(admin_client, session, operator):
    assert "On call" in _page(admin_client)
    done = admin_client.post(
        f"/admin/operators/{operator.email}/on-call", data={"on_call": "0"}, follow_redirects=True
    )
    text = done.get_data(as_text=True)
    assert "Olive Ops is off call: nags reach them only from the first escalation." in text
    assert "Put on call" in text
    assert _reload(session, operator).on_call is False
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "operator.on_call" in audit and "“Olive Ops”" in audit


def test_the_page_warns_when_nobody_is_on_call(admin_client, admin, operator):
    for person in (admin, operator):
        admin_client.post(f"/admin/operators/{person.email}/on-call", data={"on_call": "0"})
    assert "Nobody is on call" in _page(admin_client)


def test_operators_cannot_manage_the_team(operator_client, admin):
    assert operator_client.get("/admin/operators").status_code == 403
    refused = operator_client.post(f"/admin/operators/{admin.email}/active", data={"active": "0"})
    assert refused.status_code == 403


def test_team_changes_need_the_form_token(app, admin, operator, session):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        login_page = client.get("/login").get_data(as_text=True)
        token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
        )
        forged = client.post(
            f"/admin/operators/{operator.email}/active",
            data={"active": "0"},
            follow_redirects=True,
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert "This form has expired" in forged.get_data(as_text=True)
    assert _reload(session, operator).active is True


def test_the_audit_log_names_people_not_row_ids(admin_client, session, admin, operator):
    admin_client.post(f"/admin/operators/{operator.email}/role", data={"role": "admin"})
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    row = next(line for line in page.split("<tr>") if "operator.role" in line)
    assert "Ada Admin" in row and "“Olive Ops”" in row
    assert f"operator {operator.id}<" not in row and ">ops@example.com<" not in row


# -- the API -------------------------------------------------------------------------------------


@pytest.fixture
def admin_api(client, session, admin):
    _, secret = tokens.create_token(session, operator=admin, name="hr-bot", actor=Actor(None, "t"))
    session.commit()

    def call(method, path, body=None, secret=secret):
        response = getattr(client, method)(
            f"/api/v1{path}",
            data=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {secret}"},
            content_type="application/json",
        )
        return response.status_code, response.get_json()

    return call


def test_the_api_lists_and_changes_operators_for_admins(app, admin_api, session, operator):
    theirs = app.test_client()
    login(theirs, operator)
    status, listed = admin_api("get", "/operators")
    assert status == 200
    assert [(o["email"], o["role"], o["on_call"]) for o in listed["operators"]] == [
        ("admin@example.com", "admin", True),
        ("ops@example.com", "operator", True),
    ]

    status, changed = admin_api(
        "patch", f"/operators/{operator.email}", {"role": "admin", "on_call": False}
    )

    assert status == 200
    assert (changed["role"], changed["on_call"], changed["active"]) == ("admin", False, True)
    assert theirs.get("/admin/").status_code == 302  # the role change ended their session
    session.rollback()
    vias = [
        (e.action, e.via)
        for e in session.query(AuditEvent).filter(AuditEvent.action.like("operator.%"))
    ]
    assert ("operator.role", "api:hr-bot") in vias and ("operator.on_call", "api:hr-bot") in vias


def test_deactivating_through_the_api_stops_the_operators_own_token(admin_api, session, operator):
    _, theirs = tokens.create_token(session, operator=operator, name="ci", actor=Actor(None, "t"))
    session.commit()
    assert admin_api("get", "/operators", secret=theirs)[0] == 403  # not an admin
    status, changed = admin_api("patch", f"/operators/{operator.email}", {"active": False})
    assert (status, changed["active"]) == (200, False)
    assert admin_api("get", "/components", secret=theirs)[0] == 401
    status, back = admin_api("patch", f"/operators/{operator.email}", {"active": True})
    assert (status, back["active"]) == (200, True)
    assert admin_api("get", "/components", secret=theirs)[0] == 200


def test_the_api_refuses_self_lockout_and_changes_nothing(admin_api, session, admin):
    status, refused = admin_api(
        "patch", f"/operators/{admin.email}", {"on_call": False, "active": False}
    )
    assert status == 409
    assert refused["error"]["field"] == "operator"
    assert "cannot deactivate yourself" in refused["error"]["message"]
    me = _reload(session, admin)
    assert (me.active, me.on_call) == (True, True)  # the on-call change went with the refusal


def test_the_api_refuses_unknown_operators_and_bad_fields(admin_api, operator):
    assert admin_api("get", "/operators/nobody@example.com")[0] == 404
    assert admin_api("patch", f"/operators/{operator.email}", {"role": "owner"})[0] == 422
    assert admin_api("patch", f"/operators/{operator.email}", {"active": "no"})[0] == 422
    assert admin_api("patch", f"/operators/{operator.email}", {"name": "X"})[0] == 422
