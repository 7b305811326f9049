"""``flask --app portal stats purge-search-log``: apply the search-log retention.

The retention period is ``SEARCH_LOG_RETENTION_DAYS`` (default 365 days); run the
command daily (cron, a systemd timer) so no search is kept longer than that.
"""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from registry.db import transaction
from registry.search_log import purge_search_log

from ..backends import backends

DEFAULT_RETENTION_DAYS = 365

stats_cli = AppGroup("stats", help="Statistics and search analytics.")


def retention_days() -> int:
    """``SEARCH_LOG_RETENTION_DAYS`` as a whole number of days ≥ 0 (default 365).

    Raises:
        click.UsageError: the variable is set but not such a number.
    """
    raw = os.environ.get("SEARCH_LOG_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    if not raw.isdigit():
        raise click.UsageError(f"SEARCH_LOG_RETENTION_DAYS must be a number of days, not {raw!r}")
    return int(raw)


@stats_cli.command("purge-search-log")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=0),
    default=None,
    help="Override SEARCH_LOG_RETENTION_DAYS for this run.",
)
def purge_command(older_than_days: int | None) -> None:
    """Delete logged searches older than the retention period."""
    days = retention_days() if older_than_days is None else older_than_days
    with transaction(backends().sessions) as session:
        deleted = purge_search_log(session, days)
    click.echo(f"search log: {deleted} search(es) older than {days} day(s) deleted")
