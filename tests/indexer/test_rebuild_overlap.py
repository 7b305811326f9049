"""The rebuild's reader thread: documents are built while bulk requests are under way,
and an error on either side stops the rebuild without a hang or a stray thread.

The queue itself is tested with plain producers; the rebuild against the real node
with a registry of the real data five times over (640 records, three
bulk chunks).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import text

from indexer.rebuild import (
    READER_THREAD,
    RebuildError,
    _record_batches,
    beating,
    current_indices,
    prefetched,
    rebuild,
)
from registry.db import transaction
from registry.records import import_jsonl
from tests.conftest import make_registry, read_data

COPIES = 5


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == READER_THREAD]


def wait_no_reader(timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while reader_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not reader_threads(), "the reader thread outlived the rebuild"


def run_with_deadline(target, timeout: float = 120):
    """Run ``target()`` in a thread; its result or exception, or fail if it hangs."""
    outcome: dict = {}

    def body() -> None:
        try:
            outcome["value"] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"still running after {timeout} s: hung"
    return outcome


# --- the queue between the reader thread and the bulk loop -------------------------


def test_prefetched_yields_every_batch_in_order():
    def produce():
        for n in range(1, 51):
            yield n, [{"n": n}]

    assert [done for done, _ in prefetched(produce, depth=2)] == list(range(1, 51))
    wait_no_reader()


def test_prefetched_builds_ahead_while_the_consumer_waits_but_no_more_than_depth():
    made = []

    def produce():
        for n in range(100):
            made.append(n)
            yield n, []

    batches = prefetched(produce, depth=3)
    assert next(batches)[0] == 0
    # while the consumer "waits for a bulk round trip", the reader builds ahead:
    # taken 1, queued 3, one more built and waiting for room, then it blocks
    deadline = time.monotonic() + 20
    while len(made) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert len(made) == 5
    batches.close()
    wait_no_reader()
    assert len(made) < 100


def test_prefetched_raises_the_readers_error_after_the_batches_before_it():
    def produce():
        yield 1, []
        yield 2, []
        raise ValueError("bad row 3")

    seen = []
    with pytest.raises(ValueError, match="bad row 3"):
        for done, _ in prefetched(produce, depth=1):
            seen.append(done)
    assert seen == [1, 2]
    wait_no_reader()


def test_prefetched_stops_an_endless_reader_when_the_consumer_fails():
    def produce():
        n = 0
        while True:
            n += 1
            yield n, [{}] * 10

    def consume():
        for done, _ in prefetched(produce, depth=2):
            if done == 3:
                raise RuntimeError("bulk failed")

    outcome = run_with_deadline(consume, timeout=30)
    assert isinstance(outcome.get("error"), RuntimeError)
    wait_no_reader()


# --- the rebuild against the real node ---------------------------------------------


@pytest.fixture
def several_chunks(tmp_path, database):
    """The real data five times over: 640 records, more than one bulk chunk."""
    url, factory = make_registry(tmp_path, database)
    path = tmp_path / "copies.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for copy in range(COPIES):
            for record in read_data():
                handle.write(json.dumps({**record, "id": f"{record['id']}-{copy}"}) + "\n")
    assert not import_jsonl(factory, path, chunk=1000).rejected
    yield url, factory
    factory.kw["bind"].dispose()


def test_reader_batches_count_records_exactly(several_chunks):
    _, factory = several_chunks
    batches = list(_record_batches(factory, {"public": "p", "members": "m"}, 250))
    total = len(read_data()) * COPIES
    assert [done for done, _ in batches] == [250, 500, total]
    # one action per audience and record: index, or delete where it is not visible
    assert [len(actions) for _, actions in batches] == [500, 500, 2 * (total - 500)]


def test_overlapped_rebuild_indexes_every_record_and_beats_per_chunk(client, several_chunks, names):
    _, factory = several_chunks
    beats = []
    # no time-based beats: a loaded machine must not change the count
    result = rebuild(client, factory, names, heartbeat=lambda: beats.append(1), heartbeat_s=3600)
    published = sum(r["status"] == "published" for r in read_data()) * COPIES
    assert result.swapped and result.counts["public"] == published
    assert len(beats) == len(read_data()) * COPIES // 500
    wait_no_reader()


def test_reader_error_propagates_and_leaves_the_aliases(client, several_chunks, names):
    _, factory = several_chunks
    first = rebuild(client, factory, names)
    before = current_indices(client, names)
    # a row late in the stream that document building cannot handle
    last_id = max(f"{r['id']}-{COPIES - 1}" for r in read_data() if r["status"] == "published")
    with transaction(factory) as session:
        session.execute(
            text("UPDATE innovations SET communities = '5' WHERE id = :id"), {"id": last_id}
        )
    outcome = run_with_deadline(lambda: rebuild(client, factory, names))
    assert isinstance(outcome.get("error"), TypeError)
    assert current_indices(client, names) == before
    assert before["public"] == [first.indices["public"]]
    wait_no_reader()


def test_failing_bulk_raises_rebuild_error_and_leaves_the_aliases(client, several_chunks, names):
    _, factory = several_chunks
    rebuild(client, factory, names)
    before = current_indices(client, names)

    def close_new_indices() -> None:
        # the node refuses every later bulk item into the new (closed) indices
        new = f"{names.prefix}innovations-*"
        for index in client.indices.get(index=new):
            if index not in sum(before.values(), []):
                client.indices.close(index=index)

    outcome = run_with_deadline(lambda: rebuild(client, factory, names, close_new_indices))
    error = outcome.get("error")
    assert isinstance(error, RebuildError), error
    assert "aliases not moved" in str(error)
    assert current_indices(client, names) == before
    wait_no_reader()


def test_error_in_the_bulk_thread_stops_the_reader(client, several_chunks, names):
    _, factory = several_chunks

    def lease_lost() -> None:
        raise RuntimeError("lease lost")

    outcome = run_with_deadline(lambda: rebuild(client, factory, names, lease_lost))
    assert isinstance(outcome.get("error"), RuntimeError)
    assert current_indices(client, names) == {"public": [], "members": []}
    wait_no_reader()


def test_heartbeat_comes_per_chunk_of_records_or_after_the_time_whichever_first():
    now = [0.0]
    beats = []
    progress = beating(
        lambda: beats.append(now[0]), every_records=500, every_s=10, clock=lambda: now[0]
    )
    for count, at in [(250, 1), (500, 2), (750, 5), (800, 11.5), (900, 12), (1000, 13), (1100, 24)]:
        now[0] = at
        progress(count)
    # by records at 500 (2 s) and 1000 (13 s); by time at 12 s (10 s after the beat at
    # 2 s; not yet at 11.5 s) and at 24 s (11 s after the one at 13 s)
    assert beats == [2, 12, 13, 24]
