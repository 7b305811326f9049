"""``flask --app portal taxonomy …``: community operations from the command line.

Every operation prints its preview first (innovations that change, counts before
and after) and asks for confirmation unless ``--yes``; ``--dry-run`` stops after
the preview. Actor in the history: ``cli:<login name>``.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from registry.db import transaction
from registry.models import TaxonomyEvent
from registry.taxonomy_ops import Operation, Preview, TaxonomyError, apply, preview, undo

from .backends import backends

taxonomy_cli = AppGroup("taxonomy", help="Merge, split, rename, retire and create communities.")

yes_option = click.option("--yes", is_flag=True, help="Apply without asking.")
dry_option = click.option("--dry-run", is_flag=True, help="Only show the preview.")
label_options = [
    click.option("--label-nl", default=None, help="Dutch label of the new community."),
    click.option("--label-en", default=None, help="English label of the new community."),
]


def _labels(options):
    for option in reversed(label_options):
        options = option(options)
    return options


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _show(result: Preview) -> None:
    click.echo(f"preview: {result.operation.describe()}")
    click.echo(f"  {len(result.affected)} innovation(s) change")
    for record_id, _title, old, new in result.affected[:20]:
        click.echo(f"    {record_id}: {', '.join(old) or '-'} -> {', '.join(new) or '-'}")
    if len(result.affected) > 20:
        click.echo(f"    … and {len(result.affected) - 20} more")
    keys = sorted(set(result.counts_before) | set(result.counts_after))
    for key in keys:
        before, after = result.counts_before.get(key, 0), result.counts_after.get(key, 0)
        if before != after:
            click.echo(f"  {key}: {before} -> {after} published innovation(s)")


def _run(op: Operation, yes: bool, dry_run: bool) -> None:
    be = backends()
    try:
        with be.sessions() as session:
            _show(preview(session, op))
        if dry_run:
            return
        if not yes and not click.confirm("Apply this operation?", default=False):
            click.echo("nothing changed")
            return
        with transaction(be.sessions) as session:
            event = apply(session, op, _actor())
            seq, affected = event.seq, event.payload["affected"]
    except TaxonomyError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"applied as #{seq}; the indexer re-indexes {affected} innovation(s)")


@taxonomy_cli.command("merge")
@click.argument("sources", nargs=-1, required=True)
@click.option("--into", "target", required=True, help="Existing or new community id.")
@_labels
@yes_option
@dry_option
def merge_command(sources, target, label_nl, label_en, yes, dry_run):
    """Merge SOURCES (two or more) into one community."""
    op = Operation("merge", list(sources), target, labels={"nl": label_nl, "en": label_en})
    _run(op, yes, dry_run)


@taxonomy_cli.command("rename")
@click.argument("source")
@click.option("--to", "target", default=None, help="New id (leave out to change labels only).")
@_labels
@yes_option
@dry_option
def rename_command(source, target, label_nl, label_en, yes, dry_run):
    """Rename a community: its id, its labels, or both."""
    op = Operation("rename", [source], target, labels={"nl": label_nl, "en": label_en})
    _run(op, yes, dry_run)


@taxonomy_cli.command("split")
@click.argument("source")
@click.option("--into", "parts", multiple=True, required=True, help="A new part id (2+).")
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(exists=True, dir_okay=False),
    help='JSON {"part-id": {"nl": …, "en": …}}',
)
@click.option(
    "--assign",
    "assign_file",
    type=click.Path(exists=True, dir_okay=False),
    help='JSON {"innovation-id": ["part-id", …]}; others go to every part',
)
@yes_option
@dry_option
def split_command(source, parts, labels_file, assign_file, yes, dry_run):
    """Split a community into parts, with a per-innovation assignment."""
    try:
        labels = json.loads(Path(labels_file).read_text("utf-8")) if labels_file else {}
        assignments = json.loads(Path(assign_file).read_text("utf-8")) if assign_file else {}
    except (OSError, ValueError) as exc:
        click.echo(f"error: cannot read JSON: {exc}", err=True)
        sys.exit(1)
    op = Operation("split", [source], parts=list(parts), labels=labels, assignments=assignments)
    _run(op, yes, dry_run)


@taxonomy_cli.command("retire")
@click.argument("source")
@click.option("--into", "target", default=None, help="Where its innovations go (optional).")
@_labels
@yes_option
@dry_option
def retire_command(source, target, label_nl, label_en, yes, dry_run):
    """Retire a community, optionally sending its innovations to another."""
    op = Operation("retire", [source], target, labels={"nl": label_nl, "en": label_en})
    _run(op, yes, dry_run)


@taxonomy_cli.command("create")
@click.argument("target")
@_labels
@click.option("--group", default=None, help="Community group id (e.g. flankerend).")
@yes_option
def create_command(target, label_nl, label_en, group, yes):
    """Create a new, empty community."""
    op = Operation("create", [], target, labels={"nl": label_nl, "en": label_en}, group=group)
    _run(op, yes, False)


@taxonomy_cli.command("undo")
@yes_option
def undo_command(yes):
    """Undo the last operation (the innovations follow through the indexer)."""
    be = backends()
    if not yes and not click.confirm("Undo the last taxonomy operation?", default=False):
        click.echo("nothing changed")
        return
    try:
        with transaction(be.sessions) as session:
            event = undo(session, _actor())
            note, affected = event.payload["note"], event.payload["affected"]
    except TaxonomyError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{note}; the indexer re-indexes {affected} innovation(s)")


@taxonomy_cli.command("history")
def history_command():
    """Print every taxonomy operation: number, date, who, what."""
    with backends().sessions() as session:
        for event in session.scalars(select(TaxonomyEvent).order_by(TaxonomyEvent.seq)):
            undone = f" (undone by #{event.undone_by})" if event.undone_by else ""
            note = (
                event.payload.get("note")
                or f"{event.payload.get('from')} -> {event.payload.get('to')}"
            )
            click.echo(
                f"#{event.seq}\t{event.date}\t{event.actor or '-'}\t{event.op}\t{note}{undone}"
            )
