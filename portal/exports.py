"""Streamed exports (CSV, JSON) and the Atom feed of a search.

Exports walk every hit with a point in time (:func:`portal.search.service.iter_hits`),
so memory stays flat and the result is one consistent snapshot.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from xml.etree import ElementTree as ET

from flask import Response, stream_with_context

from .backends import backends
from .csv_writer import BOM, CsvWriter
from .search import service
from .search.facets import FACETS
from .search.params import SearchRequest
from .ui import public_url
from .views.common import audience, current_lang

EXPORT_FIELDS = (
    "id", "title", "summary", "organisation", "province", "phase", "innovation_type",
    "priorities", "communities", "target_groups", "evidence_level", "start_year",
    "places_applied", "programmes", "keywords", "url", "created", "last_verified",
)  # fmt: skip
"""Columns of the CSV export and keys of the JSON export, in order."""

LABELLED = {facet.field: facet for facet in FACETS if facet.vocabulary and not facet.at_least}
"""Export columns whose ids the CSV shows as labels in the request's language, named as
their facet names them (:meth:`~portal.search.facets.Facet.label`)."""

FEED_SIZE = 50


def _csv_row(doc: dict, taxonomy, lang: str) -> list[str]:
    row = []
    for name in EXPORT_FIELDS:
        value = doc.get(name)
        if name in LABELLED and value is not None:
            values = value if isinstance(value, list) else [value]
            value = [LABELLED[name].label(taxonomy, v, lang) for v in values]
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        row.append("" if value is None else str(value))
    return row


def export_response(search_request: SearchRequest, fmt: str) -> Response:
    """A streamed download of every hit of ``search_request`` (``fmt``: csv/json).

    CSV: UTF-8 with BOM (spreadsheet programs then read diacritics right), labels in
    the request's language, lists joined by ``"; "``, written by
    :class:`~portal.csv_writer.CsvWriter` (no cell can run as a formula). JSON: an
    array of objects with ids, keys :data:`EXPORT_FIELDS`.
    """
    be = backends()
    taxonomy = be.taxonomy()
    lang = current_lang()
    hits = service.iter_hits(
        be.search,
        be.names,
        audience(),
        search_request,
        taxonomy,
        list(EXPORT_FIELDS),
        synonyms=be.synonyms(),
    )
    # the first batch is fetched before the first byte is sent: an unreachable
    # cluster is then an ordinary 503, not a header followed by a cut connection
    first = list(itertools.islice(hits, 1))
    hits = itertools.chain(first, hits)
    stamp = dt.date.today().isoformat()

    def csv_lines() -> Iterator[str]:
        writer = CsvWriter()
        yield BOM + writer.line(EXPORT_FIELDS)
        for doc in hits:
            yield writer.line(_csv_row(doc, taxonomy, lang))

    def json_chunks() -> Iterator[str]:
        yield "["
        for number, doc in enumerate(hits):
            item = {name: doc.get(name) for name in EXPORT_FIELDS}
            yield ("," if number else "") + json.dumps(item, ensure_ascii=False)
        yield "]\n"

    if fmt == "csv":
        body, content_type = csv_lines(), "text/csv; charset=utf-8"
    else:
        body, content_type = json_chunks(), "application/json"
    # content_type, not mimetype: Flask would append a second charset to text/csv
    response = Response(stream_with_context(body), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="innovatiebieb-{stamp}.{fmt}"'
    return response


def atom_feed(search_request: SearchRequest, result: dict, title: str) -> Response:
    """An Atom 1.0 feed of ``result`` (a newest-first search), entries link to details
    (absolute links under ``PUBLIC_BASE_URL``, see :func:`public_url`)."""
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    feed = ET.Element(f"{{{ns}}}feed")
    ET.SubElement(feed, f"{{{ns}}}title").text = title
    query = search_request.query_string()
    self_url = public_url("public.feed") + (f"?{query}" if query else "")
    ET.SubElement(feed, f"{{{ns}}}id").text = self_url
    ET.SubElement(feed, f"{{{ns}}}link", rel="self", href=self_url)
    page_url = public_url("public.search_page") + (f"?{query}" if query else "")
    ET.SubElement(feed, f"{{{ns}}}link", rel="alternate", href=page_url)
    created = [h["created"] for h in result["hits"] if h.get("created")]
    # an empty feed was last updated now, not in 1970
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    updated = f"{max(created)}T00:00:00Z" if created else now
    ET.SubElement(feed, f"{{{ns}}}updated").text = updated
    author = ET.SubElement(feed, f"{{{ns}}}author")
    ET.SubElement(author, f"{{{ns}}}name").text = "Innovatiebieb"
    for hit in result["hits"]:
        entry = ET.SubElement(feed, f"{{{ns}}}entry")
        link = public_url("public.detail", record_id=hit["id"])
        ET.SubElement(entry, f"{{{ns}}}title").text = hit["title"]
        ET.SubElement(entry, f"{{{ns}}}id").text = link
        ET.SubElement(entry, f"{{{ns}}}link", rel="alternate", href=link)
        entry_created = hit.get("created")
        ET.SubElement(entry, f"{{{ns}}}updated").text = (
            f"{entry_created}T00:00:00Z" if entry_created else updated
        )
        ET.SubElement(entry, f"{{{ns}}}summary").text = hit["summary"]
        ET.SubElement(entry, f"{{{ns}}}author").append(_name(ns, hit.get("organisation")))
    body = ET.tostring(feed, encoding="unicode", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")


def _name(ns: str, text: str | None) -> ET.Element:
    element = ET.Element(f"{{{ns}}}name")
    element.text = text or "Innovatiebieb"
    return element


def opensearch_description(lang: str) -> Response:
    """The OpenSearch description document, so browsers can add the portal (its
    template URL under ``PUBLIC_BASE_URL``, see :func:`public_url`)."""
    ns = "http://a9.com/-/spec/opensearch/1.1/"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}OpenSearchDescription")
    ET.SubElement(root, f"{{{ns}}}ShortName").text = "Innovatiebieb"
    ET.SubElement(root, f"{{{ns}}}Description").text = (
        "Innovaties van openbare bibliotheken zoeken"
        if lang == "nl"
        else "Search innovations of public libraries"
    )
    ET.SubElement(root, f"{{{ns}}}InputEncoding").text = "UTF-8"
    base = public_url("public.search_page")
    ET.SubElement(
        root, f"{{{ns}}}Url", type="text/html", template=f"{base}?q={{searchTerms}}&lang={lang}"
    )
    body = ET.tostring(root, encoding="unicode", xml_declaration=True)
    return Response(body, mimetype="application/opensearchdescription+xml")
