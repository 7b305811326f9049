"""Cache headers of detail answers and compression of CSV, against the real portal:
what ``test_http_cache`` does not cover of the rules in ``portal/http_cache.py``."""

from __future__ import annotations

import gzip
import uuid

import brotli
import pytest

from portal.http_cache import PUBLIC_MAX_AGE_S
from registry.db import transaction
from registry.users import create_user
from tests.helpers import site_config

from ..conftest import published_records

PASSWORD = "een-lang-wachtwoord"


def detail_paths() -> list[str]:
    record_id = published_records()[0]["id"]
    return [f"/innovaties/{record_id}", f"/api/v1/innovations/{record_id}"]


@pytest.mark.parametrize("index", [0, 1])
def test_detail_answers_are_public_briefly_and_answer_304(http, index):
    path = detail_paths()[index]
    first = http.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == f"public, max-age={PUBLIC_MAX_AGE_S}, must-revalidate"
    assert {"Accept-Language", "Cookie"} <= set(first.vary)
    again = http.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.fixture(scope="module")
def logged_in(loaded):
    """``{role: test client logged in with that role}`` (member and analyst)."""
    from portal import create_app

    app = create_app(
        site_config(loaded["url"], loaded["opensearch_url"], loaded["names"].prefix, "cache-more")
    )
    clients = {}
    for n, role in enumerate(("member", "analyst")):
        email = f"{role}-{uuid.uuid4().hex[:6]}@bieb.example"
        with transaction(loaded["factory"]) as session:
            create_user(session, email, role, PASSWORD)
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"10.8.0.{n + 1}"
        assert (
            browser.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        )
        clients[role] = browser
    return clients


def test_a_members_detail_is_never_public_nor_revalidated(logged_in, http):
    for path in detail_paths():
        public_etag = http.get(path).headers["ETag"]
        response = logged_in["member"].get(path, headers={"If-None-Match": public_etag})
        assert response.status_code == 200, path  # never the anonymous copy's 304
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in response.headers and "public" not in response.headers.get(
            "Cache-Control"
        )
        assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_csv_is_compressed_as_the_client_accepts(logged_in):
    analyst = logged_in["analyst"]
    path = "/statistieken/export.csv?view=verification-backlog"  # over the 500-byte floor
    plain = analyst.get(path)
    assert plain.status_code == 200 and plain.headers["Content-Type"].startswith("text/csv")
    assert plain.headers["Cache-Control"] == "private, no-store"
    zipped = analyst.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    br = analyst.get(path, headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == plain.data
