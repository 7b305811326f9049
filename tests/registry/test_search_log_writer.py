"""The search log's batching writer: rows written off the request thread, in batches,
nothing lost at an orderly exit, a broken registry never reaching the caller."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

from sqlalchemy import func, select, text

from registry.db import transaction
from registry.models import SearchLogEntry
from registry.search_log_writer import SearchLogWriter

from ..conftest import ROOT, make_registry, serve_portal


def rows(factory) -> list[SearchLogEntry]:
    with factory() as session:
        return list(session.scalars(select(SearchLogEntry).order_by(SearchLogEntry.id)))


def test_rows_from_many_threads_are_all_written_normalised(tmp_path):
    _url, factory = make_registry(tmp_path)
    writer = SearchLogWriter(factory, max_batch=7)

    def search(thread: int) -> None:
        for number in range(25):
            writer.submit(f"  Lezen {thread}-{number} ", {"phase": ["idee"], "type": []}, number, 3)

    threads = [threading.Thread(target=search, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.flush()
    assert writer.pending() == 0
    written = rows(factory)
    assert len(written) == 100
    assert {r.q for r in written} == {f"lezen {t}-{n}" for t in range(4) for n in range(25)}
    assert all(r.filters == {"phase": ["idee"]} and r.took_ms == 3 for r in written)
    assert sorted(r.total for r in written) == sorted(list(range(25)) * 4)


def test_a_failed_write_is_logged_and_dropped_and_the_next_one_succeeds(tmp_path, caplog):
    _url, factory = make_registry(tmp_path)
    writer = SearchLogWriter(factory)
    with transaction(factory) as session:
        session.execute(text("ALTER TABLE search_log RENAME TO search_log_away"))
    caplog.set_level(logging.WARNING, logger="registry.search_log_writer")
    writer.submit("verloren", {}, 1)
    assert writer.flush()
    assert "search log: could not record a search" in caplog.text
    with transaction(factory) as session:
        session.execute(text("ALTER TABLE search_log_away RENAME TO search_log"))
    writer.submit("bewaard", {}, 2)
    assert writer.flush()
    assert [r.q for r in rows(factory)] == ["bewaard"]


def test_a_full_queue_drops_new_rows_instead_of_growing(tmp_path):
    _url, factory = make_registry(tmp_path)
    writer = SearchLogWriter(factory, max_batch=1, max_queue=3)
    registry_slow = threading.Event()
    write = writer._write
    writer._write = lambda batch: (registry_slow.wait(30), write(batch))  # type: ignore[method-assign]
    for number in range(10):
        writer.submit(f"zoekvraag {number}", {}, number)
    # three wait in the queue, at most one is in the writer's hands, the rest are dropped
    assert writer.dropped in (6, 7)
    registry_slow.set()
    assert writer.flush()
    assert len(rows(factory)) == 10 - writer.dropped


def test_rows_still_queued_at_interpreter_exit_are_written(tmp_path):
    url, factory = make_registry(tmp_path)
    program = textwrap.dedent(
        f"""
        from registry.db import make_engine, make_session_factory
        from registry.search_log_writer import SearchLogWriter

        writer = SearchLogWriter(make_session_factory(make_engine({url!r})), max_batch=10)
        for number in range(500):
            writer.submit(f"vraag {{number}}", {{}}, number)
        # no flush: the exit hook must write what is queued
        """
    )
    subprocess.run([sys.executable, "-c", program], cwd=ROOT, check=True, timeout=60)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SearchLogEntry)) == 500


def test_gunicorn_workers_write_every_search_before_they_stop(tmp_path, loaded):
    url, factory = make_registry(tmp_path)
    with serve_portal(url, loaded["opensearch_url"], loaded["names"].prefix) as base:
        for number in range(20):
            with urllib.request.urlopen(f"{base}/api/v1/search?q=lezen{number}", timeout=30):
                pass
    # serve_portal stopped gunicorn with SIGTERM and waited for it
    assert sorted(r.q for r in rows(factory)) == sorted(f"lezen{n}" for n in range(20))


def test_rows_arriving_within_the_wait_share_one_transaction(tmp_path):
    from sqlalchemy import event

    _url, factory = make_registry(tmp_path)
    inserts: list[str] = []
    event.listen(
        factory.kw["bind"],
        "before_cursor_execute",
        lambda *args: inserts.append(args[2]) if args[2].startswith("INSERT") else None,
    )
    writer = SearchLogWriter(factory, linger_s=0.5)
    for number in range(3):
        writer.submit(f"zoekvraag {number}", {}, number)
        time.sleep(0.05)
    time.sleep(1.0)  # past the wait, without a flush: the writer wrote on its own
    assert writer.pending() == 0
    assert len(inserts) == 1
    assert [r.q for r in rows(factory)] == ["zoekvraag 0", "zoekvraag 1", "zoekvraag 2"]


def test_a_flush_ends_the_writers_wait(tmp_path):
    _url, factory = make_registry(tmp_path)
    writer = SearchLogWriter(factory, linger_s=60)
    writer.submit("meteen", {}, 1)
    started = time.monotonic()
    assert writer.flush(timeout_s=10)
    assert time.monotonic() - started < 5
    assert [r.q for r in rows(factory)] == ["meteen"]
