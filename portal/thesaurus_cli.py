"""``flask --app portal thesaurus …``: the synonym sets from the command line.

``list``, ``add``, ``remove``, ``import``, ``export``, ``undo`` and ``history``; every
change goes through :mod:`registry.thesaurus` (validated first, one history entry,
actor ``cli:<login name>``) and is live in search within ``TAXONOMY_CHECK_S`` seconds.
A bad entry prints ``error: …`` and exits 1 with nothing changed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from registry import thesaurus
from registry.db import transaction

from .backends import backends
from .taxonomy_cli import _actor

thesaurus_cli = AppGroup("thesaurus", help="Synonym sets of search: list, add, remove, …")


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


@thesaurus_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="As JSON lines.")
def list_command(as_json: bool) -> None:
    """Every synonym set with its id."""
    with backends().sessions() as session:
        sets = thesaurus.list_sets(session)
    for item in sets:
        if as_json:
            click.echo(json.dumps(item, ensure_ascii=False))
        else:
            click.echo(f"{item['id']:>5}  {item['kind']:<10}  {thesaurus.describe(item)}")


@thesaurus_cli.command("add")
@click.argument("terms", nargs=-1, required=True)
@click.option("--broader", default=None, help="Make a one-way set: BROADER finds TERMS.")
def add_command(terms: tuple[str, ...], broader: str | None) -> None:
    """Add a set of equivalent TERMS (or, with --broader, narrower TERMS).

    A term of several words is one argument: thesaurus add "digital skills"
    "digitale vaardigheden".
    """
    kind = "broader" if broader else "equivalent"
    try:
        spec = thesaurus.validate_set(kind, list(terms), broader)
        with transaction(backends().sessions) as session:
            added = thesaurus.add_set(session, spec, _actor())
    except thesaurus.ThesaurusError as exc:
        _fail(exc)
    click.echo(f"added set {added['id']}: {thesaurus.describe(added)}")


@thesaurus_cli.command("remove")
@click.argument("set_id", type=int)
def remove_command(set_id: int) -> None:
    """Remove the set SET_ID (see ``list``)."""
    try:
        with transaction(backends().sessions) as session:
            removed = thesaurus.remove_set(session, set_id, _actor())
    except thesaurus.ThesaurusError as exc:
        _fail(exc)
    click.echo(f"removed set {set_id}: {thesaurus.describe(removed)}")


@thesaurus_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Remove every existing set first.")
def import_command(file: Path, replace: bool) -> None:
    """Add the sets of FILE (the shape of ``data/thesaurus.json``); all or nothing."""
    try:
        specs = thesaurus.parse_text(file.read_bytes())
        with transaction(backends().sessions) as session:
            count = thesaurus.import_sets(session, specs, _actor(), replace=replace)
    except thesaurus.ThesaurusError as exc:
        _fail(exc)
    click.echo(f"imported {count} set(s)")


@thesaurus_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
def export_command(file: Path | None) -> None:
    """Write the thesaurus as JSON to FILE (default: standard output)."""
    with backends().sessions() as session:
        text = json.dumps(thesaurus.export_sets(session), ensure_ascii=False, indent=1)
    if file:
        file.write_text(text + "\n", encoding="utf-8")
        click.echo(f"written: {file}")
    else:
        click.echo(text)


@thesaurus_cli.command("undo")
def undo_command() -> None:
    """Reverse the newest change that is not undone yet."""
    try:
        with transaction(backends().sessions) as session:
            event = thesaurus.undo(session, _actor())
            note = event.payload["note"]
    except thesaurus.ThesaurusError as exc:
        _fail(exc)
    click.echo(note)


@thesaurus_cli.command("history")
@click.option("--limit", type=click.IntRange(1, 1000), default=20)
def history_command(limit: int) -> None:
    """The newest changes: number, when, who, what."""
    with backends().sessions() as session:
        for event in thesaurus.history(session, limit):
            undone = f" (undone by #{event.undone_by})" if event.undone_by else ""
            click.echo(
                f"#{event.seq}  {event.at:%Y-%m-%d %H:%M}  {event.actor}  {event.op}: "
                f"{event.payload.get('note', '')}{undone}"
            )
