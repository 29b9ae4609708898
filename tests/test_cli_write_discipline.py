"""The incident and maintenance commands take text and write like the forms and the API:
a control character in a name or message is refused with a clear message, a non-zero exit
and nothing stored; and a write that finds another connection holding the database's write
lock (SQLite) or the incident's row (PostgreSQL) waits its turn and succeeds."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from statusboard.cli import main
from statusboard.db import database
from statusboard.models import AuditEvent, Incident, Update
from tests.conftest import START
from tests.web import test_hostile_input as hostile

ADMIN = "admin@example.com"

HELD = 3.0  # seconds another connection keeps the lock


@pytest.fixture
def env(app, database_url, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "cli-test")
    monkeypatch.setenv("STATUSBOARD_BASE_URL", "https://status.example.com")
    return database_url


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def counts(session):
    session.rollback()
    return {m.__name__: session.query(m).count() for m in (Incident, Update, AuditEvent)}


def _open(*extra):
    result = run(
        "incident", "open", "Errors.", "--name", "API errors", "--impact", "major",
        "--as", "ops@example.com", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.split("\t")[0]


WINDOW = (
    "--from",
    (START + timedelta(hours=1)).isoformat(),
    "--until",
    (START + timedelta(hours=2)).isoformat(),
)


@pytest.mark.parametrize(
    "args,input,message",
    [
        (
            ["incident", "open", "Slow.", "--name", "DB\x01 slow", "--impact", "minor"],
            None,
            "--name: the name contains an invisible control character (U+0001) at position 3",
        ),
        (
            ["incident", "open", "Investigating \x0b the issue.", "--name", "DB"]
            + ["--impact", "minor"],
            None,
            "BODY: the message contains an invisible control character (U+000B) at position 15",
        ),
        (
            ["incident", "open", "--body-file", "-", "--name", "DB", "--impact", "minor"],
            "Bad\x00 byte from a pipe.",
            "BODY: the message contains a NUL character at position 4",
        ),
        (
            ["incident", "open", "Slow.", "--name", "DB\tslow", "--impact", "minor"],
            None,
            "--name: the name contains a line break or tab at position 3",
        ),
        (
            ["maintenance", "schedule", "Writes pause.", "--name", "Upgrade \x1b[31m", *WINDOW],
            None,
            "--name: the name contains an invisible control character (U+001B) at position 9",
        ),
        (
            ["maintenance", "schedule", "Pause \x7f.", "--name", "Upgrade", *WINDOW],
            None,
            "BODY: the message contains an invisible control character (U+007F) at position 7",
        ),
    ],
    ids=["name U+0001", "body U+000B", "NUL on stdin", "tab in a name", "ESC", "DEL"],
)
def test_a_control_character_is_refused_and_nothing_is_stored(
    env, session, clock, operator, args, input, message
):
    before = counts(session)
    result = run(*args, "--as", "ops@example.com", input=input)
    assert result.exit_code == 1
    assert message in result.stderr
    assert counts(session) == before


@pytest.mark.parametrize("command", ["update", "resolve"])
def test_updates_and_resolutions_refuse_control_characters_too(
    env, client, session, clock, operator, command
):
    public_id = _open()
    before = counts(session)
    extra = ["--status", "identified"] if command == "update" else []
    result = run(
        "incident", command, public_id, "Rolling\x08 back.", *extra, "--as", "ops@example.com"
    )
    assert result.exit_code == 1
    assert "BODY: the message contains an invisible control character (U+0008)" in result.stderr
    assert counts(session) == before
    shown = client.get("/api/v2/incidents.json").get_json()["incidents"][0]
    assert [u["body"] for u in shown["incident_updates"]] == ["Errors."]


def test_text_is_stored_as_nfc_like_the_forms_store_it(env, client, session, clock, operator):
    _open()
    result = run(
        "incident", "update", _latest(session), "Cafe\u0301 is back.", "--status", "monitoring",
        "--as", "ops@example.com",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = client.get("/api/v2/incidents.json").get_json()["incidents"][0]
    assert shown["incident_updates"][0]["body"] == "Caf\u00e9 is back."


def _latest(session):
    session.rollback()
    return session.query(Incident).order_by(Incident.id.desc()).first().public_id


def _hold_lock(app, public_id: str, held: threading.Event) -> threading.Thread:
    """Another connection takes the write lock (SQLite: the database's; PostgreSQL: the
    incident's row), says so, and keeps it for HELD seconds before committing."""
    engine = database(app).engine

    def hold() -> None:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("COMMIT")  # leave SQLAlchemy's deferred BEGIN
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.execute(text("UPDATE incident SET name = name"))
            else:
                connection.execute(
                    text("SELECT id FROM incident WHERE public_id = :id FOR UPDATE"),
                    {"id": public_id},
                )
            held.set()
            time.sleep(HELD)
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("COMMIT")
            else:
                connection.commit()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def test_an_update_waits_for_a_held_write_lock_and_succeeds(
    env, app, client, session, clock, operator
):
    public_id = _open()
    held = threading.Event()
    holder = _hold_lock(app, public_id, held)
    try:
        assert held.wait(10)
        started = time.monotonic()
        result = run(
            "incident", "update", public_id, "Rolling back.", "--status", "identified",
            "--as", "ops@example.com",
        )  # fmt: skip
        waited = time.monotonic() - started
    finally:
        holder.join()
    assert result.exit_code == 0, result.output
    assert waited >= HELD - 0.5  # it really waited for the other writer
    [incident] = client.get("/api/v2/incidents.json").get_json()["incidents"]
    assert incident["status"] == "identified"
    assert incident["incident_updates"][0]["body"] == "Rolling back."


# The hostile suite's texts, through the command line: every one is stored clean or refused
# with exit 1 (never a traceback), and every public surface stays whole.
token = hostile.token
world = hostile.world
ARGV_TEXTS = [value for value in hostile.TEXTS if value.strip()]


@pytest.mark.parametrize("value", ARGV_TEXTS, ids=range(len(ARGV_TEXTS)))
def test_hostile_text_through_the_command_line_leaves_every_surface_whole(
    env, client, session, world, value
):
    answers = [
        run("incident", "open", "b", "--name", value, "--impact", "minor", "--as", ADMIN),
        run("incident", "open", value, "--name", "n", "--impact", "minor", "--as", ADMIN),
        run(
            "incident",
            "update",
            world["incident"],
            value,
            "--status",
            "identified",
            "--as",
            ADMIN,
        ),  # fmt: skip
        run("maintenance", "schedule", value, "--name", value, *WINDOW, "--as", ADMIN),
    ]
    for result in answers:
        assert result.exit_code in (0, 1), (value, result.output, result.exception)
        assert isinstance(result.exception, SystemExit | None), result.exception
        if result.exit_code == 1:
            assert result.stderr.startswith("Error: "), result.stderr
    hostile.assert_surfaces_whole(client, world)
