"""Small things a newcomer met: headers, feeds, page furniture."""

from __future__ import annotations

import datetime as dt
import json
import re
from xml.etree import ElementTree as ET

from tests.conftest import TAXONOMY_FILE, published_records

ATOM = "{http://www.w3.org/2005/Atom}"


def test_csv_content_type_carries_charset_once(http):
    response = http.get("/api/v1/export?format=csv&q=lezen")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_empty_feed_is_updated_now(http):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    response = http.get("/feed.atom?q=zzzgeenenkeletreffer")
    feed = ET.fromstring(response.get_data())
    assert feed.findall(f"{ATOM}entry") == []
    updated = dt.datetime.fromisoformat(feed.find(f"{ATOM}updated").text.replace("Z", "+00:00"))
    assert before <= updated <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)


def test_opensearch_description_keeps_the_language(http):
    body = http.get("/opensearch.xml?lang=en").get_data(as_text=True)
    assert "q={searchTerms}&amp;lang=en" in body


def test_pages_have_a_description_and_an_icon(http):
    html = http.get("/zoeken").get_data(as_text=True)
    assert re.search(r'<meta name="description" content="Vind innovaties [^"]+">', html)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
    assert http.get(icon).status_code == 200


def test_pagination_marks_skipped_pages(http):
    html = http.get("/zoeken?size=5&page=8").get_data(as_text=True)
    nav = html[html.index('class="pagination"') :]
    nav = nav[: nav.index("</nav>")]
    assert nav.count('<li class="gap" aria-hidden="true">…</li>') == 2


def test_a_lone_quote_searches_as_if_empty(http):
    for q in ('"', '""', '" "'):
        response = http.get("/api/v1/search", query_string={"q": q, "size": 1})
        assert response.status_code == 200
        assert response.get_json()["total"] == len(published_records())


def test_the_phase_has_one_name_on_filter_result_and_detail(http):
    phases = json.loads(TAXONOMY_FILE.read_text("utf-8"))["phases"]
    short = next(p["short_nl"] for p in phases if p["id"] == "beschikbaar")
    long = next(p["nl"] for p in phases if p["id"] == "beschikbaar")
    record = next(r for r in published_records() if r["phase"] == "beschikbaar")
    facet = http.get("/api/v1/search?lang=nl").get_json()["facets"]["phase"]
    assert short in {item["label"] for item in facet}
    detail = http.get(f"/innovaties/{record['id']}?lang=nl").get_data(as_text=True)
    assert f"<dd>{short}</dd>" in detail and long not in detail


def test_a_page_without_results_shows_no_empty_filters_or_downloads(http):
    html = http.get("/zoeken?q=zzzgeenenkeletreffer&correct=0").get_data(as_text=True)
    assert 'id="facets-heading"' not in html
    assert "format=csv" not in html
    with_results = http.get("/zoeken?q=lezen").get_data(as_text=True)
    assert 'id="facets-heading"' in with_results and "format=csv" in with_results
