import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from statusboard.cli import main
from statusboard.models import Component, Incident, Operator


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    return database_url


def test_operator_add_reads_password_from_stdin_never_argv(env, session):
    result = CliRunner().invoke(
        main,
        ["operator", "add", "new@example.com", "--name", "New", "--admin"],
        input="long enough password\n",
    )
    assert result.exit_code == 0, result.output
    operator = session.scalar(select(Operator).where(Operator.email == "new@example.com"))
    assert operator.is_admin


def test_operator_add_refuses_short_password_and_duplicates(env, session):
    runner = CliRunner()
    short = runner.invoke(
        main, ["operator", "add", "a@example.com", "--name", "A"], input="short\n"
    )
    assert short.exit_code != 0 and "at least 10" in short.output
    runner.invoke(
        main, ["operator", "add", "a@example.com", "--name", "A"], input="long enough password\n"
    )
    again = runner.invoke(
        main, ["operator", "add", "a@example.com", "--name", "A"], input="long enough password\n"
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_init_creates_first_admin_once_and_upgrade_is_idempotent(env, session, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("STATUSBOARD_ADMIN_PASSWORD", "a very long password")
    runner = CliRunner()
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0 and "boss@example.com" in first.output
    assert "Log in at" in runner.invoke(main, ["init"]).output
    changed = runner.invoke(
        main, ["operator", "password", "boss@example.com"], input="another long password\n"
    )
    assert changed.exit_code == 0, changed.output
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert session.scalar(select(func.count(Operator.id))) == 1


def test_demo_seeds_an_empty_database_and_refuses_a_second_time(env, session):
    runner = CliRunner()
    assert runner.invoke(main, ["demo"]).exit_code == 0
    assert session.scalar(select(func.count(Component.id))) == 11
    open_incidents = session.scalars(
        select(Incident).where(Incident.resolved_at.is_(None), Incident.kind == "incident")
    )
    [ongoing] = list(open_incidents)
    assert len(ongoing.updates) == 3
    upcoming = session.scalars(select(Incident).where(Incident.kind == "maintenance")).all()
    assert [w.status for w in upcoming] == ["scheduled"]
    # One past incident has its postmortem published, the other one still promised.
    finished = {
        i.name: i
        for i in session.scalars(select(Incident).where(Incident.resolved_at.is_not(None)))
    }
    published = finished["Dashboard login errors"]
    assert published.status == "postmortem"
    assert "expired" in published.updates[-1].body and "[[" not in published.updates[-1].body
    promised = finished["Delayed webhook deliveries"]
    assert promised.status == "resolved" and promised.postmortem_due_at is not None
    again = runner.invoke(main, ["demo"])
    assert again.exit_code != 0 and "already has data" in again.output


def test_bad_configuration_fails_fast_naming_the_variable(env, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_PORT", "eighty")
    monkeypatch.setenv("STATUSBOARD_TIME_ZONE", "Mars/Olympus")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "STATUSBOARD_PORT" in result.output and "STATUSBOARD_TIME_ZONE" in result.output
