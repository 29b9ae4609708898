"""What the publishing commands read from the command line, and how they answer.

Shape only: a time must carry an offset, a component change reads NAME=STATUS. The rules
(promises in the future, transitions, groups, an empty message ...) stay in the services; a
refusal from them is printed with the option it names, after the command's transaction was
rolled back, and the command exits non-zero.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import IO, TypeVar

import click
from flask import Flask
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.app import create_app
from statusboard.config import ConfigError, settings_of
from statusboard.db import DatabaseBusy, database
from statusboard.domain import text as domain_text
from statusboard.domain.errors import DomainError, InvalidInput
from statusboard.domain.statuses import ComponentStatus
from statusboard.models import Component
from statusboard.services import components, operators, statuspage, timeline
from statusboard.services.audit import Actor
from statusboard.services.incidents import KEEP_ETA, Keep
from statusboard.services.page import current_version

# The services name the input at fault by its field; people typed an option.
OPTION_OF_FIELD = {
    "name": "--name",
    "impact": "--impact",
    "status": "--status",
    "body": "BODY",
    "eta": "--eta",
    "next_update_at": "--next-update",
    "started_at": "--started-at",
    "resolved_at": "--resolved-at",
    "components": "--component",
    "component": "--component",
    "operator": "--as",
    "email": "--as",
    "scheduled_for": "--from",
    "scheduled_until": "--until",
    "incident": "ID",
    "maintenance": "ID",
    "template": "--template",
    "postmortem_by": "--postmortem-by",
}
MINUTES = re.compile(r"^(\d+)\s*m(in)?$")
T = TypeVar("T")

# The options every public message has, in the order --help lists them.
BODY = click.argument("body", required=False)
BODY_FILE = click.option(
    "--body-file",
    type=click.File("r"),
    help="Read the message (Markdown) from a file; - reads standard input.",
)
NO_NOTIFY = click.option(
    "--no-notify", is_flag=True, help="Do not notify subscribers and social accounts."
)
ACTING_AS = click.option(
    "--as", "email", required=True, metavar="EMAIL", help="The operator posting (audited)."
)
JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as /api/v1 gives it.")


def load_app() -> Flask:
    """The app for one command; its database connections close when the command ends."""
    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(database(app).engine.dispose)
    return app


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a domain refusal into a message on standard error and a non-zero exit."""
    try:
        yield
    except DomainError as exc:
        option = OPTION_OF_FIELD.get(exc.field or "")
        raise click.ClickException(f"{option}: {exc.message}" if option else exc.message) from exc


def write(app: Flask, work: Callable[[Session], T]) -> T:
    """The command's one write transaction, as web writes take it: SQLite's write lock up
    front, tried again with backoff while another writer holds the database (Database.write),
    a clear message after a bounded wait. `work` may run more than once, so everything read
    from the command line (the message from standard input) is read before it."""
    with refusals():
        try:
            return database(app).write(work)
        except DatabaseBusy as exc:
            raise click.ClickException(str(exc)) from exc


def clean_name(name: str) -> str:
    """`--name`, by the one rule for text at the edge (domain/text.py), as the forms and
    the API apply it: one line, no control characters, NFC."""
    return domain_text.clean(
        name or "", field="name", one_line=True, max_length=domain_text.INCIDENT_NAME
    )


def acting_as(session: Session, email: str) -> Actor:
    """`--as EMAIL`: the operator the write is audited as."""
    return Actor(operators.find_active_operator(session, email), via="cli")


def read_body(body: str | None, body_file: IO[str] | None) -> str:
    """The message, from the argument or a file (`--body-file -` reads standard input),
    normalised as the forms and the API do (control characters refused, naming where).
    An empty message is passed on: the service refuses it with the form's words."""
    if body is not None and body_file is not None:
        raise InvalidInput(
            "give the message as an argument or with --body-file, not both", field="body"
        )
    message = body_file.read() if body_file is not None else body or ""
    return domain_text.clean(
        message, field="body", label="message", max_length=domain_text.MESSAGE_BODY
    )


def parse_time(text: str, field: str) -> datetime:
    """ISO 8601 with an offset: a bare time would be read in whatever zone the shell has."""
    option = OPTION_OF_FIELD.get(field, field)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"give {option} as an ISO 8601 time such as 2026-11-24T15:00:00Z", field=field
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{option} needs a time zone offset, e.g. Z or +01:00", field=field)
    return parsed


def parse_eta(text: str) -> datetime | None | Keep:
    """`unknown`, `keep` (the ETA in force), or a time."""
    word = text.strip().lower()
    if word == "unknown":
        return None
    if word == "keep":
        return KEEP_ETA
    return parse_time(text, "eta")


def parse_next_update(text: str | None) -> datetime | None:
    """`30m` from now, or a time; None leaves the default promise for the impact."""
    if text is None:
        return None
    minutes = MINUTES.match(text.strip().lower())
    if minutes:
        return clock.now() + timedelta(minutes=int(minutes.group(1)))
    try:
        return parse_time(text, "next_update_at")
    except InvalidInput:
        raise InvalidInput(
            "give --next-update as minutes from now (30m) or an ISO 8601 time with an offset",
            field="next_update_at",
        ) from None


def parse_component_changes(
    session: Session, pairs: Sequence[str]
) -> dict[Component, ComponentStatus] | None:
    """`--component api=major_outage`, repeated; the component by public id or exact name.
    None when no change was given (the service's default applies)."""
    if not pairs:
        return None
    changes: dict[Component, ComponentStatus] = {}
    for pair in pairs:
        reference, equals, status = pair.rpartition("=")
        if not equals or not reference.strip():
            raise InvalidInput(
                f"give each component as NAME=STATUS, e.g. api=major_outage (got {pair!r})",
                field="components",
            )
        component = components.find_component_by_id_or_name(session, reference)
        try:
            changes[component] = ComponentStatus(status.strip())
        except ValueError:
            raise InvalidInput(
                f"status for {component.name} must be one of "
                f"{', '.join(s.value for s in ComponentStatus)}",
                field="components",
            ) from None
    return changes


def parse_components(session: Session, references: Sequence[str]) -> list[Component]:
    """`--component api`, repeated: the components a maintenance window affects."""
    return [components.find_component_by_id_or_name(session, r) for r in references]


def published(app: Flask, public_id: str, as_json: bool) -> None:
    """After the commit: the public id and address, or the whole object as /api/v1 gives it."""
    with database(app).session() as session:
        found = timeline.incident_with_timeline(session, public_id)
        assert found is not None
        page = statuspage.page_info(settings_of(app).page, current_version(session)[1])
        if as_json:
            data = statuspage.incident_object(found, page, clock.now())
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            click.echo(f"{found.public_id}\t{page.incident_url(found)}")
