"""What the benchmarks (:mod:`bench.run`, :mod:`bench.workers`,
:mod:`bench.rebuild_overlap`, :mod:`bench.cluster_bench`, :mod:`bench.cpu_split`) set up
alike: a node, a generated registry in a temporary folder, the environment of their
children, and the results files. Everything is undone through the caller's
:class:`~contextlib.ExitStack`."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from opensearchpy import OpenSearch
from sqlalchemy.orm import Session, sessionmaker

from indexer.client import IndexNames, make_client
from registry.db import prepare
from registry.records import import_jsonl

from .generate import generate, write_jsonl


def single_node(stack: ExitStack, url: str | None) -> str:
    """``url`` (the configured OpenSearch), else devnode's local node, started here when
    it was not running and then stopped with ``stack``; returns the URL."""
    if url:
        return url
    from devnode import ensure_node, stop_node

    url, started = ensure_node()
    if started:
        stack.callback(stop_node)
    return url


def bench_client(stack: ExitStack, url: str, names: IndexNames) -> OpenSearch:
    """A client for ``url`` with benchmark time-outs; the indices under ``names.prefix``
    are deleted with ``stack``."""
    client = make_client(url, timeout_s=120, retries=3)
    stack.callback(client.indices.delete, index=f"{names.prefix}*", ignore_unavailable=True)
    return client


def generated_registry(
    stack: ExitStack, size: int, seed: int, label: str
) -> tuple[Path, str, sessionmaker[Session], float]:
    """A fresh SQLite registry in a temporary folder (removed with ``stack``) holding
    ``size`` generated innovations (:func:`bench.generate.generate` with ``seed``).

    Returns:
        ``(folder, database URL, session factory, import seconds)``.
    Raises:
        RuntimeError: the import rejected lines (the generator and the schema disagree).
    """
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{label}-")))
    db_url = f"sqlite:///{workdir / 'registry.db'}"
    factory, _ = prepare(db_url)
    stack.callback(factory.kw["bind"].dispose)
    data = workdir / "innovations.jsonl"
    write_jsonl(generate(size, seed), data)
    began = time.perf_counter()
    report = import_jsonl(factory, data)
    if report.rejected:
        raise RuntimeError(f"import rejected {report.rejected_lines} line(s)")
    return workdir, db_url, factory, time.perf_counter() - began


def child_env(db_url: str, os_url: str, names: IndexNames, **extra: str) -> dict:
    """Environment of the indexer and gunicorn children (configuration by environment):
    this process's, with the registry at ``db_url``, the node at ``os_url``, the index
    prefix of ``names``, and ``extra`` settings (e.g. ``SEARCH_TIMEOUT_S="30"``)."""
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "OPENSEARCH_URL": os_url,
        "INDEX_PREFIX": names.prefix,
        "SECRET_KEY": "bench",
        "SESSION_COOKIE_SECURE": "0",
        **extra,
    }


def write_results(stem: Path, results: dict, markdown: Callable[[dict], str]) -> None:
    """``<stem>.json`` and ``<stem>.md`` (its folder created), and the Markdown printed."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(results)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    stem.with_suffix(".md").write_text(text, "utf-8")
    print(text)
