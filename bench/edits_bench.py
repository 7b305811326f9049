"""Edit-to-searchable latency with ``python -m indexer run`` running.

Each edit puts a unique token in a published record's title through
:func:`registry.records.upsert` (the registry write path, change feed included), then
polls OpenSearch until the token is found by the portal's own query on the public
alias. Two moments are recorded from the start of the write: *indexed* (a real-time
``GET`` of the document shows the token: the indexer has written it) and *searchable*
(a search finds it: the index has also refreshed).
"""

from __future__ import annotations

import random
import time

from opensearchpy import NotFoundError, OpenSearch
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from indexer.client import IndexNames
from registry.db import transaction
from registry.models import Innovation
from registry.records import RECORD_FIELDS, record_to_dict, upsert
from registry.schemas import InnovationSchema
from registry.taxonomy import Taxonomy, load_taxonomy

from .search_bench import query_body
from .stats import summarize

POLL_S = 0.02
"""Interval between visibility checks, seconds."""
MAX_GAP_S = 0.5
"""Edits are spaced by a random 0–0.5 s so they do not lock onto the indexer's poll."""
TITLE_ROOM = 280
"""Characters of the original title kept, so title + token stays within 300."""


def pick_published(factory: sessionmaker[Session], count: int, rng: random.Random) -> list[str]:
    """``count`` distinct published record ids, chosen with ``rng``."""
    with factory() as session:
        ids = list(
            session.scalars(
                select(Innovation.id).where(Innovation.status == "published").order_by("id")
            )
        )
    return rng.sample(ids, min(count, len(ids)))


def edit_title(
    factory: sessionmaker[Session], schema: InnovationSchema, record_id: str, token: str
) -> None:
    """Append ``token`` to the title of ``record_id`` through the registry's upsert."""
    with transaction(factory) as session:
        record = record_to_dict(session.get(Innovation, record_id))
        data = {name: record[name] for name in RECORD_FIELDS}
        data["title"] = f"{record['title'][:TITLE_ROOM]} {token}"
        upsert(session, schema.load(data))


def _visible(client: OpenSearch, alias: str, record_id: str, body: dict, token: str):
    """``(indexed, searchable)`` for the edit carrying ``token``."""
    try:
        doc = client.get(index=alias, id=record_id, _source_includes=["title"])
    except NotFoundError:
        return False, False
    indexed = token in doc["_source"].get("title", "")
    searchable = indexed and client.search(index=alias, body=body)["hits"]["total"]["value"] > 0
    return indexed, searchable


def time_one_edit(client, factory, schema, alias, taxonomy, record_id, token, timeout_s):
    """Write one edit and wait for it; returns ``(write_ms, indexed_ms, searchable_ms)``
    (the last two None on timeout)."""
    body = query_body([("q", token)], taxonomy)
    started = time.perf_counter()
    edit_title(factory, schema, record_id, token)
    write_ms = (time.perf_counter() - started) * 1000
    indexed_ms = None
    while (elapsed := time.perf_counter() - started) < timeout_s:
        indexed, searchable = _visible(client, alias, record_id, body, token)
        if indexed and indexed_ms is None:
            indexed_ms = elapsed * 1000
        if searchable:
            return write_ms, indexed_ms, (time.perf_counter() - started) * 1000
        time.sleep(POLL_S)
    return write_ms, indexed_ms, None


def measure_edits(
    client: OpenSearch,
    factory: sessionmaker[Session],
    names: IndexNames,
    count: int,
    seed: int,
    timeout_s: float = 30,
) -> dict:
    """``count`` edits one after another; latencies in ms from the start of each write.

    Returns:
        ``{"edits", "timeouts", "write_ms": {...}, "indexed_ms": {...},
        "searchable_ms": {...}}``, each ``{...}`` as :func:`bench.stats.summarize`.
    """
    rng = random.Random(seed)
    tag = f"{rng.getrandbits(32):08x}"
    with factory() as session:
        taxonomy: Taxonomy = load_taxonomy(session)
    schema = InnovationSchema(taxonomy=taxonomy)
    alias = names.alias("public")
    writes, indexed, searchable = [], [], []
    timeouts = 0
    for number, record_id in enumerate(pick_published(factory, count, rng)):
        token = f"bench{tag}n{number:04d}"
        w, i, s = time_one_edit(
            client, factory, schema, alias, taxonomy, record_id, token, timeout_s
        )
        writes.append(w)
        if i is not None:
            indexed.append(i)
        if s is None:
            timeouts += 1
        else:
            searchable.append(s)
        time.sleep(rng.uniform(0, MAX_GAP_S))
    return {
        "edits": len(writes),
        "timeouts": timeouts,
        "write_ms": summarize(writes),
        "indexed_ms": summarize(indexed),
        "searchable_ms": summarize(searchable),
    }
