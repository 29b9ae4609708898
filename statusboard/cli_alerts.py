"""`statusboard alert-source`: where monitoring sends alerts, each with its own token."""

from __future__ import annotations

import click

from statusboard.cli_options import load_app
from statusboard.db import DatabaseBusy, database
from statusboard.domain.errors import DomainError
from statusboard.models import AlertFormat
from statusboard.services import alert_sources
from statusboard.services.audit import Actor

CLI = Actor(operator=None, via="cli")


@click.group("alert-source")
def alert_source() -> None:
    """Alert sources for POST /api/v1/alerts/<name> (Alertmanager, Grafana, generic JSON)."""


@alert_source.command("create")
@click.argument("name")
@click.option(
    "--format",
    "format_",
    type=click.Choice([f.value for f in AlertFormat]),
    default=AlertFormat.ALERTMANAGER.value,
    show_default=True,
    help="What the source sends.",
)
def create(name: str, format_: str) -> None:
    """Create a source; only its token goes to standard output (it can submit alerts only)."""
    app = load_app()
    try:
        source, secret = database(app).write(
            lambda session: alert_sources.create_source(
                session, name=name, format=AlertFormat(format_), actor=CLI
            )
        )
    except (DomainError, DatabaseBusy) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    click.echo(
        f"created alert source {source.name} ({source.format.value}); "
        f"POST to /api/v1/alerts/{source.name}; the token is shown once",
        err=True,
    )
    click.echo(secret)
