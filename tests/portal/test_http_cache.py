"""Compression and cache headers against the real portal (real node, real registry)."""

from __future__ import annotations

import gzip
import uuid

import brotli
import pytest

from portal.http_cache import PUBLIC_MAX_AGE_S, cache_rule
from registry.db import transaction
from registry.users import create_user
from tests.helpers import site_config

PUBLIC_PATHS = [
    "/zoeken?q=lezen",
    "/api/v1/search?q=lezen",
    "/feed.atom",
    "/opensearch.xml",
    "/api/v1/openapi.json",
]


def test_cache_rule():
    assert cache_rule("api.search", False, False).startswith("public, max-age=")
    assert cache_rule("api.search", True, False) == "private, no-store"
    assert cache_rule("api.search", False, True) == "private, no-store"
    assert cache_rule("auth.login", False, False) == "private, no-store"


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_answers_are_briefly_cacheable_and_revalidate(http, path):
    first = http.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == f"public, max-age={PUBLIC_MAX_AGE_S}, must-revalidate"
    assert {"Accept-Language", "Cookie"} <= set(first.vary)
    etag = first.headers["ETag"]
    again = http.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = http.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_the_language_changes_the_validator(http):
    dutch = http.get("/zoeken?q=lezen", headers={"Accept-Language": "nl"})
    english = http.get("/zoeken?q=lezen", headers={"Accept-Language": "en"})
    assert dutch.headers["ETag"] != english.headers["ETag"]


@pytest.mark.parametrize(
    "path, content_type",
    [("/zoeken?q=lezen", "text/html"), ("/api/v1/search?q=lezen", "application/json"),
     ("/feed.atom", "application/atom+xml")],
)  # fmt: skip
def test_answers_are_compressed_as_the_client_accepts(http, path, content_type):
    plain = http.get(path)
    zipped = http.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Type"].startswith(content_type)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    br = http.get(path, headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == plain.data


def test_a_cursor_walk_is_never_shared(http):
    response = http.get("/api/v1/search?cursor=start&size=5")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_nothing_a_member_sees_is_marked_public(loaded):
    from portal import create_app

    app = create_app(
        site_config(loaded["url"], loaded["opensearch_url"], loaded["names"].prefix, "cache-test")
    )
    email = f"lid-{uuid.uuid4().hex[:6]}@bieb.example"
    with transaction(loaded["factory"]) as session:
        create_user(session, email, "member", "een-lang-wachtwoord")
    member = app.test_client()
    member.environ_base["REMOTE_ADDR"] = "10.7.0.1"
    login = member.post("/login", data={"email": email, "password": "een-lang-wachtwoord"})
    assert login.status_code == 302
    for path in PUBLIC_PATHS + ["/innovaties/nieuw", "/mijn/inzendingen"]:
        response = member.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in response.headers, path


def test_forms_and_errors_are_not_stored(http):
    assert http.get("/login").headers["Cache-Control"] == "private, no-store"
    missing = http.get("/innovaties/bestaat-niet")
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"
