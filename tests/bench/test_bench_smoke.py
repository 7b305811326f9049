"""Smoke test of the benchmark harness at a tiny size.

Runs ``bench.run`` end to end against the real node, with few records and requests,
and checks that every measurement produced numbers and the results files were
written. How fast anything is, is not asserted.
"""

from __future__ import annotations

import json
import uuid

import pytest

from bench.generate import generate
from bench.run import Config, run
from registry.schemas import InnovationSchema
from registry.taxonomy import Taxonomy
from tests.conftest import RUN_ID, TAXONOMY_FILE

SIZE = 300


def test_generator_is_seeded_valid_and_unique():
    first = list(generate(50, seed=3))
    assert first == list(generate(50, seed=3))
    assert first[:20] == list(generate(20, seed=3))
    assert first != list(generate(50, seed=4))
    schema = InnovationSchema(taxonomy=Taxonomy.from_file(TAXONOMY_FILE))
    for record in first:
        schema.load(record)
    assert len({r["id"] for r in first}) == len(first)


@pytest.mark.slow
def test_harness_produces_numbers_and_files(tmp_path, client, opensearch_url):
    prefix = f"t{RUN_ID}-bench-{uuid.uuid4().hex[:6]}-"
    config = Config(size=SIZE, out=tmp_path / "results", requests=12, queries=8, edits=3,
                    profile=False, opensearch_url=opensearch_url, prefix=prefix,
                    workdir=tmp_path / "work")  # fmt: skip
    config.workdir.mkdir()
    try:
        results = run(config)
    finally:
        client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)

    json_file = tmp_path / "results" / f"{config.date}-{SIZE}.json"
    md_file = json_file.with_suffix(".md")
    assert json.loads(json_file.read_text("utf-8"))["size"] == SIZE
    assert "| rebuild throughput (docs/s) |" in md_file.read_text("utf-8")
    assert (tmp_path / "results" / "summary.md").exists()

    assert results["import"]["records"] == SIZE
    rebuild = results["rebuild"]
    assert rebuild["indexer"]["docs"] == rebuild["raw"]["docs"] > 0
    assert rebuild["indexer"]["docs_per_s"] > 0 and rebuild["raw"]["docs_per_s"] > 0
    assert rebuild["indexer"]["peak_rss_mib"] > 0 and rebuild["ratio"] > 0
    for level in ("1", "8"):
        data = results["search"]["levels"][level]
        for side in ("portal", "raw"):
            assert data[side]["count"] + data[side]["failed"] == 12
            assert data[side]["p50_ms"] > 0
        assert data["ratio_p50"] > 0
    merge = results["merge"]
    assert merge["affected"] > 0 and merge["recount_matches"]
    assert merge["seconds_to_counts_equal"] is not None and merge["load"]["count"] > 0
    assert results["edits"]["edits"] == 3 and results["edits"]["searchable_ms"]["p50_ms"] > 0
    assert {t["status"] for t in results["targets"]} <= {"met", "missed", "not measured"}
    assert not client.indices.get(index=f"{prefix}*")
