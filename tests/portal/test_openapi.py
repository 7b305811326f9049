"""The OpenAPI document is as strict as the server, and a property-based fuzzer
(schemathesis) finds no difference between them against the live portal."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import TAXONOMY_FILE, serve_portal


@pytest.mark.parametrize(
    "query",
    ["sort=", "lang=", "page=", "size=", "phase=", "community=&q=lezen", "phase=idee&phase="],
)
def test_empty_values_of_enums_and_numbers_are_refused(http, query):
    response = http.get(f"/api/v1/search?{query}")
    assert response.status_code == 400, query
    assert response.get_json()["error"]["code"] in ("invalid_" + query[:-1], "unknown_value")


def test_empty_words_and_empty_evidence_level_mean_everything(http):
    everything = http.get("/api/v1/search").get_json()["total"]
    assert http.get("/api/v1/search?q=&evidence_min=").get_json()["total"] == everything


def test_empty_month_is_refused():
    import datetime as dt

    from portal.search.params import SearchParamError
    from portal.stats.service import parse_month

    with pytest.raises(SearchParamError) as caught:
        parse_month(MultiDict({"month": ""}), dt.date(2026, 12, 1))
    assert (caught.value.code, caught.value.field) == ("invalid_month", "month")


def _operation(spec: dict, path: str) -> dict:
    return spec["paths"][path]["get"]


def test_spec_documents_enums_limits_and_error_answers(http):
    spec = http.get("/api/v1/openapi.json").get_json()
    taxonomy = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    params = {p["name"]: p for p in _operation(spec, "/api/v1/search")["parameters"]}
    assert params["phase"]["schema"]["items"]["enum"] == [t["id"] for t in taxonomy["phases"]]
    documented = set(params["community"]["schema"]["items"]["enum"])
    assert {t["id"] for t in taxonomy["communities"]} <= documented
    assert params["page"]["schema"]["maximum"] == 10_000
    assert params["evidence_min"]["schema"]["pattern"] == "^[0-5]?$"
    stats = {p["name"]: p for p in _operation(spec, "/api/v1/stats")["parameters"]}
    assert stats["month"]["schema"]["pattern"] == "^[0-9]{4}-(0[1-9]|1[0-2])$"
    autocomplete = _operation(spec, "/api/v1/autocomplete")
    assert autocomplete["parameters"][0]["schema"]["maxLength"] == 100
    for path in spec["paths"]:
        responses = _operation(spec, path)["responses"]
        assert {"414", "503"} <= set(responses), path
    assert "Retry-After" in _operation(spec, "/api/v1/search")["responses"]["503"]["headers"]
    assert "400" in autocomplete["responses"]


FUZZ_BUDGET_S = 60


def test_schemathesis_finds_no_difference_between_spec_and_server(loaded, tmp_path):
    """The fuzzing phase (positive and negative cases), a fixed seed and 60 examples
    per operation: about 20 s. (The coverage phase alone takes about 40 s; the
    empty-value cases it would add are tested above.)

    ``positive_data_acceptance`` is left out: some limits span parameters or are
    opaque (page × size ≤ 10,000; a cursor is only valid when the server issued it),
    which OpenAPI 3.0 cannot express.
    """
    with serve_portal(loaded["url"], loaded["opensearch_url"], loaded["names"].prefix) as url:
        start = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/v1/openapi.json",
             "--url", url, "--max-examples", "60", "--seed", "1",
             "--phases", "fuzzing", "--generation-database", "none",
             "--exclude-checks", "positive_data_acceptance", "--no-color"],
            capture_output=True, text=True, timeout=FUZZ_BUDGET_S * 2, cwd=tmp_path,
        )  # fmt: skip
        seconds = time.monotonic() - start
    print(f"schemathesis: {seconds:.1f} s; {run.stdout.strip().splitlines()[-1]}")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert seconds < FUZZ_BUDGET_S
