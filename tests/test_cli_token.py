import pytest
from click.testing import CliRunner

from statusboard.cli import main
from statusboard.models import ApiToken
from statusboard.services import tokens


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    return database_url


def test_token_create_prints_only_the_token_on_stdout(env, session, clock, admin):
    result = CliRunner().invoke(
        main, ["token", "create", "ADMIN@example.com", "--name", "deploy-bot"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n" and secret.startswith("sb_")
    assert "shown once" in result.stderr
    session.rollback()
    token = tokens.authenticate(session, secret)
    assert token.operator.email == "admin@example.com" and token.name == "deploy-bot"


def test_token_list_and_revoke(env, session, clock, admin):
    runner = CliRunner()
    secret = runner.invoke(
        main, ["token", "create", "admin@example.com", "--name", "ci"]
    ).stdout.strip()
    token_id = session.query(ApiToken).one().public_id
    listed = runner.invoke(main, ["token", "list"])
    assert token_id in listed.stdout and "ci" in listed.stdout and "active" in listed.stdout
    assert secret not in listed.stdout
    revoked = runner.invoke(main, ["token", "revoke", token_id])
    assert revoked.exit_code == 0, revoked.output
    session.rollback()
    assert tokens.authenticate(session, secret) is None
    assert (
        "revoked" in runner.invoke(main, ["token", "list", "--email", "admin@example.com"]).stdout
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["token", "create", "nobody@example.com", "--name", "x"], "no operator"),
        (["token", "create", "admin@example.com", "--name", " "], "name the token"),
        (["token", "revoke", "nope"], "no token"),
    ],
)
def test_token_commands_refuse_bad_input_with_a_message(env, session, admin, args, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and message in result.output
    assert result.stdout == ""
    session.rollback()
    assert session.query(ApiToken).count() == 0
