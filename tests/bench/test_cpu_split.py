"""bench.cpu_split: CPU per request split by process, each side in rotating rounds."""

import json
import uuid

from bench import cpu_split
from tests.conftest import RUN_ID


def test_tiny_run_splits_cpu_by_process_for_each_side_and_cleans_up(
    tmp_path, client, opensearch_url, monkeypatch
):
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_url)
    prefix = f"t{RUN_ID}-cpu-{uuid.uuid4().hex[:6]}-"
    out = tmp_path / "results"
    argv = ["--size", "40", "--requests", "12", "--queries", "6", "--concurrency", "2",
            "--out", str(out), "--prefix", prefix]  # fmt: skip
    try:
        assert cpu_split.main(argv) == 0
    finally:
        client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)

    results = json.loads(next(out.glob("*-cpu-split-40.json")).read_text("utf-8"))
    assert list(results["sides"]) == ["raw", "portal", "portal-keepalive"]
    for rounds in results["sides"].values():
        assert len(rounds) == cpu_split.ROUNDS
        assert all(r["requests"] == 12 and r["failed"] == 0 for r in rounds)
        assert all(r["cpu_ms_per_request"]["opensearch"] > 0 for r in rounds)
    median = results["median"]
    # the portal's own process works only when it is asked
    assert median["portal"]["gunicorn"] > median["raw"]["gunicorn"]
    assert median["portal-keepalive"]["gunicorn"] > median["raw"]["gunicorn"]
    table = next(out.glob("*-cpu-split-40.md")).read_text("utf-8")
    assert "| portal-keepalive |" in table
    assert not client.indices.get(index=f"{prefix}*")
