"""HTML pages: search page with facets, detail page, error pages, languages."""

from __future__ import annotations

import re

from tests.conftest import published_records


def test_search_page_shows_total_and_facet_counts(http):
    page = http.get("/zoeken?phase=idee&phase=experiment&province=zuid-holland")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    records = [
        r
        for r in published_records()
        if r["phase"] in ("idee", "experiment") and r["province"] == "zuid-holland"
    ]
    assert f"{len(records)} innovatie" in html
    # province counts apply the phase filter only (disjunctive)
    expected = sum(
        1
        for r in published_records()
        if r["phase"] in ("idee", "experiment") and r["province"] == "noord-brabant"
    )
    match = re.search(
        r'value="noord-brabant"[^>]*>\s*<label[^>]*>Noord-Brabant '
        r'<span class="count">\((\d+)\)</span>',
        html,
    )
    assert match and int(match.group(1)) == expected
    assert 'name="phase" value="idee" checked' in html


def test_home_page_is_the_search_page_with_every_record(http):
    html = http.get("/").get_data(as_text=True)
    assert f"{len(published_records())} innovaties gevonden" in html
    assert '<html lang="nl">' in html and 'role="search"' in html


def test_english_labels_with_lang_en(http):
    html = http.get("/zoeken?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "innovations found" in html and "Broadly available" in html


def test_detail_page_escapes_and_labels(http):
    record = next(r for r in published_records() if "&" in r["title"])
    html = http.get(f"/innovaties/{record['id']}").get_data(as_text=True)
    assert record["title"].replace("&", "&amp;") in html
    assert "lessons_learned" not in html and record["contact"]["email"] not in html


def test_unknown_and_unpublished_detail_pages_are_friendly_404s(http):
    from tests.conftest import read_data

    draft = next(r for r in read_data() if r["status"] == "draft")
    for path in ("/innovaties/bestaat-niet", f"/innovaties/{draft['id']}"):
        response = http.get(path)
        assert response.status_code == 404
        text = response.get_data(as_text=True)
        assert "Niet gevonden" in text and "Traceback" not in text


def test_bad_parameter_on_the_page_is_a_friendly_400(http):
    response = http.get("/zoeken?size=1000")
    assert response.status_code == 400
    assert "size" in response.get_data(as_text=True)


def test_health_and_readiness(http):
    assert http.get("/healthz").get_json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["opensearch"] == "ok"


def test_evidence_choices_count_every_level_at_or_above(http):
    html = http.get("/zoeken").get_data(as_text=True)
    at_least_one = sum(1 for r in published_records() if r["evidence_level"] >= 1)
    match = re.search(r'>ten minste 1: [^<]*<span class="count">\((\d+)\)</span>', html)
    assert match and int(match.group(1)) == at_least_one
    assert 'name="evidence_min" value="" checked' in html


def test_a_page_past_the_result_window_shows_a_message_not_an_error(http):
    response = http.get("/zoeken?page=5000&size=20")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Pagina 5000 bestaat niet" in html
    assert http.get("/api/v1/search?page=5000&size=20").status_code == 400
