"""``flask --app portal …`` commands (the command-line contract in README.md, "Command line").

- ``registry migrate`` — create/upgrade the schema and seed the taxonomy.
- ``records import FILE`` — JSON Lines into the registry, one line per rejected row.
- ``users create EMAIL --role ROLE [--password-stdin]``, ``users set-role EMAIL ROLE``,
  ``users reset-password EMAIL [--password-stdin]``, ``users list``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from registry.db import error_line, prepare, transaction
from registry.models import User
from registry.records import import_jsonl
from registry.roles import ROLES
from registry.taxonomy import DEFAULT_TAXONOMY_FILE
from registry.users import UserError, create_user, reset_password, set_role

from .backends import backends
from .editorial_cli import editorial_cli
from .taxonomy_cli import taxonomy_cli
from .thesaurus_cli import thesaurus_cli

registry_cli = AppGroup("registry", help="Registry schema and seed data.")
records_cli = AppGroup("records", help="Innovation records in the registry.")
users_cli = AppGroup("users", help="People who log in.")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@registry_cli.command("migrate")
@click.option(
    "--taxonomy",
    "taxonomy_file",
    type=click.Path(exists=True, dir_okay=False),
    default=str(DEFAULT_TAXONOMY_FILE),
    show_default=True,
    help="Seed file for an empty taxonomy.",
)
def migrate_command(taxonomy_file: str) -> None:
    """Upgrade the database to the newest schema and seed the taxonomy if empty."""
    url = backends().engine.url.render_as_string(hide_password=False)
    try:
        _factory, seeded = prepare(url, Path(taxonomy_file))
    except OperationalError as exc:
        _fail(f"cannot reach the registry database: {error_line(exc)}")
    click.echo(f"registry: schema up to date; {seeded} taxonomy term(s) seeded")


@records_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import JSON Lines FILE (upsert by id); exit 1 if any line was rejected."""
    be = backends()
    try:
        report = import_jsonl(be.sessions, file)
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    except OperationalError as exc:
        hint = "run `flask --app portal registry migrate`"
        _fail(f"registry database error: {error_line(exc)} ({hint})")
    for line, field, reason in report.rejected:
        click.echo(f"line {line}: {field}: {reason}")
    for line, message in report.warnings:
        click.echo(f"warning: line {line}: {message}", err=True)
    click.echo(
        f"import: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected_lines} line(s) rejected",
        err=True,
    )
    if report.rejected:
        sys.exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Create a user with ROLE; the password is asked for unless --password-stdin."""
    password = _read_password(password_stdin)
    try:
        with transaction(backends().sessions) as session:
            user = create_user(session, email, role, password)
            email = user.email
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"user {email} created with role {role}")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(email: str, role: str) -> None:
    """Give EMAIL the role ROLE (their sessions end)."""
    try:
        with transaction(backends().sessions) as session:
            set_role(session, email, role)
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"user {email.strip().lower()} now has role {role}")


@users_cli.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset_password_command(email: str, password_stdin: bool) -> None:
    """Set a new password for EMAIL (their sessions end)."""
    password = _read_password(password_stdin)
    try:
        with transaction(backends().sessions) as session:
            reset_password(session, email, password)
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"password of {email.strip().lower()} reset")


@users_cli.command("list")
def list_users_command() -> None:
    """Print every user: e-mail, role, active."""
    with backends().sessions() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'inactive'}")


def register(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    app.cli.add_command(registry_cli)
    app.cli.add_command(records_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(taxonomy_cli)
    app.cli.add_command(thesaurus_cli)
    app.cli.add_command(editorial_cli)
