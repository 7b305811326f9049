"""Rebuild throughput: ``python -m indexer rebuild`` against a raw bulk of the same
documents into indices with the same settings.

The raw ceiling sends exactly the bulk actions the indexer sends (documents from
:func:`indexer.documents.build_document`, external versions, both audiences, the same
chunk size, refresh off while loading), but read from a JSON Lines file materialised
beforehand, so it measures OpenSearch and opensearch-py rather than the registry
reads and document building that the indexer also has to do.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from opensearchpy import OpenSearch, helpers
from sqlalchemy.orm import Session, sessionmaker

from indexer.client import AUDIENCES, IndexNames, index_body
from indexer.rebuild import BULK_OPTIONS
from indexer.sync import actions_for
from registry.records import iter_records, record_to_dict
from registry.taxonomy import load_taxonomy

from .procs import run_measured
from .stats import ratio


def raw_index(names: IndexNames, audience: str) -> str:
    """Name of the raw-ceiling index of ``audience`` (outside the indexer's patterns)."""
    return f"{names.prefix}raw-{audience}"


def materialise_actions(factory: sessionmaker[Session], out: Path) -> int:
    """Write the indexer's bulk actions for every record to ``out`` (JSON Lines).

    Each line is one action with ``_index`` set to the audience name, deletes included
    (the rebuild sends one for each audience a record is not visible to); returns the
    number of ``index`` actions (documents).
    """
    count = 0
    targets = {audience: audience for audience in AUDIENCES}
    with factory() as session, open(out, "w", encoding="utf-8") as handle:
        taxonomy = load_taxonomy(session)
        for row in iter_records(session):
            record = record_to_dict(row)
            for action in actions_for(record["id"], record, 0, taxonomy, targets):
                handle.write(json.dumps(action, ensure_ascii=False) + "\n")
                count += action["_op_type"] == "index"
    return count


def _read_actions(path: Path, names: IndexNames):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            action = json.loads(line)
            action["_index"] = raw_index(names, action["_index"])
            yield action


def raw_bulk(
    client: OpenSearch, names: IndexNames, actions: Path, chunk_size: int | None = None
) -> dict:
    """Bulk ``actions`` into fresh raw indices like the indexer's rebuild does.

    Creates both indices from :func:`indexer.client.index_body` with refresh off,
    streams the actions with ``helpers.streaming_bulk`` and the rebuild's own
    :data:`~indexer.rebuild.BULK_OPTIONS` (``chunk_size`` replaces theirs when given,
    to match an indexer run with the same chunk size), restores ``refresh_interval``
    1 s and refreshes, as :func:`indexer.rebuild.rebuild`.

    Returns:
        ``{"seconds", "docs", "docs_per_s", "errors"}``; ``docs`` counts acknowledged
        ``index`` actions; deletes of absent documents (404) are not errors, as in
        the rebuild.
    """
    started = time.perf_counter()
    for audience in AUDIENCES:
        body = index_body(audience)
        body["settings"]["index"]["refresh_interval"] = "-1"
        client.indices.create(index=raw_index(names, audience), body=body)
    docs = errors = 0
    options = {**BULK_OPTIONS, **({"chunk_size": chunk_size} if chunk_size else {})}
    for ok, item in helpers.streaming_bulk(client, _read_actions(actions, names), **options):
        op, info = next(iter(item.items()))
        if op == "index":
            docs += ok
            errors += not ok
        elif not ok and info.get("status") != 404:
            errors += 1
    for audience in AUDIENCES:
        index = raw_index(names, audience)
        client.indices.put_settings(index=index, body={"index": {"refresh_interval": "1s"}})
        client.indices.refresh(index=index)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "docs": docs,
        "docs_per_s": round(docs / seconds, 1),
        "errors": errors,
    }


def drop_raw(client: OpenSearch, names: IndexNames) -> None:
    """Delete the raw-ceiling indices (they only served the measurement)."""
    for audience in AUDIENCES:
        client.indices.delete(index=raw_index(names, audience), ignore_unavailable=True)


def indexer_rebuild(env: dict, log: Path, timeout_s: float) -> dict:
    """Run ``python -m indexer rebuild`` as a child; wall time, docs/s and peak RSS.

    Returns:
        ``{"seconds", "exit_code", "peak_rss_mib"}``; documents are counted by the
        caller from the aliases afterwards.
    Raises:
        RuntimeError: the rebuild failed (the message holds the end of its log).
    """
    measured = run_measured([sys.executable, "-m", "indexer", "rebuild"], env, log, timeout_s)
    if measured.exit_code != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"indexer rebuild exited {measured.exit_code}:\n{tail}")
    return {
        "seconds": round(measured.seconds, 3),
        "exit_code": measured.exit_code,
        "peak_rss_mib": round(measured.peak_rss_mib, 1),
    }


def alias_docs(client: OpenSearch, names: IndexNames) -> int:
    """Documents behind both aliases together."""
    return sum(client.count(index=names.alias(a))["count"] for a in AUDIENCES)


def _median_run(runs: list[dict]) -> dict:
    """The run with the median wall time, plus every run's seconds (``runs_seconds``)."""
    out = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2])
    out["runs_seconds"] = [r["seconds"] for r in runs]
    out["docs_per_s"] = round(out["docs"] / out["seconds"], 1)
    return out


def measure_rebuild(
    client: OpenSearch,
    names: IndexNames,
    factory,
    env: dict,
    workdir: Path,
    timeout_s: float,
    repeats: int = 1,
) -> dict:
    """Indexer rebuild and raw ceiling on the same documents, alternating, ``repeats``
    times each; the run with the median wall time of each side gives the ratio.

    Each pair starts with the indexer, so a JVM warmed by the raw load cannot flatter
    it; alternating spreads the load of other clients of the machine over both sides.

    Returns:
        ``{"indexer": {...}, "raw": {...}, "ratio": indexer docs/s ÷ raw docs/s,
        "repeats": int, "materialise_seconds": float}``; ``indexer.peak_rss_mib`` is
        the highest of the runs (each the child's own, ``indexer.peak_rss_own``),
        ``indexer.startup_seconds`` the time a child takes to
        start and import the indexer (part of the rebuild's wall time).
    """
    actions = workdir / "actions.jsonl"
    started = time.perf_counter()
    expected = materialise_actions(factory, actions)
    materialise_seconds = time.perf_counter() - started
    indexer_runs, raw_runs = [], []
    try:
        for number in range(1, repeats + 1):
            run = indexer_rebuild(env, workdir / f"indexer-rebuild-{number}.log", timeout_s)
            run["docs"] = alias_docs(client, names)
            indexer_runs.append(run)
            raw_runs.append(raw_bulk(client, names, actions))
            drop_raw(client, names)
    finally:
        drop_raw(client, names)
        actions.unlink(missing_ok=True)
    counts = {r["docs"] for r in indexer_runs + raw_runs}
    if counts != {expected}:
        raise RuntimeError(f"document counts differ: expected {expected}, got {counts}")
    indexer, raw = _median_run(indexer_runs), _median_run(raw_runs)
    indexer["peak_rss_mib"] = max(r["peak_rss_mib"] for r in indexer_runs)
    indexer["peak_rss_own"] = True  # run_measured: the child's own peak, not ours
    startup = run_measured([sys.executable, "-c", "import indexer.__main__"], env,
                           workdir / "indexer-import.log", 60)  # fmt: skip
    indexer["startup_seconds"] = round(startup.seconds, 3)
    return {
        "indexer": indexer,
        "raw": raw,
        "ratio": ratio(indexer["docs_per_s"], raw["docs_per_s"]),
        "repeats": repeats,
        "materialise_seconds": round(materialise_seconds, 3),
    }
