"""``flask --app portal editorial send-reminders|send-digests`` (cron in production,
``make reminders`` / ``make digests`` here).

Reminders: one mail per backlog record per half-year cycle, with a signed, expiring
"still correct" link and an edit link. Digests: for each saved search with a weekly
digest that is due, the new or changed innovations since the last digest, with an
unsubscribe link.
"""

from __future__ import annotations

import datetime as dt
import sys
from urllib.parse import parse_qsl

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from registry import editorial
from registry.db import transaction
from registry.models import SavedSearch, User

from .backends import backends
from .mail import MailError, send_mail, sign
from .search import service
from .search.params import SearchParamError, parse_search_args

editorial_cli = AppGroup("editorial", help="Verification reminders and saved-search digests.")

DIGEST_EVERY = dt.timedelta(days=7)


def _base() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def reminder_text(record_id: str, title: str, address: str, today: dt.date) -> tuple[str, str]:
    """Subject and body of a verification reminder (Dutch, the network's language)."""
    token = sign("verify", {"r": record_id, "c": editorial.cycle_of(today), "to": address})
    base = _base()
    body = (
        f"Beste inzender,\n\n"
        f"Twee keer per jaar vragen we of de beschrijving van uw innovatie nog klopt:\n"
        f"  {title}\n  {base}/innovaties/{record_id}\n\n"
        f"Klopt alles nog? Bevestig het hier (de link werkt 60 dagen):\n"
        f"  {base}/innovaties/{record_id}/controleren/{token}\n\n"
        f"Moet er iets veranderen? Pas het aan (na inloggen):\n"
        f"  {base}/innovaties/{record_id}/bewerken\n\n"
        f"Met dank, de redactie van Innovatiebieb\n"
    )
    return f"Klopt uw innovatie nog? {title}", body


@editorial_cli.command("send-reminders")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Pretend it is this day (YYYY-MM-DD).")  # fmt: skip
def send_reminders(today) -> None:
    """Mail each submitter of a backlog record once per cycle; prints a line per mail."""
    today = today.date() if today else dt.date.today()
    factory = backends().sessions
    with factory() as session:
        due = [(r.id, r.title, address) for r, address in editorial.due_reminders(session, today)]
    sent = failed = 0
    for record_id, title, address in due:
        subject, body = reminder_text(record_id, title, address, today)
        try:
            send_mail(address, subject, body)
        except MailError as exc:
            click.echo(f"error: {record_id}: {exc}", err=True)
            failed += 1
            continue
        with transaction(factory) as session:
            editorial.mark_reminded(session, record_id, address, today)
        sent += 1
        click.echo(f"reminded {address} about {record_id}")
    click.echo(f"reminders: {sent} sent, {failed} failed, cycle {editorial.cycle_of(today)}")
    if failed:
        sys.exit(1)


@editorial_cli.command("send-digests")
def send_digests() -> None:
    """Mail every due weekly digest of saved searches (new or changed innovations)."""
    be = backends()
    now = dt.datetime.now(dt.UTC)
    with be.sessions() as session:
        searches = [
            (
                s.id,
                s.name,
                s.query,
                s.last_sent_at or s.created_at,
                session.get(User, s.user_id).email,
            )
            for s in session.scalars(select(SavedSearch).where(SavedSearch.weekly.is_(True)))
        ]
    sent = 0
    for search_id, name, query, since, address in searches:
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        if now - since < DIGEST_EVERY:
            continue
        try:
            request = parse_search_args(MultiDict(parse_qsl(query)), be.taxonomy())
        except SearchParamError as exc:
            click.echo(f"error: saved search {search_id}: {exc.message}", err=True)
            continue
        hits = [
            doc for doc in service.iter_hits(be.search, be.names, "members", request, be.taxonomy(),
                                             ["id", "title", "updated"], be.synonyms())
            if doc.get("updated") and _parse(doc["updated"]) >= since
        ]  # fmt: skip
        if hits:
            token = sign("unsubscribe", {"s": search_id})
            lines = "\n".join(f"- {d['title']}\n  {_base()}/innovaties/{d['id']}" for d in hits)
            body = (
                f"Nieuw of gewijzigd sinds {since:%d-%m-%Y} voor uw zoekopdracht “{name}”:\n\n"
                f"{lines}\n\nAlle resultaten: {_base()}/zoeken?{query}\n\n"
                f"Geen wekelijkse mail meer voor deze zoekopdracht:\n"
                f"  {_base()}/zoekopdrachten/afmelden/{token}\n"
            )
            try:
                send_mail(address, f"Innovatiebieb: nieuw voor “{name}”", body)
            except MailError as exc:
                click.echo(f"error: saved search {search_id}: {exc}", err=True)
                continue
            sent += 1
        with transaction(be.sessions) as session:
            session.get(SavedSearch, search_id).last_sent_at = now
    click.echo(f"digests: {sent} sent")


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
