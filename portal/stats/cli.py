"""``flask --app portal stats purge-search-log``: apply the search-log retention.

The retention period is ``SEARCH_LOG_RETENTION_DAYS`` (default 365 days); run the
command daily (cron, a systemd timer) so no search is kept longer than that.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from registry.db import transaction
from registry.search_log import purge_search_log
from settings import Settings

from ..backends import backends

stats_cli = AppGroup("stats", help="Statistics and search analytics.")


def retention_days() -> int:
    """``SEARCH_LOG_RETENTION_DAYS`` as read now: whole days ≥ 0 (default 365).

    Raises:
        settings.SettingsError: the variable is set but not such a number (a
            :class:`click.ClickException`: one line, exit 1).
    """
    return Settings.from_env().search_log_retention_days


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
