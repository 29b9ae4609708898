"""`statusboard maintenance schedule|update|complete`: what the maintenance forms do.

Each command opens one write-locked session, calls one service, commits, and prints the
window's public id and address (or its JSON with --json).
"""

from __future__ import annotations

from typing import IO

import click

from statusboard.cli_options import (
    ACTING_AS,
    BODY,
    BODY_FILE,
    JSON,
    NO_NOTIFY,
    acting_as,
    load_app,
    parse_components,
    parse_time,
    published,
    read_body,
    refusals,
)
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.statuses import MaintenanceStatus
from statusboard.services import maintenance as windows


@click.group()
def maintenance() -> None:
    """Schedule, update and complete maintenance windows (as the admin forms do)."""


@maintenance.command("schedule")
@click.option("--name", required=True, help="What customers will recognise.")
@click.option("--from", "starts", required=True, help="Start: ISO 8601 with an offset.")
@click.option("--until", "ends", required=True, help="End: ISO 8601 with an offset.")
@click.option(
    "--component",
    "references",
    multiple=True,
    metavar="COMPONENT",
    help="An affected component (id or exact name); repeat for several.",
)
@BODY
@BODY_FILE
@NO_NOTIFY
@ACTING_AS
@JSON
def maintenance_schedule(
    name: str,
    starts: str,
    ends: str,
    references: tuple[str, ...],
    body: str | None,
    body_file: IO[str] | None,
    no_notify: bool,
    email: str,
    as_json: bool,
) -> None:
    """Schedule a window announced with the message BODY (Markdown)."""
    app = load_app()
    with refusals(), database(app).session(write_lock=True) as session:
        window = windows.schedule_maintenance(
            session,
            name=name,
            body=read_body(body, body_file),
            actor=acting_as(session, email),
            scheduled_for=parse_time(starts, "scheduled_for"),
            scheduled_until=parse_time(ends, "scheduled_until"),
            components=parse_components(session, references),
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        )
        public_id = window.public_id
    published(app, public_id, as_json)


@maintenance.command("update")
@click.argument("window_id", metavar="ID")
@click.option("--status", required=True, type=click.Choice([s.value for s in MaintenanceStatus]))
@click.option("--until", "ends", help="A new end (ISO 8601 with an offset), to extend the window.")
@BODY
@BODY_FILE
@NO_NOTIFY
@ACTING_AS
@JSON
def maintenance_update(
    window_id: str,
    status: str,
    ends: str | None,
    body: str | None,
    body_file: IO[str] | None,
    no_notify: bool,
    email: str,
    as_json: bool,
) -> None:
    """Post an update BODY (Markdown) on window ID."""
    app = load_app()
    with refusals(), database(app).session(write_lock=True) as session:
        windows.update_maintenance(
            session,
            window=windows.find_window(session, window_id),
            status=MaintenanceStatus(status),
            body=read_body(body, body_file),
            actor=acting_as(session, email),
            scheduled_until=parse_time(ends, "scheduled_until") if ends else None,
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        )
    published(app, window_id, as_json)


@maintenance.command("complete")
@click.argument("window_id", metavar="ID")
@BODY
@BODY_FILE
@NO_NOTIFY
@ACTING_AS
@JSON
def maintenance_complete(
    window_id: str,
    body: str | None,
    body_file: IO[str] | None,
    no_notify: bool,
    email: str,
    as_json: bool,
) -> None:
    """Complete window ID with the message BODY (Markdown); its components go back to
    operational, or to the worst status an open incident still claims."""
    app = load_app()
    with refusals(), database(app).session(write_lock=True) as session:
        windows.complete_maintenance(
            session,
            window=windows.find_window(session, window_id),
            body=read_body(body, body_file),
            actor=acting_as(session, email),
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        )
    published(app, window_id, as_json)
