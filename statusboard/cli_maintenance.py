"""`statusboard maintenance schedule|update|complete`: what the maintenance forms do.

Text is normalised as the forms and the API do it; each command then runs one write-locked
transaction (retried while another writer holds the database), calls one service, commits,
and prints the window's public id and address (or its JSON with --json).
"""

from __future__ import annotations

from typing import IO

import click
from sqlalchemy.orm import Session

from statusboard.cli_options import (
    ACTING_AS,
    BODY,
    BODY_FILE,
    JSON,
    NO_NOTIFY,
    acting_as,
    clean_name,
    load_app,
    parse_components,
    parse_time,
    published,
    read_body,
    refusals,
    write,
)
from statusboard.config import settings_of
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
    with refusals():
        title, message = clean_name(name), read_body(body, body_file)
        starts_at = parse_time(starts, "scheduled_for")
        ends_at = parse_time(ends, "scheduled_until")

    def work(session: Session) -> str:
        return windows.schedule_maintenance(
            session,
            name=title,
            body=message,
            actor=acting_as(session, email),
            scheduled_for=starts_at,
            scheduled_until=ends_at,
            components=parse_components(session, references),
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        ).public_id

    published(app, write(app, work), as_json)


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
    with refusals():
        message = read_body(body, body_file)
        until = parse_time(ends, "scheduled_until") if ends else None

    def work(session: Session) -> None:
        windows.update_maintenance(
            session,
            window=windows.find_window(session, window_id),
            status=MaintenanceStatus(status),
            body=message,
            actor=acting_as(session, email),
            scheduled_until=until,
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        )

    write(app, work)
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
    with refusals():
        message = read_body(body, body_file)

    def work(session: Session) -> None:
        windows.complete_maintenance(
            session,
            window=windows.find_window(session, window_id),
            body=message,
            actor=acting_as(session, email),
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        )

    write(app, work)
    published(app, window_id, as_json)
