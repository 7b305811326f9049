"""Small things a newcomer met: headers, feeds, page furniture."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree as ET

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
