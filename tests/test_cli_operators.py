"""`statusboard operator list|role|deactivate|activate|on-call`: the team managed from the
server's command line, under the same rules as the admin UI and the API (the last active
admin stays), each change audited as "cli", and what the operator then notices (their
session ends, their tokens stop)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from statusboard.cli import main
from statusboard.models import AuditEvent, Operator, Role
from statusboard.services import tokens
from statusboard.services.audit import Actor
from tests.conftest import login


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    return database_url


def run(*args):
    return CliRunner().invoke(main, ["operator", *args])


def state(session, email):
    session.rollback()
    session.expire_all()
    found = session.query(Operator).filter_by(email=email).one()
    return found.role.value, found.active, found.on_call


def test_list_shows_each_operators_role_on_call_and_state(env, admin, operator):
    result = run("list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "admin@example.com\tAda Admin\tadmin\ton call\tactive",
        "ops@example.com\tOlive Ops\toperator\ton call\tactive",
    ]


def test_role_change_ends_the_operators_session(env, app, session, admin, operator):
    browser = app.test_client()
    login(browser, operator)
    result = run("role", "OPS@example.com", "admin")
    assert result.exit_code == 0, result.output
    assert "ops@example.com is now admin; their sessions ended" in result.stderr
    assert browser.get("/admin/").status_code == 302
    login(browser, operator)
    assert browser.get("/admin/operators").status_code == 200
    assert state(session, "ops@example.com") == ("admin", True, True)


def test_deactivate_stops_sessions_and_tokens_and_activate_lets_them_back(
    env, app, session, admin, operator
):
    _, secret = tokens.create_token(session, operator=operator, name="bot", actor=Actor(None, "t"))
    session.commit()
    browser = app.test_client()
    login(browser, operator)
    bearer = {"Authorization": f"Bearer {secret}"}

    result = run("deactivate", "ops@example.com")

    assert result.exit_code == 0, result.output
    assert browser.get("/admin/").status_code == 302
    assert browser.get("/api/v1/components", headers=bearer).status_code == 401
    assert state(session, "ops@example.com") == ("operator", False, True)
    assert run("activate", "ops@example.com").exit_code == 0
    assert browser.get("/api/v1/components", headers=bearer).status_code == 200
    login(browser, operator)


def test_on_call_is_switched_on_and_off_and_audited(env, session, operator):
    result = run("on-call", "ops@example.com", "--off")
    assert result.exit_code == 0, result.output
    assert "ops@example.com is off call" in result.stderr
    assert state(session, "ops@example.com") == ("operator", True, False)
    assert run("on-call", "ops@example.com", "--on").exit_code == 0
    assert state(session, "ops@example.com")[2] is True
    missing = run("on-call", "ops@example.com")
    assert missing.exit_code == 2 and "say --on or --off" in missing.output
    session.rollback()
    events = session.query(AuditEvent).filter_by(action="operator.on_call").all()
    assert [(e.via, e.detail["on_call"]) for e in events] == [("cli", False), ("cli", True)]


@pytest.mark.parametrize(
    "args", [("role", "admin@example.com", "operator"), ("deactivate", "admin@example.com")]
)
def test_the_last_active_admin_is_neither_demoted_nor_deactivated(
    env, session, admin, operator, args
):
    result = run(*args)
    assert result.exit_code == 1
    assert "admin@example.com is the last active admin; make another operator admin" in (
        result.stderr
    )
    assert state(session, "admin@example.com") == ("admin", True, True)
    assert run("role", "ops@example.com", "admin").exit_code == 0
    assert run(*args).exit_code == 0  # with another admin, it is allowed


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(env, session, admin):
    other = Operator(email="bea@example.com", name="Bea", password_hash="-", role=Role.ADMIN)
    session.add(other)
    session.commit()
    assert run("deactivate", "bea@example.com").exit_code == 0
    refused = run("deactivate", "admin@example.com")
    assert refused.exit_code == 1 and "last active admin" in refused.stderr


def test_an_unknown_operator_is_a_clear_error(env, admin):
    result = run("role", "nobody@example.com", "admin")
    assert result.exit_code == 1
    assert "no operator with email nobody@example.com" in result.stderr
