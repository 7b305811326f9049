"""Smoke test of the harvest benchmark at a tiny size: it harvests every visible
record and writes both results files (how fast is not asserted)."""

from __future__ import annotations

import json

from bench.harvest import main


def test_harvest_benchmark_harvests_everything_and_writes_results(tmp_path):
    assert main(["--size", "120", "--page-size", "25", "--out", str(tmp_path)]) == 0
    (result,) = tmp_path.glob("*-harvest-120.json")
    data = json.loads(result.read_text("utf-8"))
    assert data["harvest"]["records"] == data["visible"] > 0
    assert data["harvest"]["pages"] >= data["visible"] // 25
    assert data["harvest"]["records_per_s"] > 0 and data["harvest"]["memory"]
    assert result.with_suffix(".md").exists()
