"""The `statusboard` command. Each command opens a session, calls services, commits."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from typing import TypeVar

import click
from flask import Flask
from sqlalchemy.orm import Session

from statusboard import migrate
from statusboard.cli_alerts import alert_source
from statusboard.cli_import import import_group
from statusboard.cli_incidents import incident
from statusboard.cli_maintenance import maintenance
from statusboard.cli_options import load_app
from statusboard.config import settings_of
from statusboard.db import DatabaseBusy, database
from statusboard.domain.errors import DomainError
from statusboard.models import Role
from statusboard.services import operators
from statusboard.services.audit import Actor

CLI = Actor(operator=None, via="cli")
T = TypeVar("T")


def _write(app: Flask, work: Callable[[Session], T]) -> T:
    """A command's write: the same write lock as web writes, retried while another writer
    is in the way (Database.write), with domain refusals and a lasting lock as messages."""
    try:
        return database(app).write(work)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    except DatabaseBusy as exc:
        raise click.ClickException(str(exc)) from exc


def _read_password(confirm: bool = True) -> str:
    """From a prompt on a terminal, else the first line of standard input; never argv."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return sys.stdin.readline().rstrip("\n")


@click.group()
def main() -> None:
    """statusboard: honest incident communication."""


main.add_command(incident)
main.add_command(maintenance)
main.add_command(alert_source)
main.add_command(import_group)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version (safe to repeat)."""
    app = load_app()
    migrate.upgrade(database(app).engine)
    click.echo("database is up to date", err=True)


@main.group()
def operator() -> None:
    """Operator accounts."""


@operator.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Name shown to other operators.")
@click.option("--admin", is_flag=True, help="May manage operators and components.")
def operator_add(email: str, name: str, admin: bool) -> None:
    """Add an operator; the password comes from a prompt or standard input."""
    app = load_app()
    password = _read_password()
    added = _write(
        app,
        lambda session: operators.add_operator(
            session,
            email=email,
            name=name,
            password=password,
            role=Role.ADMIN if admin else Role.OPERATOR,
            actor=CLI,
        ),
    )
    click.echo(f"added {added.role.value} {added.email}", err=True)


@operator.command("password")
@click.argument("email")
def operator_password(email: str) -> None:
    """Set an operator's password (from a prompt or standard input)."""
    from sqlalchemy import select

    from statusboard.models import Operator

    app = load_app()
    password = _read_password()

    def change(session: Session) -> None:
        found = session.scalar(
            select(Operator).where(Operator.email == operators.normalize_email(email))
        )
        if found is None:
            raise click.ClickException(f"no operator {email}")
        operators.set_password(session, operator=found, password=password, actor=CLI)

    _write(app, change)
    click.echo(f"password changed for {email}", err=True)


@main.command("init")
def init() -> None:
    """Migrate, and on a database without operators create the first admin."""
    app = load_app()
    migrate.upgrade(database(app).engine)
    base = settings_of(app).page.base_url
    with database(app).session() as session:
        if operators.count_operators(session):
            click.echo(
                f"\nLog in at {base}/login with your operator account "
                "(reset a password: statusboard operator password EMAIL).\n"
            )
            return
        email = settings_of(app).admin_email or "admin@example.com"
        password = settings_of(app).admin_password
        generated = not password
        password = password or secrets.token_urlsafe(12)
        try:
            operators.add_operator(
                session, email=email, name="Admin", password=password, role=Role.ADMIN, actor=CLI
            )
        except DomainError as exc:
            raise click.ClickException(f"first admin: {exc.message}") from exc
    click.echo(f"\nFirst admin created. Log in at {base}/login")
    click.echo(f"  email:    {email}")
    if generated:
        click.echo(f"  password: {password}   (shown once: write it down)")
    else:
        click.echo("  password: the one in STATUSBOARD_ADMIN_PASSWORD")
    click.echo("")


@main.command("run")
@click.option("--no-worker", is_flag=True, help="Serve only; run `statusboard worker` apart.")
def run(no_worker: bool) -> None:
    """Serve the app with gunicorn on STATUSBOARD_HOST:STATUSBOARD_PORT, plus one worker."""
    from statusboard.server import serve

    serve(load_app(), with_worker=not no_worker)


@main.command("worker")
def worker() -> None:
    """Run the scheduler: deliveries, promise checks, maintenance windows."""
    from statusboard.jobs import run_worker

    run_worker(load_app())


@main.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
def export_site(directory: str) -> None:
    """Write the public site (pages, /api/v2 JSON, feeds) as static files into DIRECTORY."""
    from statusboard.export import ExportRefused, export

    try:
        result = export(load_app(), directory)
    except ExportRefused as refused:
        raise click.ClickException(f"export refused: {refused}") from None
    click.echo(
        f"exported {result.files} files of version {result.version} "
        f"({len(result.written)} changed, {len(result.deleted)} deleted) "
        f"in {result.seconds:.1f}s to {directory}",
        err=True,
    )


@main.command("demo")
def demo() -> None:
    """Fill an empty database with a realistic example page."""
    from statusboard.demo import seed

    app = load_app()
    migrate.upgrade(database(app).engine)
    try:
        with database(app).session() as session:
            seed(session)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo("demo data added", err=True)


@main.group()
def token() -> None:
    """API tokens for the operator API (/api/v1)."""


@token.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What will use the token, e.g. deploy-bot.")
def token_create(email: str, name: str) -> None:
    """Create a token for an operator; only the secret goes to standard output."""
    from statusboard.services import tokens

    app = load_app()
    created, secret = _write(
        app,
        lambda session: tokens.create_token(
            session, operator=tokens.find_owner(session, email), name=name, actor=CLI
        ),
    )
    click.echo(
        f"created token {created.public_id} for {created.operator.email}; the secret is shown once",
        err=True,
    )
    click.echo(secret)


@token.command("list")
@click.option("--email", help="Only this operator's tokens.")
def token_list(email: str | None) -> None:
    """List tokens: id, owner, name, created, last used, state."""
    from statusboard.clock import iso
    from statusboard.services import tokens

    app = load_app()
    try:
        with database(app).session() as session:
            owner = tokens.find_owner(session, email) if email else None
            for row in tokens.list_tokens(session, owner):
                used = iso(row.last_used_at) if row.last_used_at else "never"
                state = "revoked" if row.revoked_at else "active"
                click.echo(
                    f"{row.public_id}\t{row.operator.email}\t{row.name}\t"
                    f"{row.prefix}…\tcreated {iso(row.created_at)}\tused {used}\t{state}"
                )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id (see `token list`); it stops working at once."""
    from statusboard.services import tokens

    app = load_app()

    def revoke(session: Session) -> tokens.ApiToken:
        found = tokens.find_token(session, token_id)
        tokens.revoke_token(session, token=found, actor=CLI)
        return found

    found = _write(app, revoke)
    click.echo(f"revoked token {found.public_id} ({found.name})", err=True)


if __name__ == "__main__":
    main()
