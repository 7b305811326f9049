"""The per-process taxonomy and thesaurus cache: how often it asks the registry."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event

from indexer.client import IndexNames
from portal.backends import Backends
from registry import thesaurus
from registry.db import transaction

from ..conftest import make_registry


def backends_over(factory, check_s: float) -> tuple[Backends, list[str]]:
    """Backends over the registry of ``factory`` and the list of SQL statements it
    sends from then on (no search client: these tests never search)."""
    engine = factory.kw["bind"]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    be = Backends(
        engine=engine, sessions=factory, search=None, names=IndexNames("unused-"),
        taxonomy_check_s=check_s,
    )  # fmt: skip
    return be, statements


def revision_checks(statements: list[str]) -> int:
    return sum("thesaurus_history" in s and "taxonomy_history" in s for s in statements)


def test_fresh_copies_cost_no_query_and_a_due_check_runs_once_per_process(tmp_path):
    _url, factory = make_registry(tmp_path)
    be, statements = backends_over(factory, check_s=0.5)
    taxonomy, synonyms = be.taxonomy(), be.synonyms()
    assert revision_checks(statements) == 1
    statements.clear()
    for _ in range(50):
        assert be.taxonomy() is taxonomy and be.synonyms() is synonyms
    assert statements == []

    time.sleep(0.6)
    start = threading.Barrier(8)

    def ask():
        start.wait()
        for _ in range(20):
            be.taxonomy()
            be.synonyms()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # eight threads found the copies due at once: one checked, nothing changed, nothing
    # was reloaded
    assert revision_checks(statements) == 1
    assert len(statements) == 1
    assert be.taxonomy() is taxonomy


def test_a_thesaurus_change_is_picked_up_after_the_interval(tmp_path):
    _url, factory = make_registry(tmp_path)
    be, _statements = backends_over(factory, check_s=2.0)
    before = be.synonyms()
    with transaction(factory) as session:
        spec = thesaurus.validate_set("equivalent", ["fietsen", "rijwiel"])
        thesaurus.add_set(session, spec, "test")
    assert be.synonyms() is before  # still within the interval
    time.sleep(2.1)
    after = be.synonyms()
    assert after is not before
    assert "rijwiel" in after.alternatives("fietsen")
    assert "rijwiel" not in before.alternatives("fietsen")
