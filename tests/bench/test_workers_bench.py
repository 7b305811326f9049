"""The worker benchmark (``python -m bench.workers``): its settings parser, and one
tiny run end to end against the real node with two gunicorn settings. How fast
anything is, is not asserted."""

from __future__ import annotations

import argparse
import json
import uuid

import pytest

from bench import workers
from tests.conftest import RUN_ID


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("4 sync", {"WEB_CONCURRENCY": "4", "GUNICORN_WORKER_CLASS": "sync"}),
        (
            "2 gthread x16",
            {"WEB_CONCURRENCY": "2", "GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "16"},
        ),
    ],
)
def test_settings_parse_to_the_portals_environment(text, env):
    assert workers.parse_setting(text) == (text, env)


@pytest.mark.parametrize("text", ["", "sync", "0 sync", "2 gthread", "2 gthread 16", "x sync",
                                  "2 gevent", "2 gthread x0"])  # fmt: skip
def test_bad_settings_are_refused_with_the_expected_form(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected '<workers> sync'"):
        workers.parse_setting(text)


def test_tiny_run_measures_each_setting_against_raw_and_cleans_up(
    tmp_path, client, opensearch_url, monkeypatch
):
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_url)
    prefix = f"t{RUN_ID}-workers-{uuid.uuid4().hex[:6]}-"
    out = tmp_path / "results"
    argv = ["--size", "60", "--requests", "6", "--queries", "6", "--concurrency", "1", "3",
            "--settings", "1 sync", "1 gthread x4",
            "--out", str(out), "--prefix", prefix]  # fmt: skip
    try:
        assert workers.main(argv) == 0
    finally:
        client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)

    results = json.loads(next(out.glob("*-workers-60.json")).read_text("utf-8"))
    assert list(results["settings"]) == ["1 sync", "1 gthread x4"]
    for setting in results["settings"].values():
        assert set(setting["levels"]) == {"1", "3"}
        for data in setting["levels"].values():
            for side in ("portal", "raw"):
                assert data[side]["count"] + data[side]["failed"] == 6
            assert data["portal"]["failed"] == 0 and data["ratio_p50"] > 0
    table = next(out.glob("*-workers-60.md")).read_text("utf-8")
    assert "| 1 gthread x4 | 3 |" in table and "| 1 sync | 1 |" in table
    assert not client.indices.get(index=f"{prefix}*")
