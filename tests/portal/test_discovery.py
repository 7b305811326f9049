"""Sitemaps, robots.txt, meta descriptions and JSON-LD, against a real node and registry."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from lxml import etree

from portal.discovery import json_ld, part_count, robots_txt, script_json, sitemap_index, urlset
from registry.taxonomy import Taxonomy

from ..conftest import TAXONOMY_FILE, data_site, published_records

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "http://127.0.0.1:8000"
MEMBER_CANARIES = ("ldkanariecontact", "ldkanarieles", "ldkanarie@kanarie.example", "86420")
PASSWORD = "een-lang-wachtwoord"
CANARY = {
    "id": "ld-kanarie", "title": "JSON-LD-kanarie </script><script>alert(1)</script>",
    "status": "published", "summary": "Een record voor de JSON-LD-test & meer.",
    "description": "Alleen in de JSON-LD-test.", "results": None,
    "priorities": ["jeugd-onderwijs"], "communities": ["technologie-en-makers"],
    "phase": "experiment", "innovation_type": "dienstverlening", "target_groups": ["kinderen"],
    "evidence_level": 1, "organisation": "Kanariebibliotheek", "province": "zeeland",
    "places_applied": 1, "start_year": 2025, "programmes": [], "url": "https://example.org/ld",
    "keywords": ["kanarie"], "last_verified": "2026-06-01", "created": "2026-06-01",
    "contact": {"name": "Kees ldkanariecontact", "email": "ldkanarie@kanarie.example",
                "phone": "+31 6 0000 0000"},
    "budget_eur": 86420, "lessons_learned": "Geleerd: ldkanarieles.", "internal_notes": "R.",
}  # fmt: skip
REQUIRED = ("@context", "@type", "name", "description", "creator", "spatialCoverage",
            "keywords", "dateModified", "url")  # fmt: skip


# --- pure functions -------------------------------------------------------------


def test_a_sitemap_and_an_index_parse_with_lastmod():
    when = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    doc = etree.fromstring(urlset([(f"{BASE}/innovaties/a", when)]))
    assert doc.tag == f"{SM}urlset"
    assert doc.findtext(f"{SM}url/{SM}lastmod") == "2026-12-01T10:00:00Z"
    index = etree.fromstring(sitemap_index([(f"{BASE}/sitemaps/1.xml", when)]))
    assert index.findtext(f"{SM}sitemap/{SM}loc") == f"{BASE}/sitemaps/1.xml"


def test_part_count_follows_the_limit():
    assert [part_count(n, 10) for n in (0, 1, 10, 11, 100)] == [0, 1, 1, 2, 10]
    with pytest.raises(ValueError):
        part_count(5, 50_001)


def allowed(robots: str, path: str) -> bool:
    """RFC 9309 matching (Python's robotparser reads ``/?`` as ``/`` and has no ``*``):
    the longest matching rule wins, ``*`` matches any characters."""
    rules = [line.split(": ", 1) for line in robots.splitlines() if ": " in line]
    best = ("allow", "")
    for kind, pattern in rules:
        if kind.lower() not in ("allow", "disallow"):
            continue
        regex = ".*".join(re.escape(part) for part in pattern.split("*"))
        if re.match(regex, path) and len(pattern) > len(best[1]):
            best = (kind.lower(), pattern)
    return best[0] == "allow"


def test_robots_keeps_crawlers_from_facets_and_logins():
    robots = robots_txt(f"{BASE}/sitemap.xml")
    assert f"Sitemap: {BASE}/sitemap.xml" in robots.splitlines()
    for path in ("/login", "/mijn/account", "/zoeken?community=werkplaats&priority=x",
                 "/?priority=jeugd-onderwijs", "/innovaties/a?terug=q%3Dx",
                 "/beheer/communities", "/api/v1/search", "/innovaties/nieuw"):  # fmt: skip
        assert not allowed(robots, path), path
    for path in ("/innovaties/walk-and-talk", "/zoeken", "/", "/sitemap.xml"):
        assert allowed(robots, path), path


def test_json_ld_has_the_required_properties_and_only_public_fields():
    taxonomy = Taxonomy.from_file(TAXONOMY_FILE)
    record = {**CANARY, "communities": ["werkplaats"]}
    data = json_ld(record, taxonomy, f"{BASE}/innovaties/ld-kanarie",
                   dt.datetime(2026, 12, 1, tzinfo=dt.UTC))  # fmt: skip
    assert all(data.get(key) for key in REQUIRED)
    assert data["creator"] == {"@type": "Organization", "name": "Kanariebibliotheek"}
    assert data["spatialCoverage"]["name"] == "Zeeland"
    text = script_json(data)
    assert "</script>" not in text and json.loads(text) == data
    for canary in MEMBER_CANARIES:
        assert canary not in text


# --- through the portal -----------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory, client, opensearch_url):
    """An app over the real data plus a canary with member fields, and a member."""
    from portal import create_app

    path = tmp_path_factory.mktemp("discovery")
    users = [("lid@bieb.example", "member", PASSWORD)]
    with data_site(path, client, opensearch_url, "discovery", [CANARY], users) as made:
        yield {"config": made["config"], "create_app": create_app}


def expected_urls() -> set[str]:
    ids = {r["id"] for r in published_records()} | {CANARY["id"]}
    return {f"{BASE}/innovaties/{record_id}" for record_id in ids}


def test_the_sitemap_lists_every_published_page(site):
    http = site["create_app"](site["config"]).test_client()
    doc = etree.fromstring(http.get("/sitemap.xml").data)
    assert doc.tag == f"{SM}urlset"
    assert {e.text for e in doc.iter(f"{SM}loc")} == expected_urls()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e.text)
               for e in doc.iter(f"{SM}lastmod"))  # fmt: skip


def test_the_sitemap_splits_past_its_limit(site):
    http = site["create_app"]({**site["config"], "SITEMAP_MAX_URLS": 10}).test_client()
    index = etree.fromstring(http.get("/sitemap.xml").data)
    assert index.tag == f"{SM}sitemapindex"
    parts = [e.text for e in index.iter(f"{SM}loc")]
    assert len(parts) == -(-len(expected_urls()) // 10)
    seen: list[str] = []
    for part in parts:
        doc = etree.fromstring(http.get(part.removeprefix(BASE)).data)
        urls = [e.text for e in doc.iter(f"{SM}loc")]
        assert 1 <= len(urls) <= 10
        seen += urls
    assert sorted(seen) == sorted(expected_urls())
    assert http.get(f"/sitemaps/{len(parts) + 1}.xml").status_code == 404
    assert http.get("/sitemaps/0.xml").status_code == 404


def test_robots_txt_points_to_the_sitemap(site):
    body = site["create_app"](site["config"]).test_client().get("/robots.txt")
    assert body.content_type.startswith("text/plain")
    text = body.get_data(as_text=True)
    assert f"Sitemap: {BASE}/sitemap.xml" in text and "Disallow: /login" in text


def _json_ld(page: str) -> dict:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(found) == 1
    return json.loads(found[0])


@pytest.mark.parametrize("role", [None, "member"])
def test_detail_pages_carry_json_ld_without_member_fields(site, role):
    http = site["create_app"](site["config"]).test_client()
    if role:
        response = http.post("/login", data={"email": "lid@bieb.example", "password": PASSWORD})
        assert response.status_code == 302
    page = http.get("/innovaties/ld-kanarie").get_data(as_text=True)
    if role:
        assert "ldkanarieles" in page  # the member does see member fields on the page
    data = _json_ld(page)
    assert all(data.get(key) for key in REQUIRED)
    assert data["name"] == CANARY["title"] and data["url"] == f"{BASE}/innovaties/ld-kanarie"
    assert "Werkplaats" in data["keywords"]  # the renamed community's current label
    blob = json.dumps(data)
    for canary in MEMBER_CANARIES:
        assert canary not in blob
    assert "<script>alert" not in page


def test_detail_pages_have_their_own_meta_description(site):
    http = site["create_app"](site["config"]).test_client()
    record = published_records()[0]
    page = http.get(f"/innovaties/{record['id']}").get_data(as_text=True)
    description = html.unescape(re.search(r'<meta name="description" content="([^"]*)"', page)[1])
    assert description and record["summary"].startswith(description.rstrip("…").rstrip())
    assert f'<link rel="canonical" href="{BASE}/innovaties/{record["id"]}">' in page
