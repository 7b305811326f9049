"""``flask --app portal …`` commands (DESIGN.md, command-line contract).

- ``registry migrate`` — create/upgrade the schema and seed the taxonomy.
- ``records import FILE`` — JSON Lines into the registry, one line per rejected row.
- ``users create EMAIL --role ROLE [--password-stdin]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.security import generate_password_hash

from registry.db import migrate, transaction
from registry.models import ROLES, User
from registry.records import import_jsonl
from registry.taxonomy import DEFAULT_TAXONOMY_FILE, seed_taxonomy

from .backends import backends

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
    be = backends()
    try:
        migrate(str(be.engine.url.render_as_string(hide_password=False)))
        with transaction(be.sessions) as session:
            seeded = seed_taxonomy(session, json.loads(Path(taxonomy_file).read_text("utf-8")))
    except OperationalError as exc:
        _fail(f"cannot reach the registry database: {exc.orig}")
    click.echo(f"registry: schema up to date; {seeded} taxonomy term(s) seeded")


@records_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import JSON Lines FILE (upsert by id); exit 1 if any line was rejected."""
    be = backends()
    try:
        report = import_jsonl(be.sessions, file)
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror}")
    except OperationalError as exc:
        _fail(f"registry database error: {exc.orig} (run `flask --app portal registry migrate`)")
    for line, field, reason in report.rejected:
        click.echo(f"line {line}: {field}: {reason}")
    click.echo(
        f"import: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected_lines} line(s) rejected",
        err=True,
    )
    if report.rejected:
        sys.exit(1)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create a user with ROLE; the password is asked for unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        _fail("the password needs at least 10 characters")
    email = email.strip().lower()
    if "@" not in email:
        _fail(f"not an e-mail address: {email}")
    be = backends()
    with transaction(be.sessions) as session:
        if session.scalar(select(User).where(User.email == email)):
            _fail(f"a user {email} exists already")
        session.add(User(email=email, role=role, password_hash=generate_password_hash(password)))
    click.echo(f"user {email} created with role {role}")


def register(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    app.cli.add_command(registry_cli)
    app.cli.add_command(records_cli)
    app.cli.add_command(users_cli)
