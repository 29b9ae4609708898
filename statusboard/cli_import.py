"""`statusboard import statuspage DIR_OR_URL`: move in from Statuspage (services/
statuspage_import.py), from saved /api/v2 JSON files or the page's address; nothing is sent."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click
import requests
from flask import current_app

from statusboard.channels.webhook import parse_allow_list
from statusboard.cli_options import load_app
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.errors import DomainError
from statusboard.services import statuspage_import, subscriber_admin
from statusboard.services.audit import Actor

IMPORT = Actor(operator=None, via="import")
FILES = {
    "summary": "summary.json",
    "incidents": "incidents.json",
    "maintenances": "scheduled-maintenances.json",
    "components": "components.json",
}


def read_source(where: str) -> statuspage_import.Source:
    """The page's documents from a directory of saved files (or its api/v2 folder) or from
    the page's address; summary.json is required, the others add history."""
    documents: dict[str, Any] = {}
    if where.startswith(("http://", "https://")):
        base = where.rstrip("/")
        base = base if base.endswith("/api/v2") else base + "/api/v2"
        for key, name in FILES.items():
            try:
                response = requests.get(f"{base}/{name}", timeout=30)
            except requests.RequestException as exc:
                raise click.ClickException(f"cannot read {base}/{name}: {exc}") from exc
            if response.status_code == 200:
                documents[key] = response.json()
            elif key == "summary":
                raise click.ClickException(f"{base}/{name} answered {response.status_code}")
    else:
        folder = Path(where)
        if not (folder / FILES["summary"]).exists() and (folder / "api/v2").is_dir():
            folder = folder / "api/v2"
        for key, name in FILES.items():
            path = folder / name
            if path.exists():
                documents[key] = json.loads(path.read_text(encoding="utf-8"))
        if "summary" not in documents:
            raise click.ClickException(f"no summary.json in {where}")
    return statuspage_import.Source(**documents)


@click.group("import")
def import_group() -> None:
    """Bring a page in from another tool."""


@import_group.command("statuspage")
@click.argument("where", metavar="DIR_OR_URL")
@click.option(
    "--subscribers",
    "subscribers_file",
    type=click.File("r", encoding="utf-8-sig"),
    help="Statuspage's subscriber CSV export: its email subscribers",
)
@click.option(
    "--attest",
    default=None,
    help="how these people agreed to be emailed (audited): subscribed at once; without it "
    "each gets the double opt-in email",
)
@click.option("--dry-run", is_flag=True, help="print what would be created; change nothing")
def statuspage(where: str, subscribers_file: Any, attest: str | None, dry_run: bool) -> None:
    """Components, incidents with their updates and maintenance from a Statuspage page's
    /api/v2 JSON, without sending anything; running it again changes nothing."""
    source = read_source(where)
    subscriber_data = (
        statuspage_import.subscribers_csv(subscribers_file.read()) if subscribers_file else None
    )
    app = load_app()
    with app.app_context():
        settings = settings_of(app)
        quiet = dataclasses.replace(settings.publishing, channels=frozenset())
        try:
            with database(app).session(write_lock=True) as session:
                report = statuspage_import.import_page(
                    session, source, actor=IMPORT, publishing=quiet
                )
                imported = None
                if subscriber_data is not None:
                    imported = subscriber_admin.import_csv(
                        session,
                        subscriber_data,
                        actor=IMPORT,
                        attestation=attest,
                        context=subscriber_admin.ImportContext(
                            page=settings.page,
                            secret_key=current_app.config["SECRET_KEY"],
                            enabled=settings.publishing.channels,
                            allow=parse_allow_list(settings.channels.webhook_allow_private),
                        ),
                    )
                if dry_run:  # everything was done as for real, and is now undone
                    session.rollback()
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(("Would create" if dry_run else "Created") + f" from {source.key}:")
    for line in report.lines():
        click.echo(f"  {line}")
    if imported is not None:
        confirm = "opt-in emails" if not attest else "confirmations"
        click.echo(
            f"  subscribers: {imported.created} ({imported.skipped} already here; "
            f"{imported.confirmations} {confirm} {'would be ' if dry_run else ''}queued)"
        )
        for error in imported.errors:
            click.echo(f"  warning: subscriber {error}")
        if not attest and imported.created and "email" not in settings.publishing.channels:
            click.echo(
                "  warning: email is off (STATUSBOARD_SMTP_*), so no opt-in email could be "
                "queued: these subscribers stay unconfirmed"
            )
