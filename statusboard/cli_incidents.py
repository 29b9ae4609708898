"""`statusboard incident open|update|resolve`: what the admin forms do, for scripts and ChatOps.

Text is normalised as the forms and the API do it; each command then runs one write-locked
transaction (retried while another writer holds the database), calls one service, commits,
and prints the incident's public id and address (or its JSON with --json).
"""

from __future__ import annotations

from datetime import datetime
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
    parse_component_changes,
    parse_eta,
    parse_next_update,
    parse_time,
    published,
    read_body,
    refusals,
    write,
)
from statusboard.config import settings_of
from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import Impact, IncidentStatus
from statusboard.models import Incident, IncidentKind
from statusboard.services import incidents, postmortems, templates

OPEN_STATUSES = [s.value for s in IncidentStatus if s.is_open]
CHANGES = click.option(
    "--component",
    "component_changes",
    multiple=True,
    metavar="COMPONENT=STATUS",
    help="Set a component's status (by id or exact name), e.g. api=major_outage; repeat "
    "for several.",
)
NEXT_UPDATE = click.option(
    "--next-update",
    help="Promise the next update in N minutes (30m) or by an ISO 8601 time; default: by impact.",
)


def _find(session: Session, public_id: str) -> Incident:
    return incidents.find_incident(session, public_id, kind=IncidentKind.INCIDENT)


TEMPLATE = click.option(
    "--template",
    "template_id",
    metavar="ID",
    help="Start from an incident template: what is not given comes from it; its "
    "[[blanks]] must be replaced in BODY.",
)


@click.group()
def incident() -> None:
    """Declare, update and resolve incidents (as the admin forms do)."""


@incident.command("open")
@click.option("--name", required=True, help="What customers will recognise.")
@click.option("--impact", required=True, type=click.Choice([i.value for i in Impact]))
@click.option("--status", default="investigating", type=click.Choice(OPEN_STATUSES))
@click.option(
    "--eta", default="unknown", help="Expected resolution: ISO 8601 with an offset, or unknown."
)
@NEXT_UPDATE
@click.option(
    "--started-at",
    help="When it began, if earlier (ISO 8601, up to 30 days back): corrects the uptime history.",
)
@BODY
@BODY_FILE
@CHANGES
@NO_NOTIFY
@TEMPLATE
@ACTING_AS
@JSON
def incident_open(
    name: str,
    impact: str,
    status: str,
    eta: str,
    next_update: str | None,
    started_at: str | None,
    body: str | None,
    body_file: IO[str] | None,
    component_changes: tuple[str, ...],
    no_notify: bool,
    template_id: str | None,
    email: str,
    as_json: bool,
) -> None:
    """Declare an incident with its first update BODY (Markdown)."""
    app = load_app()
    with refusals():
        title, message, expected = clean_name(name), read_body(body, body_file), parse_eta(eta)
        if expected is incidents.KEEP_ETA:
            raise InvalidInput(
                "a new incident has no ETA to keep: give a time or unknown", field="eta"
            )

    def work(session: Session) -> str:
        body_text, changes = message, parse_component_changes(session, component_changes)
        if template_id:
            filled = templates.apply(
                session,
                templates.find_template(session, template_id),
                body=body_text,
                impact=Impact(impact),
                status=IncidentStatus(status),
                component_changes=changes,
            )
            body_text, changes = filled.body, filled.component_changes
        return incidents.open_incident(
            session,
            name=title,
            impact=Impact(impact),
            status=IncidentStatus(status),
            body=body_text,
            actor=acting_as(session, email),
            eta=expected,
            next_update_at=parse_next_update(next_update),
            component_changes=changes,
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
            started_at=parse_time(started_at, "started_at") if started_at else None,
        ).public_id

    published(app, write(app, work), as_json)


@incident.command("update")
@click.argument("incident_id", metavar="ID")
@click.option("--status", required=True, type=click.Choice(OPEN_STATUSES))
@click.option(
    "--eta",
    default="keep",
    help="Expected resolution: ISO 8601 with an offset, unknown, or keep (the default).",
)
@NEXT_UPDATE
@BODY
@BODY_FILE
@CHANGES
@NO_NOTIFY
@TEMPLATE
@ACTING_AS
@JSON
def incident_update(
    incident_id: str,
    status: str,
    eta: str,
    next_update: str | None,
    body: str | None,
    body_file: IO[str] | None,
    component_changes: tuple[str, ...],
    no_notify: bool,
    template_id: str | None,
    email: str,
    as_json: bool,
) -> None:
    """Post an update BODY (Markdown) on incident ID."""
    app = load_app()
    with refusals():
        message, expected = read_body(body, body_file), parse_eta(eta)

    def work(session: Session) -> None:
        body_text, changes = message, parse_component_changes(session, component_changes)
        if template_id:
            filled = templates.apply(
                session,
                templates.find_template(session, template_id),
                body=body_text,
                status=IncidentStatus(status),
                component_changes=changes,
            )
            body_text, changes = filled.body, filled.component_changes
        incidents.post_update(
            session,
            incident=_find(session, incident_id),
            status=IncidentStatus(status),
            body=body_text,
            actor=acting_as(session, email),
            eta=expected,
            next_update_at=parse_next_update(next_update),
            component_changes=changes,
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        )

    write(app, work)
    published(app, incident_id, as_json)


@incident.command("resolve")
@click.argument("incident_id", metavar="ID")
@click.option(
    "--resolved-at",
    help="When it ended, if earlier (ISO 8601, up to 30 days back): corrects the uptime history.",
)
@BODY
@BODY_FILE
@CHANGES
@NO_NOTIFY
@click.option(
    "--postmortem-by",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Promise a postmortem by the end of this day (YYYY-MM-DD, the page's zone).",
)
@ACTING_AS
@JSON
def incident_resolve(
    incident_id: str,
    resolved_at: str | None,
    body: str | None,
    body_file: IO[str] | None,
    component_changes: tuple[str, ...],
    no_notify: bool,
    postmortem_by: datetime | None,
    email: str,
    as_json: bool,
) -> None:
    """Resolve incident ID with the message BODY (Markdown). The components it touched go
    back to operational, or to the worst status another open incident or active maintenance
    still claims; --component statuses win."""
    app = load_app()
    with refusals():
        message = read_body(body, body_file)

    def work(session: Session) -> None:
        incidents.resolve(
            session,
            incident=_find(session, incident_id),
            body=message,
            actor=acting_as(session, email),
            component_changes=parse_component_changes(session, component_changes),
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
            resolved_at=parse_time(resolved_at, "resolved_at") if resolved_at else None,
            postmortem_by=postmortem_by.date() if postmortem_by else None,
            time_zone=settings_of(app).page.time_zone,
        )

    write(app, work)
    published(app, incident_id, as_json)


@incident.command("postmortem")
@click.argument("incident_id", metavar="ID")
@BODY
@BODY_FILE
@NO_NOTIFY
@ACTING_AS
@JSON
def incident_postmortem(
    incident_id: str,
    body: str | None,
    body_file: IO[str] | None,
    no_notify: bool,
    email: str,
    as_json: bool,
) -> None:
    """Publish the postmortem BODY (Markdown) of resolved incident ID to everyone who heard
    of it. Blanks like [[next step]] must be filled first."""
    app = load_app()
    with refusals():
        message = read_body(body, body_file)

    def work(session: Session) -> None:
        postmortems.publish(
            session,
            incident=_find(session, incident_id),
            body=message,
            actor=acting_as(session, email),
            notify=not no_notify,
            publishing_settings=settings_of(app).publishing,
        )

    write(app, work)
    published(app, incident_id, as_json)
