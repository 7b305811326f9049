"""The benchmark report reads back only full benchmark results from its folder."""

import json

from bench.report import evaluate_targets, load_results


def full_run(size: int, rss: float, own: bool = True) -> dict:
    indexer = {"peak_rss_mib": rss, "peak_rss_own": own}
    return {
        "date": "2026-01-01",
        "size": size,
        "rebuild": {"indexer": indexer, "raw": {}, "ratio": 1.0},
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


def test_rss_measured_the_old_way_is_not_compared(tmp_path):
    # before runs were started from a launcher, a rebuild's ru_maxrss carried the
    # benchmark process's own peak: such a figure says nothing about the indexer
    old = full_run(1_000_000, 230.8, own=False)
    rss = next(t for t in evaluate_targets(full_run(100_000, 107.0), [old]) if "RSS" in t["name"])
    assert rss["status"] == "not measured"
    assert rss["measured"] == "100000: 107.0 MiB"
    flat = next(
        t
        for t in evaluate_targets(full_run(100_000, 107.0), [old, full_run(1_000_000, 110.0)])
        if "RSS" in t["name"]
    )
    assert (flat["status"], flat["measured"]) == ("met", "107.0 → 110.0 MiB")
