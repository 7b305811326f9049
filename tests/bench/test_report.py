"""The benchmark report reads back only full benchmark results from its folder."""

import json

from bench.report import evaluate_targets, load_results


def full_run(size: int, rss: float) -> dict:
    return {
        "date": "2026-01-01",
        "size": size,
        "rebuild": {"indexer": {"peak_rss_mib": rss}, "raw": {}, "ratio": 1.0},
        "search": {},
    }


def test_other_measurements_in_the_folder_are_not_taken_for_full_runs(tmp_path):
    (tmp_path / "a-100000.json").write_text(json.dumps(full_run(100_000, 90.0)))
    (tmp_path / "b-1000000.json").write_text(json.dumps(full_run(1_000_000, 95.0)))
    # a workers run: a size and a date, but no rebuild
    (tmp_path / "c-workers-1000000.json").write_text(
        json.dumps({"date": "2026-01-02", "size": 1_000_000, "settings": []})
    )
    (tmp_path / "d-broken.json").write_text("{")
    loaded = load_results(tmp_path)
    assert [r["size"] for r in loaded] == [100_000, 1_000_000]
    rss = next(t for t in evaluate_targets(full_run(10_000, 80.0), loaded) if "RSS" in t["name"])
    assert rss["measured"] == "90.0 → 95.0 MiB"
